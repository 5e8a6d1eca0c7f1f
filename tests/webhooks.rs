//! Webhooks: order events POSTed to a reseller's own receiver, signed, retried in order,
//! never doubled, and never to an address inside the network.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{
    TestApp, World, error_code,
    receiver::{Received, Receiver, test_ca},
    test_config,
};
use customer_portal::{app::App, config::Config, store, webhooks::Round};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const CREATE: &str = "mutation($url: String!, $kinds: [OrderEventKind!], $company: ID) {
  createWebhook(url: $url, kinds: $kinds, companyId: $company) { secret webhook { id url kinds disabledAt } }
}";
const DELETE: &str = "mutation($id: ID!) { deleteWebhook(id: $id) }";
const LIST: &str = "{ webhooks { url kinds failingSince nextAttemptAt disabledAt
  deliveries { nodes { eventCursor attempt httpStatus error nextAttemptAt } } } }";
const FEED: &str =
    "{ orderEvents(first: 100) { nodes { cursor kind order { id } orderLine { id } } } }";

async fn create(world: &World, token: &str, url: &str, kinds: Value) -> Value {
    world
        .app
        .data(token, CREATE, json!({"url": url, "kinds": kinds}))
        .await["createWebhook"]
        .clone()
}

/// SO-1 for Alpha, approved (a STATUS_CHANGED event) and with a new ETA (ETA_CHANGED).
async fn two_events(app: &TestApp) {
    app.order("SO-1", "C-1", &[("HW-1", 2, "10.00", None)])
        .await;
    app.confirm("SO-1").await;
    app.set_eta("SO-1", 1, Some("2026-12-01"), "vendor").await;
}

