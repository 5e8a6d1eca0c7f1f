//! The HTTP surface: GraphQL over POST with a bearer token, GraphiQL, health and limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use common::World;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn send(world: &World, request: Request<Body>) -> (StatusCode, String) {
    let response = world.app.app.router().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn graphql(token: Option<&str>, body: Value) -> Request<Body> {
    let body = body.to_string();
    let mut request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, body.len());
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::from(body)).unwrap()
}

#[tokio::test]
async fn graphql_over_http_reads_the_bearer_token() {
    let world = World::new().await;
    let (status, body) = send(
        &world,
        graphql(
            Some(&world.alpha),
            json!({"query": "{ me { email role } }"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["data"]["me"],
        json!({"email": "admin@alpha.example", "role": "CUSTOMER_ADMIN"})
    );

    let (_, body) = send(&world, graphql(None, json!({"query": "{ me { email } }"}))).await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn health_readiness_and_graphiql_answer() {
    let world = World::new().await;
    for path in ["/healthz", "/readyz"] {
        let (status, _) = send(&world, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (status, page) = send(
        &world,
        Request::get("/graphql")
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("graphiql"), "GraphiQL page expected");
}

#[tokio::test]
async fn oversized_request_bodies_are_refused_with_413() {
    let world = World::new().await;
    let padding = "x".repeat(300 * 1024);
    let (status, _) = send(
        &world,
        graphql(
            Some(&world.alpha),
            json!({"query": "{ me { email } }", "variables": {"padding": padding}}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn metrics_count_requests_by_operation_and_show_the_pool() {
    let world = World::new().await;
    for _ in 0..2 {
        send(
            &world,
            graphql(
                Some(&world.alpha),
                json!({"query": "query Dashboard { me { email } }", "operationName": "Dashboard"}),
            ),
        )
        .await;
    }
    send(
        &world,
        graphql(None, json!({"query": "query Dashboard { me { email } }"})),
    )
    .await;
    let (status, text) = send(
        &world,
        Request::get("/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("portal_graphql_requests_total{operation=\"Dashboard\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("portal_graphql_errors_total{operation=\"anonymous\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("portal_graphql_request_seconds_count{operation=\"Dashboard\"} 2"),
        "{text}"
    );
    assert!(text.contains("portal_db_pool_connections "), "{text}");
}

/// Failed sign-ins for three accounts, each through `peer` saying the client is
/// `203.0.113.N`; the answers' codes. One client address is refused after two failures.
async fn guesses_through(trusted: &str, peer: &str) -> Vec<String> {
    let trusted = trusted.to_owned();
    let app = common::TestApp::configured(
        None,
        move |config| {
            config.trusted_proxies =
                customer_portal::proxies::TrustedProxies::parse(&trusted).unwrap();
            config.limits.login_throttle.lock_client_after = 2;
        },
        customer_portal::clock::Clock::fixed(common::now()),
    )
    .await;
    let world = World::on(app).await;
    let peer: std::net::SocketAddr = peer.parse().unwrap();
    let mut codes = Vec::new();
    for (n, email) in ["a@x.example", "b@x.example", "c@x.example"]
        .iter()
        .enumerate()
    {
        let login = json!({"query": format!("mutation {{ login(email: \"{email}\", password: \"a wrong guess\") {{ accessToken }} }}")});
        let mut request = graphql(None, login);
        request.headers_mut().insert(
            "x-forwarded-for",
            format!("203.0.113.{}", n % 2).parse().unwrap(),
        );
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let (_, body) = send(&world, request).await;
        let body: Value = serde_json::from_str(&body).unwrap();
        codes.push(
            body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    codes
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_is_counted_apart() {
    // Clients .0, .1, .0: none has failed twice before its attempt.
    assert_eq!(
        guesses_through("10.0.0.0/8", "10.1.2.3:40000").await,
        ["UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED"]
    );
}

#[tokio::test]
async fn anyone_elses_forwarded_for_is_ignored() {
    // The peer itself is the client: its third attempt is refused.
    assert_eq!(
        guesses_through("10.0.0.0/8", "198.51.100.7:40000").await,
        ["UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED"]
    );
}
