//! The application: one builder shared by `main` and the tests, and the HTTP routes.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    Extension, Router,
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode, header::AUTHORIZATION},
    response::{Html, IntoResponse},
    routing::get,
};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tower_http::{limit::RequestBodyLimitLayer, trace::TraceLayer};

use crate::{
    auth::{self, throttle::LoginThrottle, token::AccessTokens},
    clock::Clock,
    config::{Config, Limits},
    error::{self, AppError, AppResult},
    graphql::{self, ClientAddress, PortalSchema, Services},
    loaders::{BatchWhenIdle, Loaders},
    mail::{Mailer, Round},
};

/// Issuer and audience of access tokens: a token of another service is not accepted here.
const TOKEN_ISSUER: &str = "customer-portal";
const TOKEN_AUDIENCE: &str = "customer-portal-api";

/// A running service's state: the schema and what it serves from.
#[derive(Clone)]
pub struct App {
    schema: PortalSchema,
    services: Arc<Services>,
}

impl App {
    /// Builds the service on an open (and migrated) database.
    pub fn new(config: &Config, db: DatabaseConnection, clock: Clock) -> Self {
        let limits: Limits = config.limits.clone();
        let tokens = AccessTokens::new(
            config.jwt_secret.expose(),
            TOKEN_ISSUER,
            TOKEN_AUDIENCE,
            limits.access_token_ttl,
        );
        let services = Arc::new(Services {
            db,
            tokens,
            clock,
            throttle: LoginThrottle::new(limits.login_throttle.clone()),
            limits,
            mailer: Arc::new(Mailer::new(config)),
            public_url: config.public_url.clone(),
            support_email: config.support_email.clone(),
        });
        Self {
            schema: graphql::build_schema(services.clone()),
            services,
        }
    }

    /// The database this service reads and writes.
    pub fn db(&self) -> &DatabaseConnection {
        &self.services.db
    }

    /// Sends the mail that is due now; `serve` does this in the background
    /// ([`App::spawn_mail_dispatcher`]), tests call it to see what went out.
    pub async fn deliver_mail(&self) -> AppResult<Round> {
        self.services
            .mailer
            .deliver_due(&self.services.db, self.services.clock.now())
            .await
    }

    /// Starts sending queued mail in the background, for as long as the runtime runs.
    pub fn spawn_mail_dispatcher(&self) {
        let mailer = self.services.mailer.clone();
        tokio::spawn(mailer.run(self.services.db.clone(), self.services.clock.clone()));
    }

    /// Runs one GraphQL request for the holder of `authorization` (an `Authorization` header
    /// value), with a fresh loader, and gives every error a contract code.
    pub async fn execute(
        &self,
        authorization: Option<&str>,
        request: async_graphql::Request,
    ) -> async_graphql::Response {
        self.execute_from(None, authorization, request).await
    }

    /// [`App::execute`] for a request from `client`, whose failed sign-ins count against it.
    pub async fn execute_from(
        &self,
        client: Option<IpAddr>,
        authorization: Option<&str>,
        request: async_graphql::Request,
    ) -> async_graphql::Response {
        let authentication = match auth::authenticate(
            &self.services.db,
            &self.services.tokens,
            &self.services.limits,
            authorization,
            self.services.clock.now(),
        )
        .await
        {
            Ok(authentication) => authentication,
            Err(error) => {
                let error: async_graphql::Error = error.into();
                return async_graphql::Response::from_errors(vec![
                    error.into_server_error(Default::default()),
                ]);
            }
        };
        let idle = Arc::new(Notify::new());
        let request = request
            .data(authentication)
            .data(ClientAddress(client))
            .data(Loaders::for_request(self.services.db.clone(), idle.clone()));
        let mut response = BatchWhenIdle::new(self.schema.execute(request), idle).await;
        error::classify_unhandled(&mut response);
        response
    }

    /// The HTTP routes of `operations.md`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/graphql", get(graphiql).post(graphql_post))
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(ready))
            .layer(RequestBodyLimitLayer::new(
                self.services.limits.max_body_bytes,
            ))
            .layer(TraceLayer::new_for_http())
            .with_state(self.clone())
    }
}

async fn graphql_post(
    State(app): State<App>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let authorization = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let client = connection.map(|Extension(ConnectInfo(address))| address.ip());
    app.execute_from(client, authorization, request.into_inner())
        .await
        .into()
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

async fn ready(State(app): State<App>) -> impl IntoResponse {
    match app.services.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(cause) => {
            let _: AppError = cause.into();
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
