//! Signing in: checking a password and handing out an access and a refresh token.

use chrono::{DateTime, Utc};
use entities::user;
use sea_orm::ConnectionTrait;

use super::{
    password::verify_password,
    token::{AccessSubject, AccessTokens, new_opaque_secret},
};
use crate::{
    config::Limits,
    error::{AppError, AppResult},
    store::accounts,
};

/// Prefix of refresh tokens, so that a leaked one is recognisable.
const REFRESH_TOKEN_PREFIX: &str = "cpr_";

/// A signed-in session as the API hands it out.
#[derive(Clone, Debug)]
pub struct IssuedSession {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub user: user::Model,
}

/// The one answer to every failed sign-in, so that it never tells whether the e-mail exists.
const BAD_CREDENTIALS: &str = "the e-mail address or password is wrong";

/// Checks the password (as long for unknown e-mails as for known ones) and opens a session.
pub async fn login(
    db: &impl ConnectionTrait,
    tokens: &AccessTokens,
    limits: &Limits,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> AppResult<IssuedSession> {
    let user = accounts::user_by_email(db, email).await?;
    let stored_hash = user.as_ref().and_then(|user| user.password_hash.clone());
    let password = password.to_owned();
    let matches =
        tokio::task::spawn_blocking(move || verify_password(&password, stored_hash.as_deref()))
            .await
            .map_err(|error| AppError::Internal(error.into()))?;
    match user {
        Some(user) if matches && user.status == accounts::STATUS_ACTIVE => {
            open_session(db, tokens, limits, user, now).await
        }
        _ => Err(AppError::Unauthenticated(BAD_CREDENTIALS)),
    }
}

/// Issues a fresh access token and a new refresh-token family for `user`.
pub async fn open_session(
    db: &impl ConnectionTrait,
    tokens: &AccessTokens,
    limits: &Limits,
    user: user::Model,
    now: DateTime<Utc>,
) -> AppResult<IssuedSession> {
    let subject = AccessSubject {
        user_id: user.id,
        role: user.role.clone(),
        company_id: user.company_id,
        token_version: user.token_version,
    };
    let (access_token, access_token_expires_at) = tokens
        .issue(&subject, now)
        .map_err(|error| AppError::Internal(error.into()))?;
    let refresh = new_opaque_secret(REFRESH_TOKEN_PREFIX);
    let family = new_opaque_secret("").hash;
    accounts::insert_refresh_token(
        db,
        user.id,
        &family,
        &refresh.hash,
        now,
        now + limits.refresh_token_ttl,
    )
    .await?;
    Ok(IssuedSession {
        access_token,
        access_token_expires_at,
        refresh_token: refresh.secret,
        user,
    })
}
