//! The read side of orders: statuses, quantities, ETAs and their derived dates, as a frontend
//! reads them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, error_code};
use serde_json::{Value, json};

const ORDER: &str = r#"query($number: String!) {
  order(orderNumber: $number) {
    orderNumber customerReference status atRisk
    eta { earliest latest pending }
    progress { ordered shipped delivered invoiced }
    total { amount currency }
    lines {
      lineNumber status quantity eta expectedDeliveryDate awaitingHardware atRisk
      unitPrice { amount currency }
      progress { ordered shipped delivered invoiced }
      etaHistory { previousEta newEta reason }
      serialNumbers { serial shipment { shipmentNumber } }
      electronicDeliveries { quantity recipientEmail }
    }
    shipments { shipmentNumber trackingNumber lines { quantity orderLine { lineNumber } serialNumbers { serial } } }
    invoices { invoiceNumber total { amount } lines { quantity amount { amount } orderLine { lineNumber } } }
  }
}"#;

async fn order(world: &World, token: &str, number: &str) -> Value {
    world
        .app
        .data(token, ORDER, json!({"number": number}))
        .await["order"]
        .clone()
}

fn progress(ordered: i32, shipped: i32, delivered: i32, invoiced: i32) -> Value {
    json!({"ordered": ordered, "shipped": shipped, "delivered": delivered, "invoiced": invoiced})
}

#[tokio::test]
async fn an_order_walks_from_pending_approval_to_fulfilled() {
    let world = World::new().await;
    let app = &world.app;
    app.order(
        "SO-1",
        "C-1",
        &[
            ("HW-1", 3, "100.00", Some("2026-11-25")),
            ("SVC-1", 1, "49.95", None),
        ],
    )
    .await;
    let seen = order(&world, &world.staff, "SO-1").await;
    assert_eq!(seen["status"], "PENDING_APPROVAL");
    assert_eq!(
        seen["total"],
        json!({"amount": "349.95", "currency": "EUR"})
    );

    app.confirm("SO-1").await;
    assert_eq!(
        order(&world, &world.alpha, "SO-1").await["status"],
        "CONFIRMED"
    );

    app.ship("SH-1", "SO-1", &[(1, 2, &["SN-1", "SN-2"])]).await;
    let seen = order(&world, &world.alpha, "SO-1").await;
    assert_eq!(seen["status"], "PARTIALLY_FULFILLED");
    assert_eq!(seen["lines"][0]["status"], "PARTIALLY_FULFILLED");
    assert_eq!(seen["lines"][1]["status"], "CONFIRMED");
    assert_eq!(seen["progress"], progress(4, 2, 0, 0));

    app.ship("SH-2", "SO-1", &[(1, 1, &["SN-3"])]).await;
    app.deliver("SH-1").await;
    app.deliver("SH-2").await;
    app.email("SO-1", 2, 1).await;
    let seen = order(&world, &world.alpha, "SO-1").await;
    assert_eq!(
        seen["status"], "PARTIALLY_FULFILLED",
        "delivered but not invoiced"
    );
    assert_eq!(seen["progress"], progress(4, 4, 4, 0));
    assert_eq!(
        seen["lines"][0]["serialNumbers"].as_array().unwrap().len(),
        3
    );
    assert_eq!(
        seen["lines"][1]["electronicDeliveries"],
        json!([{"quantity": 1, "recipientEmail": "it@reseller.example"}])
    );

    app.invoice("INV-1", "SO-1", &[(1, 3), (2, 1)]).await;
    let seen = order(&world, &world.alpha, "SO-1").await;
    assert_eq!(seen["status"], "FULFILLED");
    assert_eq!(seen["lines"][0]["status"], "FULFILLED");
    assert_eq!(seen["progress"], progress(4, 4, 4, 4));
    assert_eq!(seen["invoices"][0]["total"]["amount"], "349.95");
    assert_eq!(
        seen["invoices"][0]["lines"][0]["amount"]["amount"],
        "300.00"
    );
    assert_eq!(
        seen["shipments"][0]["lines"][0]["serialNumbers"],
        json!([{"serial": "SN-1"}, {"serial": "SN-2"}])
    );
    assert_eq!(
        seen["lines"][0]["expectedDeliveryDate"],
        Value::Null,
        "delivered lines expect nothing"
    );
}