/// Alpha's change feed, as the holder of `token` reads it.
async fn feed(world: &World, token: &str) -> Vec<Value> {
    world.app.data(token, FEED, json!({})).await["orderEvents"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

async fn cursors(world: &World, token: &str) -> Vec<String> {
    feed(world, token)
        .await
        .iter()
        .map(|event| event["cursor"].as_str().unwrap().to_owned())
        .collect()
}

/// An API token of Alpha's administrator, which does not expire when a test moves the clock
/// on by hours.
async fn reader(world: &World) -> String {
    world
        .app
        .data(
            &world.alpha,
            "mutation { createApiToken(name: \"ERP\") { secret } }",
            json!({}),
        )
        .await["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn round(delivered: usize, failed: usize, disabled: usize) -> Round {
    Round {
        delivered,
        failed,
        disabled,
        more: false,
    }
}

/// A second instance of the service on the same database, with `allow_loopback` as given.
async fn second_instance(app: &TestApp, allow_loopback: bool) -> App {
    instance_with(app, |config| {
        config.webhooks.allow_loopback = allow_loopback
    })
    .await
}

/// Another instance of the service on the same database, configured by `configure`.
async fn instance_with(app: &TestApp, configure: impl FnOnce(&mut Config)) -> App {
    let mut config = test_config(&app.mail_dir, None, &[]);
    configure(&mut config);
    let db = store::connect(app.database_url()).await.unwrap();
    App::new(&config, db, app.clock.clone())
}

/// The timestamp and signature of the `portal-signature` header.
fn signature(received: &Received) -> (String, String) {
    let (t, v1) = received
        .header("portal-signature")
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
        .unwrap();
    (t.to_owned(), v1.to_owned())
}

/// HMAC-SHA256 of `t.body` under `secret`, in hex, as the README tells a receiver to check.
fn sign(secret: &str, t: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[tokio::test]
async fn a_delivery_carries_the_event_as_the_feed_shows_it_and_its_signature_verifies() {
    let world = World::new().await;
    let receiver = Receiver::start().await;
    let created = create(&world, &world.alpha, &receiver.url(), Value::Null).await;
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 6 + 43,
        "{secret}"
    );
    two_events(&world.app).await;

    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(2, 0, 0)
    );

    let feed = feed(&world, &world.alpha).await;
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    let eta = &received[1];
    assert_eq!(
        eta.json(),
        json!({
            "cursor": feed[1]["cursor"],
            "kind": "ETA_CHANGED",
            "occurredAt": "2026-11-23T12:00:00Z",
            "order": {
                "id": feed[1]["order"]["id"],
                "orderNumber": "SO-1",
                "customerReference": "PO-SO-1",
                "status": "CONFIRMED",
            },
            "orderLine": {
                "id": feed[1]["orderLine"]["id"],
                "lineNumber": 1,
                "sku": "HW-1",
                "quantity": 2,
                "shippedQuantity": 0,
                "deliveredQuantity": 0,
                "invoicedQuantity": 0,
                "eta": "2026-12-01",
            },
        })
    );
    assert_eq!(received[0].json()["kind"], "STATUS_CHANGED");
    assert_eq!(received[0].json()["orderLine"], Value::Null);
    assert_eq!(eta.cursor(), feed[1]["cursor"].as_str().unwrap());
    assert_eq!(
        eta.header("portal-event-id"),
        eta.cursor().trim_start_matches('0')
    );
    assert_eq!(eta.header("content-type"), "application/json");

    // What the README tells a receiver to do.
    let (t, v1) = signature(eta);
    assert_eq!(t, common::now().timestamp().to_string());
    assert_eq!(v1, sign(secret, &t, &eta.body));
    assert_ne!(v1, sign("whsec_another", &t, &eta.body));

    // Nothing new: nothing sent again.
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 0, 0)
    );
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test]
async fn a_receiver_answering_500_three_times_gets_each_event_once_more_in_order() {
    let world = World::new().await;
    let reader = reader(&world).await;
    let receiver = Receiver::start().await;
    create(&world, &world.alpha, &receiver.url(), Value::Null).await;
    two_events(&world.app).await;
    receiver.answer(&[500, 500, 500]);

    for _ in 0..3 {
        assert_eq!(
            world.app.app.deliver_webhooks().await.unwrap(),
            round(0, 1, 0)
        );
        // Not due again before its back-off has passed.
        assert_eq!(
            world.app.app.deliver_webhooks().await.unwrap(),
            round(0, 0, 0)
        );
        world.app.clock.advance(chrono::Duration::hours(1));
    }
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(2, 0, 0)
    );

    let feed = cursors(&world, &reader).await;
    let (first, second) = (&feed[0], &feed[1]);
    assert_eq!(
        receiver.cursors(),
        [first, first, first, first, second].map(String::clone)
    );
    let listed = world.app.data(&reader, LIST, json!({})).await;
    let webhook = &listed["webhooks"][0];
    assert_eq!(webhook["failingSince"], Value::Null);
    assert_eq!(webhook["nextAttemptAt"], Value::Null);
    let attempts: Vec<Value> = webhook["deliveries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| {
            json!([
                attempt["eventCursor"],
                attempt["attempt"],
                attempt["httpStatus"],
                attempt["error"],
                attempt["nextAttemptAt"].is_string()
            ])
        })
        .collect();
    assert_eq!(
        attempts,
        [
            json!([second, 1, 200, null, false]),
            json!([first, 4, 200, null, false]),
            json!([first, 3, 500, "answered 500", true]),
            json!([first, 2, 500, "answered 500", true]),
            json!([first, 1, 500, "answered 500", true]),
        ]
    );
}

