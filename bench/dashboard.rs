//! The dashboard benchmark (`bench/dashboard.sh` runs it; see the README).
//!
//! Against a database filled by `customer-portal generate`, it starts the release build of
//! the service, signs in one customer administrator per connection (connection k reads
//! company k + 1), and for `bench/dashboard.graphql` runs a closed-loop load at each
//! concurrency: requests/s, p50, p99, errors, SQL statements per request and the server's
//! resident memory. Then the floor: `bench/floor.sql`, the fewest statements for the same
//! page, under `pgbench` at the same concurrencies against the same database, and the ratio
//! of the two. That is the cold path: the service runs with its response cache off. Then the
//! polled paths, with the cache on: the same page answered from the cache (200 with a body),
//! and revalidated (the client sends the `ETag` it holds and gets 304). Last, the look-ups a
//! reseller types: `orders(filter: {search})` by serial, tracking number, order number and
//! customer reference, and `orderSummary`.
//!
//! Settings (environment): `BENCH_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/customer_portal_bench`), `BENCH_SECONDS` (20),
//! `BENCH_CONCURRENCY` (`1,8,32`), `BENCH_PORT` (18080).

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use bytes::Bytes;
use customer_portal::generate;
use http_body_util::{BodyExt, Full};
use hyper::{Request, header};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

const DASHBOARD: &str = include_str!("dashboard.graphql");
const PAGE_SIZES: [u64; 3] = [10, 50, 100];

struct Settings {
    database_url: String,
    seconds: u64,
    concurrency: Vec<usize>,
    address: SocketAddr,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let var =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
        let concurrency = var("BENCH_CONCURRENCY", "1,8,32")
            .split(',')
            .map(|level| level.trim().parse::<usize>())
            .collect::<Result<Vec<_>, _>>()
            .context("BENCH_CONCURRENCY: a comma-separated list of numbers")?;
        Ok(Self {
            database_url: var(
                "BENCH_DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/customer_portal_bench",
            ),
            seconds: var("BENCH_SECONDS", "20")
                .parse()
                .context("BENCH_SECONDS: a number")?,
            concurrency,
            address: SocketAddr::from((
                [127, 0, 0, 1],
                var("BENCH_PORT", "18080")
                    .parse()
                    .context("BENCH_PORT: a port")?,
            )),
        })
    }
}

/// The service under test; stopped when dropped.
struct Server {
    child: Child,
}

impl Server {
    /// The service, with its response cache of `cache_megabytes` (0: off).
    fn start(settings: &Settings, cache_megabytes: u32) -> anyhow::Result<Self> {
        let binary = workspace().join("target/release/customer-portal");
        if !binary.exists() {
            bail!(
                "{} is missing: run `cargo build --release` first",
                binary.display()
            );
        }
        let child = Command::new(binary)
            .arg("serve")
            .env("DATABASE_URL", &settings.database_url)
            .env("PORTAL_BIND", settings.address.to_string())
            .env("JWT_SECRET", "benchmark-secret-benchmark-secret-benchmark")
            .env("RUST_LOG", "warn")
            .env("PORTAL_RESPONSE_CACHE_MB", cache_megabytes.to_string())
            .stdout(Stdio::null())
            .spawn()
            .context("starting the service")?;
        Ok(Self { child })
    }

    fn cpu_seconds(&self) -> f64 {
        let id = self.child.id();
        cpu_seconds(|pid, _| pid == id)
    }

    /// Resident memory now and at its peak, in MiB, from `/proc`.
    fn memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse::<f64>().ok())
                .map_or(0.0, |kib| kib / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

/// CPU time (user and system, in seconds) of the processes `/proc` lists whose pid and name
/// `select` accepts, with the time of the children they reaped: a PostgreSQL backend that ends
/// during a level is still counted, through the postmaster. Linux reports it in ticks of
/// 1/100 s (USER_HZ); a PostgreSQL on another host counts as zero.
fn cpu_seconds(select: impl Fn(u32, &str) -> bool) -> f64 {
    const TICKS_PER_SECOND: f64 = 100.0;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut ticks = 0_u64;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (name) state ppid …": the name may hold spaces, so split at its parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if !select(pid, &stat[open + 1..close]) {
            continue;
        }
        // After the name: state is field 3; utime, stime, cutime and cstime are fields 14-17.
        ticks += stat[close + 1..]
            .split_whitespace()
            .skip(11)
            .take(4)
            .filter_map(|field| field.parse::<u64>().ok())
            .sum::<u64>();
    }
    ticks as f64 / TICKS_PER_SECOND
}