#[tokio::test]
async fn a_cancelled_line_drops_out_of_total_eta_range_and_status() {
    let world = World::new().await;
    let app = &world.app;
    app.order(
        "SO-2",
        "C-1",
        &[
            ("HW-1", 2, "10.00", Some("2026-12-01")),
            ("HW-2", 1, "5.50", Some("2026-12-20")),
        ],
    )
    .await;
    app.confirm("SO-2").await;
    customer_portal::store::writes::cancel_order_line(&app.db, "SO-2", 2, common::now())
        .await
        .unwrap();
    app.ship("SH-9", "SO-2", &[(1, 2, &[])]).await;
    app.deliver("SH-9").await;
    app.invoice("INV-9", "SO-2", &[(1, 2)]).await;
    let seen = order(&world, &world.alpha, "SO-2").await;
    assert_eq!(seen["total"]["amount"], "20.00");
    assert_eq!(seen["status"], "FULFILLED");
    assert_eq!(seen["lines"][1]["status"], "CANCELLED");
    assert_eq!(
        seen["eta"],
        json!({"earliest": null, "latest": null, "pending": false})
    );
    assert_eq!(seen["progress"], progress(2, 2, 2, 2));
}

#[tokio::test]
async fn eta_range_spans_open_lines_and_says_when_one_is_unknown() {
    let world = World::new().await;
    let app = &world.app;
    app.order(
        "SO-3",
        "C-1",
        &[
            ("HW-1", 1, "1", Some("2026-12-01")),
            ("HW-2", 1, "1", Some("2026-12-10")),
            ("SVC-1", 1, "1", None),
        ],
    )
    .await;
    app.confirm("SO-3").await;
    let seen = order(&world, &world.alpha, "SO-3").await;
    assert_eq!(
        seen["eta"],
        json!({"earliest": "2026-12-01", "latest": "2026-12-10", "pending": true})
    );
    assert_eq!(seen["lines"][2]["eta"], Value::Null);

    app.ship("SH-3", "SO-3", &[(1, 1, &[])]).await;
    app.email("SO-3", 3, 1).await;
    let seen = order(&world, &world.alpha, "SO-3").await;
    assert_eq!(
        seen["eta"],
        json!({"earliest": "2026-12-10", "latest": "2026-12-10", "pending": false})
    );
}

#[tokio::test]
async fn expected_delivery_is_eta_plus_two_business_days_for_physical_goods_and_the_eta_for_electronic()
 {
    let world = World::new().await;
    let app = &world.app;
    // 27 November 2026 is a Friday: two business days later is Tuesday 1 December.
    app.order(
        "SO-4",
        "C-1",
        &[
            ("HW-1", 1, "1", Some("2026-11-27")),
            ("SVC-1", 1, "1", Some("2026-11-27")),
            ("HW-2", 1, "1", None),
        ],
    )
    .await;
    app.confirm("SO-4").await;
    let lines = order(&world, &world.alpha, "SO-4").await["lines"].clone();
    assert_eq!(lines[0]["expectedDeliveryDate"], "2026-12-01");
    assert_eq!(lines[1]["expectedDeliveryDate"], "2026-11-27");
    assert_eq!(lines[2]["expectedDeliveryDate"], Value::Null);
}

#[tokio::test]
async fn software_waits_until_the_hardware_of_its_order_has_shipped() {
    let world = World::new().await;
    let app = &world.app;
    app.order(
        "SO-5",
        "C-1",
        &[
            ("HW-1", 2, "1", Some("2026-11-25")),
            ("SW-1", 2, "1", Some("2026-11-23")),
        ],
    )
    .await;
    app.confirm("SO-5").await;
    let lines = order(&world, &world.alpha, "SO-5").await["lines"].clone();
    assert_eq!(lines[1]["awaitingHardware"], true);
    assert_eq!(lines[0]["awaitingHardware"], false);

    app.ship("SH-5", "SO-5", &[(1, 1, &[])]).await;
    assert_eq!(
        order(&world, &world.alpha, "SO-5").await["lines"][1]["awaitingHardware"],
        true,
        "half the hardware is not all of it"
    );

    app.ship("SH-6", "SO-5", &[(1, 1, &[])]).await;
    assert_eq!(
        order(&world, &world.alpha, "SO-5").await["lines"][1]["awaitingHardware"],
        false
    );
}

