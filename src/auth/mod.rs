//! Who is asking and what they may do: the permission table over the roles of
//! `domain::account`, the Viewer, and reading the bearer token (an access token or an API
//! token) once per request.

pub mod api_tokens;
pub mod checked;
pub mod onboarding;
pub mod password;
pub mod revocation;
pub mod session;
pub mod throttle;
pub mod token;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::{
    config::Limits,
    domain::account::{Role, UserStatus},
    error::{AppError, AppResult},
    store::{self, Scope},
};
use revocation::Revocations;
use token::{AccessTokens, TokenError, hash_opaque_secret};

/// Everything the API guards by role. Reading a company's orders is not here: every signed-in
/// user may, and the data layer's `Scope` decides which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Change one's own password and mail settings.
    OwnAccount,
    /// Invite and disable users, list a company's users.
    ManageUsers,
    /// Create, list and revoke API tokens.
    ManageApiTokens,
    /// Create, list and delete webhooks.
    ManageWebhooks,
    /// Ask the back office for guidance (needs a company to be contacted about).
    RequestSupport,
    /// The back office's own work: customers, ingestion, support requests, approvals.
    BackOffice,
}

/// The permission table, the one place that says which role may do what.
pub fn permits(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::BackOffice => !matches!(action, RequestSupport),
        Role::CustomerAdmin => !matches!(action, BackOffice),
        Role::CustomerUser => matches!(action, OwnAccount | RequestSupport),
    }
}

/// How the caller proved who they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// A signed-in person: an access token of this session (refresh-token family).
    Session(String),
    /// A dashboard's API token (its id): read-only, acting as its creator.
    ApiToken(i64),
}