fn postgres_cpu_seconds() -> f64 {
    cpu_seconds(|_, name| name == "postgres")
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One keep-alive HTTP/1.1 connection to the service.
struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    authorization: Option<String>,
    /// Sent as `If-None-Match` with every request once set.
    etag: Option<header::HeaderValue>,
    /// The `ETag` of the last answer.
    last_etag: Option<header::HeaderValue>,
}

impl Client {
    async fn connect(address: SocketAddr, token: Option<&str>) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self {
            sender,
            authorization: token.map(|token| format!("Bearer {token}")),
            etag: None,
            last_etag: None,
        })
    }

    async fn get(&mut self, path: &str) -> anyhow::Result<(u16, Bytes)> {
        let request = Request::get(path)
            .header(header::HOST, "localhost")
            .body(Full::new(Bytes::new()))?;
        self.send(request).await
    }

    async fn post(&mut self, body: Bytes) -> anyhow::Result<(u16, Bytes)> {
        let mut request = Request::post("/graphql")
            .header(header::HOST, "localhost")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(authorization) = &self.authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        if let Some(etag) = &self.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        self.send(request.body(Full::new(body))?).await
    }

    async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<(u16, Bytes)> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        self.last_etag = response.headers().get(header::ETAG).cloned();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// Runs a document that must succeed; returns its `data`.
    async fn data(&mut self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let body = json!({"query": query, "variables": variables}).to_string();
        let (status, body) = self.post(Bytes::from(body)).await?;
        let response: Value = serde_json::from_slice(&body)?;
        if status != 200 || response.get("errors").is_some() {
            bail!("HTTP {status}: {response}");
        }
        Ok(response["data"].clone())
    }
}

fn graphql_body(query: &str, operation: Option<&str>, variables: Value) -> Bytes {
    Bytes::from(
        json!({"query": query, "operationName": operation, "variables": variables}).to_string(),
    )
}

async fn wait_until_ready(address: SocketAddr) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        if let Ok(mut client) = Client::connect(address, None).await
            && let Ok((200, _)) = client.get("/readyz").await
        {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the service did not become ready within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn sign_in(address: SocketAddr, company: i64) -> anyhow::Result<String> {
    let mut client = Client::connect(address, None).await?;
    let data = client
        .data(
            "mutation($email: String!, $password: String!) {
               login(email: $email, password: $password) { accessToken }
             }",
            json!({"email": generate::admin_email(company), "password": generate::PASSWORD}),
        )
        .await
        .with_context(|| format!("signing in as the administrator of company {company}"))?;
    data["login"]["accessToken"]
        .as_str()
        .map(str::to_owned)
        .context("login gave no access token")
}