#[tokio::test]
async fn lines_are_at_risk_when_their_eta_is_unknown_past_or_too_late_for_the_requested_date() {
    let world = World::new().await;
    let app = &world.app;
    app.order("SO-6", "C-1", &[("HW-1", 1, "1", Some("2026-11-30"))])
        .await;
    app.order("SO-7", "C-1", &[("HW-1", 1, "1", Some("2026-11-20"))])
        .await;
    app.order("SO-8", "C-1", &[("HW-1", 1, "1", None)]).await;
    app.order_with(
        "SO-9",
        "C-1",
        Some("2026-12-01"),
        &[("HW-1", 1, "1", Some("2026-11-30"))],
    )
    .await;
    app.order_with(
        "SO-10",
        "C-1",
        Some("2026-12-02"),
        &[("HW-1", 1, "1", Some("2026-11-30"))],
    )
    .await;
    for number in ["SO-6", "SO-7", "SO-8", "SO-9", "SO-10"] {
        app.confirm(number).await;
    }
    for (number, at_risk) in [
        ("SO-6", false),
        ("SO-7", true),
        ("SO-8", true),
        ("SO-9", true),
        ("SO-10", false),
    ] {
        let seen = order(&world, &world.alpha, number).await;
        assert_eq!(seen["lines"][0]["atRisk"], at_risk, "{number}");
        assert_eq!(seen["atRisk"], at_risk, "{number}");
    }
}

#[tokio::test]
async fn eta_history_keeps_every_change_oldest_first() {
    let world = World::new().await;
    let app = &world.app;
    app.order("SO-11", "C-1", &[("HW-1", 1, "1", Some("2026-12-01"))])
        .await;
    app.confirm("SO-11").await;
    app.set_eta("SO-11", 1, Some("2026-12-08"), "Vendor lead time extended")
        .await;
    app.set_eta("SO-11", 1, Some("2026-12-08"), "same again")
        .await;
    app.set_eta("SO-11", 1, None, "Vendor withdrew its date")
        .await;
    let line = order(&world, &world.alpha, "SO-11").await["lines"][0].clone();
    assert_eq!(line["eta"], Value::Null);
    assert_eq!(
        line["etaHistory"],
        json!([
            {"previousEta": "2026-12-01", "newEta": "2026-12-08", "reason": "Vendor lead time extended"},
            {"previousEta": "2026-12-08", "newEta": null, "reason": "Vendor withdrew its date"},
        ])
    );
}

