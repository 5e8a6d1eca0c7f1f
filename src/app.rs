//! The application: one builder shared by `main` and the tests, and the HTTP routes.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use async_graphql::{
    Data,
    http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols, WsMessage},
};
use axum::{
    Extension, Router,
    extract::{
        ConnectInfo, DefaultBodyLimit, State,
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    },
    http::{HeaderMap, StatusCode, header::SEC_WEBSOCKET_PROTOCOL},
    middleware,
    response::IntoResponse,
    routing::get,
};
use futures_util::{SinkExt as _, StreamExt as _, future};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tower_http::trace::TraceLayer;

use crate::{
    auth::{self, Authentication, throttle::LoginThrottle, token::AccessTokens},
    clock::Clock,
    config::{Config, Limits},
    error::{self, AppError, AppResult},
    feed::EventBus,
    graphql::{
        self, ClientAddress, PortalSchema, Services, SubscriptionSlots,
        response_cache::ResponseCache,
    },
    loaders::{BatchWhenIdle, Loaders, StreamLoader},
    mail::{Mailer, Round},
    metrics::Metrics,
    web::{self, activation::ActivationPage, cors::Cors},
};

/// Issuer and audience of access tokens: a token of another service is not accepted here.
const TOKEN_ISSUER: &str = "customer-portal";
const TOKEN_AUDIENCE: &str = "customer-portal-api";

/// A running service's state: the schema and what it serves from.
#[derive(Clone)]
pub struct App {
    schema: PortalSchema,
    services: Arc<Services>,
    responses: Arc<ResponseCache>,
    cors: Cors,
    activation_page: ActivationPage,
}

impl App {
    /// Builds the service on an open (and migrated) database.
    pub fn new(config: &Config, mut db: DatabaseConnection, clock: Clock) -> Self {
        let metrics = Arc::new(Metrics::default());
        let counter = metrics.clone();
        db.set_metric_callback(move |_| counter.statement());
        let limits: Limits = config.limits.clone();
        let tokens = AccessTokens::new(
            config.jwt_secret.expose(),
            TOKEN_ISSUER,
            TOKEN_AUDIENCE,
            limits.access_token_ttl,
        );
        let events = Arc::new(EventBus::new(db.clone(), limits.event_buffer));
        let responses = Arc::new(ResponseCache::new(
            config.response_cache_bytes,
            &graphql::sdl(),
            metrics.clone(),
        ));
        let admission = tokio::sync::Semaphore::new(limits.concurrent_requests.max(1));
        let services = Arc::new(Services {
            db,
            tokens,
            clock,
            throttle: LoginThrottle::new(limits.login_throttle.clone()),
            limits,
            mailer: Arc::new(Mailer::new(config)),
            events,
            admission,
            metrics,
            connections: Default::default(),
            public_url: config.public_url.clone(),
            support_email: config.support_email.clone(),
        });
        Self {
            schema: graphql::build_schema(services.clone()),
            services,
            responses,
            cors: Cors::new(&config.cors_origins),
            activation_page: ActivationPage::new(&config.home_url),
        }
    }

    /// What the service's resolvers and pages serve from.
    pub(crate) fn services(&self) -> &Services {
        &self.services
    }

    /// Answers to polled order queries.
    pub(crate) fn responses(&self) -> &ResponseCache {
        &self.responses
    }

    /// The activation page's settings.
    pub(crate) fn activation_page(&self) -> &ActivationPage {
        &self.activation_page
    }

    /// The largest request body accepted (`Limits::max_body_bytes`).
    pub(crate) fn max_body_bytes(&self) -> usize {
        self.services.limits.max_body_bytes
    }

    /// SQL statements this service has sent so far.
    pub fn statements(&self) -> u64 {
        self.services.metrics.statements()
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
        let started = std::time::Instant::now();
        let operation = request.operation_name.clone();
        // The semaphore is never closed, so a permit always comes.
        let _permit = self.services.admission.acquire().await.ok();
        let response = self.answer(client, authorization, request).await;
        self.services.metrics.observe(
            operation.as_deref(),
            !response.errors.is_empty(),
            started.elapsed(),
        );
        response
    }

    async fn answer(
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
            Err(error) => return refusal(error),
        };
        let services = &self.services;
        match (self.responses)
            .look_up(
                &request,
                &authentication,
                &services.events,
                services.clock.today(),
            )
            .await
        {
            // The HTTP edge sends what the request's revalidation holds: the stored answer or 304.
            Ok(true) => return async_graphql::Response::default(),
            Ok(false) => {}
            Err(error) => return refusal(error),
        }
        let idle = Arc::new(Notify::new());
        let request = request
            .data(authentication)
            .data(ClientAddress(client))
            .data(Arc::new(Loaders::for_request(
                self.services.db.clone(),
                idle.clone(),
            )));
        let mut response = BatchWhenIdle::new(self.schema.execute(request), idle).await;
        error::classify_unhandled(&mut response);
        response
    }

    /// The HTTP routes of `operations.md`.
    pub fn router(&self) -> Router {
        Router::new()
            .route(
                "/graphql",
                get(web::graphql::get)
                    .post(web::graphql::post)
                    .fallback(web::graphql::other_method)
                    .layer(middleware::from_fn_with_state(
                        self.cors.clone(),
                        web::cors::middleware,
                    )),
            )
            .route("/graphql/ws", get(graphql_ws))
            .route(
                "/activate",
                get(web::activation::show).post(web::activation::submit),
            )
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(ready))
            .route("/metrics", get(metrics))
            .layer(DefaultBodyLimit::max(self.services.limits.max_body_bytes))
            .layer(TraceLayer::new_for_http())
            .with_state(self.clone())
    }
}

