//! The documents in `examples/`, run against the demo data set as the portal's pages run
//! them, so that a schema change that breaks one fails here instead of in a frontend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestApp, now};
use customer_portal::{demo, domain::account::Role};
use serde_json::{Value, json};

const ORDER_LIST: &str = include_str!("../examples/order-list.graphql");
const ORDER_DETAIL: &str = include_str!("../examples/order-detail.graphql");
const ETA_HISTORY: &str = include_str!("../examples/eta-history.graphql");
const SHIPMENTS: &str = include_str!("../examples/shipments.graphql");
const SERIAL_LOOKUP: &str = include_str!("../examples/serial-lookup.graphql");
const DASHBOARD: &str = include_str!("../examples/dashboard.graphql");
const CHANGE_FEED: &str = include_str!("../examples/change-feed.graphql");
const ACTIVATION: &str = include_str!("../examples/activation.graphql");

/// The demo data set, and an access token of the first reseller's administrator.
async fn demo_as_reseller() -> (TestApp, String) {
    let world = TestApp::new().await;
    let sign_ins = demo::seed(&world.db, now().date_naive())
        .await
        .unwrap()
        .expect("an empty database is seeded");
    let admin = sign_ins
        .iter()
        .find(|sign_in| sign_in.role == Role::CustomerAdmin)
        .unwrap();
    let token = world.login(&admin.email, &admin.password).await;
    (world, token)
}

/// The first of the reseller's orders (newest first) that `wanted` picks, by its number.
async fn order_where(world: &TestApp, token: &str, wanted: impl Fn(&Value) -> bool) -> String {
    let data = world
        .data(
            token,
            "{ orders(first: 100) { nodes { orderNumber status
                 lines { etaHistory { newEta } serialNumbers { serial } }
                 shipments { shipmentNumber } } } }",
            json!({}),
        )
        .await;
    let order = data["orders"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|order| wanted(order))
        .expect("the demo has such an order");
    order["orderNumber"].as_str().unwrap().to_owned()
}

fn any_line(order: &Value, wanted: impl Fn(&Value) -> bool) -> bool {
    order["lines"].as_array().unwrap().iter().any(wanted)
}

fn not_empty(value: &Value) -> bool {
    value.as_array().is_some_and(|items| !items.is_empty())
}

#[tokio::test]
async fn order_list_example_pages_through_the_orders_with_their_eta_ranges() {
    let (world, token) = demo_as_reseller().await;
    let first = world.data(&token, ORDER_LIST, json!({ "first": 5 })).await["orders"].clone();
    let nodes = first["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 5);
    assert!(first["totalCount"].as_i64().unwrap() > 5);
    assert_eq!(first["pageInfo"]["hasNextPage"], json!(true));
    let dates: Vec<&str> = nodes
        .iter()
        .map(|order| order["orderDate"].as_str().unwrap())
        .collect();
    let mut newest_first = dates.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, newest_first);
    let open = nodes
        .iter()
        .find(|order| order["status"] == "CONFIRMED")
        .expect("the newest orders include a confirmed one");
    let eta = &open["eta"];
    assert!(eta["earliest"].is_string() || eta["pending"] == json!(true));
    assert!(eta["earliest"].as_str() <= eta["latest"].as_str());

    let after = first["pageInfo"]["endCursor"].clone();
    let second = world
        .data(&token, ORDER_LIST, json!({ "first": 5, "after": after }))
        .await["orders"]
        .clone();
    let next = second["nodes"][0]["orderNumber"].as_str().unwrap();
    assert!(
        nodes.iter().all(|order| order["orderNumber"] != next),
        "the second page starts after the first"
    );

    let filtered = world
        .data(
            &token,
            ORDER_LIST,
            json!({ "filter": { "status": ["FULFILLED"] } }),
        )
        .await;
    let fulfilled = filtered["orders"]["nodes"].as_array().unwrap();
    assert!(!fulfilled.is_empty());
    assert!(fulfilled.iter().all(|order| order["status"] == "FULFILLED"));
}

