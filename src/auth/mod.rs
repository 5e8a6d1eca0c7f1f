//! Who is asking: roles, the Viewer, and reading the bearer token once per request.

pub mod password;
pub mod session;
pub mod token;

use std::str::FromStr;

use sea_orm::DatabaseConnection;

use crate::{
    error::{AppError, AppResult},
    store::{self, Scope},
};
use token::{AccessTokens, TokenError};

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Manages the users and API tokens of its own company, and reads its data.
    CustomerAdmin,
    /// Reads its own company's data.
    CustomerUser,
    /// The distributor's staff: everything, for every company.
    BackOffice,
}

impl Role {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerAdmin => "CUSTOMER_ADMIN",
            Self::CustomerUser => "CUSTOMER_USER",
            Self::BackOffice => "BACK_OFFICE",
        }
    }
}

impl FromStr for Role {
    type Err = anyhow::Error;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "CUSTOMER_ADMIN" => Ok(Self::CustomerAdmin),
            "CUSTOMER_USER" => Ok(Self::CustomerUser),
            "BACK_OFFICE" => Ok(Self::BackOffice),
            other => Err(anyhow::anyhow!("unknown role {other:?}")),
        }
    }
}

/// The signed-in user a request acts for.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user_id: i64,
    pub role: Role,
    /// `None` only for back-office staff.
    pub company_id: Option<i64>,
}

impl Viewer {
    /// The data this viewer may read; the data layer applies it to every query.
    pub fn scope(&self) -> Scope {
        match (self.role, self.company_id) {
            (Role::BackOffice, _) => Scope::Everything,
            (_, Some(company_id)) => Scope::Company(company_id),
            // A customer user without a company can see nothing; deny rather than guess.
            (_, None) => Scope::Nothing,
        }
    }

    /// FORBIDDEN unless back office.
    pub fn require_back_office(&self) -> AppResult<()> {
        if self.role == Role::BackOffice {
            Ok(())
        } else {
            Err(AppError::Forbidden("only the back office may do this"))
        }
    }

    /// FORBIDDEN unless back office or a customer administrator.
    pub fn require_admin(&self) -> AppResult<()> {
        match self.role {
            Role::BackOffice | Role::CustomerAdmin => Ok(()),
            Role::CustomerUser => Err(AppError::Forbidden("only administrators may do this")),
        }
    }
}

/// The outcome of reading a request's `Authorization` header, kept for the whole request so
/// that `login` works without a token while every other field can say why it was refused.
#[derive(Clone, Debug)]
pub enum Authentication {
    Anonymous,
    Signed(Viewer),
    Rejected(&'static str),
}

impl Authentication {
    /// The viewer, or UNAUTHENTICATED with the reason.
    pub fn viewer(&self) -> AppResult<&Viewer> {
        match self {
            Self::Signed(viewer) => Ok(viewer),
            Self::Anonymous => Err(AppError::Unauthenticated(
                "sign in first: no access token was sent",
            )),
            Self::Rejected(reason) => Err(AppError::Unauthenticated(reason)),
        }
    }
}

/// Reads an `Authorization` header value. A valid token of a user who is no longer active, or
/// whose tokens were invalidated since (token version), is rejected at once.
pub async fn authenticate(
    db: &DatabaseConnection,
    tokens: &AccessTokens,
    header: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Authentication> {
    let Some(header) = header else {
        return Ok(Authentication::Anonymous);
    };
    let Some(token) = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty())
    else {
        return Ok(Authentication::Rejected(
            "the Authorization header must be `Bearer <token>`",
        ));
    };
    let subject = match tokens.verify(token, now) {
        Ok(subject) => subject,
        Err(TokenError::Expired) => {
            return Ok(Authentication::Rejected(
                "the access token has expired: refresh the session",
            ));
        }
        Err(_) => return Ok(Authentication::Rejected("the access token is not valid")),
    };
    let Some(user) = store::accounts::user_by_id(db, subject.user_id).await? else {
        return Ok(Authentication::Rejected("the access token is not valid"));
    };
    if user.status != store::accounts::STATUS_ACTIVE || user.token_version != subject.token_version
    {
        return Ok(Authentication::Rejected(
            "the access token is no longer valid: sign in again",
        ));
    }
    let role = user.role.parse().map_err(AppError::Internal)?;
    Ok(Authentication::Signed(Viewer {
        user_id: user.id,
        role,
        company_id: user.company_id,
    }))
}