/// A request refused before it runs, as a response with the error's code.
fn refusal(error: AppError) -> async_graphql::Response {
    let error: async_graphql::Error = error.into();
    async_graphql::Response::from_errors(vec![error.into_server_error(Default::default())])
}

/// Close codes of `graphql-transport-ws` for a refused `connection_init`.
const CLOSE_UNAUTHORIZED: u16 = 4401;
const CLOSE_TOO_MANY: u16 = 4429;
/// Markers at the start of the refusal, which the protocol turns into a close reason.
const REFUSED_UNAUTHORIZED: &str = "Unauthorized";
const REFUSED_TOO_MANY: &str = "Too many connections";

async fn graphql_ws(
    State(app): State<App>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> axum::response::Response {
    let client = connection.map(|Extension(ConnectInfo(address))| address.ip());
    let protocol = headers
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|name| name.trim().parse::<WebSocketProtocols>().ok())
        });
    let Some(protocol) = protocol else {
        return (
            StatusCode::BAD_REQUEST,
            "ask for the graphql-transport-ws subprotocol",
        )
            .into_response();
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| app.serve_socket(socket, protocol, client))
}

/// A user's open WebSocket connection, counted against the cap until it closes.
struct ConnectionSlot {
    services: Arc<Services>,
    user_id: i64,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut open = self
            .services
            .connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.user_id) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

impl App {
    /// Runs a subscription in this process, as a WebSocket connection whose `connection_init`
    /// carried `authorization`: what the WebSocket endpoint does, without the socket.
    pub async fn subscribe(
        &self,
        authorization: Option<&str>,
        request: async_graphql::Request,
    ) -> Result<impl futures_util::Stream<Item = async_graphql::Response> + use<>, String> {
        let payload = serde_json::json!({ "authorization": authorization });
        let data = self
            .connection_data(payload, None)
            .await
            .map_err(|error| error.message)?;
        Ok(self
            .schema
            .execute_stream_with_session_data(request, Arc::new(data)))
    }

    /// Speaks `graphql-transport-ws` (or the older protocol) on an upgraded connection. The
    /// token comes in `connection_init` as `{"authorization": "Bearer …"}`.
    async fn serve_socket(
        self,
        socket: WebSocket,
        protocol: WebSocketProtocols,
        client: Option<IpAddr>,
    ) {
        let (mut sink, source) = socket.split();
        let incoming = source
            .take_while(|message| future::ready(message.is_ok()))
            .filter_map(|message| {
                future::ready(match message {
                    Ok(Message::Text(text)) => Some(text.as_str().to_owned()),
                    Ok(Message::Binary(bytes)) => String::from_utf8(bytes.to_vec()).ok(),
                    _ => None,
                })
            });
        let app = self.clone();
        let conversation =
            async_graphql::http::WebSocket::new(self.schema.clone(), incoming, protocol)
                .on_connection_init(move |payload| async move {
                    app.connection_data(payload, client).await
                });
        futures_util::pin_mut!(conversation);
        while let Some(message) = conversation.next().await {
            let outgoing = match message {
                WsMessage::Text(text) => Message::Text(text.into()),
                WsMessage::Close(code, reason) => {
                    let code = if reason.starts_with(REFUSED_UNAUTHORIZED) {
                        CLOSE_UNAUTHORIZED
                    } else if reason.starts_with(REFUSED_TOO_MANY) {
                        CLOSE_TOO_MANY
                    } else {
                        code
                    };
                    Message::Close(Some(CloseFrame {
                        code,
                        reason: reason.into(),
                    }))
                }
            };
            let closing = matches!(outgoing, Message::Close(_));
            if sink.send(outgoing).await.is_err() || closing {
                break;
            }
        }
    }

    /// Authenticates a WebSocket connection and gives it what its operations need.
    async fn connection_data(
        &self,
        payload: serde_json::Value,
        client: Option<IpAddr>,
    ) -> async_graphql::Result<Data> {
        let header = ["authorization", "Authorization"]
            .into_iter()
            .find_map(|key| payload.get(key).and_then(serde_json::Value::as_str));
        let services = &self.services;
        let authentication = auth::authenticate(
            &services.db,
            &services.tokens,
            &services.limits,
            header,
            services.clock.now(),
        )
        .await
        .map_err(|error| async_graphql::Error::from(error).message)?;
        let user_id = match &authentication {
            Authentication::Signed(viewer) => viewer.user_id,
            Authentication::Anonymous => {
                return Err(format!(
                    "{REFUSED_UNAUTHORIZED}: send {{\"authorization\": \"Bearer …\"}} in connection_init"
                )
                .into());
            }
            Authentication::Rejected(reason) => {
                return Err(format!("{REFUSED_UNAUTHORIZED}: {reason}").into());
            }
        };
        let slot = {
            let mut open = services
                .connections
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = open.entry(user_id).or_default();
            if *count >= services.limits.max_connections_per_user {
                return Err(format!(
                    "{REFUSED_TOO_MANY}: a user holds at most {} connections",
                    services.limits.max_connections_per_user
                )
                .into());
            }
            *count += 1;
            ConnectionSlot {
                services: services.clone(),
                user_id,
            }
        };
        let mut data = Data::default();
        data.insert(authentication);
        data.insert(ClientAddress(client));
        data.insert(Arc::new(StreamLoader::new(services.db.clone())));
        data.insert(SubscriptionSlots::default());
        data.insert(slot);
        Ok(data)
    }
}

async fn metrics(State(app): State<App>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.services.metrics.render(&app.services.db),
    )
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
