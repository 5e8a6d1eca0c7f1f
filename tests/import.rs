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

async fn import_bytes(world: &World, feed: &[u8]) -> import::Summary {
    import::run(&world.app.db, feed, None, Clock::fixed(common::now()))
        .await
        .unwrap()
}

fn vendor(name: &str) -> String {
    format!(r#"{{"kind": "vendor", "name": "{name}", "softwareAfterHardware": false}}"#)
}

/// Vendor records V-1 … V-`count`, a line each.
fn vendors(count: usize) -> Vec<u8> {
    (1..=count)
        .flat_map(|index| format!("{}\n", vendor(&format!("V-{index}"))).into_bytes())
        .collect()
}

async fn vendor_count(world: &World) -> usize {
    use sea_orm::{EntityTrait, PaginatorTrait};
    entities::vendor::Entity::find()
        .count(&world.app.db)
        .await
        .unwrap() as usize
}

#[tokio::test]
async fn a_line_that_is_not_utf8_is_rejected_with_its_number_and_the_rest_goes_on() {
    let world = World::new().await;
    let mut feed = vendors(3);
    // "Café" in Latin-1: the é is the single byte 0xE9.
    feed.extend_from_slice(
        b"{\"kind\": \"vendor\", \"name\": \"Caf\xE9\", \"softwareAfterHardware\": false}\n",
    );
    feed.extend(format!("{}\r\n", vendor("After-1")).into_bytes());
    feed.extend(format!("{}\n", vendor("After-2")).into_bytes());
    let before = vendor_count(&world).await;
    let summary = import_bytes(&world, &feed).await;
    assert_eq!(
        (summary.applied, summary.unchanged, summary.rejected),
        (5, 0, 1)
    );
    assert_eq!(
        summary.rejections,
        [(4, "not UTF-8: byte 32 of the line is not valid".to_owned())]
    );
    assert_eq!(vendor_count(&world).await, before + 5);
}

#[tokio::test]
async fn a_leading_byte_order_mark_is_skipped_and_elsewhere_is_not_a_record() {
    let world = World::new().await;
    let feed = format!("\u{FEFF}{}\n\u{FEFF}{}\n", vendor("Bom-1"), vendor("Bom-2"));
    let summary = import_bytes(&world, feed.as_bytes()).await;
    assert_eq!((summary.applied, summary.rejected), (1, 1));
    assert_eq!(summary.rejections[0].0, 2);
    assert!(
        summary.rejections[0].1.starts_with("not a record: "),
        "{:?}",
        summary.rejections
    );
}

#[tokio::test]
async fn a_line_longer_than_the_limit_is_rejected_and_the_rest_goes_on() {
    let world = World::new().await;
    let long_name = "x".repeat(import::MAX_LINE_BYTES);
    let long_line = vendor(&long_name);
    let mut feed = vendors(1);
    feed.extend(format!("{long_line}\n").into_bytes());
    feed.extend(vendor("After").into_bytes());
    let summary = import_bytes(&world, &feed).await;
    assert_eq!((summary.applied, summary.rejected), (2, 1));
    assert_eq!(
        summary.rejections,
        [(
            2,
            format!(
                "the line has {} bytes, more than the 1048576 a line may have",
                long_line.len()
            )
        )]
    );
}

#[tokio::test]
async fn text_fields_have_limits_in_the_import_and_the_mutations_alike() {
    let world = World::new().await;
    let longest = "n".repeat(customer_portal::store::writes::MAX_NAME_CHARS);
    let too_long = format!("{longest}n");
    let feed = format!("{}\n{}\n", vendor(&longest), vendor(&too_long));
    let summary = import_bytes(&world, feed.as_bytes()).await;
    assert_eq!((summary.applied, summary.rejected), (1, 1));
    assert_eq!(
        summary.rejections,
        [(
            2,
            "`input.name` must have at most 200 characters (input.name)".to_owned()
        )]
    );

    let upsert = "mutation($name: String!) { upsertVendor(input: {name: $name, softwareAfterHardware: true}) { name } }";
    let refused = world
        .app
        .run(Some(&world.staff), upsert, json!({"name": too_long}))
        .await;
    assert_eq!(common::error_code(&refused), "BAD_USER_INPUT");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "input.name");
    let confirm = world
        .app
        .run(
            Some(&world.staff),
            "mutation($n: String!) { confirmOrder(orderNumber: $n) { status } }",
            json!({"n": "S".repeat(customer_portal::store::writes::MAX_KEY_CHARS + 1)}),
        )
        .await;
    assert_eq!(
        confirm["errors"][0]["message"],
        "`orderNumber` must have at most 100 characters"
    );
    assert_eq!(confirm["errors"][0]["extensions"]["field"], "orderNumber");
}

/// Runs `customer-portal import` on `feed`; returns its exit status and standard output.
fn import_command(world: &World, feed: &[u8]) -> (Option<i32>, String) {
    static FEEDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "customer-portal-feed-{}-{}.jsonl",
        std::process::id(),
        FEEDS.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    std::fs::write(&path, feed).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_customer-portal"))
        .arg("import")
        .arg(&path)
        .env("DATABASE_URL", world.app.database_url())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn the_exit_status_tells_all_applied_from_some_rejected_from_not_started() {
    let world = World::new().await;
    let (status, _) = import_command(&world, &vendors(2));
    assert_eq!(status, Some(0));

    let mut feed = vendors(2);
    feed.extend_from_slice(b"\xFF\n");
    let (status, stdout) = import_command(&world, &feed);
    assert_eq!(
        status,
        Some(i32::from(import::EXIT_SOME_REJECTED)),
        "{stdout}"
    );
    assert!(
        stdout.starts_with("0 applied, 2 unchanged, 1 rejected: 3 records in "),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n  line 3: not UTF-8: byte 1 of the line is not valid"),
        "{stdout}"
    );

    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_customer-portal"))
        .args(["import", "no-such-feed.jsonl"])
        .env("DATABASE_URL", world.app.database_url())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
}
