//! The benchmark data set: deterministic, consistent with what the write path derives,
//! visible to its customers as any other data, and leaving the write path usable after it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestApp, now};
use customer_portal::{
    domain::account::Role,
    error::AppError,
    generate::{self, Sizes},
    store::writes,
};
use entities::{order, order_event, order_line};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder, TransactionTrait};
use serde_json::{Value, json};

const SIZES: Sizes = Sizes {
    companies: 4,
    vendors: 10,
    products: 120,
    orders: 1_500,
};

async fn generated() -> TestApp {
    let app = TestApp::new().await;
    generate::run(&app.db, SIZES).await.unwrap();
    app
}

const ORDERS: &str = r#"query($after: String) {
  orders(first: 100, after: $after, sort: {field: ORDER_NUMBER, direction: ASC}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      orderNumber status updatedAt company { customerNumber }
      eta { earliest latest pending }
      lines {
        lineNumber quantity status eta awaitingHardware
        progress { ordered shipped delivered invoiced }
        product { kind deliveryMethod }
        etaHistory { previousEta newEta }
        shipmentLines { quantity }
        serialNumbers { serial }
        electronicDeliveries { quantity }
      }
      shipments { trackingNumber deliveredAt }
      invoices { invoiceNumber total { amount } }
    }
  }
}"#;

async fn every_order(app: &TestApp, token: &str) -> Vec<Value> {
    let mut orders = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app.data(token, ORDERS, json!({"after": after})).await;
        let page = &data["orders"];
        orders.extend(page["nodes"].as_array().unwrap().iter().cloned());
        if page["pageInfo"]["hasNextPage"] != true {
            return orders;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

fn sum(values: &Value, field: &str) -> i64 {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|value| value[field].as_i64().unwrap())
        .sum()
}

#[tokio::test]
async fn every_status_appears_and_each_line_adds_up_from_its_facts() {
    let app = generated().await;
    let staff = app
        .user("staff@distributor.example", Role::BackOffice, None)
        .await;
    let orders = every_order(&app, &staff).await;
    assert_eq!(orders.len() as u64, SIZES.orders);
    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    let (mut lines, mut shipped_lines) = (0, 0);
    for order in &orders {
        *statuses
            .entry(order["status"].as_str().unwrap().to_owned())
            .or_default() += 1;
        for line in order["lines"].as_array().unwrap() {
            lines += 1;
            let progress = &line["progress"];
            let shipped = progress["shipped"].as_i64().unwrap();
            assert_eq!(
                shipped,
                sum(&line["shipmentLines"], "quantity")
                    + sum(&line["electronicDeliveries"], "quantity"),
                "{order:#}"
            );
            if line["product"]["kind"] == "HARDWARE" {
                assert_eq!(
                    line["serialNumbers"].as_array().unwrap().len() as i64,
                    shipped
                );
            }
            assert!(progress["invoiced"].as_i64() <= progress["delivered"].as_i64());
            assert!(progress["delivered"].as_i64() <= progress["shipped"].as_i64());
            if shipped > 0 {
                shipped_lines += 1;
            }
        }
    }
    for status in common::STATUSES {
        assert!(
            statuses.contains_key(status),
            "no {status} order: {statuses:?}"
        );
    }
    let share = f64::from(shipped_lines) / f64::from(lines);
    assert!((0.5..0.7).contains(&share), "{share:.2} of lines shipped");
    println!(
        "{} orders, {lines} lines, {share:.2} shipped; {statuses:?}",
        orders.len()
    );
}

#[tokio::test]
async fn the_stored_quantities_and_statuses_are_what_the_write_path_derives() {
    let app = generated().await;
    let txn = app.db.begin().await.unwrap();
    let orders = order::Entity::find().all(&txn).await.unwrap();
    let lines = || {
        order_line::Entity::find()
            .order_by_asc(order_line::Column::Id)
            .all(&txn)
    };
    let lines_before = lines().await.unwrap();
    let events_before = order_event::Entity::find().count(&txn).await.unwrap();
    for order in &orders {
        let derived = writes::refresh_order(&txn, order.id, now()).await.unwrap();
        assert_eq!(derived.status, order.status, "order {}", order.order_number);
    }
    assert_eq!(lines().await.unwrap(), lines_before);
    // The write path appends an event for every change it finds: there was none.
    assert_eq!(
        order_event::Entity::find().count(&txn).await.unwrap(),
        events_before
    );
    txn.rollback().await.unwrap();
}

#[tokio::test]
async fn the_same_scale_gives_the_same_data_every_time() {
    let (first, second) = (generated().await, generated().await);
    let first_staff = first
        .user("staff@distributor.example", Role::BackOffice, None)
        .await;
    let second_staff = second
        .user("staff@distributor.example", Role::BackOffice, None)
        .await;
    assert_eq!(
        every_order(&first, &first_staff).await,
        every_order(&second, &second_staff).await
    );
}

#[tokio::test]
async fn a_generated_customer_sees_only_its_own_approved_orders() {
    let app = generated().await;
    let admin = app
        .login(&generate::admin_email(2), generate::PASSWORD)
        .await;
    let orders = every_order(&app, &admin).await;
    assert!(orders.len() > 100);
    for order in &orders {
        assert_eq!(order["company"]["customerNumber"], "C000002");
        assert_ne!(order["status"], "PENDING_APPROVAL");
    }
}

#[tokio::test]
async fn generate_refuses_a_database_that_holds_data_and_writes_go_on_after_it() {
    let app = generated().await;
    let again = generate::run(&app.db, SIZES).await.unwrap_err();
    assert!(matches!(again, AppError::Conflict(_)), "{again:?}");

    // New rows get ids after the generated ones (PostgreSQL's sequences were moved on).
    app.order(
        "SO-AFTER-GENERATE",
        "C000001",
        &[("HW-0000001", 2, "10", None)],
    )
    .await;
    app.confirm("SO-AFTER-GENERATE").await;
    app.ship(
        "SH-AFTER-GENERATE",
        "SO-AFTER-GENERATE",
        &[(1, 2, &["NEW-SN-1", "NEW-SN-2"])],
    )
    .await;
    let admin = app
        .login(&generate::admin_email(1), generate::PASSWORD)
        .await;
    let found = app
        .data(
            &admin,
            r#"{ orders(filter: {search: "NEW-SN-2"}) { nodes { orderNumber status } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        found["orders"]["nodes"],
        json!([{"orderNumber": "SO-AFTER-GENERATE", "status": "PARTIALLY_FULFILLED"}])
    );
}