#[tokio::test]
async fn order_detail_example_shows_every_line_with_its_eta() {
    let (world, token) = demo_as_reseller().await;
    let number = order_where(&world, &token, |order| order["status"] == "CONFIRMED").await;
    let data = world
        .data(&token, ORDER_DETAIL, json!({ "orderNumber": number }))
        .await;
    let order = &data["order"];
    assert_eq!(order["orderNumber"], json!(number));
    assert_eq!(order["status"], "CONFIRMED");
    let lines = order["lines"].as_array().unwrap();
    assert!(!lines.is_empty());
    for (index, line) in lines.iter().enumerate() {
        assert_eq!(line["lineNumber"], json!(index + 1));
        assert!(line["product"]["sku"].is_string());
        assert!(line["quantity"].as_i64().unwrap() > 0);
        assert_eq!(line["unitPrice"]["currency"], "EUR");
        assert_eq!(line["progress"]["shipped"], json!(0));
    }
}

#[tokio::test]
async fn eta_history_example_shows_how_an_eta_moved() {
    let (world, token) = demo_as_reseller().await;
    let number = order_where(&world, &token, |order| {
        any_line(order, |line| not_empty(&line["etaHistory"]))
    })
    .await;
    let data = world
        .data(&token, ETA_HISTORY, json!({ "orderNumber": number }))
        .await;
    let line = data["order"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|line| not_empty(&line["etaHistory"]))
        .unwrap();
    let history = line["etaHistory"].as_array().unwrap();
    let latest = history.last().unwrap();
    assert_eq!(
        latest["newEta"], line["eta"],
        "the last change gave today's ETA"
    );
    assert_ne!(latest["previousEta"], latest["newEta"]);
    assert!(latest["changedAt"].as_str().unwrap().starts_with("2026-"));
}

#[tokio::test]
async fn shipments_example_shows_tracking_and_serial_numbers() {
    let (world, token) = demo_as_reseller().await;
    let number = order_where(&world, &token, |order| {
        any_line(order, |line| not_empty(&line["serialNumbers"]))
    })
    .await;
    let data = world
        .data(&token, SHIPMENTS, json!({ "orderNumber": number }))
        .await;
    let shipments = data["order"]["shipments"].as_array().unwrap();
    assert!(!shipments.is_empty());
    let shipment = &shipments[0];
    assert!(shipment["trackingNumber"].is_string());
    assert!(
        shipment["trackingUrl"]
            .as_str()
            .unwrap()
            .ends_with(shipment["trackingNumber"].as_str().unwrap())
    );
    let serialised = shipments
        .iter()
        .flat_map(|shipment| shipment["lines"].as_array().unwrap())
        .find(|line| not_empty(&line["serialNumbers"]))
        .unwrap();
    assert_eq!(
        serialised["serialNumbers"].as_array().unwrap().len() as i64,
        serialised["quantity"].as_i64().unwrap(),
        "one serial per unit"
    );
}

#[tokio::test]
async fn serial_lookup_example_finds_the_order_and_shipment_of_a_unit() {
    let (world, token) = demo_as_reseller().await;
    let number = order_where(&world, &token, |order| {
        any_line(order, |line| not_empty(&line["serialNumbers"]))
    })
    .await;
    let shipped = world
        .data(&token, SHIPMENTS, json!({ "orderNumber": number }))
        .await;
    let line = shipped["order"]["shipments"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|line| not_empty(&line["serialNumbers"]))
        .unwrap()
        .clone();
    let serial = line["serialNumbers"][0]["serial"].as_str().unwrap();

    let found = world
        .data(&token, SERIAL_LOOKUP, json!({ "serial": serial }))
        .await["serialNumber"]
        .clone();
    assert_eq!(found["serial"], json!(serial));
    assert_eq!(found["orderLine"]["order"]["orderNumber"], json!(number));
    assert_eq!(
        found["orderLine"]["lineNumber"],
        line["orderLine"]["lineNumber"]
    );
    assert_eq!(
        found["shipment"]["shipmentNumber"],
        shipped["order"]["shipments"][0]["shipmentNumber"]
    );

    let unknown = world
        .data(&token, SERIAL_LOOKUP, json!({ "serial": "NO-SUCH-SERIAL" }))
        .await;
    assert_eq!(unknown["serialNumber"], Value::Null);
}

