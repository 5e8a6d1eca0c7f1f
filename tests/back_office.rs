//! Back-office writes through the API: idempotent on business keys, all or nothing, and
//! refused to customers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, error_code};
use serde_json::{Value, json};

const UPSERT_ORDER: &str = "mutation($input: OrderInput!) { upsertOrder(input: $input) { orderNumber status lines { id lineNumber quantity } } }";
const RECORD_SHIPMENT: &str = "mutation($input: ShipmentInput!) { recordShipment(input: $input) { id shipmentNumber lines { quantity serialNumbers { serial } } } }";
const PROGRESS: &str = "query($n: String!) { order(orderNumber: $n) { status progress { ordered shipped delivered invoiced } lines { progress { shipped } } } }";

fn order_input(number: &str, quantity: i32) -> Value {
    json!({
        "orderNumber": number, "customerNumber": "C-1", "customerReference": "PO-77",
        "orderDate": "2026-11-02", "currency": "EUR",
        "lines": [
            {"lineNumber": 1, "sku": "HW-1", "quantity": quantity, "unitPrice": "100.00", "eta": "2026-11-30"},
            {"lineNumber": 2, "sku": "SVC-1", "quantity": 1, "unitPrice": "10.00"},
        ]
    })
}

fn shipment_input(number: &str, serials: &[&str]) -> Value {
    json!({
        "shipmentNumber": number, "orderNumber": "SO-1", "shipDate": "2026-11-20", "carrier": "DHL",
        "lines": [{"lineNumber": 1, "quantity": serials.len(), "serialNumbers": serials}]
    })
}

/// SO-1 (3 × HW-1, 1 × SVC-1), upserted and confirmed through the API.
async fn confirmed_order(world: &World) {
    world
        .app
        .data(
            &world.staff,
            UPSERT_ORDER,
            json!({"input": order_input("SO-1", 3)}),
        )
        .await;
    world
        .app
        .data(
            &world.staff,
            "mutation { confirmOrder(orderNumber: \"SO-1\") { status } }",
            json!({}),
        )
        .await;
}

async fn progress(world: &World) -> Value {
    world
        .app
        .data(&world.staff, PROGRESS, json!({"n": "SO-1"}))
        .await["order"]
        .clone()
}

#[tokio::test]
async fn the_same_order_sent_twice_leaves_the_same_state_and_answer() {
    let world = World::new().await;
    let first = world
        .app
        .data(
            &world.staff,
            UPSERT_ORDER,
            json!({"input": order_input("SO-1", 3)}),
        )
        .await;
    let again = world
        .app
        .data(
            &world.staff,
            UPSERT_ORDER,
            json!({"input": order_input("SO-1", 3)}),
        )
        .await;
    assert_eq!(first, again);
    assert_eq!(first["upsertOrder"]["status"], "PENDING_APPROVAL");
    let changed = world
        .app
        .data(
            &world.staff,
            UPSERT_ORDER,
            json!({"input": order_input("SO-1", 5)}),
        )
        .await;
    assert_eq!(
        changed["upsertOrder"]["lines"][0]["quantity"], 5,
        "an unapproved order may still change"
    );
    assert_eq!(
        changed["upsertOrder"]["lines"][0]["id"], first["upsertOrder"]["lines"][0]["id"],
        "its lines keep their ids"
    );
}

