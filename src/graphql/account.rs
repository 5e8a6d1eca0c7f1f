//! Companies, users and sessions.

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use entities::{company, user};

use super::{
    ContextExt,
    ids::{NodeKind, encode},
};
use crate::{
    auth::session::IssuedSession,
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
        ctx.viewer()?.require_admin()?;
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