/// The signed-in user a request acts for.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user_id: i64,
    pub role: Role,
    /// `None` only for back-office staff.
    pub company_id: Option<i64>,
    pub credential: Credential,
    /// The user's token version when the credential was checked.
    pub token_version: i32,
    /// When the credential lapses by itself (the access token's or API token's expiry); a
    /// WebSocket connection opened with it is closed then.
    pub expires_at: Option<DateTime<Utc>>,
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

    /// FORBIDDEN unless the role may read what `action` guards.
    pub fn require(&self, action: Action) -> AppResult<()> {
        if permits(self.role, action) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "your role does not allow this: ask your administrator or the back office",
            ))
        }
    }

    /// FORBIDDEN unless the role may do `action`, and the caller is a person: API tokens
    /// never write.
    pub fn require_write(&self, action: Action) -> AppResult<()> {
        self.refuse_api_token()?;
        self.require(action)
    }

    fn refuse_api_token(&self) -> AppResult<()> {
        match self.credential {
            Credential::ApiToken(_) => Err(AppError::Forbidden(
                "API tokens are read-only: sign in as a person to change anything",
            )),
            Credential::Session(_) => Ok(()),
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

    /// For the mutations anyone may call (signing in, refreshing, activating): they prove who
    /// the caller is by their arguments, but are still writes, so an API token may not.
    pub fn require_public_write(&self) -> AppResult<()> {
        match self {
            Self::Signed(viewer) => viewer.refuse_api_token(),
            Self::Anonymous | Self::Rejected(_) => Ok(()),
        }
    }
}

/// Prefix of API tokens: it tells them apart from access tokens here, and makes a leaked
/// one recognisable to people and secret scanners.
pub const API_TOKEN_PREFIX: &str = "cpt_";

/// Reads an `Authorization` header value. A valid token of a user who is no longer active, or
/// whose tokens were invalidated since (token version, ended session, revoked API token), is
/// rejected at once: a token this instance checked lately is taken as it was then, until its
/// user is announced ([`revocation`]).
pub async fn authenticate(
    db: &DatabaseConnection,
    tokens: &AccessTokens,
    limits: &Limits,
    revocations: &Arc<Revocations>,
    header: Option<&str>,
    now: DateTime<Utc>,
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
    let key = checked::key(token);
    if let Some(viewer) = revocations.checked().viewer(&key, now) {
        return Ok(Authentication::Signed(viewer));
    }
    let ticket = revocations.ticket().await;
    let (authentication, due) = if token.starts_with(API_TOKEN_PREFIX) {
        api_token_viewer(db, limits, token, now).await?
    } else {
        (session_viewer(db, tokens, token, now).await?, None)
    };
    if let (Some(ticket), Authentication::Signed(viewer)) = (ticket, &authentication) {
        revocations
            .checked()
            .remember(ticket, key, viewer.clone(), due);
    }
    Ok(authentication)
}

async fn session_viewer(
    db: &DatabaseConnection,
    tokens: &AccessTokens,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<Authentication> {
    let (subject, expires_at) = match tokens.verify_until(token, now) {
        Ok(verified) => verified,
        Err(TokenError::Expired) => {
            return Ok(Authentication::Rejected(
                "the access token has expired: refresh the session",
            ));
        }
        Err(_) => return Ok(Authentication::Rejected("the access token is not valid")),
    };
    let Some(user) =
        store::accounts::user_of_live_session(db, subject.user_id, &subject.session).await?
    else {
        return Ok(Authentication::Rejected(
            "the session has ended: sign in again",
        ));
    };
    if user.status != UserStatus::Active || user.token_version != subject.token_version {
        return Ok(Authentication::Rejected(
            "the access token is no longer valid: sign in again",
        ));
    }
    Ok(Authentication::Signed(Viewer {
        user_id: user.id,
        role: user.role,
        company_id: user.company_id,
        credential: Credential::Session(subject.session),
        token_version: user.token_version,
        expires_at: Some(expires_at),
    }))
}

/// The API token's viewer, and when its `lastUsedAt` is due to be written again.
async fn api_token_viewer(
    db: &DatabaseConnection,
    limits: &Limits,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<(Authentication, Option<DateTime<Utc>>)> {
    const REFUSED: &str = "the API token is not valid, revoked or expired";
    let Some((api_token, user)) =
        store::api_tokens::with_creator(db, &hash_opaque_secret(token)).await?
    else {
        return Ok((Authentication::Rejected(REFUSED), None));
    };
    let expired = api_token
        .expires_at
        .is_some_and(|expires_at| expires_at <= now);
    if api_token.revoked_at.is_some() || expired || user.status != UserStatus::Active {
        return Ok((Authentication::Rejected(REFUSED), None));
    }
    // One write a minute at most, so that a dashboard polling every second costs no writes.
    let interval = limits.api_token_touch_interval;
    let mut used = api_token.last_used_at.filter(|used| *used > now - interval);
    if used.is_none() {
        store::api_tokens::touch(db, api_token.id, now, now - interval).await?;
        used = Some(now);
    }
    let viewer = Viewer {
        user_id: user.id,
        role: user.role,
        company_id: user.company_id,
        credential: Credential::ApiToken(api_token.id),
        token_version: user.token_version,
        expires_at: api_token.expires_at,
    };
    Ok((
        Authentication::Signed(viewer),
        used.map(|used| used + interval),
    ))
}

/// Why a credential checked earlier no longer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lapse {
    /// The credential itself ended: expired, signed out, replaced by a new password, revoked.
    Ended(&'static str),
    /// The user behind it was disabled.
    Disabled,
}

impl Lapse {
    /// What the client is told.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Ended(reason) => reason,
            Self::Disabled => "the account has been disabled",
        }
    }
}

/// Whether a viewer checked earlier may still read, for the long-lived WebSocket connections
/// that end with their credential: `None` while it may.
pub async fn lapsed(
    db: &DatabaseConnection,
    viewer: &Viewer,
    now: DateTime<Utc>,
) -> AppResult<Option<Lapse>> {
    if viewer
        .expires_at
        .is_some_and(|expires_at| expires_at <= now)
    {
        return Ok(Some(Lapse::Ended(
            "the credential has expired: sign in again",
        )));
    }
    let user = match &viewer.credential {
        Credential::Session(session) => {
            let user = store::accounts::user_of_live_session(db, viewer.user_id, session).await?;
            let Some(user) = user else {
                // Disabling ends the sessions too: tell the user which it was.
                let user = store::accounts::user_by_id(db, viewer.user_id).await?;
                return Ok(Some(match user {
                    Some(user) if user.status == UserStatus::Active => {
                        Lapse::Ended("the session has ended: sign in again")
                    }
                    _ => Lapse::Disabled,
                }));
            };
            user
        }
        Credential::ApiToken(id) => {
            let token = store::api_tokens::by_id(db, Scope::Everything, *id).await?;
            if token.is_none_or(|token| token.revoked_at.is_some()) {
                return Ok(Some(Lapse::Ended("the API token has been revoked")));
            }
            let user = store::accounts::user_by_id(db, viewer.user_id).await?;
            let Some(user) = user else {
                return Ok(Some(Lapse::Disabled));
            };
            user
        }
    };
    Ok(if user.status != UserStatus::Active {
        Some(Lapse::Disabled)
    } else if user.token_version != viewer.token_version {
        Some(Lapse::Ended(
            "the credential is no longer valid: sign in again",
        ))
    } else {
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permission_table() {
        use Action::*;
        let table = [
            (Role::BackOffice, [true, true, true, false, true, true]),
            (Role::CustomerAdmin, [true, true, true, true, false, true]),
            (Role::CustomerUser, [true, false, false, true, false, false]),
        ];
        let actions = [
            OwnAccount,
            ManageUsers,
            ManageApiTokens,
            RequestSupport,
            BackOffice,
            ManageWebhooks,
        ];
        for (role, allowed) in table {
            for (action, expected) in actions.into_iter().zip(allowed) {
                assert_eq!(permits(role, action), expected, "{role:?} {action:?}");
            }
        }
    }
}
