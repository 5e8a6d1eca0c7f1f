//! Sessions: signing in with a password or an activation link, rotating refresh tokens,
//! signing out, and changing the password.
//!
//! A session is a family of refresh tokens. Each refresh trades the presented token for a new
//! one; presenting a token that was already traded means it was copied, so the whole family
//! ends. Access tokens name their family, so that an ended session's access tokens stop
//! working at once.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use entities::{activation_token, user};
use sea_orm::{ActiveEnum, ConnectionTrait, DatabaseConnection};

use super::{
    password::{check_new_password, hash_password, verify_password},
    revocation::Revocations,
    throttle::{LoginThrottle, Verdict},
    token::{AccessSubject, AccessTokens, hash_opaque_secret, new_opaque_secret},
};
use crate::{
    budget::Admission,
    config::Limits,
    domain::account::UserStatus,
    error::{AppError, AppResult},
    store::{self, accounts},
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

/// What session operations need from the running service.
pub struct Sessions<'a> {
    pub db: &'a DatabaseConnection,
    pub tokens: &'a AccessTokens,
    pub limits: &'a Limits,
    /// Told of every session that ends, so that its connections close.
    pub revocations: &'a Revocations,
}

/// The one answer to every failed sign-in, so that it never tells whether the e-mail exists.
const BAD_CREDENTIALS: &str = "the e-mail address or password is wrong";
const BAD_REFRESH: &str = "the refresh token is not valid: sign in again";

/// Runs Argon2 off the async threads.
async fn password_matches(password: &str, stored_hash: Option<String>) -> AppResult<bool> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || verify_password(&password, stored_hash.as_deref()))
        .await
        .map_err(|error| AppError::Internal(error.into()))
}

async fn hashed(password: &str) -> AppResult<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|error| AppError::Internal(error.into()))?
        .map_err(|error| AppError::Internal(error.into()))
}

fn weak(field: &str, email: &str, password: &str) -> AppResult<()> {
    check_new_password(password, email).map_err(|weak| AppError::bad_input(field, weak.to_string()))
}