/// `(SQL statements, GraphQL requests)` so far, from `/metrics`.
async fn counters(address: SocketAddr) -> anyhow::Result<(f64, f64)> {
    let mut client = Client::connect(address, None).await?;
    let (_, body) = client.get("/metrics").await?;
    let text = String::from_utf8_lossy(&body);
    let mut statements = 0.0;
    let mut requests = 0.0;
    for line in text.lines() {
        let value = || {
            line.rsplit(' ')
                .next()
                .and_then(|value| value.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        if line.starts_with("portal_sql_statements_total ") {
            statements = value();
        } else if line.starts_with("portal_graphql_requests_total{") {
            requests += value();
        }
    }
    Ok((statements, requests))
}

/// What one load level measured.
struct Measured {
    requests: usize,
    errors: u64,
    seconds: f64,
    latencies_ms: Vec<f64>,
}

impl Measured {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn percentile(&self, fraction: f64) -> f64 {
        percentile(&self.latencies_ms, fraction)
    }
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Whether a load's clients send the `ETag` they hold.
#[derive(Clone, Copy, PartialEq)]
enum Revalidate {
    No,
    /// Each connection asks once for the page, then only with `If-None-Match` (304 expected).
    WithEtag,
}

/// Each connection sends `body` with `tokens[k]` back to back until `duration` has passed (a
/// closed loop: a request leaves when the previous answer is in).
async fn load(
    address: SocketAddr,
    tokens: &[String],
    body: &Bytes,
    duration: Duration,
    revalidate: Revalidate,
) -> anyhow::Result<Measured> {
    let mut clients = Vec::new();
    for token in tokens {
        let mut client = Client::connect(address, Some(token)).await?;
        if revalidate == Revalidate::WithEtag {
            client.post(body.clone()).await?;
            client.etag = client.last_etag.clone();
            if client.etag.is_none() {
                bail!("the service sent no ETag: is its response cache on?");
            }
        }
        clients.push(client);
    }
    let expected = match revalidate {
        Revalidate::No => 200,
        Revalidate::WithEtag => 304,
    };
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::new();
    for mut client in clients {
        let body = body.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0_u64;
            while Instant::now() < deadline {
                let sent = Instant::now();
                match client.post(body.clone()).await {
                    Ok((status, answer)) => {
                        latencies.push(sent.elapsed().as_secs_f64() * 1_000.0);
                        if status != expected || has_errors(&answer) {
                            errors += 1;
                        }
                    }
                    Err(_) => {
                        errors += 1;
                        break;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut measured = Measured {
        requests: 0,
        errors: 0,
        seconds: 0.0,
        latencies_ms: Vec::new(),
    };
    for worker in workers {
        let (latencies, errors) = worker.await?;
        measured.latencies_ms.extend(latencies);
        measured.errors += errors;
    }
    measured.seconds = started.elapsed().as_secs_f64();
    measured.requests = measured.latencies_ms.len();
    measured.latencies_ms.sort_by(f64::total_cmp);
    Ok(measured)
}

/// A GraphQL answer with errors has them as a top-level key; data never holds that key.
fn has_errors(body: &[u8]) -> bool {
    body.windows(9).any(|window| window == b"\"errors\":")
}

/// What pgbench measured for the floor at one concurrency.
struct Floor {
    per_second: f64,
    p50: f64,
    p99: f64,
    /// PostgreSQL's CPU time per page.
    postgres_cpu_ms: f64,
}

fn floor(settings: &Settings, clients: usize, log_dir: &Path) -> anyhow::Result<Floor> {
    let prefix = log_dir.join(format!("floor-{clients}"));
    let cpu_before = postgres_cpu_seconds();
    let output = Command::new("pgbench")
        .args(["--no-vacuum", "--protocol=prepared", "--log"])
        .arg(format!("--log-prefix={}", prefix.display()))
        .arg(format!("--client={clients}"))
        .arg(format!("--jobs={}", clients.min(2)))
        .arg(format!("--time={}", settings.seconds))
        .arg(format!(
            "--file={}",
            workspace().join("bench/floor.sql").display()
        ))
        .arg(&settings.database_url)
        .output()
        .context("running pgbench (Debian package postgresql-client)")?;
    let postgres_cpu = postgres_cpu_seconds() - cpu_before;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench failed: {}{}",
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let per_second = stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse::<f64>().ok())
        .context("pgbench printed no tps")?;
    // Per-transaction log lines: client, transaction, latency (µs), script, epoch, µs.
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(log_dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned());
        if name.is_some_and(|name| name.starts_with(&format!("floor-{clients}."))) {
            for line in std::fs::read_to_string(&path)?.lines() {
                if let Some(micros) = line
                    .split_whitespace()
                    .nth(2)
                    .and_then(|micros| micros.parse::<f64>().ok())
                {
                    latencies.push(micros / 1_000.0);
                }
            }
            std::fs::remove_file(&path)?;
        }
    }
    latencies.sort_by(f64::total_cmp);
    Ok(Floor {
        per_second,
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        postgres_cpu_ms: postgres_cpu * 1_000.0 / latencies.len() as f64,
    })
}

/// The search terms of company 1's newest shipped order: a serial, a tracking number, the
/// order number and a customer reference.
async fn search_terms(client: &mut Client) -> anyhow::Result<Vec<(&'static str, String)>> {
    let data = client
        .data(
            "{ orders(first: 100, filter: {status: [FULFILLED, PARTIALLY_FULFILLED]}) {
                 nodes { orderNumber customerReference
                         shipments { trackingNumber lines { serialNumbers { serial } } } } } }",
            json!({}),
        )
        .await?;
    let orders = data["orders"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let find = |pick: &dyn Fn(&Value) -> Option<String>| orders.iter().find_map(pick);
    let serial = find(&|order| {
        order["shipments"][0]["lines"][0]["serialNumbers"][0]["serial"]
            .as_str()
            .map(str::to_owned)
    });
    let tracking = find(&|order| {
        order["shipments"][0]["trackingNumber"]
            .as_str()
            .map(str::to_owned)
    });
    let number = find(&|order| order["orderNumber"].as_str().map(str::to_owned));
    let reference = find(&|order| order["customerReference"].as_str().map(str::to_owned));
    Ok([
        ("serial number", serial),
        ("tracking number", tracking),
        ("order number", number),
        ("customer reference", reference),
    ]
    .into_iter()
    .filter_map(|(what, term)| Some((what, term?)))
    .collect())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let most = settings.concurrency.iter().copied().max().unwrap_or(1);
    let server = Server::start(&settings, 0)?;
    wait_until_ready(settings.address).await?;
    let mut tokens = Vec::new();
    for company in 1..=most {
        tokens.push(sign_in(settings.address, i64::try_from(company)?).await?);
    }
    println!(
        "dashboard benchmark: {} s per level, database {}",
        settings.seconds, settings.database_url
    );

    let page = |first: u64| graphql_body(DASHBOARD, Some("Dashboard"), json!({"first": first}));
    println!("\nSQL statements per dashboard request, by page size (one request each):");
    let mut client = Client::connect(settings.address, Some(&tokens[0])).await?;
    for first in PAGE_SIZES {
        let before = counters(settings.address).await?;
        let (status, answer) = client.post(page(first)).await?;
        let after = counters(settings.address).await?;
        if status != 200 || has_errors(&answer) {
            bail!(
                "the dashboard answered with errors: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        println!(
            "  first: {first:>3}  statements/request: {:.1}  response: {} KiB",
            (after.0 - before.0) / (after.1 - before.1),
            answer.len() / 1024
        );
    }

    // Warm the caches of PostgreSQL and of the service before measuring.
    load(
        settings.address,
        &tokens,
        &page(50),
        Duration::from_secs(3),
        Revalidate::No,
    )
    .await?;

    let log_dir = std::env::temp_dir().join(format!("dashboard-bench-{}", std::process::id()));
    std::fs::create_dir_all(&log_dir)?;
    let body = page(50);
    let mut rows = Vec::new();
    for &clients in &settings.concurrency {
        let level = measure(
            &server,
            &settings,
            &tokens[..clients],
            &body,
            Revalidate::No,
        )
        .await?;
        let floor = floor(&settings, clients, &log_dir)?;
        rows.push((level, floor));
    }
    let _ = std::fs::remove_dir_all(&log_dir);
    let (_, peak) = server.memory();

    println!("\ndashboard (bench/dashboard.graphql, 50 orders a page):");
    println!(
        "  {:>3} | {:>9} {:>8} {:>8} {:>6} {:>10} {:>8} | {:>9} {:>8} {:>8} | {:>12} {:>11}",
        "c",
        "service/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "stmts/req",
        "RSS MiB",
        "floor/s",
        "p50 ms",
        "p99 ms",
        "service/floor",
        "p99/floor"
    );
    for (
        Level {
            clients,
            measured,
            statements,
            rss,
            ..
        },
        floor,
    ) in &rows
    {
        println!(
            "  {:>3} | {:>9.1} {:>8.2} {:>8.2} {:>6} {:>10.1} {:>8.1} | {:>9.1} {:>8.2} {:>8.2} | {:>12.2} {:>11.2}",
            clients,
            measured.per_second(),
            measured.percentile(0.5),
            measured.percentile(0.99),
            measured.errors,
            statements,
            rss,
            floor.per_second,
            floor.p50,
            floor.p99,
            measured.per_second() / floor.per_second,
            measured.percentile(0.99) / floor.p99,
        );
    }
    println!("  server peak RSS over the whole run: {peak:.1} MiB");

    // Where each level's CPU went: both take the same two cores, so a service page that costs
    // k times the floor's CPU can serve at most 1/k of the floor's pages.
    println!("\nCPU per page, ms (from /proc; the floor's pgbench client not counted):");
    println!(
        "  {:>3} | {:>8} {:>10} {:>8} | {:>16}",
        "c", "service", "PostgreSQL", "together", "floor PostgreSQL"
    );
    for (
        Level {
            clients,
            cpu: (service, postgres),
            ..
        },
        floor,
    ) in &rows
    {
        println!(
            "  {:>3} | {:>8.2} {:>10.2} {:>8.2} | {:>16.2}",
            clients,
            service,
            postgres,
            service + postgres,
            floor.postgres_cpu_ms
        );
    }

    println!("\nlook-ups of company 1, one connection, 5 s each:");
    // The server has closed the first connection, idle through the levels above.
    let mut client = Client::connect(settings.address, Some(&tokens[0])).await?;
    let searches = search_terms(&mut client).await?;
    let look_up = Duration::from_secs(5);
    for (what, term) in searches {
        let body = graphql_body(
            "query Search($term: String!) { orders(filter: {search: $term}) {
               totalCount nodes { orderNumber status } } }",
            Some("Search"),
            json!({"term": term}),
        );
        let measured = load(
            settings.address,
            &tokens[..1],
            &body,
            look_up,
            Revalidate::No,
        )
        .await?;
        println!(
            "  search by {what:<19} {term:<22} p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}",
            measured.percentile(0.5),
            measured.percentile(0.99),
            measured.errors
        );
    }
    let body = graphql_body(
        "query Summary { orderSummary { orderCount byStatus { status count }
           openLineCount linesWithoutEta overdueLines } }",
        Some("Summary"),
        json!({}),
    );
    let measured = load(
        settings.address,
        &tokens[..1],
        &body,
        look_up,
        Revalidate::No,
    )
    .await?;
    println!(
        "  orderSummary                                     p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}",
        measured.percentile(0.5),
        measured.percentile(0.99),
        measured.errors
    );
    drop(server);

    // The same page again, from a service whose response cache is on: polled (200 with the
    // stored body) and revalidated (304). The tokens stay valid: same secret, same database.
    let server = Server::start(&settings, 64)?;
    wait_until_ready(settings.address).await?;
    load(
        settings.address,
        &tokens,
        &body,
        Duration::from_secs(3),
        Revalidate::No,
    )
    .await?;
    let mut polled = Vec::new();
    for (cold, floor) in &rows {
        let clients = &tokens[..cold.clients];
        let cached = measure(&server, &settings, clients, &body, Revalidate::No).await?;
        let revalidated = measure(&server, &settings, clients, &body, Revalidate::WithEtag).await?;
        polled.push((cold, cached, revalidated, floor));
    }
    let (_, peak) = server.memory();
    drop(server);
    println!("\ndashboard, cold and polled (50 orders a page; the floor of the run above):");
    println!(
        "  {:>3} | {:<6} | {:>9} {:>8} {:>8} {:>6} {:>10} {:>11} | {:>9} {:>12}",
        "c",
        "path",
        "service/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "stmts/req",
        "CPU ms/page",
        "floor/s",
        "service/floor"
    );
    for (cold, cached, revalidated, floor) in polled {
        for (path, level) in [("cold", cold), ("200", &cached), ("304", &revalidated)] {
            println!(
                "  {:>3} | {:<6} | {:>9.1} {:>8.2} {:>8.2} {:>6} {:>10.1} {:>11.2} | {:>9.1} {:>12.2}",
                level.clients,
                path,
                level.measured.per_second(),
                level.measured.percentile(0.5),
                level.measured.percentile(0.99),
                level.measured.errors,
                level.statements,
                level.cpu.0,
                floor.per_second,
                level.measured.per_second() / floor.per_second,
            );
        }
    }
    println!("  server peak RSS with the cache on: {peak:.1} MiB");
    Ok(())
}

/// One load level and what it cost.
struct Level {
    clients: usize,
    measured: Measured,
    /// SQL statements per request, from `/metrics`.
    statements: f64,
    /// The server's largest resident memory during the level, MiB.
    rss: f64,
    /// CPU per page, ms: the service's and PostgreSQL's.
    cpu: (f64, f64),
}

async fn measure(
    server: &Server,
    settings: &Settings,
    tokens: &[String],
    body: &Bytes,
    revalidate: Revalidate,
) -> anyhow::Result<Level> {
    let duration = Duration::from_secs(settings.seconds);
    let before = counters(settings.address).await?;
    let cpu_before = (server.cpu_seconds(), postgres_cpu_seconds());
    let mut rss = 0.0_f64;
    let deadline = Instant::now() + duration;
    let sample = async {
        while Instant::now() < deadline {
            rss = rss.max(server.memory().0);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let (measured, ()) = tokio::join!(
        load(settings.address, tokens, body, duration, revalidate),
        sample
    );
    let measured = measured?;
    let after = counters(settings.address).await?;
    let per_request = |seconds: f64| seconds * 1_000.0 / measured.requests as f64;
    let cpu = (
        per_request(server.cpu_seconds() - cpu_before.0),
        per_request(postgres_cpu_seconds() - cpu_before.1),
    );
    Ok(Level {
        clients: tokens.len(),
        statements: (after.0 - before.0) / (after.1 - before.1),
        measured,
        rss,
        cpu,
    })
}