#[tokio::test]
async fn delivered_attempts_are_forgotten_after_30_days_and_failed_ones_kept() {
    let world = World::new().await;
    let reader = reader(&world).await;
    let receiver = Receiver::start().await;
    create(&world, &world.alpha, &receiver.url(), Value::Null).await;
    two_events(&world.app).await;
    receiver.answer(&[500]);
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 1, 0)
    );
    world.app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(2, 0, 0)
    );
    let failed = json!([1, 500, "answered 500", true]);
    let delivered = |attempt: i32| json!([attempt, 200, null, false]);
    let all = [delivered(1), delivered(2), failed.clone()];
    assert_eq!(attempts(&world, &reader).await, all);

    world.app.clock.advance(chrono::Duration::days(30));
    world.app.app.deliver_webhooks().await.unwrap();
    assert_eq!(attempts(&world, &reader).await, all);
    world.app.clock.advance(chrono::Duration::hours(1));
    world.app.app.deliver_webhooks().await.unwrap();
    assert_eq!(attempts(&world, &reader).await, [failed]);
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_the_backlog_in_order() {
    let world = World::new().await;
    let reader = reader(&world).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    create(
        &world,
        &world.alpha,
        &format!("http://{address}/hook"),
        Value::Null,
    )
    .await;
    two_events(&world.app).await;
    world
        .app
        .set_eta("SO-1", 1, Some("2026-12-04"), "vendor")
        .await;

    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 1, 0)
    );
    let listed = world.app.data(&reader, LIST, json!({})).await;
    let attempt = &listed["webhooks"][0]["deliveries"]["nodes"][0];
    assert_eq!(attempt["httpStatus"], Value::Null);
    assert!(
        attempt["error"]
            .as_str()
            .unwrap()
            .starts_with("connecting to 127.0.0.1"),
        "{attempt}"
    );
    assert_eq!(
        listed["webhooks"][0]["failingSince"],
        "2026-11-23T12:00:00+00:00"
    );
    world.app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 1, 0)
    );

    let receiver = Receiver::on(tokio::net::TcpListener::bind(address).await.unwrap());
    world.app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(3, 0, 0)
    );
    assert_eq!(receiver.cursors(), cursors(&world, &reader).await);
}

#[tokio::test]
async fn two_instances_deliver_each_event_exactly_once() {
    let world = World::new().await;
    let receiver = Receiver::start().await;
    create(&world, &world.alpha, &receiver.url(), Value::Null).await;
    let other = second_instance(&world.app, true).await;
    // SQLite's writers wait for each other only so far; its deliverers start after the
    // writes, PostgreSQL's before them, so that the delay from write to receiver shows.
    let postgres = world.app.database_url().starts_with("postgres");
    if postgres {
        world.app.app.spawn_webhook_deliverer();
        other.spawn_webhook_deliverer();
    }

    world
        .app
        .order("SO-1", "C-1", &[("HW-1", 2, "10.00", None)])
        .await;
    world.app.confirm("SO-1").await;
    let start = common::date("2026-12-01");
    let mut written = vec![Instant::now()];
    for day in 1..100 {
        let eta = (start + chrono::Duration::days(day)).to_string();
        world.app.set_eta("SO-1", 1, Some(&eta), "vendor").await;
        written.push(Instant::now());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if !postgres {
        world.app.app.spawn_webhook_deliverer();
        other.spawn_webhook_deliverer();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while receiver.received().len() < 100 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Time for a duplicate to arrive, if one were coming.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let expected = cursors(&world, &world.alpha).await;
    assert_eq!(expected.len(), 100);
    assert_eq!(receiver.cursors(), expected);

    let mut delays: Vec<Duration> = receiver
        .received()
        .iter()
        .zip(&written)
        .map(|(received, written)| received.at.duration_since(*written))
        .collect();
    delays.sort();
    if postgres {
        eprintln!(
            "write to receiver, {} events, two instances: median {:?}, worst {:?}",
            delays.len(),
            delays[delays.len() / 2],
            delays[delays.len() - 1]
        );
    }
}

#[tokio::test]
async fn an_endpoint_stops_when_the_administrator_who_made_it_is_disabled() {
    let world = World::new().await;
    let receiver = Receiver::start().await;
    let (colleague, colleague_id) = world.colleague("it@alpha.example", "CUSTOMER_ADMIN").await;
    create(&world, &colleague, &receiver.url(), Value::Null).await;
    world
        .app
        .order("SO-1", "C-1", &[("HW-1", 2, "10.00", None)])
        .await;
    world.app.confirm("SO-1").await;
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(1, 0, 0)
    );

    let disable = "mutation($id: ID!) { disableUser(userId: $id) { status } }";
    world
        .app
        .data(&world.alpha, disable, json!({"id": colleague_id}))
        .await;
    world
        .app
        .set_eta("SO-1", 1, Some("2026-12-01"), "vendor")
        .await;
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 0, 0)
    );
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_deleted_endpoint_gets_nothing_more() {
    let world = World::new().await;
    let receiver = Receiver::start().await;
    let created = create(&world, &world.alpha, &receiver.url(), Value::Null).await;
    let id = created["webhook"]["id"].clone();
    world
        .app
        .order("SO-1", "C-1", &[("HW-1", 2, "10.00", None)])
        .await;
    world.app.confirm("SO-1").await;
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(1, 0, 0)
    );

    assert_eq!(
        world
            .app
            .code(Some(&world.beta), DELETE, json!({"id": id}))
            .await,
        "NOT_FOUND"
    );
    let deleted = world
        .app
        .data(&world.alpha, DELETE, json!({"id": id}))
        .await;
    assert_eq!(deleted["deleteWebhook"], id);
    world
        .app
        .set_eta("SO-1", 1, Some("2026-12-01"), "vendor")
        .await;
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 0, 0)
    );
    assert_eq!(receiver.received().len(), 1);
    let listed = world.app.data(&world.alpha, LIST, json!({})).await;
    assert_eq!(listed["webhooks"], json!([]));
}

