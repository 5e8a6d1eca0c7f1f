//! API tokens for resellers' dashboards: created by an administrator, shown once, stored
//! hashed, read-only, and acting as their creator within the creator's company.

use chrono::{DateTime, Utc};
use entities::api_token;
use sea_orm::ConnectionTrait;

use super::{API_TOKEN_PREFIX, Viewer, token::new_opaque_secret};
use crate::{
    error::{AppError, AppResult},
    store::api_tokens::{self, NewApiToken},
};

/// Longest token name.
const MAX_NAME_CHARS: usize = 100;

/// A token just made, with the secret the caller sees this once.
pub struct CreatedApiToken {
    pub token: api_token::Model,
    pub secret: String,
}

/// Creates a token acting as `viewer`; `expires_at`, when given, must lie ahead.
pub async fn create(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<CreatedApiToken> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::bad_input(
            "name",
            format!(
                "`name` must have 1 to {MAX_NAME_CHARS} characters: say which dashboard uses it"
            ),
        ));
    }
    if expires_at.is_some_and(|expires_at| expires_at <= now) {
        return Err(AppError::bad_input(
            "expiresAt",
            "`expiresAt` must lie in the future",
        ));
    }
    let secret = new_opaque_secret(API_TOKEN_PREFIX);
    let new = NewApiToken {
        user_id: viewer.user_id,
        company_id: viewer.company_id,
        name,
        token_hash: &secret.hash,
        expires_at,
    };
    let token = api_tokens::insert(db, new, now).await?;
    Ok(CreatedApiToken {
        token,
        secret: secret.secret,
    })
}

/// Revokes a token of the viewer's scope; revoking it again changes nothing.
pub async fn revoke(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<api_token::Model> {
    api_tokens::revoke(db, viewer.scope(), id, now)
        .await?
        .ok_or_else(|| AppError::NotFound("API token".into()))
}
