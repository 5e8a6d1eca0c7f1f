//! What one request may take: its cost is counted before it runs (aliases and lists
//! multiply), and it may send only so many SQL statements.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestApp, World, error_code};
use customer_portal::clock::Clock;
use serde_json::json;

const DASHBOARD_BENCH: &str = include_str!("../bench/dashboard.graphql");

fn aliased(times: usize, field: &str) -> String {
    let fields = (0..times)
        .map(|index| format!("a{index}: {field}"))
        .collect::<Vec<_>>()
        .join(" ");
    format!("{{ {fields} }}")
}

#[tokio::test]
async fn ten_thousand_aliases_are_refused_before_anything_runs() {
    let world = World::new().await;
    let document = aliased(10_000, "me { id }");
    let before = world.app.statements();
    let response = world
        .app
        .run(Some(&world.alpha), &document, json!({}))
        .await;
    assert_eq!(error_code(&response), "QUERY_TOO_COMPLEX");
    // 10,000 root fields of 500 and their `id`.
    assert_eq!(
        response["errors"][0]["message"],
        "the query costs 5020000, more than the limit of 100000: ask for fewer fields, aliases or smaller pages"
    );
    assert!(response.get("data").is_none_or(|data| data.is_null()));
    // Only the token was checked: no field ran.
    assert!(world.app.statements() - before <= 2);
}

#[tokio::test]
async fn lists_multiply_what_their_items_ask_for() {
    let world = World::new().await;
    // 300 fields on each of 100 orders: 30,000 values.
    let fields = (0..300)
        .map(|index| format!("f{index}: orderNumber"))
        .collect::<Vec<_>>()
        .join(" ");
    let wide = format!("{{ orders(first: 100) {{ nodes {{ {fields} }} }} }}");
    let response = world.app.run(Some(&world.alpha), &wide, json!({})).await;
    assert!(response.get("errors").is_none(), "{response:#}");
    // The same through a fragment, on a page of 100 and lines assumed 5 an order: 150,000.
    let lines = format!(
        "{{ orders(first: 100) {{ nodes {{ lines {{ ...L }} }} }} }} fragment L on OrderLine {{ {} }}",
        (0..300)
            .map(|index| format!("f{index}: lineNumber"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let response = world.app.run(Some(&world.alpha), &lines, json!({})).await;
    assert_eq!(
        response["errors"][0]["message"],
        "the query costs 150602, more than the limit of 100000: ask for fewer fields, aliases or smaller pages"
    );
}

#[tokio::test]
async fn the_benchmark_dashboard_at_a_hundred_orders_passes() {
    let world = World::new().await;
    let response = world
        .app
        .run(Some(&world.alpha), DASHBOARD_BENCH, json!({"first": 100}))
        .await;
    assert!(response.get("errors").is_none(), "{response:#}");
}

#[tokio::test]
async fn nesting_past_the_parsers_limit_is_too_complex() {
    let world = World::new().await;
    let deep = format!("{}{}", "{ me ".repeat(200), "}".repeat(200));
    let response = world.app.run(Some(&world.alpha), &deep, json!({})).await;
    assert_eq!(error_code(&response), "QUERY_TOO_COMPLEX", "{response:#}");
}

#[tokio::test]
async fn fragments_spread_within_fragments_are_counted_once_per_place() {
    let world = World::new().await;
    // Each fragment spreads the next twice: 2^20 `id`s when expanded, counted in no time.
    let mut document = String::from("{ me { ...F0 } }");
    for level in 0..20 {
        document.push_str(&format!(
            " fragment F{level} on User {{ ...F{next} ...F{next} }}",
            next = level + 1
        ));
    }
    document.push_str(" fragment F20 on User { id }");
    let response = world
        .app
        .run(Some(&world.alpha), &document, json!({}))
        .await;
    assert_eq!(error_code(&response), "QUERY_TOO_COMPLEX", "{response:#}");
}

#[tokio::test]
async fn a_request_past_its_statement_budget_is_stopped() {
    let app = TestApp::configured(
        None,
        |config| config.limits.max_statements_per_request = 20,
        Clock::fixed(common::now()),
    )
    .await;
    let world = World::on(app).await;
    let response = world
        .app
        .run(Some(&world.alpha), &aliased(30, "me { id }"), json!({}))
        .await;
    assert_eq!(error_code(&response), "QUERY_TOO_COMPLEX");
    assert_eq!(
        response["errors"][0]["message"],
        "this request needed more than 20 database statements and was stopped: ask for fewer fields or aliases at the top level"
    );
    let within = world
        .app
        .run(Some(&world.alpha), &aliased(10, "me { id }"), json!({}))
        .await;
    assert!(within.get("errors").is_none(), "{within:#}");
}

#[tokio::test]
async fn throttled_sign_ins_wait_without_holding_a_turn() {
    let app = TestApp::configured(
        None,
        |config| {
            config.limits.concurrent_requests = 2;
            let throttle = &mut config.limits.login_throttle;
            throttle.delay_after = 1;
            throttle.delay = std::time::Duration::from_secs(3);
            throttle.max_delay = std::time::Duration::from_secs(3);
        },
        Clock::fixed(common::now()),
    )
    .await;
    let world = std::sync::Arc::new(World::on(app).await);
    let login = "mutation { login(email: \"admin@beta.example\", password: \"not the password\") { accessToken } }";
    for _ in 0..2 {
        world.app.run(None, login, json!({})).await;
    }
    // Four more attempts each wait 3 s: more than there are turns.
    let throttled: Vec<_> = (0..4)
        .map(|_| {
            let world = world.clone();
            tokio::spawn(async move { world.app.run(None, login, json!({})).await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let me = world
        .app
        .data(&world.alpha, "{ me { email } }", json!({}))
        .await;
    assert_eq!(me["me"]["email"], "admin@alpha.example");
    assert!(
        throttled.iter().all(|attempt| !attempt.is_finished()),
        "another client's query was answered only after the throttled sign-ins"
    );
    for attempt in throttled {
        let answer = attempt.await.unwrap();
        assert_eq!(error_code(&answer), "UNAUTHENTICATED");
    }
}
