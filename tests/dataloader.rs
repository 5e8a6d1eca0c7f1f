//! A full dashboard query costs a fixed number of SQL statements, whatever the number of
//! orders, lines, shipments or serials on the page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::World;
use customer_portal::generate;
use serde_json::json;

const DASHBOARD_BENCH: &str = include_str!("../bench/dashboard.graphql");

const DASHBOARD: &str = r#"query($first: Int) {
  orders(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id orderNumber customerReference orderDate status atRisk updatedAt
      company { name }
      eta { earliest latest pending }
      progress { ordered shipped delivered invoiced }
      total { amount currency }
      lines {
        lineNumber quantity status eta expectedDeliveryDate awaitingHardware atRisk
        unitPrice { amount currency }
        progress { ordered shipped delivered invoiced }
        product { sku description kind deliveryMethod vendor { name softwareAfterHardware } }
        etaHistory { previousEta newEta changedAt reason }
        electronicDeliveries { quantity }
      }
      shipments {
        shipmentNumber shipDate carrier trackingNumber deliveredAt
        lines { quantity orderLine { lineNumber } serialNumbers { serial } }
      }
      invoices { invoiceNumber total { amount } lines { quantity amount { amount } } }
    }
  }
}"#;

/// `count` orders of Alpha, each with hardware shipped in two shipments with serials, software
/// delivered by e-mail, a changed ETA and an invoice.
async fn with_orders(count: usize) -> World {
    let world = World::new().await;
    let app = &world.app;
    for index in 0..count {
        let number = format!("SO-{index:03}");
        app.order(
            &number,
            "C-1",
            &[
                ("HW-1", 3, "100", Some("2026-11-25")),
                ("SW-1", 2, "20", None),
                ("HW-2", 1, "5", None),
            ],
        )
        .await;
        app.confirm(&number).await;
        app.set_eta(&number, 1, Some("2026-11-27"), "Vendor lead time extended")
            .await;
        let serial = |unit: usize| format!("SN-{index:03}-{unit}");
        let (first, second, third) = (serial(1), serial(2), serial(3));
        app.ship(
            &format!("SH-{index:03}-A"),
            &number,
            &[(1, 2, &[first.as_str(), second.as_str()])],
        )
        .await;
        app.ship(
            &format!("SH-{index:03}-B"),
            &number,
            &[(1, 1, &[third.as_str()]), (3, 1, &[])],
        )
        .await;
        app.email(&number, 2, 2).await;
        app.invoice(&format!("INV-{index:03}"), &number, &[(1, 3), (2, 2)])
            .await;
    }
    world
}

