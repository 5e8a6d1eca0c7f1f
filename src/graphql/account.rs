//! Companies, users and sessions.

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use entities::{company, user};

use super::{
    ContextExt, Services,
    ids::{NodeKind, decode_as, encode},
};
use crate::{
    auth::{
        Action,
        onboarding::{self, Onboarding},
        session::IssuedSession,
    },
    error::AppError,
    loaders::{CompanyById, UsersOfCompany},
    store::accounts,
};

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::auth::Role")]
pub enum Role {
    CustomerAdmin,
    CustomerUser,
    BackOffice,
}

/// Where a user stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum UserStatus {
    /// Invited; has not followed the activation link yet.
    Invited,
    Active,
    /// Can no longer sign in; every token of theirs stopped working.
    Disabled,
}

/// A customer: a reseller company.
pub struct Company(pub company::Model);

#[Object]
impl Company {
    pub async fn id(&self) -> ID {
        encode(NodeKind::Company, self.0.id)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The distributor's number for this customer.
    async fn customer_number(&self) -> &str {
        &self.0.customer_number
    }

    /// Customer administrators and back office only.
    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        ctx.viewer()?.require(Action::ManageUsers)?;
        let users = ctx
            .loader()?
            .load_one(UsersOfCompany(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(users.into_iter().map(User).collect())
    }
}

/// A person who signs in.
pub struct User(pub user::Model);

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        encode(NodeKind::User, self.0.id)
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    async fn role(&self) -> Result<Role> {
        let role: crate::auth::Role = self.0.role.parse().map_err(AppError::Internal)?;
        Ok(role.into())
    }

    async fn status(&self) -> Result<UserStatus> {
        Ok(match self.0.status.as_str() {
            accounts::STATUS_INVITED => UserStatus::Invited,
            accounts::STATUS_ACTIVE => UserStatus::Active,
            accounts::STATUS_DISABLED => UserStatus::Disabled,
            other => {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "user {} has status {other:?}",
                    self.0.id
                ))
                .into());
            }
        })
    }

    /// Whether ETAs that move later and shipments of the company's orders are mailed to this
    /// user (at most one mail per order an hour). Administrators get them unless they opt
    /// out; others when they opt in with setMailOnChange.
    async fn mail_on_change(&self) -> bool {
        self.0
            .mail_on_change
            .unwrap_or(self.0.role == crate::auth::Role::CustomerAdmin.as_str())
    }

    /// Null for back-office staff.
    async fn company(&self, ctx: &Context<'_>) -> Result<Option<Company>> {
        let Some(company_id) = self.0.company_id else {
            return Ok(None);
        };
        Ok(ctx
            .loader()?
            .load_one(CompanyById(company_id))
            .await?
            .map(Company))
    }
}

/// A signed-in session.
pub struct Session(pub IssuedSession);

#[Object]
impl Session {
    /// A JWT for `Authorization: Bearer`.
    async fn access_token(&self) -> &str {
        &self.0.access_token
    }

    async fn access_token_expires_at(&self) -> DateTime<Utc> {
        self.0.access_token_expires_at
    }

    /// Opaque, single-use: trade it for a new session with refreshSession.
    async fn refresh_token(&self) -> &str {
        &self.0.refresh_token
    }

    async fn user(&self) -> User {
        User(self.0.user.clone())
    }
}

/// An invitation that was mailed.
pub struct Invitation(pub onboarding::Invitation);

#[Object]
impl Invitation {
    async fn user(&self) -> User {
        User(self.0.user.clone())
    }

    /// The single-use link that was e-mailed.
    async fn activation_url(&self) -> &str {
        &self.0.activation_url
    }

    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
}

fn onboarding(services: &Services) -> Onboarding<'_> {
    Onboarding {
        db: &services.db,
        limits: &services.limits,
        public_url: &services.public_url,
    }
}

/// Bringing people in and out.
#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Customer administrators invite people of their own company (the back office, its own
    /// colleagues); the activation link is e-mailed. Again for someone still invited: a fresh link.
    async fn invite_user(
        &self,
        ctx: &Context<'_>,
        email: String,
        name: Option<String>,
        role: Role,
    ) -> Result<Invitation> {
        let viewer = ctx.viewer()?;
        viewer.require_write(Action::ManageUsers)?;
        let services = ctx.services()?;
        let invitation = onboarding(services)
            .invite_user(
                viewer,
                &email,
                name.as_deref(),
                role.into(),
                services.clock.now(),
            )
            .await?;
        services.mailer.wake();
        Ok(Invitation(invitation))
    }

    /// The user can no longer sign in, and every token of theirs stops working at once.
    async fn disable_user(&self, ctx: &Context<'_>, user_id: ID) -> Result<User> {
        let viewer = ctx.viewer()?;
        viewer.require_write(Action::ManageUsers)?;
        let user_id = decode_as(&user_id, NodeKind::User, "userId")?;
        let services = ctx.services()?;
        let user = onboarding(services)
            .disable_user(viewer, user_id, services.clock.now())
            .await?;
        services.revocations.announce(user.id);
        Ok(User(user))
    }

    /// Your own choice: be mailed (at most hourly per order) when an ETA moves later or
    /// something ships.
    async fn set_mail_on_change(&self, ctx: &Context<'_>, enabled: bool) -> Result<User> {
        let viewer = ctx.viewer()?;
        viewer.require_write(Action::OwnAccount)?;
        let db = &ctx.services()?.db;
        accounts::set_mail_on_change(db, viewer.user_id, enabled).await?;
        let user = accounts::user_by_id(db, viewer.user_id).await?;
        Ok(User(super::promised(user, "user", viewer.user_id)?))
    }

    /// Back office: the company and its administrator, who gets the activation link by mail.
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        company_name: String,
        customer_number: String,
        admin_email: String,
        admin_name: Option<String>,
    ) -> Result<Invitation> {
        ctx.viewer()?.require_write(Action::BackOffice)?;
        let services = ctx.services()?;
        let invitation = onboarding(services)
            .create_customer(
                &company_name,
                &customer_number,
                &admin_email,
                admin_name.as_deref(),
                services.clock.now(),
            )
            .await?;
        services.mailer.wake();
        Ok(Invitation(invitation))
    }
}
