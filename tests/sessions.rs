//! Sessions under attack: refresh-token rotation and reuse, sign-out, password change,
//! expiry, and brute force.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::{PASSWORD, World, error_code};
use serde_json::{Value, json};

const LOGIN: &str = "mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken accessTokenExpiresAt }
}";
const REFRESH: &str = "mutation($token: String!) { refreshSession(refreshToken: $token) { accessToken refreshToken } }";
const LOGOUT: &str = "mutation($token: String!) { logout(refreshToken: $token) }";
const CHANGE: &str = "mutation($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new)
}";
const ME: &str = "{ me { email } }";

async fn session(world: &World, email: &str) -> (String, String) {
    let data = world
        .app
        .data_anonymous(LOGIN, json!({"email": email, "password": PASSWORD}))
        .await;
    (
        data["login"]["accessToken"].as_str().unwrap().to_owned(),
        data["login"]["refreshToken"].as_str().unwrap().to_owned(),
    )
}

async fn refresh(world: &World, token: &str) -> Value {
    world.app.run(None, REFRESH, json!({"token": token})).await
}

async fn me_code(world: &World, access: &str) -> Option<String> {
    let response = world.app.run(Some(access), ME, json!({})).await;
    response
        .get("errors")
        .map(|_| error_code(&response).to_owned())
}

