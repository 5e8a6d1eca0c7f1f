//! API tokens for resellers' dashboards: shown once, read-only, company-scoped, revocable,
//! expiring, and dead with their creator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, error_code};
use serde_json::{Value, json};

const CREATE: &str = "mutation($name: String!, $expires: DateTime) {
  createApiToken(name: $name, expiresAt: $expires) { secret apiToken { id name createdAt expiresAt lastUsedAt revokedAt } }
}";
const REVOKE: &str = "mutation($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }";
const LIST: &str = "{ apiTokens { id name lastUsedAt revokedAt } }";
const ORDERS: &str = "{ orders { nodes { orderNumber } } }";

async fn with_orders() -> World {
    let world = World::new().await;
    for (number, customer) in [("SO-A", "C-1"), ("SO-B", "C-2")] {
        world
            .app
            .order(number, customer, &[("HW-1", 1, "10.00", None)])
            .await;
        world.app.confirm(number).await;
    }
    world
}

async fn create(world: &World, token: &str, name: &str, expires: Option<&str>) -> Value {
    world
        .app
        .data(token, CREATE, json!({"name": name, "expires": expires}))
        .await["createApiToken"]
        .clone()
}

#[tokio::test]
async fn a_dashboard_reads_its_company_with_a_token_shown_once() {
    let world = with_orders().await;
    let created = create(&world, &world.alpha, "Grafana", None).await;
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("cpt_") && secret.len() == 4 + 43,
        "{secret}"
    );
    assert_eq!(created["apiToken"]["lastUsedAt"], Value::Null);

    let orders = world.app.data(secret, ORDERS, json!({})).await;
    assert_eq!(orders["orders"]["nodes"], json!([{"orderNumber": "SO-A"}]));
    let beta_order = world
        .app
        .data(
            secret,
            "{ order(orderNumber: \"SO-B\") { orderNumber } }",
            json!({}),
        )
        .await;
    assert_eq!(beta_order["order"], Value::Null);

    let listed = world.app.data(&world.alpha, LIST, json!({})).await;
    assert_eq!(
        listed["apiTokens"],
        json!([{"id": created["apiToken"]["id"], "name": "Grafana", "lastUsedAt": "2026-11-23T12:00:00+00:00", "revokedAt": null}])
    );
    assert!(
        !listed.to_string().contains(secret),
        "the secret is never shown again"
    );
    let beta_list = world.app.data(&world.beta, LIST, json!({})).await;
    assert_eq!(beta_list["apiTokens"], json!([]));
}

async fn last_used(world: &World) -> Value {
    world.app.data(&world.alpha, LIST, json!({})).await["apiTokens"][0]["lastUsedAt"].clone()
}

#[tokio::test]
async fn last_used_is_written_at_most_once_a_minute() {
    let world = with_orders().await;
    let secret = create(&world, &world.alpha, "Poller", None).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    world.app.data(&secret, ORDERS, json!({})).await;
    let first = last_used(&world).await;
    let before = world.app.statements();
    world.app.clock.advance(chrono::Duration::seconds(30));
    world.app.data(&secret, ORDERS, json!({})).await;
    let polling_statements = world.app.statements() - before;
    assert_eq!(last_used(&world).await, first);
    world.app.clock.advance(chrono::Duration::seconds(31));
    world.app.data(&secret, ORDERS, json!({})).await;
    assert_eq!(last_used(&world).await, "2026-11-23T12:01:01+00:00");
    // Reading the token and the page, without a write.
    assert!(polling_statements <= 4, "{polling_statements} statements");
}

#[tokio::test]
async fn a_token_never_writes() {
    let world = with_orders().await;
    let secret = create(&world, &world.alpha, "Dashboard", None).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    for mutation in [
        "mutation { createApiToken(name: \"another\") { secret } }",
        "mutation { requestSupport(subject: \"s\", message: \"m\") { id } }",
        "mutation { changePassword(currentPassword: \"correct horse battery\", newPassword: \"whatever it is\") }",
        "mutation { login(email: \"admin@alpha.example\", password: \"correct horse battery\") { accessToken } }",
    ] {
        assert_eq!(
            world.app.code(Some(&secret), mutation, json!({})).await,
            "FORBIDDEN",
            "{mutation}"
        );
    }
}

#[tokio::test]
async fn a_revoked_or_expired_token_stops_working_at_once() {
    let world = with_orders().await;
    let revoked = create(&world, &world.alpha, "Old", None).await;
    let expiring = create(&world, &world.alpha, "Trial", Some("2026-11-23T13:00:00Z")).await;
    let id = revoked["apiToken"]["id"].clone();
    assert_eq!(
        world
            .app
            .code(Some(&world.beta), REVOKE, json!({"id": id}))
            .await,
        "NOT_FOUND"
    );
    let first = world
        .app
        .data(&world.alpha, REVOKE, json!({"id": id}))
        .await;
    assert_eq!(
        first["revokeApiToken"]["revokedAt"],
        "2026-11-23T12:00:00+00:00"
    );
    world.app.clock.advance(chrono::Duration::minutes(5));
    let alpha = world
        .app
        .login("admin@alpha.example", common::PASSWORD)
        .await;
    let again = world.app.data(&alpha, REVOKE, json!({"id": id})).await;
    assert_eq!(
        again["revokeApiToken"]["revokedAt"],
        "2026-11-23T12:00:00+00:00"
    );
    let secret = revoked["secret"].as_str().unwrap();
    assert_eq!(
        world.app.code(Some(secret), ORDERS, json!({})).await,
        "UNAUTHENTICATED"
    );

    let trial = expiring["secret"].as_str().unwrap();
    world.app.data(trial, ORDERS, json!({})).await;
    world.app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(
        world.app.code(Some(trial), ORDERS, json!({})).await,
        "UNAUTHENTICATED"
    );
    let alpha = world
        .app
        .login("admin@alpha.example", common::PASSWORD)
        .await;
    let past = world
        .app
        .run(
            Some(&alpha),
            CREATE,
            json!({"name": "x", "expires": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(past["errors"][0]["extensions"]["field"], "expiresAt");
    let nameless = world
        .app
        .run(Some(&alpha), CREATE, json!({"name": "  "}))
        .await;
    assert_eq!(error_code(&nameless), "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_token_dies_with_its_creator() {
    let world = with_orders().await;
    let (second, id) = world
        .colleague("second@alpha.example", "CUSTOMER_ADMIN")
        .await;
    let secret = create(&world, &second, "Left behind", None).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    world.app.data(&secret, ORDERS, json!({})).await;
    let disable = "mutation($id: ID!) { disableUser(userId: $id) { status } }";
    world
        .app
        .data(&world.alpha, disable, json!({"id": id}))
        .await;
    assert_eq!(
        world.app.code(Some(&secret), ORDERS, json!({})).await,
        "UNAUTHENTICATED"
    );
}
