//! Polled order queries over HTTP: kept until their orders change, revalidated by `ETag`, and
//! never shared between callers who may see different data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::{
    body::Body,
    http::{HeaderMap, Request, StatusCode, header},
};
use common::{TestApp, World, now};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const DASHBOARD: &str = "query Dashboard { orders(first: 10) { totalCount nodes { orderNumber status atRisk lines { lineNumber eta } } } orderSummary { orderCount } }";
const SET_ETA: &str = "mutation($eta: Date) { updateEtas(updates: [{orderNumber: \"SO-1\", lineNumber: 1, eta: $eta}]) { eta } }";

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("{error}: {}", self.body))
    }

    fn etag(&self) -> Option<&str> {
        self.headers
            .get(header::ETAG)
            .map(|value| value.to_str().unwrap())
    }
}

async fn send(app: &TestApp, request: Request<Body>) -> Answer {
    let response = app.app.router().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

async fn post(app: &TestApp, token: &str, query: &str, etag: Option<&str>) -> Answer {
    let mut request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(etag) = etag {
        request = request.header(header::IF_NONE_MATCH, etag);
    }
    let body = json!({"query": query, "operationName": operation(query)}).to_string();
    send(app, request.body(Body::from(body)).unwrap()).await
}

async fn get(app: &TestApp, token: &str, query: &str, etag: Option<&str>) -> Answer {
    let mut uri = url::Url::parse("http://portal.example/graphql").unwrap();
    uri.query_pairs_mut().append_pair("query", query);
    if let Some(name) = operation(query) {
        uri.query_pairs_mut().append_pair("operationName", name);
    }
    let mut request = Request::get(&uri[url::Position::BeforePath..])
        .header(header::ACCEPT, "application/graphql-response+json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(etag) = etag {
        request = request.header(header::IF_NONE_MATCH, etag);
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

fn operation(query: &str) -> Option<&str> {
    query
        .strip_prefix("query ")
        .and_then(|rest| rest.split([' ', '(']).next())
}

/// `(hits, misses, 304s)` from `/metrics`.
async fn cache_counts(app: &TestApp) -> (u64, u64, u64) {
    let metrics = send(app, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    let count = |outcome: &str| {
        let prefix = format!("portal_response_cache_total{{outcome=\"{outcome}\"}} ");
        metrics
            .body
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap()
            .parse()
            .unwrap()
    };
    (count("hit"), count("miss"), count("not_modified"))
}

/// Two companies with one confirmed order each; Alpha's SO-1 line 1 is due today.
async fn world() -> World {
    let world = World::new().await;
    let today = now().date_naive().to_string();
    let app = &world.app;
    app.order("SO-1", "C-1", &[("HW-1", 2, "10.00", Some(&today))])
        .await;
    app.order("SO-2", "C-2", &[("HW-1", 1, "10.00", Some("2026-12-20"))])
        .await;
    app.confirm("SO-1").await;
    app.confirm("SO-2").await;
    world
}

#[tokio::test]
async fn a_second_poll_is_the_stored_answer_and_the_same_json_as_an_execution() {
    let world = world().await;
    let app = &world.app;
    let first = post(app, &world.alpha, DASHBOARD, None).await;
    let second = post(app, &world.alpha, DASHBOARD, None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(second.body, first.body);
    assert_eq!(second.etag(), first.etag());
    assert!(
        first.etag().unwrap().starts_with("\"company-"),
        "{first:?}",
        first = first.etag()
    );
    assert_eq!(
        second.headers.get(header::CACHE_CONTROL).unwrap(),
        "private, no-cache"
    );
    assert_eq!(cache_counts(app).await, (1, 1, 0));
    let executed = app
        .app
        .execute(
            Some(&format!("Bearer {}", world.alpha)),
            async_graphql::Request::new(DASHBOARD),
        )
        .await;
    // As JSON: until responses keep the query's key order, root fields may come in any order.
    assert_eq!(second.json(), serde_json::to_value(&executed).unwrap());
    assert_eq!(
        second.json()["data"]["orders"]["nodes"][0]["orderNumber"],
        "SO-1"
    );
}

#[tokio::test]
async fn a_matching_etag_is_not_modified_over_post_and_get_until_an_order_changes() {
    let world = world().await;
    let app = &world.app;
    let first = post(app, &world.alpha, DASHBOARD, None).await;
    let etag = first.etag().unwrap().to_owned();

    let over_post = post(app, &world.alpha, DASHBOARD, Some(&etag)).await;
    assert_eq!(over_post.status, StatusCode::NOT_MODIFIED);
    assert_eq!(over_post.body, "");
    assert_eq!(over_post.etag(), Some(etag.as_str()));
    let over_get = get(app, &world.alpha, DASHBOARD, Some(&etag)).await;
    assert_eq!(over_get.status, StatusCode::NOT_MODIFIED);
    assert_eq!(cache_counts(app).await, (0, 1, 2));

    let written = app
        .data(&world.staff, SET_ETA, json!({"eta": "2027-01-04"}))
        .await;
    assert_eq!(written["updateEtas"][0]["eta"], "2027-01-04");
    let after = post(app, &world.alpha, DASHBOARD, Some(&etag)).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(
        after.json()["data"]["orders"]["nodes"][0]["lines"][0]["eta"],
        "2027-01-04"
    );
    assert_ne!(after.etag(), Some(etag.as_str()));
}

#[tokio::test]
async fn a_known_caller_gets_a_stored_answer_and_a_304_without_a_statement() {
    let world = world().await;
    let app = &world.app;
    let first = post(app, &world.alpha, DASHBOARD, None).await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.etag().unwrap().to_owned();
    let before = app.statements();
    let stored = post(app, &world.alpha, DASHBOARD, None).await;
    let not_modified = post(app, &world.alpha, DASHBOARD, Some(&etag)).await;
    let over_get = get(app, &world.alpha, DASHBOARD, Some(&etag)).await;
    assert_eq!(
        (stored.status, not_modified.status, over_get.status),
        (
            StatusCode::OK,
            StatusCode::NOT_MODIFIED,
            StatusCode::NOT_MODIFIED
        )
    );
    assert_eq!(stored.body, first.body);
    assert_eq!(app.statements() - before, 0);
    assert_eq!(cache_counts(app).await, (1, 1, 2));
}

#[tokio::test]
async fn every_write_through_the_api_is_seen_by_the_next_poll() {
    let world = world().await;
    let app = &world.app;
    for day in 1..=20 {
        let eta = format!("2027-01-{day:02}");
        post(app, &world.alpha, DASHBOARD, None).await;
        app.data(&world.staff, SET_ETA, json!({"eta": eta})).await;
        let polled = post(app, &world.alpha, DASHBOARD, None).await;
        assert_eq!(
            polled.json()["data"]["orders"]["nodes"][0]["lines"][0]["eta"],
            eta
        );
        let again = post(app, &world.alpha, DASHBOARD, None).await;
        assert_eq!(again.json(), polled.json());
    }
}

#[tokio::test]
async fn the_business_date_is_part_of_the_key() {
    let world = world().await;
    let app = &world.app;
    let today = post(app, &world.alpha, DASHBOARD, None).await;
    assert_eq!(today.json()["data"]["orders"]["nodes"][0]["atRisk"], false);
    let etag = today.etag().unwrap().to_owned();
    app.clock.advance(chrono::Duration::days(1));
    // Yesterday's access token has expired: sign in again.
    let alpha = app.login("admin@alpha.example", common::PASSWORD).await;
    let tomorrow = post(app, &alpha, DASHBOARD, Some(&etag)).await;
    assert_eq!(tomorrow.status, StatusCode::OK);
    assert_eq!(
        tomorrow.json()["data"]["orders"]["nodes"][0]["atRisk"],
        true
    );
    assert_eq!(cache_counts(app).await, (0, 2, 0));
}

#[tokio::test]
async fn mutations_me_and_the_event_feed_are_never_kept() {
    let world = world().await;
    let app = &world.app;
    for (token, document) in [
        (&world.alpha, "{ me { email } }"),
        (
            &world.alpha,
            "{ orderEvents(first: 5) { edges { cursor } } }",
        ),
        (
            &world.alpha,
            "{ orders(first: 1) { totalCount } me { email } }",
        ),
        (
            &world.staff,
            "mutation { updateEtas(updates: [{orderNumber: \"SO-1\", lineNumber: 1, eta: \"2027-02-01\"}]) { eta } }",
        ),
    ] {
        for _ in 0..2 {
            let answer = post(app, token, document, None).await;
            assert_eq!(answer.status, StatusCode::OK, "{document}");
            assert!(answer.json().get("errors").is_none(), "{document}");
            assert_eq!(answer.etag(), None, "{document}");
            assert_eq!(
                answer.headers.get(header::CACHE_CONTROL),
                None,
                "{document}"
            );
        }
    }
    assert_eq!(cache_counts(app).await, (0, 0, 0));
}

#[tokio::test]
async fn answers_with_errors_are_never_kept() {
    let world = world().await;
    let app = &world.app;
    let document = "{ orders(first: 1000) { totalCount } }";
    for _ in 0..2 {
        let answer = post(app, &world.alpha, document, None).await;
        assert_eq!(common::error_code(&answer.json()), "BAD_USER_INPUT");
    }
    assert_eq!(cache_counts(app).await, (0, 2, 0));
}

#[tokio::test]
async fn two_companies_never_see_each_others_stored_answer() {
    let world = world().await;
    let app = &world.app;
    let alpha = post(app, &world.alpha, DASHBOARD, None).await;
    let beta = post(app, &world.beta, DASHBOARD, None).await;
    let beta_with_alphas_etag = post(app, &world.beta, DASHBOARD, alpha.etag()).await;
    let staff = post(app, &world.staff, DASHBOARD, alpha.etag()).await;
    assert_eq!(
        alpha.json()["data"]["orders"]["nodes"][0]["orderNumber"],
        "SO-1"
    );
    assert_eq!(
        beta.json()["data"]["orders"]["nodes"][0]["orderNumber"],
        "SO-2"
    );
    assert_eq!(beta_with_alphas_etag.status, StatusCode::OK);
    assert_eq!(beta_with_alphas_etag.body, beta.body);
    assert_eq!(staff.status, StatusCode::OK);
    assert_eq!(staff.json()["data"]["orders"]["totalCount"], 2);
    assert_ne!(alpha.etag(), beta.etag());
    assert_eq!(cache_counts(app).await, (1, 3, 0));
}

#[tokio::test]
async fn a_disabled_user_gets_neither_a_304_nor_a_stored_answer() {
    let world = world().await;
    let app = &world.app;
    let (colleague, id) = world
        .colleague("viewer@alpha.example", "CUSTOMER_USER")
        .await;
    let polled = post(app, &colleague, DASHBOARD, None).await;
    let etag = polled.etag().unwrap().to_owned();
    app.data(
        &world.alpha,
        "mutation($id: ID!) { disableUser(userId: $id) { id } }",
        json!({"id": id}),
    )
    .await;
    for answer in [
        post(app, &colleague, DASHBOARD, Some(&etag)).await,
        post(app, &colleague, DASHBOARD, None).await,
    ] {
        assert_eq!(answer.etag(), None);
        assert_eq!(common::error_code(&answer.json()), "UNAUTHENTICATED");
        assert!(answer.json()["data"].is_null(), "{}", answer.body);
    }
}

#[tokio::test]
async fn the_cache_can_be_turned_off() {
    let app = TestApp::with_settings(None, &[("PORTAL_RESPONSE_CACHE_MB", "0")]).await;
    let company = app.company("Alpha Systems BV", "C-1").await;
    let alpha = app
        .user(
            "admin@alpha.example",
            customer_portal::domain::account::Role::CustomerAdmin,
            Some(company),
        )
        .await;
    for _ in 0..2 {
        let answer = post(&app, &alpha, DASHBOARD, None).await;
        assert_eq!(answer.json()["data"]["orders"]["totalCount"], 0);
        assert_eq!(answer.etag(), None);
    }
    assert_eq!(cache_counts(&app).await, (0, 0, 0));
}
