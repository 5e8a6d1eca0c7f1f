//! Two `serve` processes on one PostgreSQL: a write through one reaches a subscriber of the
//! other, through the database's LISTEN/NOTIFY. PostgreSQL only; on SQLite it is skipped.
//! `EVENT_ROUNDS=100` measures more writes (the default is 10).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{World, instance::Instance, receiver::Receiver, ws::Client};
use serde_json::{Value, json};

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
async fn disabling_a_user_on_one_instance_closes_their_connection_on_the_other() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: two instances share a PostgreSQL database");
        return;
    }
    let world = World::new().await;
    let (one, other) = (
        Instance::start(world.app.database_url()).await,
        Instance::start(world.app.database_url()).await,
    );
    let alpha = one.login("admin@alpha.example").await;
    let staff = other.login("staff@distributor.example").await;
    let me = one.post(Some(&alpha), "{ me { id } }", json!({})).await;
    let mut subscriber = Client::connect(one.address, &alpha).await;
    subscriber
        .subscribe("1", "subscription { orderEvents { kind } }", json!({}))
        .await;
    let disable = "mutation($id: ID!) { disableUser(userId: $id) { status } }";
    let disabled = other
        .post(Some(&staff), disable, json!({"id": me["data"]["me"]["id"]}))
        .await;
    assert_eq!(disabled["data"]["disableUser"]["status"], "DISABLED");
    let committed = Instant::now();
    let (code, reason) = subscriber.closed().await;
    let delay = committed.elapsed();
    eprintln!("disabled on one instance, connection closed on the other after {delay:?}");
    assert_eq!(
        (code, reason.as_str()),
        (4403, "the account has been disabled")
    );
    // Connections also recheck every 5 s: closing well before shows the notification path.
    assert!(delay < Duration::from_secs(3), "closed after {delay:?}");
}

