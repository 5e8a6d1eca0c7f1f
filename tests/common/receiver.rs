//! A webhook receiver on a loopback port: it records every request and answers with the
//! statuses it is told to, then 200.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode};
use serde_json::Value;

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).unwrap().to_str().unwrap()
    }

    /// The event's cursor, from its header.
    pub fn cursor(&self) -> String {
        self.header("portal-event-cursor").to_owned()
    }
}

#[derive(Default)]
struct Script {
    received: Vec<Received>,
    answers: VecDeque<u16>,
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    pub address: SocketAddr,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    /// Starts on a free loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::on(listener)
    }

    /// Starts on `listener`.
    pub fn on(listener: tokio::net::TcpListener) -> Self {
        let address = listener.local_addr().unwrap();
        let script = Arc::new(Mutex::new(Script::default()));
        let router = Router::new()
            .route("/hook", axum::routing::post(record))
            .with_state(script.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { address, script }
    }

    /// The URL to give `createWebhook`.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    /// Answers the next requests with `statuses`, then 200 again.
    pub fn answer(&self, statuses: &[u16]) {
        self.script.lock().unwrap().answers.extend(statuses);
    }

    /// Every request so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    /// The cursors of every request so far, oldest first.
    pub fn cursors(&self) -> Vec<String> {
        self.received().iter().map(Received::cursor).collect()
    }
}

async fn record(
    State(script): State<Arc<Mutex<Script>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut script = script.lock().unwrap();
    script.received.push(Received {
        headers,
        body,
        at: Instant::now(),
    });
    let status = script.answers.pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}
