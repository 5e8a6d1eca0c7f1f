//! The application: one builder shared by `main` and the tests, and the WebSocket, health
//! and metrics endpoints; `web` mounts them beside its own routes (`App::router`).

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use async_graphql::{
    Data,
    http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols, WsMessage},
};
use axum::{
    Extension,
    extract::{
        ConnectInfo, State,
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    },
    http::{HeaderMap, StatusCode, header::SEC_WEBSOCKET_PROTOCOL},
    response::IntoResponse,
};
use futures_util::{SinkExt as _, StreamExt as _, future};
use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, watch};

use crate::{
    auth::{
        self, Authentication, Lapse, revocation::Revocations, throttle::LoginThrottle,
        token::AccessTokens,
    },
    budget::{self, Admission, StatementBudget},
    clock::Clock,
    config::{Config, Limits},
    error::{self, AppError, AppResult},
    feed::EventBus,
    graphql::{
        self, ClientAddress, CredentialLapse, PortalSchema, Services, SubscriptionSlots,
        response_cache::ResponseCache,
    },
    loaders::{BatchWhenIdle, Loaders, StreamLoader},
    mail::{Mailer, Round},
    metrics::Metrics,
    proxies::TrustedProxies,
    webhooks::{self, Deliverer, signing::SecretKey},
};

/// Issuer and audience of access tokens: a token of another service is not accepted here.
const TOKEN_ISSUER: &str = "customer-portal";
const TOKEN_AUDIENCE: &str = "customer-portal-api";

/// A running service's state: the schema and what it serves from.
#[derive(Clone)]
pub struct App {
    schema: PortalSchema,
    pub(crate) services: Arc<Services>,
    responses: Arc<ResponseCache>,
    /// The origins whose pages may call the API, and where activated people go next: the
    /// HTTP edge's settings, built into its routes once (`App::router`).
    pub(crate) cors_origins: Arc<[String]>,
    pub(crate) home_url: Arc<str>,
    stopping: Arc<Stopping>,
    pub(crate) trusted_proxies: Arc<TrustedProxies>,
}

/// Tells the open WebSocket connections that the process is stopping, and counts them.
struct Stopping {
    signal: watch::Sender<bool>,
    sockets: watch::Sender<usize>,
}

/// An open WebSocket connection, counted until it closes.
struct OpenSocket(Arc<Stopping>);

impl OpenSocket {
    fn new(stopping: &Arc<Stopping>) -> Self {
        stopping.sockets.send_modify(|open| *open += 1);
        Self(stopping.clone())
    }
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.sockets.send_modify(|open| *open -= 1);
    }
}

