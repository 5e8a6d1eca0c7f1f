//! The soak test (`bench/soak.sh` runs it; by hand, never by CI).
//!
//! Against a database filled by `customer-portal generate`, it starts the release build of
//! the service and keeps a mixed load on it: `SOAK_CLIENTS` dashboards (company k polls its
//! dashboard and searches its orders by number, in a closed loop), one back-office writer
//! moving ETAs of the first companies' orders, and one subscription per company reading
//! `orderEvents`. Every minute it prints the minute's requests, errors, p99, the events the
//! subscribers received, and the server's resident memory and open files, so that a leak
//! shows as a column that keeps growing.
//!
//! Settings (environment): `BENCH_DATABASE_URL`, `SOAK_MINUTES` (10), `SOAK_CLIENTS` (8),
//! `BENCH_PORT` (18081), `SOAK_STAFF_EMAIL` and `SOAK_STAFF_PASSWORD` (made by soak.sh).

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use bytes::Bytes;
use customer_portal::generate;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::{Request, header};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

const DASHBOARD: &str = include_str!("dashboard.graphql");
const SEARCH: &str =
    "query($term: String!) { orders(filter: {search: $term}) { totalCount nodes { status } } }";
const MOVE_ETA: &str = "mutation($order: String!, $eta: Date) {
  updateEtas(updates: [{orderNumber: $order, lineNumber: 1, eta: $eta, reason: \"soak\"}]) { eta }
}";
const SUBSCRIBE: &str = "subscription { orderEvents { cursor kind } }";

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.into())
}

/// What the load saw since the last report.
#[derive(Default)]
struct Minute {
    latencies: Vec<f64>,
    errors: u64,
    events: u64,
}

type Tally = Arc<Mutex<Minute>>;

fn record(tally: &Tally, started: Instant, ok: bool) {
    let mut minute = tally
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    minute
        .latencies
        .push(started.elapsed().as_secs_f64() * 1000.0);
    if !ok {
        minute.errors += 1;
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    authorization: Option<String>,
}

impl Client {
    async fn connect(address: SocketAddr, token: Option<&str>) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(address).await?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self {
            sender,
            authorization: token.map(|token| format!("Bearer {token}")),
        })
    }

    /// Runs a document; its response, or why there was none.
    async fn run(&mut self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let body = json!({"query": query, "variables": variables}).to_string();
        let mut request = Request::post("/graphql")
            .header(header::HOST, "localhost")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(authorization) = &self.authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        self.sender.ready().await?;
        let response = self
            .sender
            .send_request(request.body(Full::new(Bytes::from(body)))?)
            .await?;
        let body = response.into_body().collect().await?.to_bytes();
        Ok(serde_json::from_slice(&body)?)
    }
}

async fn sign_in(address: SocketAddr, email: &str, password: &str) -> anyhow::Result<String> {
    let mut client = Client::connect(address, None).await?;
    let login = "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }";
    let answer = client
        .run(login, json!({"email": email, "password": password}))
        .await?;
    answer["data"]["login"]["accessToken"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("signing in as {email}: {answer}"))
}

/// A dashboard of one company: polls, then looks up one of its orders by number.
async fn dashboard(address: SocketAddr, token: String, tally: Tally, until: Instant) {
    let Ok(mut client) = Client::connect(address, Some(&token)).await else {
        return;
    };
    let mut numbers = Vec::new();
    let mut round = 0usize;
    while Instant::now() < until {
        let started = Instant::now();
        let page = client.run(DASHBOARD, json!({"first": 20})).await;
        let ok = page.as_ref().is_ok_and(|page| page.get("errors").is_none());
        record(&tally, started, ok);
        if let Ok(page) = page
            && numbers.is_empty()
        {
            numbers = page["data"]["orders"]["nodes"]
                .as_array()
                .map(|orders| {
                    orders
                        .iter()
                        .filter_map(|order| order["orderNumber"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
        }
        if let Some(term) = numbers.get(round % numbers.len().max(1)) {
            let started = Instant::now();
            let found = client.run(SEARCH, json!({"term": term})).await;
            record(
                &tally,
                started,
                found.is_ok_and(|found| found.get("errors").is_none()),
            );
        }
        round += 1;
    }
}

/// The back office moving ETAs of the first companies' newest orders, five times a second.
async fn writer(
    address: SocketAddr,
    staff: String,
    orders: Vec<String>,
    tally: Tally,
    until: Instant,
) {
    let Ok(mut client) = Client::connect(address, Some(&staff)).await else {
        return;
    };
    let mut day = 0u64;
    while Instant::now() < until && !orders.is_empty() {
        let order = &orders[day as usize % orders.len()];
        let eta = chrono::NaiveDate::from_ymd_opt(2027, 1, 1)
            .map(|start| start + chrono::Days::new(day % 300))
            .map(|eta| eta.to_string());
        let started = Instant::now();
        let written = client
            .run(MOVE_ETA, json!({"order": order, "eta": eta}))
            .await;
        record(
            &tally,
            started,
            written.is_ok_and(|written| written.get("errors").is_none()),
        );
        day += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One company's subscription, counting the events it receives.
async fn subscriber(
    address: SocketAddr,
    token: String,
    tally: Tally,
    until: Instant,
) -> anyhow::Result<()> {
    let mut request = format!("ws://{address}/graphql/ws").into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let init =
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}});
    socket.send(Message::Text(init.to_string().into())).await?;
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}});
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await?;
    while let Ok(Some(message)) = tokio::time::timeout_at(until.into(), socket.next()).await {
        match message? {
            Message::Text(text) if text.contains("\"next\"") => {
                tally
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .events += 1;
            }
            Message::Text(text) if text.contains("\"ping\"") => {
                socket
                    .send(Message::Text(json!({"type": "pong"}).to_string().into()))
                    .await?;
            }
            Message::Close(frame) => bail!("the subscription was closed: {frame:?}"),
            _ => {}
        }
    }
    Ok(())
}