#[tokio::test]
async fn an_internal_address_is_refused_at_creation_and_skipped_at_delivery() {
    let world = World::new().await;
    for url in [
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00:ec2::254]/",
        "http://example.com/hook",
        "ftp://example.com/hook",
        "https://user:pw@example.com/hook",
        "not a url",
    ] {
        let response = world
            .app
            .run(Some(&world.alpha), CREATE, json!({"url": url}))
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{url}");
        assert_eq!(response["errors"][0]["extensions"]["field"], "url", "{url}");
    }

    // Loopback is allowed to this instance (as in local development) but not to the other.
    let receiver = Receiver::start().await;
    let url = format!("https://localhost:{}/hook", receiver.address.port());
    create(&world, &world.alpha, &url, Value::Null).await;
    world
        .app
        .order("SO-1", "C-1", &[("HW-1", 2, "10.00", None)])
        .await;
    world.app.confirm("SO-1").await;
    let strict = second_instance(&world.app, false).await;
    assert_eq!(strict.deliver_webhooks().await.unwrap(), round(0, 1, 0));
    assert!(receiver.received().is_empty());
    let listed = world.app.data(&world.alpha, LIST, json!({})).await;
    let error = listed["webhooks"][0]["deliveries"]["nodes"][0]["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.ends_with(
            "is a private, loopback or link-local address: webhooks go to the public internet only"
        ),
        "{error}"
    );
}

