//! The GraphQL API: schema builder, roots, and one file per type. Resolvers stay thin: they
//! gather inputs through the loaders and the data layer and hand them to `domain`.

mod account;
mod api_token;
pub(crate) mod back_office;
pub(crate) mod catalogue;
mod cost;
pub(crate) mod event;
pub(crate) use crate::ids;
mod invoice;
mod key_order;
mod mutation;
mod node;
mod one_pass;
mod operation;
mod order;
mod order_line;
mod over_get;
mod query;
pub mod response_cache;
mod scalars;
mod session;
mod shipment;
mod support;
mod webhook;

use std::sync::Arc;

use async_graphql::{
    Schema, SchemaBuilder,
    extensions::apollo_persisted_queries::{ApolloPersistedQueries, LruCacheStorage},
};
use sea_orm::DatabaseConnection;

use crate::{
    auth::{
        Authentication, Viewer, revocation::Revocations, throttle::LoginThrottle,
        token::AccessTokens,
    },
    clock::Clock,
    config::Limits,
    error::{AppError, AppResult},
    feed::EventBus,
    loaders::{PortalLoader, StreamLoader},
    mail::Mailer,
};

/// The served schema.
pub type PortalSchema = Schema<query::Query, mutation::Mutation, event::EventSubscription>;

pub use event::{CredentialLapse, SubscriptionSlots};
pub use over_get::OverGet;

/// What every resolver may use, shared by all requests.
pub struct Services {
    pub db: DatabaseConnection,
    pub tokens: AccessTokens,
    pub clock: Clock,
    pub limits: Limits,
    pub mailer: Arc<Mailer>,
    pub events: Arc<EventBus>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Permits to execute a request (see `Limits::concurrent_requests`).
    pub admission: Arc<tokio::sync::Semaphore>,
    /// Open WebSocket connections per user, against `limits.max_connections_per_user`.
    pub connections: std::sync::Mutex<std::collections::HashMap<i64, usize>>,
    pub throttle: LoginThrottle,
    /// Ended credentials, announced to the connections they opened.
    pub revocations: Arc<Revocations>,
    /// Base of links in mail.
    pub public_url: String,
    /// Where support requests are mailed.
    pub support_email: String,
    /// Webhook delivery, and the rules and key of endpoints.
    pub webhooks: Arc<crate::webhooks::Deliverer>,
    /// Order pages answered in one pass (see `one_pass`).
    pub one_pass: bool,
}

impl Services {
    /// Signing in and out, refreshing, changing passwords and activating, on these services.
    pub fn sessions(&self) -> crate::auth::session::Sessions<'_> {
        crate::auth::session::Sessions {
            db: &self.db,
            tokens: &self.tokens,
            limits: &self.limits,
            revocations: &self.revocations,
        }
    }
}

/// Who sent the request, as far as the transport knows.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

/// Builds the schema with its limits; the same builder serves HTTP, tests and `schema.graphql`.
pub fn build_schema(services: Arc<Services>) -> PortalSchema {
    let limits = services.limits.clone();
    builder()
        .data(services)
        .extension(key_order::KeyOrder)
        .limit_depth(limits.max_depth)
        .extension(cost::QueryCost::new(&limits))
        .extension(ApolloPersistedQueries::new(LruCacheStorage::new(
            limits.persisted_queries.max(1),
        )))
        .extension(over_get::QueriesOnlyOverGet)
        .finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// The roots, and the descriptions of the scalars async-graphql brings (theirs speak of Rust).
fn builder() -> SchemaBuilder<query::Query, mutation::Mutation, event::EventSubscription> {
    Schema::build(
        query::Query::default(),
        mutation::Mutation::default(),
        event::EventSubscription,
    )
    .override_output_type_description::<chrono::DateTime<chrono::Utc>>(
        "An instant, RFC 3339: answered in UTC (2026-11-23T12:00:00+00:00), accepted with any \
         offset. Show it in the reader's time zone.",
    )
    .override_output_type_description::<rust_decimal::Decimal>(
        "An exact decimal number as a string, up to 4 decimals: \"1499.95\". Never a float: \
         parse it with a decimal type.",
    )
}

/// Typed access to request and schema data.
trait ContextExt {
    fn services(&self) -> AppResult<&Arc<Services>>;
    fn authentication(&self) -> AppResult<&Authentication>;
    fn viewer(&self) -> AppResult<&Viewer>;
    fn client(&self) -> Option<std::net::IpAddr>;
    fn loader(&self) -> AppResult<Arc<PortalLoader>>;
}

fn missing(what: &str) -> AppError {
    AppError::Internal(anyhow::anyhow!("{what} missing from the request context"))
}

impl<T> ContextExt for async_graphql::ContextBase<'_, T> {
    fn services(&self) -> AppResult<&Arc<Services>> {
        self.data::<Arc<Services>>()
            .map_err(|_| missing("services"))
    }

    fn authentication(&self) -> AppResult<&Authentication> {
        self.data::<Authentication>()
            .map_err(|_| missing("authentication"))
    }

    fn viewer(&self) -> AppResult<&Viewer> {
        self.authentication()?.viewer()
    }

    fn client(&self) -> Option<std::net::IpAddr> {
        self.data_opt::<ClientAddress>().and_then(|client| client.0)
    }

    fn loader(&self) -> AppResult<Arc<PortalLoader>> {
        if let Some(loader) = self.data_opt::<Arc<PortalLoader>>() {
            return Ok(loader.clone());
        }
        self.data_opt::<Arc<StreamLoader>>()
            .map(|loader| loader.current())
            .ok_or_else(|| missing("loader"))
    }
}

/// A row that a foreign key promises: its absence is a broken invariant, not a user error.
fn promised<T>(row: Option<T>, what: &str, id: i64) -> AppResult<T> {
    row.ok_or_else(|| AppError::Internal(anyhow::anyhow!("{what} {id} is referenced but missing")))
}
