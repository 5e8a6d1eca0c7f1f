//! The portal mirrors the ERP: a fact it reports is recorded as reported, and only what cannot
//! be true or cannot be placed is refused, with nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, error_code};
use customer_portal::{clock::Clock, import};
use serde_json::{Value, json};

const DELIVER: &str = "mutation($n: String!, $line: Int!, $quantity: Int!, $email: String!) {
  recordElectronicDelivery(orderNumber: $n, lineNumber: $line, quantity: $quantity,
                           recipientEmail: $email, deliveredAt: \"2026-11-23T09:00:00Z\") {
    status awaitingHardware progress { shipped delivered }
  }
}";
const LINES: &str = "query($n: String!) { order(orderNumber: $n) { status lines { status awaitingHardware progress { shipped delivered } } } }";

/// SO-1: two units of HW-1 (nothing shipped) and two of SW-1, software its vendor sends only
/// after the hardware, so the software line is held.
async fn held_order(world: &World) {
    world
        .app
        .order(
            "SO-1",
            "C-1",
            &[
                ("HW-1", 2, "100", Some("2026-11-30")),
                ("SW-1", 2, "50", Some("2026-11-23")),
            ],
        )
        .await;
    world.app.confirm("SO-1").await;
}

async fn deliver(world: &World, line: i32, quantity: i32) -> Value {
    world
        .app
        .run(
            Some(&world.staff),
            DELIVER,
            json!({"n": "SO-1", "line": line, "quantity": quantity, "email": "it@alpha.example"}),
        )
        .await
}

async fn lines(world: &World) -> Value {
    world
        .app
        .data(&world.alpha, LINES, json!({"n": "SO-1"}))
        .await["order"]
        .clone()
}

#[tokio::test]
async fn an_email_delivery_of_a_held_software_line_is_recorded_as_reported() {
    let world = World::new().await;
    held_order(&world).await;
    assert_eq!(lines(&world).await["lines"][1]["awaitingHardware"], true);

    let delivered = deliver(&world, 2, 2).await;
    assert_eq!(
        delivered["data"]["recordElectronicDelivery"],
        json!({"status": "PARTIALLY_FULFILLED", "awaitingHardware": false, "progress": {"shipped": 2, "delivered": 2}}),
        "{delivered:#}"
    );
    assert_eq!(
        lines(&world).await,
        json!({"status": "PARTIALLY_FULFILLED", "lines": [
            {"status": "CONFIRMED", "awaitingHardware": false, "progress": {"shipped": 0, "delivered": 0}},
            {"status": "PARTIALLY_FULFILLED", "awaitingHardware": false, "progress": {"shipped": 2, "delivered": 2}},
        ]})
    );
}

#[tokio::test]
async fn an_over_delivery_of_a_held_line_answers_the_over_delivery_error() {
    let world = World::new().await;
    held_order(&world).await;
    let too_many = deliver(&world, 2, 3).await;
    assert_eq!(error_code(&too_many), "BAD_USER_INPUT");
    assert_eq!(too_many["errors"][0]["extensions"]["field"], "quantity");
    assert_eq!(
        too_many["errors"][0]["message"],
        "line 2 has 2 units left to deliver, not 3"
    );

    deliver(&world, 2, 1).await;
    let one_more = deliver(&world, 2, 2).await;
    assert_eq!(
        one_more["errors"][0]["message"],
        "line 2 has 1 units left to deliver, not 2"
    );
    assert_eq!(
        lines(&world).await["lines"][1]["progress"],
        json!({"shipped": 1, "delivered": 1}),
        "a refused delivery writes nothing"
    );
}

#[tokio::test]
async fn what_cannot_be_placed_or_true_is_refused_and_writes_nothing() {
    let world = World::new().await;
    held_order(&world).await;
    world
        .app
        .order("SO-2", "C-1", &[("SW-1", 1, "50", None)])
        .await;
    world.app.confirm("SO-2").await;
    world
        .app
        .data(
            &world.staff,
            "mutation { cancelOrderLine(orderNumber: \"SO-2\", lineNumber: 1) { status } }",
            json!({}),
        )
        .await;
    let cases = [
        (
            json!({"n": "SO-404", "line": 2, "quantity": 1, "email": "it@alpha.example"}),
            "BAD_USER_INPUT",
            Some("orderNumber"),
        ),
        (
            json!({"n": "SO-1", "line": 9, "quantity": 1, "email": "it@alpha.example"}),
            "BAD_USER_INPUT",
            Some("lineNumber"),
        ),
        (
            json!({"n": "SO-1", "line": 1, "quantity": 1, "email": "it@alpha.example"}),
            "BAD_USER_INPUT",
            Some("lineNumber"),
        ),
        (
            json!({"n": "SO-1", "line": 2, "quantity": 0, "email": "it@alpha.example"}),
            "BAD_USER_INPUT",
            Some("quantity"),
        ),
        (
            json!({"n": "SO-1", "line": 2, "quantity": 1, "email": "nobody"}),
            "BAD_USER_INPUT",
            Some("recipientEmail"),
        ),
        (
            json!({"n": "SO-2", "line": 1, "quantity": 1, "email": "it@alpha.example"}),
            "CONFLICT",
            None,
        ),
    ];
    for (variables, code, field) in cases {
        let response = world
            .app
            .run(Some(&world.staff), DELIVER, variables.clone())
            .await;
        assert_eq!(error_code(&response), code, "{variables}");
        assert_eq!(
            response["errors"][0]["extensions"]["field"].as_str(),
            field,
            "{variables}"
        );
    }
    assert_eq!(
        lines(&world).await["lines"][1]["progress"],
        json!({"shipped": 0, "delivered": 0})
    );
}

