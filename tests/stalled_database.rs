//! A database that stops answering (no error, no close) makes the service say so quickly:
//! `/readyz` 503 and `SERVICE_UNAVAILABLE`, and it recovers by itself once the database
//! answers again. PostgreSQL only, through a proxy that can hold every byte; on SQLite it is
//! skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use common::{World, ws};
use customer_portal::{app::App, clock::Clock, store};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        TcpListener, TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
};

/// Forwards connections to the database, and holds every byte while `stalled` is set.
struct StallingProxy {
    address: SocketAddr,
    stalled: Arc<AtomicBool>,
}

impl StallingProxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let stalled = Arc::new(AtomicBool::new(false));
        let hold = stalled.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(&upstream).await.unwrap();
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(forward(client_read, server_write, hold.clone()));
                tokio::spawn(forward(server_read, client_write, hold.clone()));
            }
        });
        Self { address, stalled }
    }

    fn stall(&self, stalled: bool) {
        self.stalled.store(stalled, Ordering::SeqCst);
    }
}

async fn forward(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, stalled: Arc<AtomicBool>) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        while stalled.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// One HTTP/1.1 exchange; the status and the body.
async fn exchange(address: SocketAddr, request: String) -> (u16, String) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(20),
        stream.read_to_string(&mut response),
    )
    .await
    .expect("no answer within 20 s")
    .unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

async fn ready(address: SocketAddr) -> u16 {
    let request = format!("GET /readyz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    exchange(address, request).await.0
}

async fn me(address: SocketAddr, token: &str) -> Value {
    let body = json!({"query": "{ me { email } }"}).to_string();
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    serde_json::from_str(&exchange(address, request).await.1).unwrap()
}

#[tokio::test]
async fn a_stalled_database_is_unavailable_at_once_and_recovers_by_itself() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: the stalling proxy stands in front of PostgreSQL");
        return;
    }
    let world = World::new().await;
    let url = world.app.database_url().to_owned();
    let (credentials, rest) = url.split_once('@').unwrap();
    let (upstream, database) = rest.split_once('/').unwrap();
    let proxy = StallingProxy::start(upstream.to_owned()).await;
    let mut config = common::test_config(&world.app.mail_dir, None, &[]);
    config.limits.database_statement_timeout = Duration::from_secs(1);
    config.limits.database_acquire_timeout = Duration::from_secs(1);
    let proxied = format!("{credentials}@{}/{database}", proxy.address);
    let db = store::connect_with(&proxied, &config.limits).await.unwrap();
    let app = App::new(&config, db, Clock::fixed(common::now()));
    let address = ws::serve(&app).await;
    assert_eq!(ready(address).await, 200);
    assert_eq!(
        me(address, &world.alpha).await["data"]["me"]["email"],
        "admin@alpha.example"
    );

    proxy.stall(true);
    let stalled = Instant::now();
    assert_eq!(ready(address).await, 503);
    eprintln!("/readyz answered 503 after {:?}", stalled.elapsed());
    let asked = Instant::now();
    let answer = me(address, &world.alpha).await;
    eprintln!(
        "a query answered {} after {:?}",
        answer["errors"][0]["extensions"]["code"],
        asked.elapsed()
    );
    assert_eq!(
        answer["errors"][0]["extensions"]["code"],
        "SERVICE_UNAVAILABLE"
    );
    assert_eq!(
        answer["errors"][0]["message"],
        "the database is not answering: try again shortly"
    );

    proxy.stall(false);
    let resumed = Instant::now();
    while ready(address).await != 200 {
        assert!(resumed.elapsed() < Duration::from_secs(15), "no recovery");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        me(address, &world.alpha).await["data"]["me"]["email"],
        "admin@alpha.example"
    );
}
