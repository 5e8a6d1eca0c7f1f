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
