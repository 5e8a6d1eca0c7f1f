//! The mutation root.

use async_graphql::{Context, Object, Result};

use super::{ContextExt, account::Session};
use crate::auth::session;

/// Every write of the API.
pub struct Mutation;

#[Object]
impl Mutation {
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