/// The statements of one dashboard request of a caller the instance knows (the first request
/// of a token also checks it).
async fn statements_for_dashboard(world: &World, first: usize) -> usize {
    world
        .app
        .data(&world.alpha, "{ me { email } }", json!({}))
        .await;
    let before = world.app.statements();
    let data = world
        .app
        .data(&world.alpha, DASHBOARD, json!({"first": first}))
        .await;
    let statements = world.app.statements() - before;
    let nodes = data["orders"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), first);
    assert_eq!(
        nodes[0]["shipments"][0]["lines"][0]["serialNumbers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    statements
}

#[tokio::test]
async fn the_dashboard_costs_the_same_statements_for_5_and_50_orders() {
    let small = statements_for_dashboard(&with_orders(5).await, 5).await;
    let large = statements_for_dashboard(&with_orders(50).await, 50).await;
    println!("dashboard statements: {small} at 5 orders, {large} at 50 orders");
    assert_eq!(small, large);
    assert!(large <= 14, "{large} statements for one dashboard request");
}

/// A generated data set of `orders` orders over `companies` companies, and the first
/// company's administrator signed in.
async fn generated(companies: u64, orders: u64) -> (common::TestApp, String) {
    let app = common::TestApp::new().await;
    let sizes = generate::Sizes {
        companies,
        vendors: 10,
        products: 200,
        orders,
    };
    generate::run(&app.db, sizes).await.unwrap();
    let admin = app
        .login(&generate::admin_email(1), generate::PASSWORD)
        .await;
    (app, admin)
}

/// The benchmark's document on generated data: at most 12 statements at every page size.
#[tokio::test]
async fn the_benchmarked_dashboard_costs_the_same_statements_at_every_page_size() {
    let (app, admin) = generated(2, 500).await;
    // Counted for a known caller: the first request of a token also checks it.
    app.data(&admin, "{ me { email } }", json!({})).await;
    let mut counts = Vec::new();
    for first in [10, 50, 100] {
        let before = app.statements();
        let data = app
            .data(&admin, DASHBOARD_BENCH, json!({"first": first}))
            .await;
        counts.push(app.statements() - before);
        let orders = data["orders"]["nodes"].as_array().unwrap();
        assert_eq!(orders.len(), first);
        let serials = orders
            .iter()
            .flat_map(|order| order["shipments"].as_array().unwrap())
            .flat_map(|shipment| shipment["lines"].as_array().unwrap())
            .flat_map(|line| line["serialNumbers"].as_array().unwrap())
            .count();
        assert!(serials > first, "{serials} serials on a page of {first}");
    }
    println!("benchmarked dashboard statements at 10, 50, 100 orders: {counts:?}");
    assert!(counts.iter().all(|count| *count == counts[0]), "{counts:?}");
    assert!(counts[0] <= 12, "{counts:?}");
}

/// A list that fits its page is counted from the page; one that does not, by a statement.
#[tokio::test]
async fn total_count_costs_a_statement_only_when_the_list_goes_beyond_the_page() {
    let world = with_orders(3).await;
    let query = "query($first: Int, $last: Int) {
        orders(first: $first, last: $last) { totalCount nodes { orderNumber } } }";
    // Counted for a known caller: the first request of a token also checks it.
    world
        .app
        .data(&world.alpha, "{ me { email } }", json!({}))
        .await;
    let mut costs = Vec::new();
    for variables in [
        json!({"first": 3}),
        json!({"first": 2}),
        json!({"last": 3}),
        json!({"last": 2}),
    ] {
        let before = world.app.statements();
        let data = world.app.data(&world.alpha, query, variables).await;
        costs.push(world.app.statements() - before);
        assert_eq!(data["orders"]["totalCount"], 3);
    }
    assert_eq!(costs[0] + 1, costs[1], "{costs:?}");
    assert_eq!(costs[2] + 1, costs[3], "{costs:?}");
}

/// `doc` with every selection set wrapped in an inline fragment, which the one-pass walk of an
/// order page expands as async-graphql's merging does.
fn through_fragments(doc: &str) -> String {
    doc.replace('}', "} }").replace('{', "{ ... {")
}

/// A selection and the same selection through inline fragments give the same response.
#[tokio::test]
async fn listed_objects_answer_as_they_do_through_fragments() {
    let (app, admin) = generated(1, 150).await;
    let every_kind_of_selection = DASHBOARD
        .replace("nodes {", "nodes { __typename number: orderNumber")
        .replace(
            "lineNumber quantity",
            "__typename line: lineNumber quantity",
        )
        .replace("{ serial }", "{ __typename serial code: serial }")
        .replace("{ amount currency }", "{ currency __typename amount }");
    // Compared as JSON objects: the order of keys is `tests/response_order.rs`'s subject.
    for doc in [DASHBOARD, DASHBOARD_BENCH, every_kind_of_selection.as_str()] {
        let variables = json!({"first": 100});
        let in_place = app.run(Some(&admin), doc, variables.clone()).await;
        let merged = app
            .run(Some(&admin), &through_fragments(doc), variables)
            .await;
        assert!(in_place.get("errors").is_none(), "{in_place:#}");
        assert_eq!(
            in_place["data"]["orders"]["nodes"]
                .as_array()
                .unwrap()
                .len(),
            100
        );
        assert_eq!(in_place, merged);
    }
}
