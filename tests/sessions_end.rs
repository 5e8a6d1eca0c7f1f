//! Sessions end everywhere at once: ending a credential closes the WebSocket connections it
//! opened, with a close code that says why, without waiting for the periodic recheck; and the
//! next request with it is refused, although a credential this instance checked lately is
//! taken without a statement.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{
    TestApp, World,
    ws::{self, Client},
};
use customer_portal::clock::Clock;
use serde_json::json;

const SUBSCRIBE: &str = "subscription { orderEvents { cursor kind } }";
const LOGIN: &str = "mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken }
}";

/// A world whose connections recheck their credential only once a minute: whatever closes
/// within the client's 10 s wait was closed by the announcement.
async fn world() -> World {
    let app = TestApp::configured(
        None,
        |config| config.limits.subscription_recheck = Duration::from_secs(60),
        Clock::fixed(common::now()),
    )
    .await;
    World::on(app).await
}

/// An open subscription of `token`'s holder on `world`'s app.
async fn subscribed(world: &World, token: &str) -> Client {
    let address = ws::serve(&world.app.app).await;
    let mut client = Client::connect(address, token).await;
    client.subscribe("1", SUBSCRIBE, json!({})).await;
    client
}

async fn session(world: &World, email: &str, password: &str) -> (String, String) {
    let session = world
        .app
        .data_anonymous(LOGIN, json!({"email": email, "password": password}))
        .await;
    let field = |name: &str| session["login"][name].as_str().unwrap().to_owned();
    (field("accessToken"), field("refreshToken"))
}

#[tokio::test]
async fn disabling_a_user_closes_their_connection_with_4403() {
    let world = world().await;
    let (colleague, id) = world
        .colleague("watcher@alpha.example", "CUSTOMER_USER")
        .await;
    let mut client = subscribed(&world, &colleague).await;
    let disable = "mutation($id: ID!) { disableUser(userId: $id) { status } }";
    world
        .app
        .data(&world.alpha, disable, json!({"id": id}))
        .await;
    assert_eq!(
        client.closed().await,
        (4403, "the account has been disabled".to_owned())
    );
}

#[tokio::test]
async fn logging_out_closes_the_sessions_connection_with_4401() {
    let world = world().await;
    let (access, refresh) = session(&world, "admin@alpha.example", common::PASSWORD).await;
    let mut client = subscribed(&world, &access).await;
    let logout = "mutation($token: String!) { logout(refreshToken: $token) }";
    let out = world
        .app
        .data_anonymous(logout, json!({"token": refresh}))
        .await;
    assert_eq!(out["logout"], true);
    assert_eq!(
        client.closed().await,
        (4401, "the session has ended: sign in again".to_owned())
    );
}

