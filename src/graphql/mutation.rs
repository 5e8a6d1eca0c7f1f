//! The mutation root, merged from one object per area so that each area stays in its file.

use async_graphql::{Context, MergedObject, Object, Result};

use super::{ContextExt, account::Session, back_office::BackOfficeMutation};
use crate::auth::session;

/// Every write of the API.
#[derive(MergedObject, Default)]
pub struct Mutation(SessionMutation, BackOfficeMutation);

/// Signing in and out.
#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Sign in with e-mail and password. A wrong password and an unknown e-mail get the same answer.
    async fn login(&self, ctx: &Context<'_>, email: String, password: String) -> Result<Session> {
        let services = ctx.services()?;
        let issued = session::login(
            &services.db,
            &services.tokens,
            &services.limits,
            &email,
            &password,
            services.clock.now(),
        )
        .await?;
        Ok(Session(issued))
    }
}