const ORDERS: &str = r#"query($first: Int, $after: String, $last: Int, $before: String, $filter: OrderFilter, $sort: OrderSort) {
  orders(first: $first, after: $after, last: $last, before: $before, filter: $filter, sort: $sort) {
    totalCount
    nodes { orderNumber }
    edges { cursor }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

fn numbers(data: &Value) -> Vec<String> {
    data["orders"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["orderNumber"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn orders_page_forwards_and_backwards_with_cursors() {
    let world = World::new().await;
    let app = &world.app;
    for index in 1..=5 {
        let number = format!("SO-{index:02}");
        app.order(&number, "C-1", &[("HW-1", 1, "1", None)]).await;
        app.confirm(&number).await;
    }
    let sort = json!({"field": "ORDER_NUMBER", "direction": "ASC"});
    let first = app
        .data(&world.alpha, ORDERS, json!({"first": 2, "sort": sort}))
        .await;
    assert_eq!(numbers(&first), ["SO-01", "SO-02"]);
    assert_eq!(first["orders"]["totalCount"], 5);
    assert_eq!(first["orders"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["orders"]["pageInfo"]["hasPreviousPage"], false);

    let after = first["orders"]["pageInfo"]["endCursor"].clone();
    let second = app
        .data(
            &world.alpha,
            ORDERS,
            json!({"first": 2, "after": after, "sort": sort}),
        )
        .await;
    assert_eq!(numbers(&second), ["SO-03", "SO-04"]);
    let third = app
        .data(
            &world.alpha,
            ORDERS,
            json!({"first": 2, "after": second["orders"]["pageInfo"]["endCursor"], "sort": sort}),
        )
        .await;
    assert_eq!(numbers(&third), ["SO-05"]);
    assert_eq!(third["orders"]["pageInfo"]["hasNextPage"], false);

    let before = third["orders"]["pageInfo"]["startCursor"].clone();
    let back = app
        .data(
            &world.alpha,
            ORDERS,
            json!({"last": 2, "before": before, "sort": sort}),
        )
        .await;
    assert_eq!(numbers(&back), ["SO-03", "SO-04"]);
    assert_eq!(back["orders"]["pageInfo"]["hasPreviousPage"], true);

    let descending = app
        .data(
            &world.alpha,
            ORDERS,
            json!({"first": 3, "sort": {"field": "ORDER_NUMBER", "direction": "DESC"}}),
        )
        .await;
    assert_eq!(numbers(&descending), ["SO-05", "SO-04", "SO-03"]);
}

#[tokio::test]
async fn page_sizes_and_cursors_are_checked() {
    let world = World::new().await;
    let app = &world.app;
    let too_big = app
        .run(Some(&world.alpha), ORDERS, json!({"first": 101}))
        .await;
    assert_eq!(error_code(&too_big), "BAD_USER_INPUT");
    let negative = app
        .run(Some(&world.alpha), ORDERS, json!({"last": -1}))
        .await;
    assert_eq!(error_code(&negative), "BAD_USER_INPUT");
    let both = app
        .run(Some(&world.alpha), ORDERS, json!({"first": 1, "last": 1}))
        .await;
    assert_eq!(error_code(&both), "BAD_USER_INPUT");
    let garbage = app
        .run(Some(&world.alpha), ORDERS, json!({"after": "not-a-cursor"}))
        .await;
    assert_eq!(error_code(&garbage), "BAD_USER_INPUT");
    assert_eq!(garbage["errors"][0]["extensions"]["field"], "after");
}

#[tokio::test]
async fn filters_select_by_status_dates_eta_and_search() {
    let world = World::new().await;
    let app = &world.app;
    app.order(
        "SO-A",
        "C-1",
        &[("HW-1", 2, "1", Some("2026-12-01")), ("SW-1", 1, "1", None)],
    )
    .await;
    app.order("SO-B", "C-1", &[("HW-2", 1, "1", Some("2026-12-15"))])
        .await;
    app.order("SO-C", "C-1", &[("HW-2", 1, "1", Some("2026-12-03"))])
        .await;
    for number in ["SO-A", "SO-B", "SO-C"] {
        app.confirm(number).await;
    }
    app.ship("SH-A", "SO-A", &[(1, 1, &["SERIAL-XYZ"])]).await;
    app.ship("SH-C", "SO-C", &[(1, 1, &[])]).await;

    let filtered = |filter: Value| {
        let token = world.alpha.clone();
        async move {
            let mut found = numbers(&app.data(&token, ORDERS, json!({"filter": filter, "sort": {"field": "ORDER_NUMBER", "direction": "ASC"}})).await);
            found.sort();
            found
        }
    };
    assert_eq!(
        filtered(json!({"status": ["PARTIALLY_FULFILLED"]})).await,
        ["SO-A", "SO-C"]
    );
    assert_eq!(filtered(json!({"status": ["CONFIRMED"]})).await, ["SO-B"]);
    assert_eq!(
        filtered(json!({"etaFrom": "2026-12-01", "etaTo": "2026-12-05"})).await,
        ["SO-A"],
        "SO-C's only line has shipped"
    );
    assert_eq!(filtered(json!({"search": "SERIAL-XYZ"})).await, ["SO-A"]);
    assert_eq!(filtered(json!({"search": "TRK-SH-C"})).await, ["SO-C"]);
    assert_eq!(filtered(json!({"search": "HW-2"})).await, ["SO-B", "SO-C"]);
    assert_eq!(filtered(json!({"search": "PO-SO-B"})).await, ["SO-B"]);
    assert_eq!(filtered(json!({"search": "SO-C"})).await, ["SO-C"]);
    assert_eq!(
        filtered(json!({"orderedFrom": "2026-11-03"})).await,
        Vec::<String>::new()
    );
    assert_eq!(
        filtered(json!({"orderedFrom": "2026-11-02", "orderedTo": "2026-11-02"}))
            .await
            .len(),
        3
    );
}

#[tokio::test]
async fn the_summary_counts_orders_by_status_and_open_lines() {
    let world = World::new().await;
    let app = &world.app;
    app.order(
        "SO-A",
        "C-1",
        &[("HW-1", 2, "1", Some("2026-11-20")), ("SW-1", 1, "1", None)],
    )
    .await;
    app.order("SO-B", "C-1", &[("HW-2", 1, "1", Some("2026-12-15"))])
        .await;
    app.order("SO-P", "C-1", &[("HW-2", 1, "1", None)]).await;
    app.confirm("SO-A").await;
    app.confirm("SO-B").await;
    app.ship("SH-B", "SO-B", &[(1, 1, &[])]).await;
    let summary = app
        .data(
            &world.alpha,
            "{ orderSummary { orderCount byStatus { status count } openLineCount linesWithoutEta overdueLines } }",
            json!({}),
        )
        .await;
    assert_eq!(
        summary["orderSummary"],
        json!({
            "orderCount": 2,
            "byStatus": [
                {"status": "CONFIRMED", "count": 1},
                {"status": "PARTIALLY_FULFILLED", "count": 1},
                {"status": "FULFILLED", "count": 0},
                {"status": "CANCELLED", "count": 0},
            ],
            "openLineCount": 2,
            "linesWithoutEta": 1,
            "overdueLines": 1,
        })
    );
    let staff = app
        .data(
            &world.staff,
            "{ orderSummary { orderCount byStatus { status count } } }",
            json!({}),
        )
        .await;
    assert_eq!(staff["orderSummary"]["orderCount"], 3);
    assert_eq!(
        staff["orderSummary"]["byStatus"][0],
        json!({"status": "PENDING_APPROVAL", "count": 1})
    );
}

/// Upserts an order of Beta dated `order_date` through the API; it reaches the portal today.
async fn order_dated(world: &World, number: &str, order_date: &str) {
    let input = json!({
        "orderNumber": number, "customerNumber": "C-2", "orderDate": order_date, "currency": "EUR",
        "lines": [{"lineNumber": 1, "sku": "HW-1", "quantity": 1, "unitPrice": "1"}],
    });
    world
        .app
        .data(
            &world.staff,
            "mutation($input: OrderInput!) { upsertOrder(input: $input) { orderNumber } }",
            json!({"input": input}),
        )
        .await;
}

#[tokio::test]
async fn the_back_office_lists_orders_awaiting_approval_three_business_days_after_their_order_date()
{
    let world = World::new().await;
    let app = &world.app;
    // Today is Monday 23 November; every order reaches the portal today.
    for (number, order_date) in [
        // Ten days old: overdue although it was received today.
        ("SO-OLD", "2026-11-13"),
        // Tuesday: Wednesday, Thursday, Friday are its three days; overdue on Monday.
        ("SO-TUE", "2026-11-17"),
        // Wednesday: the weekend does not count, so Monday is its third day and still in time.
        ("SO-WED", "2026-11-18"),
        ("SO-TODAY", "2026-11-23"),
        // As old as SO-OLD, but cancelled or approved: neither is waiting.
        ("SO-CANCELLED", "2026-11-13"),
        ("SO-APPROVED", "2026-11-13"),
    ] {
        order_dated(&world, number, order_date).await;
    }
    app.data(
        &world.staff,
        "mutation { cancelOrder(orderNumber: \"SO-CANCELLED\") { status } }",
        json!({}),
    )
    .await;
    app.confirm("SO-APPROVED").await;
    let overdue = app
        .data(
            &world.staff,
            "{ overdueApprovals { orderNumber orderDate company { customerNumber } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        overdue["overdueApprovals"],
        json!([
            {"orderNumber": "SO-OLD", "orderDate": "2026-11-13", "company": {"customerNumber": "C-2"}},
            {"orderNumber": "SO-TUE", "orderDate": "2026-11-17", "company": {"customerNumber": "C-2"}},
        ])
    );
    let refused = app
        .run(
            Some(&world.beta),
            "{ overdueApprovals { orderNumber } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
}