#[tokio::test]
async fn a_new_password_closes_the_other_sessions_connections_but_not_its_own() {
    let world = world().await;
    let (other, _) = session(&world, "admin@alpha.example", common::PASSWORD).await;
    let mut elsewhere = subscribed(&world, &other).await;
    let mut here = subscribed(&world, &world.alpha).await;
    let change = "mutation($current: String!, $new: String!) { changePassword(currentPassword: $current, newPassword: $new) }";
    world
        .app
        .data(
            &world.alpha,
            change,
            json!({"current": common::PASSWORD, "new": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(elsewhere.closed().await.0, 4401);
    // The session that changed the password still receives its events.
    world
        .app
        .order("SO-1", "C-1", &[("HW-1", 1, "10.00", None)])
        .await;
    world.app.confirm("SO-1").await;
    let event = here.next_payload().await;
    assert_eq!(event["data"]["orderEvents"]["kind"], "STATUS_CHANGED");
}

#[tokio::test]
async fn revoking_an_api_token_closes_its_connection_with_4401() {
    let world = world().await;
    let created = world
        .app
        .data(
            &world.alpha,
            "mutation { createApiToken(name: \"wallboard\") { secret apiToken { id } } }",
            json!({}),
        )
        .await;
    let secret = created["createApiToken"]["secret"].as_str().unwrap();
    let id = created["createApiToken"]["apiToken"]["id"].clone();
    let mut client = subscribed(&world, secret).await;
    world
        .app
        .data(
            &world.alpha,
            "mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        client.closed().await,
        (4401, "the API token has been revoked".to_owned())
    );
}

#[tokio::test]
async fn a_connection_closes_when_its_access_token_expires() {
    let app = TestApp::configured(
        None,
        |config| {
            config.limits.subscription_recheck = Duration::from_secs(60);
            config.limits.access_token_ttl = chrono::Duration::seconds(2);
        },
        Clock::System,
    )
    .await;
    let world = World::on(app).await;
    let (access, _) = session(&world, "admin@alpha.example", common::PASSWORD).await;
    let opened = Instant::now();
    let mut client = subscribed(&world, &access).await;
    assert_eq!(
        client.closed().await,
        (4401, "the credential has expired: sign in again".to_owned())
    );
    assert!(
        opened.elapsed() >= Duration::from_millis(500),
        "closed too early"
    );
}

const ME: &str = "{ me { email } }";

/// Asks for `me` (one statement of its own) with `token`: `None` when it was answered, or the
/// refusal's message; and the statements its credential took.
async fn ping(world: &World, token: &str) -> (Option<String>, usize) {
    let before = world.app.statements();
    let answer = world.app.run(Some(token), ME, json!({})).await;
    let refused = answer["errors"][0]["message"].as_str().map(str::to_owned);
    let own = match refused {
        None => {
            assert!(answer["data"]["me"]["email"].is_string(), "{answer:#}");
            1
        }
        Some(_) => 0,
    };
    (refused, world.app.statements() - before - own)
}

#[tokio::test]
async fn a_known_session_takes_no_statement_and_is_refused_once_logged_out() {
    let world = world().await;
    let (access, refresh) = session(&world, "admin@alpha.example", common::PASSWORD).await;
    assert_eq!(ping(&world, &access).await, (None, 1));
    assert_eq!(ping(&world, &access).await, (None, 0));
    let logout = "mutation($token: String!) { logout(refreshToken: $token) }";
    world
        .app
        .data_anonymous(logout, json!({"token": refresh}))
        .await;
    assert_eq!(
        ping(&world, &access).await.0.as_deref(),
        Some("the session has ended: sign in again")
    );
}

#[tokio::test]
async fn a_known_token_of_a_disabled_user_is_refused() {
    let world = world().await;
    let (colleague, id) = world
        .colleague("watcher@alpha.example", "CUSTOMER_USER")
        .await;
    ping(&world, &colleague).await;
    assert_eq!(ping(&world, &colleague).await, (None, 0));
    let disable = "mutation($id: ID!) { disableUser(userId: $id) { status } }";
    world
        .app
        .data(&world.alpha, disable, json!({"id": id}))
        .await;
    assert_eq!(
        ping(&world, &colleague).await.0.as_deref(),
        Some("the session has ended: sign in again")
    );
}

#[tokio::test]
async fn a_new_password_refuses_the_other_known_sessions_but_not_its_own() {
    let world = world().await;
    let (other, _) = session(&world, "admin@alpha.example", common::PASSWORD).await;
    for token in [&other, &world.alpha] {
        ping(&world, token).await;
        assert_eq!(ping(&world, token).await, (None, 0));
    }
    let change = "mutation($current: String!, $new: String!) { changePassword(currentPassword: $current, newPassword: $new) }";
    world
        .app
        .data(
            &world.alpha,
            change,
            json!({"current": common::PASSWORD, "new": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(
        ping(&world, &other).await.0.as_deref(),
        Some("the session has ended: sign in again")
    );
    assert_eq!(ping(&world, &world.alpha).await.0, None);
}

#[tokio::test]
async fn a_known_api_token_is_refused_once_revoked() {
    let world = world().await;
    let created = world
        .app
        .data(
            &world.alpha,
            "mutation { createApiToken(name: \"wallboard\") { secret apiToken { id } } }",
            json!({}),
        )
        .await;
    let secret = created["createApiToken"]["secret"].as_str().unwrap();
    // The first use also writes `lastUsedAt`.
    assert_eq!(ping(&world, secret).await, (None, 2));
    assert_eq!(ping(&world, secret).await, (None, 0));
    world
        .app
        .data(
            &world.alpha,
            "mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }",
            json!({"id": created["createApiToken"]["apiToken"]["id"]}),
        )
        .await;
    assert_eq!(
        ping(&world, secret).await.0.as_deref(),
        Some("the API token is not valid, revoked or expired")
    );
}

#[tokio::test]
async fn a_known_api_token_writes_its_last_use_once_a_minute() {
    let world = world().await;
    let created = world
        .app
        .data(
            &world.alpha,
            "mutation { createApiToken(name: \"wallboard\") { secret } }",
            json!({}),
        )
        .await;
    let secret = created["createApiToken"]["secret"].as_str().unwrap();
    assert_eq!(ping(&world, secret).await, (None, 2));
    world.app.clock.advance(chrono::Duration::seconds(59));
    assert_eq!(ping(&world, secret).await, (None, 0));
    world.app.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(ping(&world, secret).await, (None, 2));
    let used = world
        .app
        .data(&world.alpha, "{ apiTokens { lastUsedAt } }", json!({}))
        .await;
    assert_eq!(
        used["apiTokens"][0]["lastUsedAt"],
        "2026-11-23T12:01:00+00:00"
    );
}

#[tokio::test]
async fn known_credentials_are_refused_once_expired() {
    let world = world().await;
    let created = world
        .app
        .data(
            &world.alpha,
            "mutation($expires: DateTime) { createApiToken(name: \"wallboard\", expiresAt: $expires) { secret } }",
            json!({"expires": (common::now() + chrono::Duration::minutes(30)).to_rfc3339()}),
        )
        .await;
    let secret = created["createApiToken"]["secret"].as_str().unwrap();
    let (access, _) = session(&world, "admin@alpha.example", common::PASSWORD).await;
    for token in [&access, secret] {
        ping(&world, token).await;
        assert_eq!(ping(&world, token).await, (None, 0));
    }
    // Access tokens live 15 minutes, and a few seconds' leeway for the issuer's clock.
    world
        .app
        .clock
        .advance(chrono::Duration::minutes(15) + chrono::Duration::seconds(6));
    assert_eq!(
        ping(&world, &access).await.0.as_deref(),
        Some("the access token has expired: refresh the session")
    );
    assert_eq!(ping(&world, secret).await.0, None);
    world.app.clock.advance(chrono::Duration::minutes(15));
    assert_eq!(
        ping(&world, secret).await.0.as_deref(),
        Some("the API token is not valid, revoked or expired")
    );
}
