//! The look-ups a reseller types (search by serial, tracking number, order number or customer
//! reference) and a company's order summary reach orders, order lines and serial numbers
//! through indexes only, so that their cost does not grow with the tables.
//!
//! The statements are the data layer's own, captured as the store runs them, then explained
//! by the database on a generated data set with the planner's statistics up to date: on
//! PostgreSQL no sequential scan of those tables and no index scan without an index
//! condition (a full index scan is a scan too); on SQLite no `SCAN` of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::TestApp;
use customer_portal::{
    generate::{self, Sizes},
    store::{
        Scope,
        orders::{self, OrderFilter, Sort, Window},
    },
};
use entities::{order, serial_number, shipment, shipment_line};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, Statement, TransactionTrait,
};

/// Many companies with few orders each, as at a distributor: one company is a sliver of the
/// tables, which is what makes an index the planner's choice.
const SIZES: Sizes = Sizes {
    companies: 200,
    vendors: 50,
    products: 1_000,
    orders: 10_000,
};
const BIG_TABLES: [&str; 3] = ["orders", "order_lines", "serial_numbers"];

/// Runs `work` on a connection that records every statement it sends.
async fn statements_of<F, Fut>(db: &DatabaseConnection, work: F) -> Vec<Statement>
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let mut recording = db.clone();
    let sink = recorded.clone();
    recording.set_metric_callback(move |info| sink.lock().unwrap().push(info.statement.clone()));
    work(recording).await;
    let statements = recorded.lock().unwrap().clone();
    assert!(!statements.is_empty());
    statements
}

/// The plan's lines that read a big table without an index condition.
async fn scans(db: &DatabaseConnection, statement: &Statement) -> Vec<String> {
    let backend = db.get_database_backend();
    let explain = match backend {
        DbBackend::Postgres => "EXPLAIN",
        _ => "EXPLAIN QUERY PLAN",
    };
    let explained = Statement {
        sql: format!("{explain} {}", statement.sql),
        ..statement.clone()
    };
    // At this size a hash join over a sequential scan of `orders` can cost PostgreSQL less
    // than the index it would take on a distributor's tables; the planner is asked to avoid
    // sequential scans, so that one remains only where no index serves the predicate.
    let transaction = db.begin().await.unwrap();
    if backend == DbBackend::Postgres {
        transaction
            .execute_unprepared("SET LOCAL enable_seqscan = off")
            .await
            .unwrap();
    }
    let rows = transaction.query_all_raw(explained).await.unwrap();
    transaction.commit().await.unwrap();
    let plan: Vec<String> = rows
        .iter()
        .map(|row| match backend {
            DbBackend::Postgres => row.try_get_by_index::<String>(0).unwrap(),
            _ => row.try_get::<String>("", "detail").unwrap(),
        })
        .collect();
    let mut found = Vec::new();
    for (index, line) in plan.iter().enumerate() {
        let scans_big_table = |prefix: &str| {
            BIG_TABLES
                .iter()
                .any(|table| line.contains(&format!("{prefix} {table}")))
        };
        match backend {
            DbBackend::Postgres => {
                let index_scan = line.contains("Index Scan") || line.contains("Index Only Scan");
                let has_condition = plan[index + 1..]
                    .iter()
                    .take_while(|detail| !detail.contains("->"))
                    .any(|detail| detail.contains("Index Cond"));
                if scans_big_table("Seq Scan on") || (index_scan && !has_condition) {
                    found.push(line.trim().to_owned());
                }
            }
            _ => {
                if scans_big_table("SCAN") {
                    found.push(line.trim().to_owned());
                }
            }
        }
    }
    if !found.is_empty() {
        println!("{}\n{}\n", statement.sql, plan.join("\n"));
    }
    found
}

async fn generated() -> TestApp {
    let app = TestApp::new().await;
    generate::run(&app.db, SIZES).await.unwrap();
    // Statistics up to date now, not whenever autovacuum gets to the new tables.
    app.db.execute_unprepared("ANALYZE").await.unwrap();
    app
}

/// A serial number, tracking number, order number and customer reference of company 1.
async fn search_terms(db: &DatabaseConnection) -> Vec<String> {
    let (serial, shipment_line) = serial_number::Entity::find()
        .find_also_related(shipment_line::Entity)
        .order_by_asc(serial_number::Column::Id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let shipment = shipment::Entity::find_by_id(shipment_line.unwrap().shipment_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let referenced = order::Entity::find()
        .filter(order::Column::CompanyId.eq(1))
        .filter(order::Column::CustomerReference.is_not_null())
        .one(db)
        .await
        .unwrap()
        .unwrap();
    vec![
        serial.serial,
        shipment.tracking_number.unwrap(),
        referenced.order_number,
        referenced.customer_reference.unwrap(),
    ]
}

#[tokio::test]
async fn searches_and_the_summary_read_the_big_tables_through_indexes() {
    let app = generated().await;
    let company = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT company_id FROM orders WHERE id = 1",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    let mut checked = 0;
    let mut problems = Vec::new();
    for term in search_terms(&app.db).await {
        for scope in [Scope::Company(company), Scope::Everything] {
            let filter = OrderFilter {
                search: Some(term.clone()),
                ..Default::default()
            };
            let statements = statements_of(&app.db, |db| async move {
                let window = Window {
                    size: 20,
                    from_end: false,
                    after: None,
                    before: None,
                };
                let page = orders::page(&db, scope, &filter, Sort::default(), &window)
                    .await
                    .unwrap();
                assert!(scope == Scope::Everything || page.rows.len() <= 1);
                orders::count(&db, scope, &filter).await.unwrap();
            })
            .await;
            for statement in &statements {
                checked += 1;
                problems.extend(scans(&app.db, statement).await);
            }
        }
    }
    let statements = statements_of(&app.db, |db| async move {
        orders::summary(
            &db,
            Scope::Company(company),
            &OrderFilter::default(),
            generate::REFERENCE_DAY,
        )
        .await
        .unwrap();
    })
    .await;
    for statement in &statements {
        checked += 1;
        problems.extend(scans(&app.db, statement).await);
    }
    assert_eq!(checked, 4 * 2 * 2 + 2);
    assert!(problems.is_empty(), "scans of big tables: {problems:#?}");
}
