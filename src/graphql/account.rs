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
        onboarding::{self, Invitee, Onboarding},
        session::IssuedSession,
    },
    loaders::{CompanyById, UsersOfCompany},
    store::accounts,
};

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::domain::account::Role")]
pub enum Role {
    /// A reseller's administrator: reads the company's orders, invites and disables its
    /// users, makes its API tokens.
    CustomerAdmin,
    /// A reseller's employee: reads the company's orders and asks for support.
    CustomerUser,
    /// The distributor's order desk: sees every company and writes what the ERP reports.
    BackOffice,
}

/// The language of a user's mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::domain::language::Language")]
pub enum Language {
    /// Dutch (`nl`), with the portal's Dutch status names (Bevestigd, Gedeeltelijk Vervuld,
    /// Vervuld).
    Nl,
    /// English (`en`).
    En,
}

/// Where a user stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::domain::account::UserStatus")]
pub enum UserStatus {
    /// Invited; has not followed the activation link yet.
    Invited,
    /// Has set a password and can sign in.
    Active,
    /// Can no longer sign in; every token of theirs stopped working.
    Disabled,
}

/// A customer: a reseller company.
pub struct Company(pub company::Model);

/// A customer of the distributor: a reseller company.
#[Object]
impl Company {
    /// Global ID, for `node(id:)` and `OrderFilter.companyId`.
    pub async fn id(&self) -> ID {
        encode(NodeKind::Company, self.0.id)
    }

    /// The full company name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The distributor's number for this customer.
    async fn customer_number(&self) -> &str {
        &self.0.customer_number
    }

    /// The company's users, by e-mail address. Customer administrators and back office only
    /// (FORBIDDEN otherwise).
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

/// A person who signs in: a reseller's employee or the distributor's staff.
#[Object]
impl User {
    /// Global ID, for `node(id:)` and `disableUser`.
    pub async fn id(&self) -> ID {
        encode(NodeKind::User, self.0.id)
    }

    /// The sign-in address, lower case.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// The name to address them by; null when none was given.
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// What they may do.
    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// The language every mail to them is written in: invitations, support confirmations and
    /// change mail. They change it with `setLanguage`.
    async fn language(&self) -> Language {
        crate::domain::language::Language::of_code(&self.0.language).into()
    }

    /// Whether they can sign in.
    async fn status(&self) -> UserStatus {
        self.0.status.into()
    }

    /// Whether ETAs that move later and shipments of the company's orders are mailed to this
    /// user (at most one mail per order an hour). Administrators get them unless they opt
    /// out; others when they opt in with setMailOnChange.
    async fn mail_on_change(&self) -> bool {
        self.0
            .mail_on_change
            .unwrap_or(self.0.role == crate::domain::account::Role::CustomerAdmin)
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

/// A signed-in session: a short-lived access token and the refresh token that renews it.
#[Object]
impl Session {
    /// A JWT for `Authorization: Bearer`.
    async fn access_token(&self) -> &str {
        &self.0.access_token
    }

    /// When the access token stops working (15 minutes after it was issued): refresh before.
    async fn access_token_expires_at(&self) -> DateTime<Utc> {
        self.0.access_token_expires_at
    }

    /// Opaque, single-use: trade it for a new session with refreshSession.
    async fn refresh_token(&self) -> &str {
        &self.0.refresh_token
    }

    /// Who signed in.
    async fn user(&self) -> User {
        User(self.0.user.clone())
    }
}

/// An invitation that was mailed.
pub struct Invitation(pub onboarding::Invitation);

/// An invitation that was mailed: the invited user and their activation link.
#[Object]
impl Invitation {
    /// The invited user, INVITED until they follow the link.
    async fn user(&self) -> User {
        User(self.0.user.clone())
    }

    /// The single-use link that was e-mailed.
    async fn activation_url(&self) -> &str {
        &self.0.activation_url
    }

    /// When the link stops working (7 days after it was sent); a new invitation sends a fresh
    /// one.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
}

/// The caller's account as stored after a change of their own.
async fn own_account(db: &sea_orm::DatabaseConnection, user_id: i64) -> Result<User> {
    let user = accounts::user_by_id(db, user_id).await?;
    Ok(User(super::promised(user, "user", user_id)?))
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
        #[graphql(desc = "Where the activation link goes; also their sign-in address.")]
        email: String,
        #[graphql(desc = "The name to address them by; null: none.")] name: Option<String>,
        #[graphql(desc = "CUSTOMER_USER or CUSTOMER_ADMIN.")] role: Role,
        #[graphql(
            desc = "The language of their mail, starting with the invitation; null: \
                          yours."
        )]
        language: Option<Language>,
    ) -> Result<Invitation> {
        let viewer = ctx.viewer()?;
        viewer.require_write(Action::ManageUsers)?;
        let services = ctx.services()?;
        let invitee = Invitee {
            email: &email,
            name: name.as_deref(),
            role: role.into(),
            language: language.map(Into::into),
        };
        let invitation = onboarding(services)
            .invite_user(viewer, invitee, services.clock.now())
            .await?;
        services.mailer.wake();
        Ok(Invitation(invitation))
    }

    /// The user can no longer sign in, and every token of theirs stops working at once.
    async fn disable_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `User.id` of someone of your own company.")] user_id: ID,
    ) -> Result<User> {
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
    async fn set_mail_on_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "True: mail me; false: do not.")] enabled: bool,
    ) -> Result<User> {
        let viewer = ctx.viewer()?;
        viewer.require_write(Action::OwnAccount)?;
        let db = &ctx.services()?.db;
        accounts::set_mail_on_change(db, viewer.user_id, enabled).await?;
        own_account(db, viewer.user_id).await
    }

    /// Your own choice of the language of your mail, from the next letter on.
    async fn set_language(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "NL or EN.")] language: Language,
    ) -> Result<User> {
        let viewer = ctx.viewer()?;
        viewer.require_write(Action::OwnAccount)?;
        let db = &ctx.services()?.db;
        accounts::set_language(db, viewer.user_id, language.into()).await?;
        own_account(db, viewer.user_id).await
    }

    /// Back office: the company and its administrator, who gets the activation link by mail.
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The reseller's full company name.")] company_name: String,
        #[graphql(desc = "The distributor's number for this customer, as the ERP knows it.")]
        customer_number: String,
        #[graphql(desc = "The administrator's address, where the activation link goes.")]
        admin_email: String,
        #[graphql(desc = "The administrator's name; null: none.")] admin_name: Option<String>,
        #[graphql(desc = "The language of the administrator's mail, starting with the \
                          activation link; null: NL.")]
        admin_language: Option<Language>,
    ) -> Result<Invitation> {
        ctx.viewer()?.require_write(Action::BackOffice)?;
        let services = ctx.services()?;
        let invitation = onboarding(services)
            .create_customer(
                &company_name,
                &customer_number,
                &admin_email,
                admin_name.as_deref(),
                admin_language.map(Into::into).unwrap_or_default(),
                services.clock.now(),
            )
            .await?;
        services.mailer.wake();
        Ok(Invitation(invitation))
    }
}
