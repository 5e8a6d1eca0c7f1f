//! Order events: facts written with the change, a feed that replays from a cursor, and live
//! subscriptions over WebSocket that continue it without a gap or a duplicate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    World,
    ws::{self, Client, Opened},
};
use futures_util::StreamExt;
use serde_json::{Value, json};

const FEED: &str = "query($first: Int, $after: String) {
  orderEvents(first: $first, after: $after) {
    nodes { cursor kind occurredAt order { orderNumber } orderLine { lineNumber } }
    pageInfo { hasNextPage endCursor }
  }
}";

const UPDATE_ETA: &str = "mutation($order: String!, $eta: Date) {
  updateEtas(updates: [{orderNumber: $order, lineNumber: 1, eta: $eta, reason: \"vendor\"}]) { eta }
}";

/// The back office moves line 1's ETA through the API, as the ERP would.
async fn move_eta(world: &World, order: &str, eta: impl Into<Value>) {
    let variables = json!({"order": order, "eta": eta.into()});
    world.app.data(&world.staff, UPDATE_ETA, variables).await;
}

fn kinds(feed: &Value) -> Vec<String> {
    feed["orderEvents"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            let line = event["orderLine"]["lineNumber"]
                .as_i64()
                .map_or(String::new(), |n| format!(" {n}"));
            format!(
                "{} {}{line}",
                event["order"]["orderNumber"].as_str().unwrap(),
                event["kind"].as_str().unwrap()
            )
        })
        .collect()
}

/// SO-1 of Alpha walked from entry to fulfilment, and SO-2 of Beta confirmed.
async fn history() -> World {
    let world = World::new().await;
    let app = &world.app;
    app.order(
        "SO-1",
        "C-1",
        &[
            ("HW-1", 2, "100.00", Some("2026-11-25")),
            ("SVC-1", 1, "50.00", None),
        ],
    )
    .await;
    app.set_eta("SO-1", 1, Some("2026-11-26"), "before approval")
        .await;
    app.confirm("SO-1").await;
    app.set_eta("SO-1", 1, Some("2026-11-27"), "vendor delay")
        .await;
    app.ship("SH-1", "SO-1", &[(1, 2, &["S1", "S2"])]).await;
    app.deliver("SH-1").await;
    app.email("SO-1", 2, 1).await;
    app.invoice("INV-1", "SO-1", &[(1, 2), (2, 1)]).await;
    app.order("SO-2", "C-2", &[("HW-1", 1, "100.00", None)])
        .await;
    app.confirm("SO-2").await;
    world
}

#[tokio::test]
async fn the_feed_holds_every_fact_in_order_and_customers_see_theirs_from_approval_on() {
    let world = history().await;
    let alpha = world
        .app
        .data(&world.alpha, FEED, json!({"first": 100}))
        .await;
    assert_eq!(
        kinds(&alpha),
        [
            "SO-1 STATUS_CHANGED",
            "SO-1 ETA_CHANGED 1",
            "SO-1 SHIPPED 1",
            "SO-1 STATUS_CHANGED",
            "SO-1 DELIVERED 1",
            "SO-1 SHIPPED 2",
            "SO-1 DELIVERED 2",
            "SO-1 INVOICED 1",
            "SO-1 INVOICED 2",
            "SO-1 STATUS_CHANGED",
        ]
    );
    let staff = world
        .app
        .data(&world.staff, FEED, json!({"first": 100}))
        .await;
    let staff_kinds = kinds(&staff);
    assert_eq!(
        staff_kinds[0], "SO-1 ETA_CHANGED 1",
        "the back office sees the unapproved past"
    );
    assert_eq!(staff_kinds.len(), 12);
    let beta = world
        .app
        .data(&world.beta, FEED, json!({"first": 100}))
        .await;
    assert_eq!(kinds(&beta), ["SO-2 STATUS_CHANGED"]);
}

#[tokio::test]
async fn a_dashboard_that_stores_its_cursor_gets_exactly_what_it_has_not_seen() {
    let world = history().await;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = world
            .app
            .data(&world.alpha, FEED, json!({"first": 3, "after": after}))
            .await;
        seen.extend(kinds(&page));
        let info = &page["orderEvents"]["pageInfo"];
        if !info["hasNextPage"].as_bool().unwrap() {
            after = info["endCursor"].clone();
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(seen.len(), 10);
    let nothing_new = world
        .app
        .data(&world.alpha, FEED, json!({"after": after}))
        .await;
    assert_eq!(kinds(&nothing_new), Vec::<String>::new());
    move_eta(&world, "SO-2", "2026-12-01").await;
    world
        .app
        .set_eta("SO-1", 2, Some("2026-12-02"), "late")
        .await;
    let new = world
        .app
        .data(&world.alpha, FEED, json!({"after": after}))
        .await;
    assert_eq!(kinds(&new), ["SO-1 ETA_CHANGED 2"]);
    let bad = world
        .app
        .run(Some(&world.alpha), FEED, json!({"after": "nonsense"}))
        .await;
    assert_eq!(common::error_code(&bad), "BAD_USER_INPUT");
}

#[tokio::test]
async fn an_unchanged_resend_writes_no_event() {
    let world = history().await;
    let before = world
        .app
        .data(&world.staff, FEED, json!({"first": 100}))
        .await;
    world
        .app
        .set_eta("SO-1", 1, Some("2026-11-27"), "same again")
        .await;
    world
        .app
        .ship("SH-1", "SO-1", &[(1, 2, &["S1", "S2"])])
        .await;
    world.app.invoice("INV-1", "SO-1", &[(1, 2), (2, 1)]).await;
    let after = world
        .app
        .data(&world.staff, FEED, json!({"first": 100}))
        .await;
    assert_eq!(kinds(&after), kinds(&before));
}

const SUBSCRIBE: &str = "subscription($order: String, $after: String) {
  orderEvents(orderNumber: $order, after: $after) { cursor kind order { orderNumber status } orderLine { lineNumber eta } }
}";

#[tokio::test]
async fn a_subscriber_gets_the_missed_events_then_live_ones_without_gap_or_duplicate() {
    let world = history().await;
    let address = ws::serve(&world.app.app).await;
    let feed = world
        .app
        .data(&world.alpha, FEED, json!({"first": 7}))
        .await;
    let seventh = feed["orderEvents"]["pageInfo"]["endCursor"].clone();

    let mut client = Client::connect(address, &world.alpha).await;
    client
        .subscribe("1", SUBSCRIBE, json!({"after": seventh}))
        .await;
    let mut got = Vec::new();
    for _ in 0..3 {
        let event = client.next_payload().await;
        got.push(
            event["data"]["orderEvents"]["kind"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(got, ["INVOICED", "INVOICED", "STATUS_CHANGED"]);

    move_eta(&world, "SO-2", "2026-12-01").await;
    move_eta(&world, "SO-1", "2026-12-03").await;
    let live = client.next_payload().await;
    assert_eq!(
        live["data"]["orderEvents"]["orderLine"],
        json!({"lineNumber": 1, "eta": "2026-12-03"}),
        "Beta's change is not Alpha's to see, and the line reads as it is now: {live}"
    );
    assert_eq!(live["data"]["orderEvents"]["order"]["status"], "FULFILLED");
}

#[tokio::test]
async fn one_order_can_be_followed_and_an_order_not_yours_is_not_found() {
    let world = history().await;
    let address = ws::serve(&world.app.app).await;
    let mut client = Client::connect(address, &world.beta).await;
    client
        .subscribe("1", SUBSCRIBE, json!({"order": "SO-1"}))
        .await;
    let refused = client.receive().await.unwrap();
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );
    assert_eq!(client.receive().await.unwrap()["type"], "complete");

    // From the last event Beta has seen, so that the write below cannot slip in before the
    // subscription starts.
    let seen = world.app.data(&world.beta, FEED, json!({})).await;
    let after = seen["orderEvents"]["pageInfo"]["endCursor"].clone();
    client
        .subscribe("2", SUBSCRIBE, json!({"order": "SO-2", "after": after}))
        .await;
    move_eta(&world, "SO-2", "2026-12-01").await;
    let live = client.next_payload().await;
    assert_eq!(live["data"]["orderEvents"]["kind"], "ETA_CHANGED");
}

#[tokio::test]
async fn a_connection_without_a_valid_token_is_closed_with_4401() {
    let world = World::new().await;
    let address = ws::serve(&world.app.app).await;
    for token in [None, Some("garbage"), Some("cpt_unknown")] {
        match Client::open(address, token).await {
            Opened::Closed(code, _) => assert_eq!(code, 4401, "{token:?}"),
            Opened::Acknowledged(_) => panic!("{token:?} was accepted"),
        }
    }
}

#[tokio::test]
async fn a_disabled_users_subscription_ends() {
    let world = history().await;
    let (colleague, id) = world
        .colleague("watcher@alpha.example", "CUSTOMER_USER")
        .await;
    let address = ws::serve(&world.app.app).await;
    let mut client = Client::connect(address, &colleague).await;
    client.subscribe("1", SUBSCRIBE, json!({})).await;
    world
        .app
        .data(
            &world.alpha,
            "mutation($id: ID!) { disableUser(userId: $id) { status } }",
            json!({"id": id}),
        )
        .await;
    let (code, reason) = client.closed().await;
    assert_eq!(
        (code, reason.as_str()),
        (4403, "the account has been disabled")
    );
}

#[tokio::test]
async fn subscriptions_per_connection_and_connections_per_user_are_capped() {
    let world = World::new().await;
    let address = ws::serve(&world.app.app).await;
    let mut client = Client::connect(address, &world.alpha).await;
    for id in 0..10 {
        client
            .subscribe(&id.to_string(), SUBSCRIBE, json!({}))
            .await;
    }
    client.subscribe("10", SUBSCRIBE, json!({})).await;
    // Subscriptions start in no set order: one of the eleven is the one too many.
    let refused = client.receive().await.unwrap();
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused}"
    );
    assert!(
        refused["payload"]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 10")
    );

    let mut others = Vec::new();
    for _ in 0..4 {
        others.push(Client::connect(address, &world.alpha).await);
    }
    match Client::open(address, Some(&world.alpha)).await {
        Opened::Closed(code, _) => assert_eq!(code, 4429),
        Opened::Acknowledged(_) => panic!("a sixth connection was accepted"),
    }
    drop(others);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(matches!(
        Client::open(address, Some(&world.alpha)).await,
        Opened::Acknowledged(_)
    ));
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_told_where_to_resume_and_writers_go_on() {
    let world = history().await;
    let request = async_graphql::Request::new(SUBSCRIBE).variables(
        async_graphql::Variables::from_json(json!({"after": "00000000000000000000"})),
    );
    let bearer = format!("Bearer {}", world.staff);
    let mut events = Box::pin(
        world
            .app
            .app
            .subscribe(Some(&bearer), request)
            .await
            .unwrap(),
    );
    let first = events.next().await.unwrap();
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    // Nobody reads while the back office writes on: the writes never wait.
    for day in 1..=28 {
        let eta = format!("2026-12-{day:02}");
        move_eta(&world, "SO-2", eta).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let mut delivered = 1;
    let resume = loop {
        let response = events
            .next()
            .await
            .expect("the stream ends with the reason");
        if let Some(error) = response.errors.first() {
            let extensions = serde_json::to_value(&error.extensions).unwrap();
            assert_eq!(extensions["code"], "RATE_LIMITED");
            break extensions["resumeAfter"].as_str().unwrap().to_owned();
        }
        delivered += 1;
    };
    assert!(events.next().await.is_none());
    let rest = world
        .app
        .data(&world.staff, FEED, json!({"first": 100, "after": resume}))
        .await;
    assert_eq!(
        delivered + kinds(&rest).len(),
        12 + 28,
        "nothing is lost across the resume"
    );
}