#[tokio::test]
async fn a_session_lasts_fifteen_minutes_and_its_refresh_token_works_once() {
    let world = World::new().await;
    let (access, refresh_token) = session(&world, "admin@alpha.example").await;
    assert!(refresh_token.starts_with("cpr_"));
    world.app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(
        me_code(&world, &access).await.as_deref(),
        Some("UNAUTHENTICATED")
    );

    let rotated = refresh(&world, &refresh_token).await;
    let new_access = rotated["data"]["refreshSession"]["accessToken"]
        .as_str()
        .unwrap();
    let new_refresh = rotated["data"]["refreshSession"]["refreshToken"]
        .as_str()
        .unwrap();
    assert_ne!(new_refresh, refresh_token);
    assert_eq!(me_code(&world, new_access).await, None);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_ends_the_whole_session() {
    let world = World::new().await;
    let (_, stolen) = session(&world, "admin@alpha.example").await;
    let rotated = refresh(&world, &stolen).await;
    let access = rotated["data"]["refreshSession"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let current = rotated["data"]["refreshSession"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    // An unrelated session of the same user goes on.
    let (other_access, _) = session(&world, "admin@alpha.example").await;

    let replay = refresh(&world, &stolen).await;
    assert_eq!(error_code(&replay), "UNAUTHENTICATED");
    assert!(
        replay["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already used")
    );
    assert_eq!(
        error_code(&refresh(&world, &current).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        me_code(&world, &access).await.as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(me_code(&world, &other_access).await, None);
}

#[tokio::test]
async fn logout_ends_the_session_and_its_access_token_at_once() {
    let world = World::new().await;
    let (access, refresh_token) = session(&world, "admin@alpha.example").await;
    let out = world
        .app
        .data_anonymous(LOGOUT, json!({"token": refresh_token}))
        .await;
    assert_eq!(out["logout"], true);
    assert_eq!(
        me_code(&world, &access).await.as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        error_code(&refresh(&world, &refresh_token).await),
        "UNAUTHENTICATED"
    );
    let unknown = world
        .app
        .data_anonymous(LOGOUT, json!({"token": "cpr_unknown"}))
        .await;
    assert_eq!(unknown["logout"], false);
}

#[tokio::test]
async fn a_refresh_token_expires_after_thirty_days() {
    let world = World::new().await;
    let (_, refresh_token) = session(&world, "admin@alpha.example").await;
    world.app.clock.advance(chrono::Duration::days(30));
    assert_eq!(
        error_code(&refresh(&world, &refresh_token).await),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_every_other_session() {
    let world = World::new().await;
    let (here, _) = session(&world, "admin@alpha.example").await;
    let (elsewhere, elsewhere_refresh) = session(&world, "admin@alpha.example").await;

    let wrong = world
        .app
        .run(
            Some(&here),
            CHANGE,
            json!({"current": "not it at all", "new": "a brand new password"}),
        )
        .await;
    assert_eq!(error_code(&wrong), "BAD_USER_INPUT");
    assert_eq!(wrong["errors"][0]["extensions"]["field"], "currentPassword");
    let weak = world
        .app
        .run(
            Some(&here),
            CHANGE,
            json!({"current": PASSWORD, "new": "short"}),
        )
        .await;
    assert_eq!(weak["errors"][0]["extensions"]["field"], "newPassword");
    assert_eq!(
        me_code(&world, &elsewhere).await,
        None,
        "refused changes end nothing"
    );

    let changed = world
        .app
        .data(
            &here,
            CHANGE,
            json!({"current": PASSWORD, "new": "a brand new password"}),
        )
        .await;
    assert_eq!(changed["changePassword"], true);
    assert_eq!(me_code(&world, &here).await, None);
    assert_eq!(
        me_code(&world, &elsewhere).await.as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        error_code(&refresh(&world, &elsewhere_refresh).await),
        "UNAUTHENTICATED"
    );
    let old = world
        .app
        .run(
            None,
            LOGIN,
            json!({"email": "admin@alpha.example", "password": PASSWORD}),
        )
        .await;
    assert_eq!(error_code(&old), "UNAUTHENTICATED");
    world
        .app
        .login("admin@alpha.example", "a brand new password")
        .await;
}

async fn attempt(world: &World, client: IpAddr, email: &str, password: &str) -> Value {
    let request = async_graphql::Request::new(LOGIN).variables(
        async_graphql::Variables::from_json(json!({"email": email, "password": password})),
    );
    serde_json::to_value(
        world
            .app
            .app
            .execute_from(Some(client), None, request)
            .await,
    )
    .unwrap()
}

const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
const OFFICE: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 20));

#[tokio::test]
async fn guessing_one_password_is_slowed_then_refused_whether_or_not_the_email_exists() {
    let world = World::new().await;
    for email in ["admin@alpha.example", "nobody@alpha.example"] {
        let mut codes = Vec::new();
        let mut fifth_took = std::time::Duration::ZERO;
        for n in 1..=10 {
            let started = std::time::Instant::now();
            let response = attempt(&world, ATTACKER, email, "guess").await;
            if n == 5 {
                fifth_took = started.elapsed();
            }
            codes.push(error_code(&response).to_owned());
        }
        assert!(
            codes.iter().all(|code| code == "UNAUTHENTICATED"),
            "{codes:?}"
        );
        // Past three failures, each attempt waits (20 ms per failure in the tests' policy).
        assert!(
            fifth_took >= std::time::Duration::from_millis(20),
            "{fifth_took:?}"
        );
        let refused = attempt(&world, OFFICE, email, PASSWORD).await;
        assert_eq!(error_code(&refused), "RATE_LIMITED", "{email}");
        assert_eq!(refused["errors"][0]["extensions"]["retryAfterSeconds"], 900);
    }
    world.app.clock.advance(chrono::Duration::minutes(15));
    let after = attempt(&world, OFFICE, "admin@alpha.example", PASSWORD).await;
    assert!(after.get("errors").is_none(), "{after:#}");
}

#[tokio::test]
async fn one_client_guessing_many_accounts_is_refused_while_others_sign_in() {
    let world = World::new().await;
    for n in 0..20 {
        attempt(&world, ATTACKER, &format!("user{n}@alpha.example"), "guess").await;
    }
    let refused = attempt(&world, ATTACKER, "admin@beta.example", PASSWORD).await;
    assert_eq!(error_code(&refused), "RATE_LIMITED");
    let office = attempt(&world, OFFICE, "admin@beta.example", PASSWORD).await;
    assert!(office.get("errors").is_none(), "{office:#}");
}