#[tokio::test]
async fn an_approved_order_cannot_be_changed_through_upsert() {
    let world = World::new().await;
    confirmed_order(&world).await;
    let same = world
        .app
        .run(
            Some(&world.staff),
            UPSERT_ORDER,
            json!({"input": order_input("SO-1", 3)}),
        )
        .await;
    assert!(
        same.get("errors").is_none(),
        "resending it unchanged is fine: {same}"
    );
    let changed = world
        .app
        .run(
            Some(&world.staff),
            UPSERT_ORDER,
            json!({"input": order_input("SO-1", 4)}),
        )
        .await;
    assert_eq!(error_code(&changed), "CONFLICT");
    assert!(
        changed["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("SO-1")
    );
    assert_eq!(
        progress(&world).await["progress"]["ordered"],
        4,
        "3 + 1 as before"
    );
}

#[tokio::test]
async fn a_resent_shipment_never_doubles_quantities_or_serials() {
    let world = World::new().await;
    confirmed_order(&world).await;
    let first = world
        .app
        .data(
            &world.staff,
            RECORD_SHIPMENT,
            json!({"input": shipment_input("SH-1", &["A1", "A2"])}),
        )
        .await;
    let again = world
        .app
        .data(
            &world.staff,
            RECORD_SHIPMENT,
            json!({"input": shipment_input("SH-1", &["A1", "A2"])}),
        )
        .await;
    assert_eq!(first, again);
    assert_eq!(progress(&world).await["progress"]["shipped"], 2);
    let other = world
        .app
        .run(
            Some(&world.staff),
            RECORD_SHIPMENT,
            json!({"input": shipment_input("SH-1", &["A1", "A3"])}),
        )
        .await;
    assert_eq!(error_code(&other), "CONFLICT");
}

#[tokio::test]
async fn bad_shipments_are_refused_and_write_nothing() {
    let world = World::new().await;
    confirmed_order(&world).await;
    world
        .app
        .data(
            &world.staff,
            RECORD_SHIPMENT,
            json!({"input": shipment_input("SH-1", &["A1"])}),
        )
        .await;
    let shipment = |lines: Value| json!({"input": {"shipmentNumber": "SH-2", "orderNumber": "SO-1", "shipDate": "2026-11-21", "lines": lines}});
    let cases = [
        (
            json!([{"lineNumber": 9, "quantity": 1}]),
            "BAD_USER_INPUT",
            "input.lines[0].lineNumber",
        ),
        (
            json!([{"lineNumber": 1, "quantity": 0}]),
            "BAD_USER_INPUT",
            "input.lines[0].quantity",
        ),
        (
            json!([{"lineNumber": 1, "quantity": 3}]),
            "BAD_USER_INPUT",
            "input.lines[0].quantity",
        ),
        (
            json!([{"lineNumber": 2, "quantity": 1}]),
            "BAD_USER_INPUT",
            "input.lines[0].lineNumber",
        ),
        (
            json!([{"lineNumber": 1, "quantity": 2, "serialNumbers": ["B1"]}]),
            "BAD_USER_INPUT",
            "input.lines[0].serialNumbers",
        ),
        (
            json!([{"lineNumber": 1, "quantity": 1, "serialNumbers": ["B1"]}, {"lineNumber": 1, "quantity": 1, "serialNumbers": ["A1"]}]),
            "BAD_USER_INPUT",
            "input.lines[1].lineNumber",
        ),
    ];
    for (lines, code, field) in cases {
        let response = world
            .app
            .run(Some(&world.staff), RECORD_SHIPMENT, shipment(lines.clone()))
            .await;
        assert_eq!(error_code(&response), code, "{lines}");
        assert_eq!(
            response["errors"][0]["extensions"]["field"], field,
            "{lines}"
        );
    }
    let reused_serial = world
        .app
        .run(
            Some(&world.staff),
            RECORD_SHIPMENT,
            shipment(json!([{"lineNumber": 1, "quantity": 1, "serialNumbers": ["A1"]}])),
        )
        .await;
    assert_eq!(error_code(&reused_serial), "CONFLICT");
    assert!(
        reused_serial["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("A1")
    );
    assert_eq!(
        progress(&world).await["progress"]["shipped"],
        1,
        "nothing of the refused shipments was written"
    );
    let shipments = world
        .app
        .data(
            &world.staff,
            "{ order(orderNumber: \"SO-1\") { shipments { shipmentNumber } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        shipments["order"]["shipments"],
        json!([{"shipmentNumber": "SH-1"}])
    );
}

#[tokio::test]
async fn unknown_customers_skus_and_malformed_dates_are_bad_input() {
    let world = World::new().await;
    let mut unknown_customer = order_input("SO-9", 1);
    unknown_customer["customerNumber"] = json!("C-404");
    let mut unknown_sku = order_input("SO-9", 1);
    unknown_sku["lines"][1]["sku"] = json!("NOPE");
    let mut not_a_date = order_input("SO-9", 1);
    not_a_date["orderDate"] = json!("2026-02-30");
    let mut unknown_key = order_input("SO-9", 1);
    unknown_key["lines"][0]["colour"] = json!("red");
    for (input, field) in [
        (unknown_customer, Some("input.customerNumber")),
        (unknown_sku, Some("input.lines[1].sku")),
        (not_a_date, None),
        (unknown_key, None),
    ] {
        let response = world
            .app
            .run(Some(&world.staff), UPSERT_ORDER, json!({"input": input}))
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
        if let Some(field) = field {
            assert_eq!(response["errors"][0]["extensions"]["field"], field);
        }
    }
    let orders = world
        .app
        .data(&world.staff, "{ orders { totalCount } }", json!({}))
        .await;
    assert_eq!(orders["orders"]["totalCount"], 0);
}

#[tokio::test]
async fn eta_updates_apply_all_or_none() {
    let world = World::new().await;
    confirmed_order(&world).await;
    let update = "mutation($u: [EtaUpdate!]!) { updateEtas(updates: $u) { lineNumber eta etaHistory { previousEta newEta } } }";
    let refused = world
        .app
        .run(
            Some(&world.staff),
            update,
            json!({"u": [{"orderNumber": "SO-1", "lineNumber": 1, "eta": "2026-12-04"}, {"orderNumber": "SO-1", "lineNumber": 7, "eta": "2026-12-04"}]}),
        )
        .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
    assert_eq!(
        refused["errors"][0]["extensions"]["field"],
        "updates[1].lineNumber"
    );
    let line = world
        .app
        .data(
            &world.staff,
            "{ order(orderNumber: \"SO-1\") { lines { eta etaHistory { newEta } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        line["order"]["lines"][0],
        json!({"eta": "2026-11-30", "etaHistory": []})
    );
    let applied = world.app.data(&world.staff, update, json!({"u": [{"orderNumber": "SO-1", "lineNumber": 1, "eta": null, "reason": "withdrawn"}]})).await;
    assert_eq!(
        applied["updateEtas"],
        json!([{"lineNumber": 1, "eta": null, "etaHistory": [{"previousEta": "2026-11-30", "newEta": null}]}])
    );
}

#[tokio::test]
async fn electronic_deliveries_and_invoices_are_checked_against_what_remains() {
    let world = World::new().await;
    confirmed_order(&world).await;
    let deliver = "mutation($l: Int!, $q: Int!) { recordElectronicDelivery(orderNumber: \"SO-1\", lineNumber: $l, quantity: $q, recipientEmail: \"it@alpha.example\", deliveredAt: \"2026-11-22T10:00:00Z\") { progress { shipped delivered } } }";
    let physical = world
        .app
        .run(Some(&world.staff), deliver, json!({"l": 1, "q": 1}))
        .await;
    assert_eq!(error_code(&physical), "BAD_USER_INPUT");
    let too_many = world
        .app
        .run(Some(&world.staff), deliver, json!({"l": 2, "q": 2}))
        .await;
    assert_eq!(error_code(&too_many), "BAD_USER_INPUT");
    let delivered = world
        .app
        .data(&world.staff, deliver, json!({"l": 2, "q": 1}))
        .await;
    let again = world
        .app
        .data(&world.staff, deliver, json!({"l": 2, "q": 1}))
        .await;
    assert_eq!(delivered, again);
    assert_eq!(
        delivered["recordElectronicDelivery"]["progress"],
        json!({"shipped": 1, "delivered": 1})
    );

    let invoice = "mutation($q: Int!) { recordInvoice(input: {invoiceNumber: \"INV-1\", orderNumber: \"SO-1\", invoiceDate: \"2026-11-22\", lines: [{lineNumber: 1, quantity: $q}]}) { total { amount currency } } }";
    let over = world
        .app
        .run(Some(&world.staff), invoice, json!({"q": 4}))
        .await;
    assert_eq!(error_code(&over), "BAD_USER_INPUT");
    let recorded = world.app.data(&world.staff, invoice, json!({"q": 3})).await;
    assert_eq!(
        recorded["recordInvoice"]["total"],
        json!({"amount": "300.00", "currency": "EUR"})
    );
    let different = world
        .app
        .run(Some(&world.staff), invoice, json!({"q": 2}))
        .await;
    assert_eq!(error_code(&different), "CONFLICT");
    assert_eq!(progress(&world).await["progress"]["invoiced"], 3);
}

#[tokio::test]
async fn an_order_is_cancelled_only_while_nothing_has_shipped() {
    let world = World::new().await;
    confirmed_order(&world).await;
    world
        .app
        .data(
            &world.staff,
            UPSERT_ORDER,
            json!({"input": order_input("SO-2", 1)}),
        )
        .await;
    let cancel = "mutation($n: String!) { cancelOrder(orderNumber: $n) { status cancelledAt } }";
    let cancelled = world
        .app
        .data(&world.staff, cancel, json!({"n": "SO-2"}))
        .await;
    assert_eq!(cancelled["cancelOrder"]["status"], "CANCELLED");
    assert_eq!(
        world
            .app
            .data(&world.staff, cancel, json!({"n": "SO-2"}))
            .await,
        cancelled,
        "cancelling twice is the same"
    );
    world
        .app
        .data(
            &world.staff,
            RECORD_SHIPMENT,
            json!({"input": shipment_input("SH-1", &["A1"])}),
        )
        .await;
    assert_eq!(
        error_code(
            &world
                .app
                .run(Some(&world.staff), cancel, json!({"n": "SO-1"}))
                .await
        ),
        "CONFLICT"
    );
    let line = world
        .app
        .data(
            &world.staff,
            "mutation { cancelOrderLine(orderNumber: \"SO-1\", lineNumber: 2) { status } }",
            json!({}),
        )
        .await;
    assert_eq!(line["cancelOrderLine"]["status"], "CANCELLED");
    let shipped_line = world
        .app
        .run(
            Some(&world.staff),
            "mutation { cancelOrderLine(orderNumber: \"SO-1\", lineNumber: 1) { status } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&shipped_line), "CONFLICT");
}

#[tokio::test]
async fn customers_may_not_write_back_office_facts() {
    let world = World::new().await;
    confirmed_order(&world).await;
    let mutations = [
        "mutation { upsertVendor(input: {name: \"X\", softwareAfterHardware: false}) { name } }",
        "mutation { upsertProduct(input: {sku: \"X\", description: \"X\", kind: HARDWARE, deliveryMethod: PHYSICAL, vendorName: \"Fortiwall\"}) { sku } }",
        "mutation { confirmOrder(orderNumber: \"SO-1\") { status } }",
        "mutation { cancelOrder(orderNumber: \"SO-1\") { status } }",
        "mutation { cancelOrderLine(orderNumber: \"SO-1\", lineNumber: 1) { status } }",
        "mutation { updateEtas(updates: [{orderNumber: \"SO-1\", lineNumber: 1, eta: null}]) { eta } }",
        "mutation { markShipmentDelivered(shipmentNumber: \"SH-1\", deliveredAt: \"2026-11-22T10:00:00Z\") { deliveredAt } }",
        "mutation { recordElectronicDelivery(orderNumber: \"SO-1\", lineNumber: 2, quantity: 1, recipientEmail: \"a@b.example\", deliveredAt: \"2026-11-22T10:00:00Z\") { quantity } }",
        "mutation { recordInvoice(input: {invoiceNumber: \"I\", orderNumber: \"SO-1\", invoiceDate: \"2026-11-22\", lines: [{lineNumber: 1, quantity: 1}]}) { invoiceNumber } }",
    ];
    for mutation in mutations {
        let response = world.app.run(Some(&world.alpha), mutation, json!({})).await;
        assert_eq!(error_code(&response), "FORBIDDEN", "{mutation}");
    }
    let upsert = world
        .app
        .run(
            Some(&world.alpha),
            UPSERT_ORDER,
            json!({"input": order_input("SO-3", 1)}),
        )
        .await;
    assert_eq!(error_code(&upsert), "FORBIDDEN");
    let ship = world
        .app
        .run(
            Some(&world.alpha),
            RECORD_SHIPMENT,
            json!({"input": shipment_input("SH-X", &["Z"])}),
        )
        .await;
    assert_eq!(error_code(&ship), "FORBIDDEN");
    assert_eq!(
        progress(&world).await["status"],
        "CONFIRMED",
        "nothing changed"
    );
}

/// Two writes in one request: the second answers with what the database holds after it, not
/// with what the first one's answer had read of the same order.
#[tokio::test]
async fn each_write_of_a_request_answers_with_the_stored_rows() {
    let world = World::new().await;
    confirmed_order(&world).await;
    let data = world
        .app
        .data(
            &world.staff,
            "mutation {
              first: updateEtas(updates: [{orderNumber: \"SO-1\", lineNumber: 2, eta: \"2026-12-20\"}]) {
                eta status order { lines { lineNumber status } }
              }
              second: cancelOrderLine(orderNumber: \"SO-1\", lineNumber: 2) {
                eta status order { lines { lineNumber status } }
              }
            }",
            json!({}),
        )
        .await;
    assert_eq!(data["first"][0]["eta"], "2026-12-20");
    assert_eq!(data["first"][0]["status"], "CONFIRMED");
    assert_eq!(data["second"]["eta"], "2026-12-20");
    assert_eq!(data["second"]["status"], "CANCELLED");
    assert_eq!(data["second"]["order"]["lines"][1]["status"], "CANCELLED");
}
