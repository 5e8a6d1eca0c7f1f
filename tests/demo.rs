#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The demo data set of `serve --demo`, seen through the GraphQL API.

use async_graphql::Request;
use chrono::{Days, NaiveDate};
use customer_portal::{
    app::App,
    clock::Clock,
    config::Config,
    demo::{self, DemoSignIn},
    domain::account::Role,
    store::{self, Scope, orders::OrderFilter},
};
use sea_orm::{ActiveEnum, DatabaseConnection};
use serde_json::Value;

/// A Monday.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

async fn empty_database() -> DatabaseConnection {
    let db = store::connect("sqlite::memory:").await.unwrap();
    store::migrate(&db).await.unwrap();
    db
}

async fn seeded() -> (App, Vec<DemoSignIn>) {
    let db = empty_database().await;
    let sign_ins = demo::seed(&db, today())
        .await
        .unwrap()
        .expect("an empty database is seeded");
    let config = Config::from_lookup(|_| None).unwrap();
    let noon = today().and_hms_opt(12, 0, 0).unwrap().and_utc();
    (App::new(&config, db, Clock::fixed(noon)), sign_ins)
}

fn sign_in(sign_ins: &[DemoSignIn], role: Role) -> &DemoSignIn {
    sign_ins
        .iter()
        .find(|sign_in| sign_in.role == role)
        .expect("a demo account of that role")
}

async fn login(app: &App, account: &DemoSignIn) -> String {
    let mutation = format!(
        r#"mutation {{ login(email: "{}", password: "{}") {{ accessToken }} }}"#,
        account.email, account.password
    );
    let data = run(app, None, &mutation).await;
    data["login"]["accessToken"].as_str().unwrap().to_owned()
}

async fn run(app: &App, token: Option<&str>, query: &str) -> Value {
    let authorization = token.map(|token| format!("Bearer {token}"));
    let response = app
        .execute(authorization.as_deref(), Request::new(query))
        .await;
    assert!(response.errors.is_empty(), "{query}: {:?}", response.errors);
    response.data.into_json().unwrap()
}

async fn order_total(app: &App, token: &str) -> i64 {
    run(app, Some(token), "{ orders { totalCount } }").await["orders"]["totalCount"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn back_office_sees_orders_in_every_status() {
    let (app, sign_ins) = seeded().await;
    let token = login(&app, sign_in(&sign_ins, Role::BackOffice)).await;
    let data = run(
        &app,
        Some(&token),
        "{ orderSummary(filter: null) { byStatus { status count } } }",
    )
    .await;
    let by_status = data["orderSummary"]["byStatus"].as_array().unwrap();
    for status in [
        "PENDING_APPROVAL",
        "CONFIRMED",
        "PARTIALLY_FULFILLED",
        "FULFILLED",
        "CANCELLED",
    ] {
        let count = by_status
            .iter()
            .find(|entry| entry["status"] == status)
            .map_or(0, |entry| entry["count"].as_i64().unwrap());
        assert!(count > 0, "no {status} order in {by_status:?}");
    }
    assert_eq!(order_total(&app, &token).await, 60);
}

#[tokio::test]
async fn back_office_has_overdue_approvals() {
    let (app, sign_ins) = seeded().await;
    let token = login(&app, sign_in(&sign_ins, Role::BackOffice)).await;
    let data = run(
        &app,
        Some(&token),
        "{ overdueApprovals { orderNumber status } }",
    )
    .await;
    let overdue = data["overdueApprovals"].as_array().unwrap();
    assert!(overdue.len() >= 2, "{overdue:?}");
    assert!(
        overdue
            .iter()
            .all(|order| order["status"] == "PENDING_APPROVAL")
    );
}

#[tokio::test]
async fn seeding_a_database_with_data_changes_nothing() {
    let (app, sign_ins) = seeded().await;
    let token = login(&app, sign_in(&sign_ins, Role::BackOffice)).await;
    let before = order_total(&app, &token).await;
    assert!(demo::seed(app.db(), today()).await.unwrap().is_none());
    // Seeding again would have reset the demo users and so invalidated this token.
    assert_eq!(order_total(&app, &token).await, before);
}

#[tokio::test]
async fn customer_admin_sees_only_its_own_company() {
    let (app, sign_ins) = seeded().await;
    let admin = sign_in(&sign_ins, Role::CustomerAdmin);
    let token = login(&app, admin).await;
    let data = run(&app, Some(&token), "{ me { company { customerNumber } } orders(first: 100) { totalCount nodes { status company { customerNumber } } } }").await;
    let own = &data["me"]["company"]["customerNumber"];
    let orders = data["orders"]["nodes"].as_array().unwrap();
    assert!(!orders.is_empty());
    assert_eq!(
        orders.len() as i64,
        data["orders"]["totalCount"].as_i64().unwrap()
    );
    assert!(
        orders
            .iter()
            .all(|order| &order["company"]["customerNumber"] == own),
        "{orders:?}"
    );
    assert!(
        orders
            .iter()
            .all(|order| order["status"] != "PENDING_APPROVAL")
    );
}

#[tokio::test]
async fn every_demo_account_can_sign_in() {
    let (app, sign_ins) = seeded().await;
    assert_eq!(sign_ins.len(), 7);
    for account in &sign_ins {
        assert!(account.password.len() >= 12);
        let token = login(&app, account).await;
        let data = run(&app, Some(&token), "{ me { email role } }").await;
        assert_eq!(data["me"]["email"], account.email.as_str());
        assert_eq!(data["me"]["role"], account.role.to_value());
    }
}

/// The cut-off at the start of `today` must not empty a status, whichever weekday it is.
#[tokio::test]
async fn every_weekday_gets_every_status() {
    for offset in 0..7 {
        let day = today() + Days::new(offset);
        let db = empty_database().await;
        demo::seed(&db, day).await.unwrap().unwrap();
        let summary = store::orders::summary(&db, Scope::Everything, &OrderFilter::default(), day)
            .await
            .unwrap();
        assert_eq!(summary.order_count, 60, "{day}");
        assert!(
            summary.by_status.iter().all(|(_, count)| *count > 0),
            "{day}: {:?}",
            summary.by_status
        );
        assert!(
            summary.lines_without_eta > 0 && summary.overdue_lines > 0,
            "{day}: {summary:?}"
        );
    }
}

#[tokio::test]
async fn the_same_day_always_gives_the_same_data() {
    let query = "{ orders(first: 100) { nodes { orderNumber status updatedAt \
        lines { eta etaHistory { newEta changedAt reason } serialNumbers { serial } } \
        shipments { shipmentNumber deliveredAt } invoices { invoiceNumber total { amount } } } } }";
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (app, sign_ins) = seeded().await;
        let token = login(&app, sign_in(&sign_ins, Role::BackOffice)).await;
        seen.push(run(&app, Some(&token), query).await);
    }
    assert_eq!(seen[0], seen[1]);
}
