//! Two `serve` processes on one PostgreSQL: a write through one reaches a subscriber of the
//! other, and the other's polls, through the database's LISTEN/NOTIFY. PostgreSQL only; on
//! SQLite it is skipped.
//! `EVENT_ROUNDS=100` measures more writes (the default is 10).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{World, ws::Client};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// A `customer-portal serve` process, stopped when dropped.
struct Instance {
    address: SocketAddr,
    child: Child,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    async fn start(database_url: &str) -> Self {
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
    async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = json!({"query": query, "variables": variables}).to_string();
        let authorization = token.map_or(String::new(), |token| {
            format!("Authorization: Bearer {token}\r\n")
        });
        let request = format!(
            "POST /graphql HTTP/1.1\r\nHost: {}\r\n{authorization}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        );
        let response = self.exchange(&request).await;
        let (_, json) = response.split_once("\r\n\r\n").unwrap();
        serde_json::from_str(json).unwrap()
    }

    /// How many polled order queries this instance answered from its cache.
    async fn cache_hits(&self) -> u64 {
        let request = format!(
            "GET /metrics HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.address
        );
        let response = self.exchange(&request).await;
        response
            .lines()
            .find_map(|line| line.strip_prefix("portal_response_cache_total{outcome=\"hit\"} "))
            .unwrap()
            .parse()
            .unwrap()
    }

    async fn exchange(&self, request: &str) -> String {
        let mut stream = TcpStream::connect(self.address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    /// Signs in on this instance, whose clock is the real one (the test app's stands still).
    async fn login(&self, email: &str) -> String {
        let login = "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }";
        let answer = self
            .post(
                None,
                login,
                json!({"email": email, "password": common::PASSWORD}),
            )
            .await;
        answer["data"]["login"]["accessToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[tokio::test]
async fn a_write_on_one_instance_reaches_a_subscriber_on_the_other() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: two instances share a PostgreSQL database");
        return;
    }
    let world = World::new().await;
    world
        .app
        .order("SO-1", "C-1", &[("HW-1", 1, "10.00", None)])
        .await;
    world.app.confirm("SO-1").await;
    let (one, other) = (
        Instance::start(world.app.database_url()).await,
        Instance::start(world.app.database_url()).await,
    );
    let seen = world
        .app
        .data(
            &world.alpha,
            "{ orderEvents { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let after = seen["orderEvents"]["pageInfo"]["endCursor"].clone();
    let alpha = one.login("admin@alpha.example").await;
    let staff = other.login("staff@distributor.example").await;
    let mut subscriber = Client::connect(one.address, &alpha).await;
    subscriber
        .subscribe("1", "subscription($after: String) { orderEvents(after: $after) { kind orderLine { eta } } }", json!({"after": after}))
        .await;

    let rounds: u32 = std::env::var("EVENT_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let update = "mutation($eta: Date) { updateEtas(updates: [{orderNumber: \"SO-1\", lineNumber: 1, eta: $eta}]) { eta } }";
    let mut delays = Vec::new();
    for round in 0..rounds {
        let eta = (chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
            + chrono::Days::new(u64::from(round)))
        .to_string();
        let written = other.post(Some(&staff), update, json!({"eta": eta})).await;
        assert!(written.get("errors").is_none(), "{written}");
        // From the commit (the answer) to the event on the other instance.
        let committed = Instant::now();
        let event = subscriber.next_payload().await;
        delays.push(committed.elapsed());
        assert_eq!(event["data"]["orderEvents"]["kind"], "ETA_CHANGED");
        assert_eq!(event["data"]["orderEvents"]["orderLine"]["eta"], eta);
    }
    delays.sort();
    let median = delays[delays.len() / 2];
    let worst = delays[delays.len() - 1];
    eprintln!(
        "write on one instance to subscriber on the other, {rounds} writes: median {median:?}, worst {worst:?}"
    );
    // The tail also polls every 2 s: a median under a second shows the notification path.
    assert!(median < Duration::from_secs(1), "median {median:?}");
}

#[tokio::test]
async fn a_poll_never_answers_older_than_the_events_its_instance_has_heard_of() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: two instances share a PostgreSQL database");
        return;
    }
    let world = World::new().await;
    world
        .app
        .order("SO-1", "C-1", &[("HW-1", 1, "10.00", None)])
        .await;
    world.app.confirm("SO-1").await;
    let instances = [
        Instance::start(world.app.database_url()).await,
        Instance::start(world.app.database_url()).await,
    ];
    let seen = world
        .app
        .data(
            &world.alpha,
            "{ orderEvents { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let after = seen["orderEvents"]["pageInfo"]["endCursor"].clone();
    let mut staff = Vec::new();
    let mut alpha = Vec::new();
    let mut subscribers = Vec::new();
    for instance in &instances {
        staff.push(instance.login("staff@distributor.example").await);
        let token = instance.login("admin@alpha.example").await;
        let mut subscriber = Client::connect(instance.address, &token).await;
        subscriber
            .subscribe(
                "1",
                "subscription($after: String) { orderEvents(after: $after) { kind } }",
                json!({"after": after}),
            )
            .await;
        subscribers.push(subscriber);
        alpha.push(token);
    }
    let poll = async |at: usize| {
        let answer = instances[at]
            .post(
                Some(&alpha[at]),
                "{ order(orderNumber: \"SO-1\") { lines { eta } } }",
                json!({}),
            )
            .await;
        answer["data"]["order"]["lines"][0]["eta"].clone()
    };

    let update = "mutation($eta: Date) { updateEtas(updates: [{orderNumber: \"SO-1\", lineNumber: 1, eta: $eta}]) { eta } }";
    let mut previous = Value::Null;
    for round in 0..200_u64 {
        let eta = json!(
            (chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap() + chrono::Days::new(round))
                .to_string()
        );
        let (writer, other) = if round % 2 == 0 { (0, 1) } else { (1, 0) };
        let written = instances[writer]
            .post(Some(&staff[writer]), update, json!({"eta": eta}))
            .await;
        assert!(written.get("errors").is_none(), "{written}");
        assert_eq!(poll(writer).await, eta, "round {round}: own write");
        // The other instance may not have heard of it yet, but never answers older.
        let early = poll(other).await;
        assert!(early == eta || early == previous, "round {round}: {early}");
        for subscriber in &mut subscribers {
            let event = subscriber.next_payload().await;
            assert_eq!(event["data"]["orderEvents"]["kind"], "ETA_CHANGED");
        }
        for at in [0, 1] {
            assert_eq!(poll(at).await, eta, "round {round}: heard on {at}");
            assert_eq!(poll(at).await, eta, "round {round}: again on {at}");
        }
        previous = eta;
    }
    for instance in &instances {
        assert!(instance.cache_hits().await >= 200);
    }
}
