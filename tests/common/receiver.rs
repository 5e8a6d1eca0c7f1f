//! A webhook receiver on a loopback port, over plain HTTP or TLS: it records every request and
//! answers with the statuses it is told to, then 200.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, TrustAnchor, pem::PemObject as _};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, server::TlsStream};

/// Where the certificates of the TLS receivers are (`generate.sh` there remakes them).
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/webhook-tls");

/// The test CA that signed `localhost` and `elsewhere`, as a client that trusts it holds it.
pub fn test_ca() -> Vec<TrustAnchor<'static>> {
    customer_portal::config::trust_anchors(&format!("{FIXTURES}/ca.pem")).unwrap()
}

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
    /// `http://127.0.0.1:port`, or `https://localhost:port`.
    origin: String,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    /// Starts on a free loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::on(listener)
    }

    /// Starts on `listener`.
    pub fn on(listener: TcpListener) -> Self {
        let address = listener.local_addr().unwrap();
        Self::serve(listener, format!("http://{address}"))
    }

    /// Starts on a free loopback port over TLS, showing the certificate `name` of the
    /// fixtures: `localhost` (signed by the test CA), `elsewhere` (the test CA's, for
    /// another name) or `untrusted` (localhost, signed by a CA nobody trusts).
    pub async fn start_tls(name: &str) -> Self {
        let chain = CertificateDer::pem_file_iter(format!("{FIXTURES}/{name}.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(format!("{FIXTURES}/{name}.key")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = tcp.local_addr().unwrap().port();
        let listener = TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        };
        Self::serve(listener, format!("https://localhost:{port}"))
    }

    fn serve<L>(listener: L, origin: String) -> Self
    where
        L: axum::serve::Listener<Addr = SocketAddr>,
    {
        let address = listener.local_addr().unwrap();
        let script = Arc::new(Mutex::new(Script::default()));
        let router = Router::new()
            .route("/hook", axum::routing::post(record))
            .with_state(script.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            address,
            origin,
            script,
        }
    }

    /// The URL to give `createWebhook`.
    pub fn url(&self) -> String {
        format!("{}/hook", self.origin)
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

/// Connections that completed a TLS handshake.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, SocketAddr) {
        loop {
            let (stream, address) = self.tcp.accept().await.unwrap();
            // A client that refuses the certificate ends the handshake: wait for the next.
            if let Ok(stream) = self.acceptor.accept(stream).await {
                return (stream, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
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