#[tokio::test]
async fn administrators_manage_webhooks_their_api_tokens_only_read_them() {
    let world = World::new().await;
    let receiver = Receiver::start().await;
    let created = create(
        &world,
        &world.alpha,
        &receiver.url(),
        json!(["SHIPPED", "ETA_CHANGED", "SHIPPED"]),
    )
    .await;
    assert_eq!(
        created["webhook"]["kinds"],
        json!(["ETA_CHANGED", "SHIPPED"])
    );
    let token = reader(&world).await;
    let listed = world.app.data(&token, LIST, json!({})).await;
    assert_eq!(listed["webhooks"][0]["url"], receiver.url());
    assert_eq!(
        world
            .app
            .code(Some(&token), CREATE, json!({"url": receiver.url()}))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        world
            .app
            .code(
                Some(&token),
                DELETE,
                json!({"id": created["webhook"]["id"]})
            )
            .await,
        "FORBIDDEN"
    );
    let (user, _) = world
        .colleague("sales@alpha.example", "CUSTOMER_USER")
        .await;
    assert_eq!(
        world.app.code(Some(&user), LIST, json!({})).await,
        "FORBIDDEN"
    );
    assert_eq!(
        world.app.data(&world.beta, LIST, json!({})).await["webhooks"],
        json!([])
    );

    // Only the kinds asked for.
    two_events(&world.app).await;
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(1, 0, 0)
    );
    assert_eq!(receiver.received()[0].json()["kind"], "ETA_CHANGED");
    // Past the events it did not ask for, too, so that it is not looked at again for them.
    world.app.confirm("SO-1").await;
    world
        .app
        .order("SO-2", "C-1", &[("HW-1", 1, "10.00", None)])
        .await;
    world.app.confirm("SO-2").await;
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 0, 0)
    );
    let through = world
        .app
        .data(&world.alpha, "{ webhooks { deliveredThrough } }", json!({}))
        .await["webhooks"][0]["deliveredThrough"]
        .clone();
    assert_eq!(
        Some(through.as_str().unwrap().to_owned()),
        cursors(&world, &world.alpha).await.last().cloned()
    );
    assert_eq!(receiver.received().len(), 1);

    // At most ten per company.
    for _ in 1..10 {
        create(&world, &world.alpha, &receiver.url(), Value::Null).await;
    }
    let response = world
        .app
        .run(Some(&world.alpha), CREATE, json!({"url": receiver.url()}))
        .await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
    assert_eq!(
        response["errors"][0]["message"],
        "a company has at most 10 webhooks: delete one first"
    );

    // The back office, for any company it names.
    let beta = world
        .app
        .data(&world.beta, "{ me { company { id } } }", json!({}))
        .await["me"]["company"]["id"]
        .clone();
    assert_eq!(
        world
            .app
            .code(Some(&world.staff), CREATE, json!({"url": receiver.url()}))
            .await,
        "BAD_USER_INPUT"
    );
    world
        .app
        .data(
            &world.staff,
            CREATE,
            json!({"url": receiver.url(), "company": beta}),
        )
        .await;
    assert_eq!(
        world.app.data(&world.beta, LIST, json!({})).await["webhooks"][0]["url"],
        receiver.url()
    );
    assert_eq!(
        world.app.data(&world.staff, LIST, json!({})).await["webhooks"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
}

#[tokio::test]
async fn an_endpoint_failing_for_a_day_is_disabled_and_its_administrators_are_told() {
    let world = World::new().await;
    let reader = reader(&world).await;
    let receiver = Receiver::start().await;
    create(&world, &world.alpha, &receiver.url(), Value::Null).await;
    two_events(&world.app).await;
    receiver.answer(&[503; 10]);

    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 1, 0)
    );
    world.app.clock.advance(chrono::Duration::hours(12));
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 1, 0)
    );
    world.app.clock.advance(chrono::Duration::hours(12));
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 0, 1)
    );
    world.app.clock.advance(chrono::Duration::hours(12));
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 0, 0)
    );
    assert_eq!(receiver.received().len(), 3);

    let listed = world.app.data(&reader, LIST, json!({})).await;
    assert_eq!(
        listed["webhooks"][0]["disabledAt"],
        "2026-11-24T12:00:00+00:00"
    );
    assert_eq!(listed["webhooks"][0]["nextAttemptAt"], Value::Null);
    let mail = world.app.mail().await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("To: admin@alpha.example"), "{}", mail[0]);
    assert!(
        mail[0].contains("Subject: Uw webhook is uitgeschakeld"),
        "{}",
        mail[0]
    );
    assert!(
        mail[0].contains("De laatste fout: answered 503"),
        "{}",
        mail[0]
    );
}