impl Sessions<'_> {
    /// Checks the password (as long for unknown e-mails as for known ones) and opens a session.
    /// Repeated failures for one e-mail or from one client are slowed, then refused.
    /// A throttled attempt waits outside `admission`, so that it holds no request's turn.
    pub async fn login(
        &self,
        throttle: &LoginThrottle,
        admission: Option<&Admission>,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> AppResult<IssuedSession> {
        let email = accounts::normalise_email(email);
        match throttle.verdict(self.db, &email, client, now).await? {
            Verdict::Go => {}
            Verdict::Wait(wait) => match admission {
                Some(admission) => admission.step_aside(tokio::time::sleep(wait)).await,
                None => tokio::time::sleep(wait).await,
            },
            Verdict::Refuse(until) => {
                return Err(AppError::RateLimited {
                    retry_after_seconds: (until - now).num_seconds().max(1),
                });
            }
        }
        let user = accounts::user_by_email(self.db, &email).await?;
        let stored_hash = user.as_ref().and_then(|user| user.password_hash.clone());
        let matches = password_matches(password, stored_hash).await?;
        match user {
            Some(user) if matches && user.status == UserStatus::Active => {
                throttle.succeeded(self.db, &email).await?;
                self.open(self.db, user, now).await
            }
            _ => {
                throttle.failed(self.db, &email, client, now).await?;
                Err(AppError::Unauthenticated(BAD_CREDENTIALS))
            }
        }
    }

    /// Issues an access token and the first refresh token of a new session for `user`.
    async fn open(
        &self,
        db: &impl ConnectionTrait,
        user: user::Model,
        now: DateTime<Utc>,
    ) -> AppResult<IssuedSession> {
        let family = new_opaque_secret("").hash;
        self.continue_session(db, user, family, now).await
    }

    async fn continue_session(
        &self,
        db: &impl ConnectionTrait,
        user: user::Model,
        family: String,
        now: DateTime<Utc>,
    ) -> AppResult<IssuedSession> {
        let refresh = new_opaque_secret(REFRESH_TOKEN_PREFIX);
        accounts::insert_refresh_token(
            db,
            user.id,
            &family,
            &refresh.hash,
            now,
            now + self.limits.refresh_token_ttl,
        )
        .await?;
        let subject = AccessSubject {
            user_id: user.id,
            role: user.role.to_value(),
            company_id: user.company_id,
            token_version: user.token_version,
            session: family,
        };
        let (access_token, access_token_expires_at) = self
            .tokens
            .issue(&subject, now)
            .map_err(|error| AppError::Internal(error.into()))?;
        Ok(IssuedSession {
            access_token,
            access_token_expires_at,
            refresh_token: refresh.secret,
            user,
        })
    }

    /// Trades a refresh token for a new session token pair. A token that was already traded
    /// ends its whole session: someone else holds a copy.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        now: DateTime<Utc>,
    ) -> AppResult<IssuedSession> {
        let hash = hash_opaque_secret(refresh_token);
        let txn = store::begin_write(self.db).await?;
        let Some(stored) = accounts::refresh_token_by_hash(&txn, &hash).await? else {
            return Err(AppError::Unauthenticated(BAD_REFRESH));
        };
        if stored.revoked_at.is_some() || stored.expires_at <= now {
            return Err(AppError::Unauthenticated(BAD_REFRESH));
        }
        // Conditional, so that of two concurrent trades of one token only one wins.
        if stored.used_at.is_some()
            || !accounts::mark_refresh_token_used(&txn, stored.id, now).await?
        {
            accounts::end_session(&txn, stored.user_id, &stored.family, now).await?;
            txn.commit().await?;
            self.revocations.announce(stored.user_id);
            tracing::warn!(
                user_id = stored.user_id,
                "refresh token reused: session ended"
            );
            return Err(AppError::Unauthenticated(
                "this refresh token was already used, so the session has been ended: sign in again",
            ));
        }
        let user = accounts::user_by_id(&txn, stored.user_id).await?;
        let Some(user) = user.filter(|user| user.status == UserStatus::Active) else {
            return Err(AppError::Unauthenticated(BAD_REFRESH));
        };
        let session = self
            .continue_session(&txn, user, stored.family, now)
            .await?;
        txn.commit().await?;
        Ok(session)
    }

    /// Ends the session of `refresh_token`: its refresh and access tokens stop working.
    /// False when the token is unknown; ending an ended session again is true.
    pub async fn logout(&self, refresh_token: &str, now: DateTime<Utc>) -> AppResult<bool> {
        let hash = hash_opaque_secret(refresh_token);
        let Some(stored) = accounts::refresh_token_by_hash(self.db, &hash).await? else {
            return Ok(false);
        };
        accounts::end_session(self.db, stored.user_id, &stored.family, now).await?;
        self.revocations.announce(stored.user_id);
        Ok(true)
    }

    /// Sets a new password after checking the current one, and ends every other session of
    /// the user; `session` (the caller's) goes on.
    pub async fn change_password(
        &self,
        throttle: &LoginThrottle,
        user_id: i64,
        session: &str,
        current: &str,
        new: &str,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let user = accounts::user_by_id(self.db, user_id)
            .await?
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("signed-in user {user_id} missing"))
            })?;
        if let Verdict::Refuse(until) = throttle.verdict(self.db, &user.email, None, now).await? {
            return Err(AppError::RateLimited {
                retry_after_seconds: (until - now).num_seconds().max(1),
            });
        }
        if !password_matches(current, user.password_hash.clone()).await? {
            throttle.failed(self.db, &user.email, None, now).await?;
            return Err(AppError::bad_input(
                "currentPassword",
                "the current password is wrong",
            ));
        }
        weak("newPassword", &user.email, new)?;
        let hash = hashed(new).await?;
        let txn = store::begin_write(self.db).await?;
        accounts::set_password(&txn, user.id, &hash).await?;
        accounts::end_sessions_of(&txn, user.id, Some(session), now).await?;
        txn.commit().await?;
        self.revocations.announce(user.id);
        Ok(())
    }

    /// Follows an activation link: sets the password, makes the user ACTIVE and signs them in.
    /// A used, unknown or expired link changes nothing.
    pub async fn activate(
        &self,
        token: &str,
        new_password: &str,
        now: DateTime<Utc>,
    ) -> AppResult<IssuedSession> {
        let expired = || {
            AppError::bad_input(
                "token",
                "this activation link is not valid: it was used already, has expired, or was replaced by a newer one; ask for a new invitation",
            )
        };
        let Some((activation, user)) = self.usable_activation(token, now).await? else {
            return Err(expired());
        };
        weak("newPassword", &user.email, new_password)?;
        let hash = hashed(new_password).await?;
        let txn = store::begin_write(self.db).await?;
        if !accounts::mark_activation_used(&txn, activation.id, now).await? {
            return Err(expired());
        }
        let user = accounts::activate_user(&txn, user.id, &hash).await?;
        let session = self.open(&txn, user, now).await?;
        txn.commit().await?;
        Ok(session)
    }

    /// The e-mail address of the invited person whom `token` activates, while the link works:
    /// what the activation page shows before it asks for a password.
    pub async fn pending_activation(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<String>> {
        Ok(self
            .usable_activation(token, now)
            .await?
            .map(|(_, user)| user.email))
    }

    /// The activation of `token` and its user, unless it was used, has expired, or its user
    /// is no longer invited.
    async fn usable_activation(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<(activation_token::Model, user::Model)>> {
        let found = accounts::activation_with_user(self.db, &hash_opaque_secret(token)).await?;
        Ok(found.filter(|(activation, user)| {
            activation.used_at.is_none()
                && activation.expires_at > now
                && user.status == UserStatus::Invited
        }))
    }
}
