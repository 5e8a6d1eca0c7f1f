//! Writes at the same time: every one succeeds, on SQLite as on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::World;
use futures_util::future::join_all;
use serde_json::{Value, json};

const UPSERT_ORDER: &str =
    "mutation($input: OrderInput!) { upsertOrder(input: $input) { orderNumber } }";
const CONFIRM: &str = "mutation($n: String!) { confirmOrder(orderNumber: $n) { status } }";
const UPDATE_ETAS: &str =
    "mutation($updates: [EtaUpdate!]!) { updateEtas(updates: $updates) { eta } }";
const RECORD_SHIPMENT: &str =
    "mutation($input: ShipmentInput!) { recordShipment(input: $input) { shipmentNumber } }";
const REQUEST_SUPPORT: &str =
    "mutation($s: String!) { requestSupport(subject: $s, message: \"Please call\") { id } }";
const UPSERT_VENDOR: &str = "mutation($name: String!) { upsertVendor(input: {name: $name, softwareAfterHardware: false}) { name } }";

fn order(number: &str, lines: i32) -> Value {
    json!({"input": {
        "orderNumber": number, "customerNumber": "C-1", "orderDate": "2026-11-02", "currency": "EUR",
        "lines": (1..=lines)
            .map(|line| json!({"lineNumber": line, "sku": "HW-1", "quantity": 2, "unitPrice": "10.00"}))
            .collect::<Vec<_>>(),
    }})
}

fn is_ok(response: &Value) -> bool {
    response.get("errors").is_none()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_mutations_of_five_kinds_all_succeed() {
    let world = World::new().await;
    let app = &world.app;
    // Ten lines whose ETAs move, and ten orders that ship, made beforehand.
    app.data(&world.staff, UPSERT_ORDER, order("SO-ETA", 10))
        .await;
    app.data(&world.staff, CONFIRM, json!({"n": "SO-ETA"}))
        .await;
    for index in 1..=10 {
        let number = format!("SO-SHIP-{index}");
        app.data(&world.staff, UPSERT_ORDER, order(&number, 1))
            .await;
        app.data(&world.staff, CONFIRM, json!({"n": number})).await;
    }

    let mut writes = Vec::new();
    for index in 1..=10 {
        writes.push((
            &world.staff,
            UPSERT_ORDER,
            order(&format!("SO-NEW-{index}"), 3),
        ));
        writes.push((
            &world.staff,
            UPDATE_ETAS,
            json!({"updates": [{"orderNumber": "SO-ETA", "lineNumber": index, "eta": format!("2026-12-{:02}", index + 1), "reason": "vendor"}]}),
        ));
        writes.push((
            &world.staff,
            RECORD_SHIPMENT,
            json!({"input": {"shipmentNumber": format!("SH-{index}"), "orderNumber": format!("SO-SHIP-{index}"), "shipDate": "2026-11-20", "lines": [{"lineNumber": 1, "quantity": 2}]}}),
        ));
        writes.push((
            &world.alpha,
            REQUEST_SUPPORT,
            json!({"s": format!("Request {index}")}),
        ));
        writes.push((
            &world.staff,
            UPSERT_VENDOR,
            json!({"name": format!("Vendor {index}")}),
        ));
    }
    assert_eq!(writes.len(), 50);
    let responses = join_all(
        writes
            .iter()
            .map(|(token, query, variables)| app.run(Some(token), query, variables.clone())),
    )
    .await;
    let failed: Vec<&Value> = responses
        .iter()
        .filter(|response| !is_ok(response))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of 50 failed: {failed:#?}",
        failed.len()
    );

    let after = app
        .data(
            &world.staff,
            "{ orders(first: 100) { totalCount } supportRequests { id } order(orderNumber: \"SO-ETA\") { lines { eta } } }",
            json!({}),
        )
        .await;
    assert_eq!(after["orders"]["totalCount"], 21);
    assert_eq!(after["supportRequests"].as_array().unwrap().len(), 10);
    let etas: Vec<&str> = after["order"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["eta"].as_str().unwrap())
        .collect();
    let wanted: Vec<String> = (2..=11).map(|day| format!("2026-12-{day:02}")).collect();
    assert_eq!(etas, wanted);
    let shipped = app
        .data(
            &world.staff,
            "{ orders(first: 100, filter: {status: [PARTIALLY_FULFILLED]}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(shipped["orders"]["totalCount"], 10);
}
