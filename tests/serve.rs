//! Serving HTTP: a client cannot hold a connection by never finishing its request, and a
//! stopping process closes its WebSocket connections and exits within its drain, whatever
//! clients still hold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{TestApp, World, instance::Instance, ws::Client};
use customer_portal::{clock::Clock, server};
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// Serves a test app whose requests have `timeout` for their head and for their body.
async fn served_with_timeouts(timeout: Duration) -> (TestApp, std::net::SocketAddr) {
    let app = TestApp::configured(
        None,
        |config| {
            config.limits.request_head_timeout = timeout;
            config.limits.request_body_timeout = timeout;
        },
        Clock::fixed(common::now()),
    )
    .await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(server::serve(
        app.app.clone(),
        listener,
        Duration::from_secs(1),
        std::future::pending(),
    ));
    (app, address)
}

/// Sends `bytes` and reads until the server closes the connection (at most 10 s).
async fn closed_after_sending(address: std::net::SocketAddr, bytes: &str) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(bytes.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the server kept the connection open")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_request_head_never_finished_is_disconnected() {
    let (_app, address) = served_with_timeouts(Duration::from_millis(300)).await;
    let answer = closed_after_sending(
        address,
        "POST /graphql HTTP/1.1\r\nHost: portal\r\nContent-Le",
    )
    .await;
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_disconnected() {
    let (_app, address) = served_with_timeouts(Duration::from_millis(300)).await;
    let answer =
        closed_after_sending(address, "GET /healthz HTTP/1.1\r\nHost: portal\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");
}

#[tokio::test]
async fn a_request_body_never_finished_is_disconnected() {
    let (_app, address) = served_with_timeouts(Duration::from_millis(300)).await;
    let request = "POST /graphql HTTP/1.1\r\nHost: portal\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\": \"{";
    let answer = closed_after_sending(address, request).await;
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[tokio::test]
async fn a_stopping_process_closes_its_sockets_and_exits_within_the_drain() {
    let world = World::new().await;
    let mut instance =
        Instance::start_with(world.app.database_url(), &[("PORTAL_DRAIN_SECONDS", "2")]).await;
    let alpha = instance.login("admin@alpha.example").await;
    let mut subscriber = Client::connect(instance.address, &alpha).await;
    subscriber
        .subscribe("1", "subscription { orderEvents { kind } }", json!({}))
        .await;
    // One client never finishes its request's head, another its body.
    let mut half_head = TcpStream::connect(instance.address).await.unwrap();
    half_head
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: portal\r\nContent-Le")
        .await
        .unwrap();
    let mut half_body = TcpStream::connect(instance.address).await.unwrap();
    half_body
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: portal\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\"")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let stopping = Instant::now();
    instance.terminate();
    assert_eq!(
        subscriber.closed().await,
        (1001, "the server is shutting down".to_owned())
    );
    let status = instance
        .exited(Duration::from_secs(20))
        .await
        .expect("the process is still running 20 s after SIGTERM");
    let took = stopping.elapsed();
    eprintln!("exited {status} {took:?} after SIGTERM, with a drain of 2 s");
    assert!(status.success(), "{status}");
    // The drain (2 s) and the runtime's wait for blocking work (1 s), with room to spare.
    assert!(took < Duration::from_secs(6), "exited after {took:?}");
}