async fn metrics(app: &App) -> String {
    use tower::ServiceExt;
    let request = axum::http::Request::get("/metrics")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.router().oneshot(request).await.unwrap();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test]
async fn metrics_count_deliveries_by_outcome_and_show_the_oldest_waiting_event() {
    let world = World::new().await;
    let receiver = Receiver::start().await;
    create(&world, &world.alpha, &receiver.url(), Value::Null).await;
    two_events(&world.app).await;
    receiver.answer(&[500]);
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 1, 0)
    );
    world.app.clock.advance(chrono::Duration::seconds(90));

    let text = metrics(&world.app.app).await;
    for line in [
        "portal_webhook_deliveries_total{outcome=\"delivered\"} 0",
        "portal_webhook_deliveries_total{outcome=\"failed\"} 1",
        "portal_webhook_deliveries_total{outcome=\"disabled\"} 0",
        "portal_webhook_oldest_undelivered_seconds 90",
    ] {
        assert!(text.lines().any(|found| found == line), "{line} in {text}");
    }

    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(2, 0, 0)
    );
    let text = metrics(&world.app.app).await;
    for line in [
        "portal_webhook_deliveries_total{outcome=\"delivered\"} 2",
        "portal_webhook_oldest_undelivered_seconds 0",
    ] {
        assert!(text.lines().any(|found| found == line), "{line} in {text}");
    }
}

#[tokio::test]
async fn an_instance_that_dies_holding_an_endpoint_leaves_it_to_another_once_its_lease_ends() {
    let world = World::new().await;
    let receiver = Receiver::start().await;
    create(&world, &world.alpha, &receiver.url(), Value::Null).await;
    two_events(&world.app).await;
    // An instance claims the endpoint, then dies before recording anything.
    let now = world.app.clock.now();
    let claimed =
        store::webhooks::claim_due(&world.app.db, now, now + chrono::Duration::minutes(2), 10)
            .await
            .unwrap();
    assert_eq!(claimed.len(), 1);

    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 0, 0)
    );
    world.app.clock.advance(chrono::Duration::minutes(3));
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(2, 0, 0)
    );
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_in_time_is_given_up_on_and_retried() {
    let world = World::new().await;
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let holder = held.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            holder.lock().unwrap().push(socket);
        }
    });
    create(
        &world,
        &world.alpha,
        &format!("http://{address}/hook"),
        Value::Null,
    )
    .await;
    two_events(&world.app).await;
    let impatient = instance_with(&world.app, |config| {
        config.webhooks.timeout = Duration::from_millis(300);
    })
    .await;

    let started = Instant::now();
    assert_eq!(impatient.deliver_webhooks().await.unwrap(), round(0, 1, 0));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(held.lock().unwrap().len(), 1);
    let listed = world.app.data(&world.alpha, LIST, json!({})).await;
    let attempt = &listed["webhooks"][0]["deliveries"]["nodes"][0];
    assert_eq!(attempt["error"], "no answer within 300ms");
    assert_eq!(attempt["httpStatus"], Value::Null);
    assert!(attempt["nextAttemptAt"].is_string());
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_is_not_followed() {
    let world = World::new().await;
    let receiver = Receiver::start().await;
    create(&world, &world.alpha, &receiver.url(), Value::Null).await;
    two_events(&world.app).await;
    receiver.answer(&[307]);

    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 1, 0)
    );
    assert_eq!(receiver.received().len(), 1);
    let listed = world.app.data(&world.alpha, LIST, json!({})).await;
    let attempt = &listed["webhooks"][0]["deliveries"]["nodes"][0];
    assert_eq!(attempt["httpStatus"], 307);
    assert_eq!(attempt["error"], "answered 307");
}