#[tokio::test]
async fn dashboard_example_counts_what_the_order_list_shows() {
    let (world, token) = demo_as_reseller().await;
    let data = world.data(&token, DASHBOARD, json!({})).await;
    assert_eq!(data["me"]["company"]["customerNumber"], "C-10001");
    let summary = &data["orderSummary"];
    let statuses: Vec<&str> = summary["byStatus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|count| count["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["CONFIRMED", "PARTIALLY_FULFILLED", "FULFILLED", "CANCELLED"],
        "a customer sees no pending orders"
    );
    let listed = world
        .data(&token, "{ orders { totalCount } }", json!({}))
        .await;
    assert_eq!(summary["orderCount"], listed["orders"]["totalCount"]);
    let open: i64 = summary["byStatus"][0]["count"].as_i64().unwrap()
        + summary["byStatus"][1]["count"].as_i64().unwrap();
    assert!(open > 0);
    assert_eq!(data["open"]["totalCount"], json!(open));
    assert!(summary["openLineCount"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn change_feed_example_replays_from_a_stored_cursor() {
    let (world, token) = demo_as_reseller().await;
    let first = world
        .data(&token, CHANGE_FEED, json!({ "first": 10 }))
        .await["orderEvents"]
        .clone();
    let events = first["nodes"].as_array().unwrap();
    assert_eq!(events.len(), 10);
    assert_eq!(first["pageInfo"]["hasNextPage"], json!(true));
    let stored = first["pageInfo"]["endCursor"].clone();
    assert_eq!(stored, events[9]["cursor"]);

    let next = world
        .data(&token, CHANGE_FEED, json!({ "first": 10, "after": stored }))
        .await["orderEvents"]
        .clone();
    let cursors: Vec<&str> = events
        .iter()
        .chain(next["nodes"].as_array().unwrap())
        .map(|event| event["cursor"].as_str().unwrap())
        .collect();
    let mut increasing = cursors.clone();
    increasing.sort_unstable();
    increasing.dedup();
    assert_eq!(cursors, increasing, "no gap in the order, no duplicate");

    let again = world
        .data(&token, CHANGE_FEED, json!({ "first": 10, "after": stored }))
        .await["orderEvents"]
        .clone();
    assert_eq!(
        again, next,
        "replaying from the same cursor gives the same events"
    );
}

#[tokio::test]
async fn activation_example_signs_in_an_invited_colleague() {
    let (world, token) = demo_as_reseller().await;
    let invited = world
        .data(
            &token,
            "mutation { inviteUser(email: \"nieuw@vandijk-ict.example\", name: \"Nieuwe Collega\",
               role: CUSTOMER_USER) { activationUrl } }",
            json!({}),
        )
        .await;
    let url = invited["inviteUser"]["activationUrl"].as_str().unwrap();
    let (_, activation_token) = url.split_once("token=").unwrap();
    let data = world
        .data_anonymous(
            ACTIVATION,
            json!({ "token": activation_token, "newPassword": "een lang eigen wachtwoord" }),
        )
        .await;
    let session = &data["activateAccount"];
    assert!(session["accessToken"].is_string());
    assert_eq!(
        session["user"],
        json!({
            "email": "nieuw@vandijk-ict.example",
            "name": "Nieuwe Collega",
            "role": "CUSTOMER_USER",
            "status": "ACTIVE",
            "company": { "name": "Van Dijk ICT Solutions B.V." },
        })
    );
}