#[tokio::test]
async fn failed_sign_ins_count_across_instances() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: two instances share a PostgreSQL database");
        return;
    }
    let world = World::new().await;
    let instances = [
        Instance::start(world.app.database_url()).await,
        Instance::start(world.app.database_url()).await,
    ];
    let login = "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }";
    let guess = json!({"email": "admin@beta.example", "password": "a wrong guess"});
    // Ten failures in all, five on each instance: the e-mail address's limit.
    for attempt in 0..10 {
        let answer = instances[attempt % 2]
            .post(None, login, guess.clone())
            .await;
        assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
    for instance in &instances {
        let refused = instance.post(None, login, guess.clone()).await;
        assert_eq!(refused["errors"][0]["extensions"]["code"], "RATE_LIMITED");
        // Instances run on the real clock: the 15 minutes started at the tenth failure.
        let retry = refused["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_i64()
            .unwrap();
        assert!((840..=900).contains(&retry), "{retry}");
    }
}

#[tokio::test]
async fn two_serve_instances_deliver_each_event_to_a_webhook_exactly_once() {
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
    let seen = world
        .app
        .data(
            &world.alpha,
            "{ orderEvents { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let after = seen["orderEvents"]["pageInfo"]["endCursor"].clone();
    let receiver = Receiver::start().await;
    let create = "mutation($url: String!) { createWebhook(url: $url) { secret } }";
    world
        .app
        .data(&world.alpha, create, json!({"url": receiver.url()}))
        .await;
    // The receiver listens on this host.
    let loopback = [("WEBHOOK_ALLOW_LOOPBACK", "true")];
    let (one, other) = (
        Instance::start_with(world.app.database_url(), &loopback).await,
        Instance::start_with(world.app.database_url(), &loopback).await,
    );
    let staff = one.login("staff@distributor.example").await;

    let writes = 100;
    let update = "mutation($eta: Date) { updateEtas(updates: [{orderNumber: \"SO-1\", lineNumber: 1, eta: $eta}]) { eta } }";
    let mut committed = Vec::new();
    for write in 0..writes {
        let eta = (chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap() + chrono::Days::new(write))
            .to_string();
        let written = one.post(Some(&staff), update, json!({"eta": eta})).await;
        assert!(written.get("errors").is_none(), "{written}");
        committed.push(Instant::now());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while receiver.received().len() < committed.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Time for a second copy to arrive, if one were coming.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let feed = world
        .app
        .data(
            &world.alpha,
            "query($after: String) { orderEvents(first: 100, after: $after) { nodes { cursor } } }",
            json!({"after": after}),
        )
        .await;
    let expected: Vec<String> = feed["orderEvents"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["cursor"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(expected.len(), 100);
    assert_eq!(receiver.cursors(), expected);
    let shares = (
        one.webhooks_delivered().await,
        other.webhooks_delivered().await,
    );
    assert_eq!(shares.0 + shares.1, 100);

    let mut delays: Vec<Duration> = receiver
        .received()
        .iter()
        .zip(&committed)
        .map(|(received, committed)| received.at.saturating_duration_since(*committed))
        .collect();
    delays.sort();
    eprintln!(
        "write answered on one instance to the webhook receiver's 2xx, {} writes, two instances \
         (delivered {} and {}): median {:?}, worst {:?}",
        delays.len(),
        shares.0,
        shares.1,
        delays[delays.len() / 2],
        delays[delays.len() - 1]
    );
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

/// Polls `{ me { email } }` on `instance` with `token` until it is refused, for up to 3 s;
/// returns how long that took and the refusal's message.
async fn refused_after(instance: &Instance, token: &str) -> (Duration, String) {
    let started = Instant::now();
    loop {
        let answer = instance
            .post(Some(token), "{ me { email } }", json!({}))
            .await;
        if let Some(message) = answer["errors"][0]["message"].as_str() {
            return (started.elapsed(), message.to_owned());
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "still answered after 3 s: {answer}"
        );
    }
}

/// Asks `{ me { email } }` twice on `instance`: the second time its credential is known, and
/// the answer costs only `me`'s own statement.
async fn known_on(instance: &Instance, token: &str) {
    instance
        .post(Some(token), "{ me { email } }", json!({}))
        .await;
    let before = instance.statements().await;
    let answer = instance
        .post(Some(token), "{ me { email } }", json!({}))
        .await;
    assert!(answer["data"]["me"]["email"].is_string(), "{answer}");
    // `/metrics` itself takes statements after it has counted: read twice.
    let after = instance.statements().await;
    let metrics = instance.statements().await - after;
    assert_eq!(
        after - before - metrics,
        1,
        "the credential was checked again"
    );
}

#[tokio::test]
async fn a_session_ended_on_one_instance_is_refused_on_the_other() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: two instances share a PostgreSQL database");
        return;
    }
    let world = World::new().await;
    let (one, other) = (
        Instance::start(world.app.database_url()).await,
        Instance::start(world.app.database_url()).await,
    );
    let login = "mutation { login(email: \"admin@alpha.example\", password: \"correct horse battery\") { accessToken refreshToken } }";
    let session = one.post(None, login, json!({})).await;
    let access = session["data"]["login"]["accessToken"].as_str().unwrap();
    let refresh = &session["data"]["login"]["refreshToken"];
    known_on(&other, access).await;
    let logout = "mutation($token: String!) { logout(refreshToken: $token) }";
    let out = one.post(None, logout, json!({"token": refresh})).await;
    assert_eq!(out["data"]["logout"], true);
    let (delay, reason) = refused_after(&other, access).await;
    eprintln!("logged out on one instance, refused on the other after {delay:?}");
    assert_eq!(reason, "the session has ended: sign in again");
    // A known credential is checked again after 5 s anyway: well before shows the notification.
    assert!(delay < Duration::from_secs(2), "refused after {delay:?}");
}

#[tokio::test]
async fn an_api_token_revoked_on_one_instance_is_refused_on_the_other() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: two instances share a PostgreSQL database");
        return;
    }
    let world = World::new().await;
    let (one, other) = (
        Instance::start(world.app.database_url()).await,
        Instance::start(world.app.database_url()).await,
    );
    let alpha = one.login("admin@alpha.example").await;
    let created = one
        .post(
            Some(&alpha),
            "mutation { createApiToken(name: \"wallboard\") { secret apiToken { id } } }",
            json!({}),
        )
        .await;
    let secret = created["data"]["createApiToken"]["secret"]
        .as_str()
        .unwrap();
    known_on(&other, secret).await;
    let revoke = "mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }";
    let revoked = one
        .post(
            Some(&alpha),
            revoke,
            json!({"id": created["data"]["createApiToken"]["apiToken"]["id"]}),
        )
        .await;
    assert!(revoked.get("errors").is_none(), "{revoked}");
    let (delay, reason) = refused_after(&other, secret).await;
    eprintln!("API token revoked on one instance, refused on the other after {delay:?}");
    assert_eq!(reason, "the API token is not valid, revoked or expired");
    assert!(delay < Duration::from_secs(2), "refused after {delay:?}");
}