/// An instance that trusts the test CA, as `WEBHOOK_CA_FILE` makes one trust a company CA.
async fn trusting_instance(app: &TestApp) -> App {
    instance_with(app, |config| config.webhooks.extra_roots = test_ca()).await
}

/// The attempts listed for Alpha's one webhook: attempt, HTTP status, error, and whether
/// another is planned; newest first.
async fn attempts(world: &World, token: &str) -> Vec<Value> {
    let listed = world.app.data(token, LIST, json!({})).await;
    listed["webhooks"][0]["deliveries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| {
            json!([
                attempt["attempt"],
                attempt["httpStatus"],
                attempt["error"],
                attempt["nextAttemptAt"].is_string()
            ])
        })
        .collect()
}

/// Alpha with two events waiting for a webhook to a TLS receiver showing `certificate`; an
/// API token of Alpha's administrator; the webhook's secret.
async fn tls_receiver(certificate: &str) -> (World, String, Receiver, String) {
    let world = World::new().await;
    let reader = reader(&world).await;
    let receiver = Receiver::start_tls(certificate).await;
    let created = create(&world, &world.alpha, &receiver.url(), Value::Null).await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    two_events(&world.app).await;
    (world, reader, receiver, secret)
}

#[tokio::test]
async fn an_https_delivery_arrives_once_its_ca_is_trusted_and_its_signature_verifies() {
    let (world, reader, receiver, secret) = tls_receiver("localhost").await;
    assert!(receiver.url().starts_with("https://localhost:"));

    // With the public web's roots only, the test CA is nobody.
    assert_eq!(
        world.app.app.deliver_webhooks().await.unwrap(),
        round(0, 1, 0)
    );
    assert!(receiver.received().is_empty());
    world.app.clock.advance(chrono::Duration::hours(1));

    let trusting = trusting_instance(&world.app).await;
    assert_eq!(trusting.deliver_webhooks().await.unwrap(), round(2, 0, 0));
    let received = receiver.received();
    assert_eq!(receiver.cursors(), cursors(&world, &reader).await);
    let (t, v1) = signature(&received[1]);
    let an_hour_on = common::now() + chrono::Duration::hours(1);
    assert_eq!(t, an_hour_on.timestamp().to_string());
    assert_eq!(v1, sign(&secret, &t, &received[1].body));
    assert_eq!(received[1].json()["kind"], "ETA_CHANGED");
    assert_eq!(
        attempts(&world, &reader).await,
        [
            json!([1, 200, null, false]),
            json!([2, 200, null, false]),
            json!([
                1,
                null,
                "TLS handshake: invalid peer certificate: UnknownIssuer",
                true
            ]),
        ]
    );
}

#[tokio::test]
async fn a_certificate_signed_by_an_untrusted_ca_is_a_failed_attempt_retried_never_delivered() {
    let (world, reader, receiver, _) = tls_receiver("untrusted").await;
    let trusting = trusting_instance(&world.app).await;

    for _ in 0..2 {
        assert_eq!(trusting.deliver_webhooks().await.unwrap(), round(0, 1, 0));
        world.app.clock.advance(chrono::Duration::hours(1));
    }

    assert!(receiver.received().is_empty());
    let error = "TLS handshake: invalid peer certificate: UnknownIssuer";
    assert_eq!(
        attempts(&world, &reader).await,
        [json!([2, null, error, true]), json!([1, null, error, true])]
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_failed_attempt() {
    let (world, reader, receiver, _) = tls_receiver("elsewhere").await;

    let trusting = trusting_instance(&world.app).await;
    assert_eq!(trusting.deliver_webhooks().await.unwrap(), round(0, 1, 0));
    assert!(receiver.received().is_empty());
    assert_eq!(
        attempts(&world, &reader).await,
        [json!([
            1,
            null,
            "TLS handshake: invalid peer certificate: certificate not valid for name \"localhost\"; \
             certificate is only valid for DnsName(\"portal.example\")",
            true
        ])]
    );
}