#[tokio::test]
async fn the_import_records_a_held_delivery_and_rejects_an_over_delivery() {
    let world = World::new().await;
    held_order(&world).await;
    let feed = [
        r#"{"kind": "delivery", "orderNumber": "SO-1", "lineNumber": 2, "quantity": 2, "recipientEmail": "it@alpha.example", "deliveredAt": "2026-11-23T09:00:00Z"}"#,
        r#"{"kind": "delivery", "orderNumber": "SO-1", "lineNumber": 2, "quantity": 1, "recipientEmail": "it@alpha.example", "deliveredAt": "2026-11-23T10:00:00Z"}"#,
        r#"{"kind": "delivery", "orderNumber": "SO-1", "lineNumber": 3, "quantity": 1, "recipientEmail": "it@alpha.example", "deliveredAt": "2026-11-23T10:00:00Z"}"#,
    ]
    .join("\n");
    let summary = import::run(
        &world.app.db,
        feed.as_bytes(),
        None,
        Clock::fixed(common::now()),
    )
    .await
    .unwrap();
    assert_eq!(
        (summary.applied, summary.unchanged, summary.rejected),
        (1, 0, 2)
    );
    assert_eq!(
        summary.rejections,
        [
            (
                2,
                "line 2 has 0 units left to deliver, not 1 (quantity)".to_owned()
            ),
            (3, "order SO-1 has no line 3 (lineNumber)".to_owned()),
        ]
    );
    assert_eq!(
        lines(&world).await["lines"][1]["progress"],
        json!({"shipped": 2, "delivered": 2})
    );
}

#[tokio::test]
async fn a_shipment_of_an_order_not_yet_approved_is_recorded_and_shown_once_approved() {
    let world = World::new().await;
    world
        .app
        .order("SO-3", "C-1", &[("HW-1", 2, "100", Some("2026-11-30"))])
        .await;
    let shipped = world
        .app
        .run(
            Some(&world.staff),
            "mutation { recordShipment(input: {shipmentNumber: \"SH-3\", orderNumber: \"SO-3\", shipDate: \"2026-11-20\", lines: [{lineNumber: 1, quantity: 2}]}) { shipmentNumber } }",
            json!({}),
        )
        .await;
    assert_eq!(
        shipped["data"]["recordShipment"]["shipmentNumber"], "SH-3",
        "{shipped:#}"
    );
    let order = "query($n: String!) { order(orderNumber: $n) { status progress { shipped } } }";
    assert_eq!(
        world
            .app
            .data(&world.staff, order, json!({"n": "SO-3"}))
            .await["order"],
        json!({"status": "PENDING_APPROVAL", "progress": {"shipped": 2}})
    );
    assert_eq!(
        world
            .app
            .data(&world.alpha, order, json!({"n": "SO-3"}))
            .await["order"],
        Value::Null
    );

    let changed = json!({"input": {
        "orderNumber": "SO-3", "customerNumber": "C-1", "orderDate": "2026-11-02", "currency": "EUR",
        "lines": [{"lineNumber": 1, "sku": "HW-1", "quantity": 1, "unitPrice": "100", "eta": "2026-11-30"}],
    }});
    let refused = world
        .app
        .run(
            Some(&world.staff),
            "mutation($input: OrderInput!) { upsertOrder(input: $input) { orderNumber } }",
            changed,
        )
        .await;
    assert_eq!(
        error_code(&refused),
        "CONFLICT",
        "shipped lines are not replaced"
    );

    world.app.confirm("SO-3").await;
    assert_eq!(
        world
            .app
            .data(&world.alpha, order, json!({"n": "SO-3"}))
            .await["order"],
        json!({"status": "PARTIALLY_FULFILLED", "progress": {"shipped": 2}})
    );
}