impl App {
    /// Builds the service on an open (and migrated) database.
    pub fn new(config: &Config, mut db: DatabaseConnection, clock: Clock) -> Self {
        let metrics = Arc::new(Metrics::default());
        let counter = metrics.clone();
        db.set_metric_callback(move |_| {
            counter.statement();
            budget::count_statement();
        });
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
        let admission = Arc::new(tokio::sync::Semaphore::new(
            limits.concurrent_requests.max(1),
        ));
        let mailer = Arc::new(Mailer::new(config));
        let webhooks = Arc::new(Deliverer::new(
            &config.webhooks,
            SecretKey::derive(config.jwt_secret.expose()),
            mailer.clone(),
        ));
        let services = Arc::new(Services {
            revocations: Arc::new(Revocations::new(db.clone(), limits.credential_recheck)),
            db,
            tokens,
            clock,
            throttle: LoginThrottle::new(limits.login_throttle.clone()),
            limits,
            mailer,
            events,
            admission,
            metrics,
            connections: Default::default(),
            public_url: config.public_url.clone(),
            support_email: config.support_email.clone(),
            webhooks,
            one_pass: config.one_pass,
        });
        Self {
            schema: graphql::build_schema(services.clone()),
            services,
            responses,
            cors_origins: config.cors_origins.clone().into(),
            home_url: config.home_url.as_str().into(),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            stopping: Arc::new(Stopping {
                signal: watch::channel(false).0,
                sockets: watch::channel(0).0,
            }),
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

    /// The largest request body accepted (`Limits::max_body_bytes`).
    pub(crate) fn max_body_bytes(&self) -> usize {
        self.services.limits.max_body_bytes
    }

    /// Closes every WebSocket connection with 1001 (going away), and returns once they are
    /// closed; connections opened later are closed at once.
    pub async fn close_sockets(&self) {
        self.stopping.signal.send_replace(true);
        let mut open = self.stopping.sockets.subscribe();
        let _ = open.wait_for(|open| *open == 0).await;
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

    /// Sends the webhook deliveries that are due now; `serve` does this in the background
    /// ([`App::spawn_webhook_deliverer`]), tests call it to drive rounds themselves.
    pub async fn deliver_webhooks(&self) -> AppResult<webhooks::Round> {
        self.services
            .webhooks
            .deliver_due(&self.services.db, &self.services.clock)
            .await
    }

    /// Starts delivering webhooks in the background, for as long as the runtime runs.
    pub fn spawn_webhook_deliverer(&self) {
        let deliverer = self.services.webhooks.clone();
        tokio::spawn(deliverer.run(
            self.services.db.clone(),
            self.services.clock.clone(),
            self.services.events.clone(),
        ));
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
        let admission = Admission::enter(self.services.admission.clone()).await;
        let limits = &self.services.limits;
        // A database that stalls (no answer, no error) must not hold the request: a
        // connection comes within the acquire timeout, a statement ends within its own.
        let patience = limits.database_acquire_timeout + limits.database_statement_timeout;
        let answering = self.answer(client, authorization, request.data(admission));
        let response = tokio::time::timeout(patience, answering)
            .await
            .unwrap_or_else(|_| refusal(AppError::Unavailable));
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
            &self.services.revocations,
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
        let budget = StatementBudget::new(self.services.limits.max_statements_per_request);
        let running = BatchWhenIdle::new(self.schema.execute(request), idle);
        let mut response = match budget.run(running).await {
            Ok(response) => response,
            Err(exceeded) => refusal(AppError::StatementBudget {
                limit: exceeded.limit,
            }),
        };
        error::classify_unhandled(&mut response);
        response
    }
}

/// A response of one error, for a request that ends before or instead of its execution.
fn refusal(error: AppError) -> async_graphql::Response {
    let error: async_graphql::Error = error.into();
    async_graphql::Response::from_errors(vec![error.into_server_error(Default::default())])
}

/// Close codes of `graphql-transport-ws`: for a refused `connection_init`, and for a
/// credential that lapses while its connection is open (4401 ended, 4403 user disabled).
const CLOSE_UNAUTHORIZED: u16 = 4401;
const CLOSE_FORBIDDEN: u16 = 4403;
const CLOSE_TOO_MANY: u16 = 4429;
/// WebSocket's own code for a server that is going away.
const CLOSE_GOING_AWAY: u16 = 1001;
/// Markers at the start of the refusal, which the protocol turns into a close reason.
const REFUSED_UNAUTHORIZED: &str = "Unauthorized";
const REFUSED_TOO_MANY: &str = "Too many connections";

pub(crate) async fn graphql_ws(
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
            .connection_data(payload, None, Arc::new(watch::channel(None).0))
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
        let _open = OpenSocket::new(&self.stopping);
        let mut stopping = self.stopping.signal.subscribe();
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
        let (lapse, mut lapsed) = watch::channel(None);
        let lapse = Arc::new(lapse);
        let conversation =
            async_graphql::http::WebSocket::new(self.schema.clone(), incoming, protocol)
                .on_connection_init(move |payload| async move {
                    app.connection_data(payload, client, lapse).await
                });
        futures_util::pin_mut!(conversation);
        loop {
            let message = tokio::select! {
                // The credential goes first: nothing more is sent once it has lapsed.
                biased;
                Ok(()) = lapsed.changed() => {
                    let Some(lapse) = *lapsed.borrow() else { continue };
                    let code = match lapse {
                        Lapse::Ended(_) => CLOSE_UNAUTHORIZED,
                        Lapse::Disabled => CLOSE_FORBIDDEN,
                    };
                    WsMessage::Close(code, lapse.reason().to_owned())
                }
                () = until_true(&mut stopping) => {
                    WsMessage::Close(CLOSE_GOING_AWAY, "the server is shutting down".to_owned())
                }
                message = conversation.next() => match message {
                    Some(message) => message,
                    None => break,
                },
            };
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
    /// The connection's credential is watched until `lapse`'s receivers are gone; when it
    /// lapses, `lapse` says why.
    async fn connection_data(
        &self,
        payload: serde_json::Value,
        client: Option<IpAddr>,
        lapse: Arc<watch::Sender<Option<Lapse>>>,
    ) -> async_graphql::Result<Data> {
        let header = ["authorization", "Authorization"]
            .into_iter()
            .find_map(|key| payload.get(key).and_then(serde_json::Value::as_str));
        let services = &self.services;
        let authentication = auth::authenticate(
            &services.db,
            &services.tokens,
            &services.limits,
            &services.revocations,
            header,
            services.clock.now(),
        )
        .await
        .map_err(|error| async_graphql::Error::from(error).message)?;
        let viewer = match &authentication {
            Authentication::Signed(viewer) => viewer.clone(),
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
            let count = open.entry(viewer.user_id).or_default();
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
                user_id: viewer.user_id,
            }
        };
        let watched = CredentialLapse(lapse.subscribe());
        // Watching before the acknowledgement: an end announced after it is not missed.
        let watch = services.revocations.watch().await;
        let clock = services.clock.clone();
        let recheck = services.limits.subscription_recheck;
        tokio::spawn(async move {
            tokio::select! {
                ended = watch.lapse(&viewer, &clock, recheck) => {
                    lapse.send_replace(Some(ended));
                }
                () = lapse.closed() => {}
            }
        });
        let mut data = Data::default();
        data.insert(authentication);
        data.insert(ClientAddress(client));
        data.insert(Arc::new(StreamLoader::new(services.db.clone())));
        data.insert(SubscriptionSlots::default());
        data.insert(watched);
        data.insert(slot);
        Ok(data)
    }
}

pub(crate) async fn metrics(State(app): State<App>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.services.metrics.render(&app.services.db)
            + &app
                .services
                .webhooks
                .metrics(&app.services.db, app.services.clock.now())
                .await,
    )
}

pub(crate) async fn ready(State(app): State<App>) -> impl IntoResponse {
    let patience = app.services.limits.database_acquire_timeout;
    match tokio::time::timeout(patience, app.services.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        Ok(Err(cause)) => {
            let _: AppError = cause.into();
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!("the database did not answer /readyz within {patience:?}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Resolves once `flag` is (or was) set, or can no longer be: the server's shutdown and the
/// WebSocket connections it closes both wait on it.
pub(crate) async fn until_true(flag: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across an await.
    let _ = flag.wait_for(|set| *set).await.map(|_| ());
}
