//! A `customer-portal serve` process of the built binary, on a free port.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::{
    net::SocketAddr,
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// A `customer-portal serve` process, stopped when dropped.
pub struct Instance {
    pub address: SocketAddr,
    pub child: Child,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    pub async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[]).await
    }

    /// An instance with more environment variables.
    pub async fn start_with(database_url: &str, environment: &[(&str, &str)]) -> Self {
        let address = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_customer-portal"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("PORTAL_BIND", address.to_string())
            .env("JWT_SECRET", "a-test-secret-that-is-long-enough-for-hs256")
            .env(
                "MAIL_DIR",
                std::env::temp_dir().join("customer-portal-instances-mail"),
            )
            .env("RUST_LOG", "warn")
            .envs(environment.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let instance = Self { address, child };
        let started = Instant::now();
        while TcpStream::connect(address).await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "instance did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        instance
    }

    /// POSTs a GraphQL document over plain HTTP/1.1.
    pub async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = json!({"query": query, "variables": variables}).to_string();
        let authorization = token.map_or(String::new(), |token| {
            format!("Authorization: Bearer {token}\r\n")
        });
        let request = format!(
            "POST /graphql HTTP/1.1\r\nHost: {}\r\n{authorization}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        );
        let mut stream = TcpStream::connect(self.address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let (_, json) = response.split_once("\r\n\r\n").unwrap();
        serde_json::from_str(json).unwrap()
    }

    /// Its delivered webhook events, from `/metrics`.
    pub async fn webhooks_delivered(&self) -> u64 {
        self.counter("portal_webhook_deliveries_total{outcome=\"delivered\"}")
            .await
    }

    /// How many polled order queries it answered from its cache, from `/metrics`.
    pub async fn cache_hits(&self) -> u64 {
        self.counter("portal_response_cache_total{outcome=\"hit\"}")
            .await
    }

    /// SQL statements it has sent so far, from `/metrics`.
    pub async fn statements(&self) -> u64 {
        self.counter("portal_sql_statements_total").await
    }

    /// The value of one series of its `/metrics`, named with its labels as printed.
    async fn counter(&self, series: &str) -> u64 {
        let request = format!(
            "GET /metrics HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.address
        );
        let mut stream = TcpStream::connect(self.address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Signs in on this instance, whose clock is the real one (the test app's stands still).
    pub async fn login(&self, email: &str) -> String {
        let login = "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }";
        let answer = self
            .post(
                None,
                login,
                json!({"email": email, "password": super::PASSWORD}),
            )
            .await;
        answer["data"]["login"]["accessToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

impl Instance {
    /// Sends SIGTERM, as an orchestrator stopping the instance does.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit.
    pub async fn exited(&mut self, limit: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }
}
