//! Signing in and out, activating an account, changing the password.

use std::sync::Arc;

use async_graphql::{Context, Object, Result};

use super::{ContextExt, account::Session};
use crate::{
    auth::{Action, Credential},
    budget::Admission,
    error::AppError,
};

/// The mutations of sessions; all but `changePassword` need no access token.
#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Sign in with e-mail and password. A wrong password and an unknown e-mail get the same
    /// answer; repeated failures are slowed down, then refused for a while (RATE_LIMITED).
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The sign-in address; case and surrounding spaces do not matter.")]
        email: String,
        #[graphql(desc = "The password, exactly as chosen.")] password: String,
    ) -> Result<Session> {
        ctx.authentication()?.require_public_write()?;
        let services = ctx.services()?;
        let session = services
            .sessions()
            .login(
                &services.throttle,
                ctx.data_opt::<Arc<Admission>>().map(Arc::as_ref),
                &email,
                &password,
                ctx.client(),
                services.clock.now(),
            )
            .await?;
        Ok(Session(session))
    }

    /// Trade the refresh token for a new session; the old refresh token stops working, and
    /// presenting it again ends the session.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `refreshToken` (`cpr_…`) of the latest session you were given.")]
        refresh_token: String,
    ) -> Result<Session> {
        ctx.authentication()?.require_public_write()?;
        let services = ctx.services()?;
        let session = services
            .sessions()
            .refresh(&refresh_token, services.clock.now())
            .await?;
        Ok(Session(session))
    }

    /// End the session of this refresh token: its access tokens stop working too. False when
    /// the token is unknown.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session's latest `refreshToken`.")] refresh_token: String,
    ) -> Result<bool> {
        ctx.authentication()?.require_public_write()?;
        let services = ctx.services()?;
        Ok(services
            .sessions()
            .logout(&refresh_token, services.clock.now())
            .await?)
    }

    /// Follow the activation link: set your own password and get signed in.
    async fn activate_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The `token` parameter of the mailed link (`cpa_…`): single use, \
                          valid 7 days."
        )]
        token: String,
        #[graphql(desc = "10 to 256 characters, not the e-mail address; BAD_USER_INPUT \
                          otherwise.")]
        new_password: String,
    ) -> Result<Session> {
        ctx.authentication()?.require_public_write()?;
        let services = ctx.services()?;
        let session = services
            .sessions()
            .activate(&token, &new_password, services.clock.now())
            .await?;
        Ok(Session(session))
    }

    /// Needs the current password; every other session of yours ends, this one goes on.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The password you signed in with.")] current_password: String,
        #[graphql(desc = "10 to 256 characters, not the e-mail address.")] new_password: String,
    ) -> Result<bool> {
        let viewer = ctx.viewer()?;
        viewer.require_write(Action::OwnAccount)?;
        let Credential::Session(session) = &viewer.credential else {
            return Err(AppError::Forbidden("API tokens have no password").into());
        };
        let services = ctx.services()?;
        services
            .sessions()
            .change_password(
                &services.throttle,
                viewer.user_id,
                session,
                &current_password,
                &new_password,
                services.clock.now(),
            )
            .await?;
        Ok(true)
    }
}
