//! API tokens for resellers' own dashboards.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entities::api_token;

use super::{
    ContextExt,
    ids::{NodeKind, decode_as, encode},
};
use crate::{
    auth::{Action, api_tokens},
    store,
};

/// A read-only token for a dashboard; it acts as the administrator who created it.
pub struct ApiToken(pub api_token::Model);

/// A read-only token for a reseller's dashboard; it acts as the administrator who created it
/// and sees that company only.
#[Object]
impl ApiToken {
    /// Global ID, for `revokeApiToken`.
    pub async fn id(&self) -> ID {
        encode(NodeKind::ApiToken, self.0.id)
    }

    /// What the administrator called it: which dashboard uses it.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// When the administrator made it.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Null: it does not expire.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// Null: never used. Updated at most once a minute.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }

    /// Null: still valid (unless expired).
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

/// A token just made, with its secret.
pub struct CreatedApiToken(pub api_tokens::CreatedApiToken);

/// A token just made, with its secret: the only time the secret is shown.
#[Object]
impl CreatedApiToken {
    /// The token's record, as `apiTokens` lists it.
    async fn api_token(&self) -> ApiToken {
        ApiToken(self.0.token.clone())
    }

    /// The bearer secret (`cpt_…`) for `Authorization: Bearer`. Shown once; only a hash is
    /// stored, so store it now.
    async fn secret(&self) -> &str {
        &self.0.secret
    }
}

/// Reading API tokens.
#[derive(Default)]
pub struct ApiTokenQuery;

#[Object]
impl ApiTokenQuery {
    /// Your company's API tokens, newest first (every company's for the back office);
    /// administrators only.
    async fn api_tokens(&self, ctx: &Context<'_>) -> Result<Vec<ApiToken>> {
        let viewer = ctx.viewer()?;
        viewer.require(Action::ManageApiTokens)?;
        let tokens = store::api_tokens::list(&ctx.services()?.db, viewer.scope()).await?;
        Ok(tokens.into_iter().map(ApiToken).collect())
    }
}

/// Making and revoking API tokens.
#[derive(Default)]
pub struct ApiTokenMutation;

#[Object]
impl ApiTokenMutation {
    /// A read-only token for a dashboard, sent as `Authorization: Bearer`; the secret is in
    /// the answer only.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What the token is for, e.g. the dashboard that uses it.")] name: String,
        #[graphql(
            desc = "When it stops working; null: it does not expire (revoke it when \
                          done)."
        )]
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<CreatedApiToken> {
        let viewer = ctx.viewer()?;
        viewer.require_write(Action::ManageApiTokens)?;
        let services = ctx.services()?;
        let created = api_tokens::create(
            &services.db,
            viewer,
            &name,
            expires_at,
            services.clock.now(),
        )
        .await?;
        Ok(CreatedApiToken(created))
    }

    /// The token stops working at once; revoking it again changes nothing.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `ApiToken.id` to revoke.")] id: ID,
    ) -> Result<ApiToken> {
        let viewer = ctx.viewer()?;
        viewer.require_write(Action::ManageApiTokens)?;
        let id = decode_as(&id, NodeKind::ApiToken, "id")?;
        let services = ctx.services()?;
        let revoked = api_tokens::revoke(&services.db, viewer, id, services.clock.now()).await?;
        services.revocations.announce(revoked.user_id);
        Ok(ApiToken(revoked))
    }
}
