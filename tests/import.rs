//! The ERP feed import: records applied like the mutations, bad ones reported, reruns idle.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::World;
use customer_portal::{clock::Clock, import};
use serde_json::json;

const EXAMPLE: &str = include_str!("../examples/erp-feed.jsonl");

async fn import(world: &World, feed: &str) -> import::Summary {
    import::run(
        &world.app.db,
        feed.as_bytes(),
        None,
        Clock::fixed(common::now()),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn the_example_feed_imports_and_a_rerun_changes_nothing() {
    let world = World::new().await;
    world
        .app
        .company("Van Dijk ICT Solutions B.V.", "C-10001")
        .await;
    let first = import(&world, EXAMPLE).await;
    assert_eq!(
        (first.applied, first.unchanged, first.rejected),
        (10, 0, 0),
        "{:?}",
        first.rejections
    );
    let order = world
        .app
        .data(
            &world.staff,
            "{ order(orderNumber: \"SO-900001\") { status progress { ordered shipped delivered invoiced } lines { eta etaHistory { reason } serialNumbers { serial } } } }",
            json!({}),
        )
        .await;
    assert_eq!(order["order"]["status"], "FULFILLED");
    assert_eq!(
        order["order"]["progress"],
        json!({"ordered": 4, "shipped": 4, "delivered": 4, "invoiced": 4})
    );
    assert_eq!(
        order["order"]["lines"][0]["etaHistory"],
        json!([{"reason": "Vendor lead time extended"}])
    );
    assert_eq!(
        order["order"]["lines"][0]["serialNumbers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let rerun = import(&world, EXAMPLE).await;
    assert_eq!(
        (rerun.applied, rerun.unchanged, rerun.rejected),
        (0, 10, 0),
        "{:?}",
        rerun.rejections
    );
}

#[tokio::test]
async fn bad_records_are_reported_with_their_line_and_never_stop_the_rest() {
    let world = World::new().await;
    let feed = [
        r#"{"kind": "vendor", "name": "Acme", "softwareAfterHardware": false}"#,
        r#"{"kind": "spaceship", "name": "X"}"#,
        r#"not json at all"#,
        r#"{"kind": "order", "orderNumber": "SO-1", "customerNumber": "C-404", "orderDate": "2026-11-02", "currency": "EUR", "lines": [{"lineNumber": 1, "sku": "HW-1", "quantity": 1, "unitPrice": "1"}]}"#,
        r#"{"kind": "order", "orderNumber": "SO-2", "customerNumber": "C-1", "orderDate": "2026-11-02", "currency": "EUR", "lines": [{"lineNumber": 1, "sku": "HW-1", "quantity": 1, "unitPrice": "1"}]}"#,
        r#"{"kind": "confirmation", "orderNumber": "SO-2", "extra": true}"#,
    ]
    .join("\n");
    let summary = import(&world, &feed).await;
    assert_eq!(
        (summary.applied, summary.unchanged, summary.rejected),
        (2, 0, 4)
    );
    let lines: Vec<u64> = summary.rejections.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [2, 3, 4, 6]);
    assert!(
        summary.rejections[2].1.contains("C-404"),
        "{:?}",
        summary.rejections[2]
    );
    let orders = world
        .app
        .data(
            &world.staff,
            "{ orders { nodes { orderNumber status } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        orders["orders"]["nodes"],
        json!([{"orderNumber": "SO-2", "status": "PENDING_APPROVAL"}])
    );
}

#[tokio::test]
async fn the_import_command_reads_a_file_and_prints_a_summary() {
    let world = World::new().await;
    world
        .app
        .company("Van Dijk ICT Solutions B.V.", "C-10001")
        .await;
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/erp-feed.jsonl");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_customer-portal"))
        .args(["import", example])
        .env("DATABASE_URL", world.app.database_url())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.starts_with("10 applied, 0 unchanged, 0 rejected: 10 records in "),
        "{stdout}"
    );
}