/// Resident memory in MiB and open file descriptors of `pid`.
fn resources(pid: u32) -> (f64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0);
    let files = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count);
    (rss, files)
}

fn p99(latencies: &mut [f64]) -> f64 {
    if latencies.is_empty() {
        return 0.0;
    }
    latencies.sort_by(f64::total_cmp);
    latencies[((latencies.len() as f64 * 0.99) as usize).min(latencies.len() - 1)]
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let database_url = setting(
        "BENCH_DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/customer_portal_bench_s1",
    );
    let minutes: u64 = setting("SOAK_MINUTES", "10")
        .parse()
        .context("SOAK_MINUTES")?;
    let clients: i64 = setting("SOAK_CLIENTS", "8")
        .parse()
        .context("SOAK_CLIENTS")?;
    let port: u16 = setting("BENCH_PORT", "18081")
        .parse()
        .context("BENCH_PORT")?;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let binary =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/customer-portal");
    let server = Server(
        Command::new(binary)
            .arg("serve")
            .env("DATABASE_URL", &database_url)
            .env("PORTAL_BIND", address.to_string())
            .env("JWT_SECRET", "soak-secret-soak-secret-soak-secret-soak")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .context("starting the service")?,
    );
    let started = Instant::now();
    while Client::connect(address, None).await.is_err() {
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the service did not start within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let staff = sign_in(
        address,
        &setting("SOAK_STAFF_EMAIL", "soak@distributor.example"),
        &setting("SOAK_STAFF_PASSWORD", "a soak test staff password"),
    )
    .await?;
    let mut tokens = Vec::new();
    for company in 1..=clients {
        tokens.push(sign_in(address, &generate::admin_email(company), generate::PASSWORD).await?);
    }
    let mut first = Client::connect(address, Some(&tokens[0])).await?;
    let page = first.run(DASHBOARD, json!({"first": 20})).await?;
    let orders: Vec<String> = page["data"]["orders"]["nodes"]
        .as_array()
        .map(|orders| {
            orders
                .iter()
                .filter(|order| order["status"] != "FULFILLED" && order["status"] != "CANCELLED")
                .filter_map(|order| order["orderNumber"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();

    let tally = Tally::default();
    let began = Instant::now();
    let until = began + Duration::from_secs(minutes * 60);
    for token in &tokens {
        tokio::spawn(dashboard(address, token.clone(), tally.clone(), until));
        let (token, tally) = (token.clone(), tally.clone());
        tokio::spawn(async move {
            if let Err(error) = subscriber(address, token, tally, until).await {
                eprintln!("subscriber: {error:#}");
            }
        });
    }
    tokio::spawn(writer(address, staff, orders, tally.clone(), until));

    println!(
        "{clients} dashboards and subscriptions, one writer, {minutes} minutes on {database_url}"
    );
    println!("minute  requests  errors  p99 ms  events  RSS MiB  open files");
    for minute in 1..=minutes {
        tokio::time::sleep_until((began + Duration::from_secs(minute * 60)).into()).await;
        let mut seen = std::mem::take(
            &mut *tally
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let (rss, files) = resources(server.0.id());
        println!(
            "{minute:>6}  {:>8}  {:>6}  {:>6.1}  {:>6}  {rss:>7.1}  {files:>10}",
            seen.latencies.len(),
            seen.errors,
            p99(&mut seen.latencies),
            seen.events,
        );
    }
    Ok(())
}
