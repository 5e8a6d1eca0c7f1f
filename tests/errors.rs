//! Bad input of every kind gets a GraphQL error with a contract code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestApp, World, error_code};
use serde_json::json;

#[tokio::test]
async fn everything_but_login_needs_a_token() {
    let app = TestApp::new().await;
    for query in [
        "{ me { email } }",
        "{ orders { totalCount } }",
        "{ orderSummary { orderCount } }",
    ] {
        let response = app.run(None, query, json!({})).await;
        assert_eq!(error_code(&response), "UNAUTHENTICATED", "{query}");
    }
}

#[tokio::test]
async fn forged_and_malformed_tokens_are_unauthenticated() {
    let world = World::new().await;
    let mut forged = world.alpha.clone();
    forged.push('x');
    for token in [forged.as_str(), "garbage", ""] {
        let response = world
            .app
            .run(Some(token), "{ me { email } }", json!({}))
            .await;
        assert_eq!(error_code(&response), "UNAUTHENTICATED", "token {token:?}");
    }
}

#[tokio::test]
async fn an_expired_access_token_says_so() {
    let world = World::new().await;
    world.app.clock.advance(chrono::Duration::minutes(16));
    let response = world
        .app
        .run(Some(&world.alpha), "{ me { email } }", json!({}))
        .await;
    assert_eq!(error_code(&response), "UNAUTHENTICATED");
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let world = World::new().await;
    let query =
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }";
    let wrong = world
        .app
        .run(
            None,
            query,
            json!({"e": "admin@alpha.example", "p": "not the password"}),
        )
        .await;
    let unknown = world
        .app
        .run(
            None,
            query,
            json!({"e": "nobody@nowhere.example", "p": "not the password"}),
        )
        .await;
    assert_eq!(error_code(&wrong), "UNAUTHENTICATED");
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    let signed = world
        .app
        .run(
            None,
            query,
            json!({"e": "ADMIN@alpha.example ", "p": common::PASSWORD}),
        )
        .await;
    assert!(
        signed["data"]["login"]["accessToken"].is_string(),
        "e-mail is case-insensitive: {signed}"
    );
}

#[tokio::test]
async fn malformed_documents_and_wrong_types_are_bad_user_input() {
    let world = World::new().await;
    let cases = [
        ("{ orders { ", json!({})),
        ("{ orders { noSuchField } }", json!({})),
        (
            "query($f: Int) { orders(first: $f) { totalCount } }",
            json!({"f": "ten"}),
        ),
        (
            "query($f: OrderFilter) { orders(filter: $f) { totalCount } }",
            json!({"f": {"unknownKey": 1}}),
        ),
        (
            "query($f: OrderFilter) { orders(filter: $f) { totalCount } }",
            json!({"f": {"orderedFrom": "23-11-2026"}}),
        ),
        (
            "query($f: OrderFilter) { orders(filter: $f) { totalCount } }",
            json!({"f": {"status": ["SHIPPED"]}}),
        ),
    ];
    for (query, variables) in cases {
        let response = world
            .app
            .run(Some(&world.alpha), query, variables.clone())
            .await;
        assert_eq!(
            error_code(&response),
            "BAD_USER_INPUT",
            "{query} with {variables}"
        );
    }
}

#[tokio::test]
async fn deep_or_huge_queries_are_refused_as_too_complex() {
    let world = World::new().await;
    let deep = "{ orders { nodes { lines { order { lines { order { lines { order { lines { order { lines { order { id } } } } } } } } } } } } }";
    let response = world.app.run(Some(&world.alpha), deep, json!({})).await;
    assert_eq!(error_code(&response), "QUERY_TOO_COMPLEX");
    let fields = (0..1000)
        .map(|index| format!("f{index}: orderNumber"))
        .collect::<Vec<_>>()
        .join(" ");
    let wide = format!("{{ orders(first: 100) {{ nodes {{ {fields} }} }} }}");
    let response = world.app.run(Some(&world.alpha), &wide, json!({})).await;
    assert_eq!(error_code(&response), "QUERY_TOO_COMPLEX");
}
