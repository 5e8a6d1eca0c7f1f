//! GraphQL over HTTP: queries over GET, persisted queries, CORS, and every failure before a
//! document runs answered as a GraphQL error with its status.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::{
    body::Body,
    http::{HeaderMap, Method, Request, StatusCode, header},
};
use common::{TestApp, World};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {:.200}", self.body))
    }

    /// The one error of a refused request: (message, code).
    fn refusal(&self) -> (String, String) {
        let body = self.json();
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
        assert!(body.get("data").is_none(), "{body}");
        (
            body["errors"][0]["message"].as_str().unwrap().to_owned(),
            body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
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
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn post(token: Option<&str>, body: impl Into<String>) -> Request<Body> {
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::from(body.into())).unwrap()
}

fn get(token: Option<&str>, accept: &str, parameters: &[(&str, &str)]) -> Request<Body> {
    let query: String = parameters
        .iter()
        .map(|(key, value)| format!("{key}={}", encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    let mut request = Request::get(format!("/graphql?{query}")).header(header::ACCEPT, accept);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::empty()).unwrap()
}

/// Percent-encodes everything but unreserved characters.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn malformed_json_is_a_bad_request() {
    let app = TestApp::new().await;
    let answer = send(&app, post(None, r#"{"query": "{ __typename }""#)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let (message, code) = answer.refusal();
    assert_eq!(code, "BAD_REQUEST");
    assert_eq!(
        message,
        r#"the body is not a GraphQL request ({"query": …, "variables": {…}}): EOF while parsing an object at line 1 column 26"#
    );
}

#[tokio::test]
async fn a_batch_is_a_bad_request() {
    let app = TestApp::new().await;
    let answer = send(&app, post(None, r#" [{"query": "{ __typename }"}]"#)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.refusal(),
        (
            "batches are not supported: send one operation per request".into(),
            "BAD_REQUEST".into()
        )
    );
}

#[tokio::test]
async fn an_oversize_body_is_payload_too_large_with_or_without_a_length() {
    let app = TestApp::new().await;
    let padding = "x".repeat(300 * 1024);
    let body = json!({"query": "{ __typename }", "variables": {"padding": padding}}).to_string();
    let expected = (
        "the request body is larger than 262144 bytes".to_owned(),
        "PAYLOAD_TOO_LARGE".to_owned(),
    );

    let with_length = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body.clone()))
        .unwrap();
    let answer = send(&app, with_length).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.refusal(), expected);

    let chunks = body
        .into_bytes()
        .chunks(8 * 1024)
        .map(|chunk| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(chunk)))
        .collect::<Vec<_>>();
    let chunked = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap();
    let answer = send(&app, chunked).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.refusal(), expected);
}

#[tokio::test]
async fn a_wrong_method_is_405_naming_the_allowed_ones() {
    let app = TestApp::new().await;
    for method in [Method::PUT, Method::DELETE, Method::PATCH, Method::OPTIONS] {
        let request = Request::builder()
            .method(method.clone())
            .uri("/graphql")
            .body(Body::empty())
            .unwrap();
        let answer = send(&app, request).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(answer.header("allow"), Some("GET, POST"));
        assert_eq!(
            answer.refusal(),
            (
                "/graphql takes GET (queries) and POST".into(),
                "BAD_REQUEST".into()
            )
        );
    }
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let app = TestApp::new().await;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = Request::post("/graphql");
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let request = request
            .body(Body::from(r#"{"query": "{ __typename }"}"#))
            .unwrap();
        let answer = send(&app, request).await;
        assert_eq!(
            answer.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(
            answer.refusal(),
            (
                "send the request as Content-Type: application/json".into(),
                "BAD_REQUEST".into()
            )
        );
    }
    let charset = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "Application/JSON; charset=utf-8")
        .body(Body::from(r#"{"query": "{ __typename }"}"#))
        .unwrap();
    let answer = send(&app, charset).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"data": {"__typename": "Query"}}));
}

#[tokio::test]
async fn errors_quote_only_an_excerpt_of_a_large_document() {
    let app = TestApp::new().await;
    let field = "a".repeat(100 * 1024);
    for document in [format!("{{ {field} "), format!("{{ {field} }}")] {
        let answer = send(&app, post(None, json!({"query": document}).to_string())).await;
        assert_eq!(answer.status, StatusCode::OK);
        let body = answer.json();
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.len() < 1000,
            "{} bytes: {message:.300}",
            message.len()
        );
        assert!(message.contains(&"a".repeat(50)), "{message}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert!(answer.body.len() < 2000, "{} bytes", answer.body.len());
    }
}

#[tokio::test]
async fn a_query_runs_over_get_for_a_client_accepting_json() {
    let world = World::new().await;
    for (accept, media_type) in [
        (
            "application/graphql-response+json",
            "application/graphql-response+json",
        ),
        ("application/json", "application/json"),
        (
            "application/graphql-response+json, application/json;q=0.9",
            "application/graphql-response+json",
        ),
        ("*/*", "application/graphql-response+json"),
    ] {
        let answer = send(
            &world.app,
            get(
                Some(&world.alpha),
                accept,
                &[
                    (
                        "query",
                        "query Me($n: Int!) { me { email } orders(first: $n) { totalCount } }",
                    ),
                    ("variables", r#"{"n": 1}"#),
                ],
            ),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{accept}: {}", answer.body);
        assert_eq!(answer.header("content-type"), Some(media_type), "{accept}");
        assert_eq!(
            answer.json(),
            json!({"data": {"me": {"email": "admin@alpha.example"}, "orders": {"totalCount": 0}}}),
            "{accept}"
        );
    }
}

#[tokio::test]
async fn graphiql_is_only_for_a_browser_asking_for_html() {
    let app = TestApp::new().await;
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let answer = send(&app, get(None, browser, &[])).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains("graphiql"), "{:.200}", answer.body);

    let answer = send(&app, get(None, "application/json", &[])).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.refusal(),
        ("send the document as ?query=…".into(), "BAD_REQUEST".into())
    );
}

#[tokio::test]
async fn variables_over_get_must_be_a_json_object() {
    let app = TestApp::new().await;
    let answer = send(
        &app,
        get(
            None,
            "application/json",
            &[("query", "{ __typename }"), ("variables", "{n: 1")],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.refusal(),
        (
            "`variables` is not a JSON object: key must be a string at line 1 column 2".into(),
            "BAD_REQUEST".into()
        )
    );
}

#[tokio::test]
async fn a_mutation_over_get_is_405_and_changes_nothing() {
    let world = World::new().await;
    // Every user starts with mail on change; the mutation would turn it off.
    let mutation = "mutation { setMailOnChange(enabled: false) { mailOnChange } }";
    for parameters in [
        vec![("query", mutation)],
        vec![
            (
                "query",
                "query Me { me { email } } mutation Set { setMailOnChange(enabled: false) { mailOnChange } }",
            ),
            ("operationName", "Set"),
        ],
    ] {
        let answer = send(
            &world.app,
            get(Some(&world.alpha), "application/json", &parameters),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{parameters:?}: {}",
            answer.body
        );
        assert_eq!(answer.header("allow"), Some("POST"));
        assert_eq!(
            answer.refusal(),
            (
                "only queries run over GET: send mutations with POST".into(),
                "BAD_REQUEST".into()
            )
        );
    }
    let data = world
        .app
        .data(&world.alpha, "{ me { mailOnChange } }", json!({}))
        .await;
    assert_eq!(data, json!({"me": {"mailOnChange": true}}));
}

fn persisted(hash: &str) -> String {
    json!({"persistedQuery": {"version": 1, "sha256Hash": hash}}).to_string()
}

/// A POST body with `document` (none when empty) and its persisted-query hash.
fn with_hash(document: &str, hash: &str) -> String {
    let extensions = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    if document.is_empty() {
        json!({"extensions": extensions}).to_string()
    } else {
        json!({"query": document, "extensions": extensions}).to_string()
    }
}

#[tokio::test]
async fn a_persisted_query_is_sent_once_then_by_its_hash_over_post_and_get() {
    let world = World::new().await;
    let document = "query Me { me { email role } }";
    let hash = format!("{:x}", Sha256::digest(document));
    let expected =
        json!({"data": {"me": {"email": "admin@alpha.example", "role": "CUSTOMER_ADMIN"}}});

    let unknown = send(&world.app, post(Some(&world.alpha), with_hash("", &hash))).await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(
        unknown.json()["errors"][0]["message"],
        "PersistedQueryNotFound"
    );

    let registered = send(
        &world.app,
        post(Some(&world.alpha), with_hash(document, &hash)),
    )
    .await;
    assert_eq!(registered.json(), expected);

    let by_post = send(&world.app, post(Some(&world.alpha), with_hash("", &hash))).await;
    assert_eq!(
        (by_post.status, by_post.json()),
        (StatusCode::OK, expected.clone())
    );

    let by_get = send(
        &world.app,
        get(
            Some(&world.alpha),
            "application/graphql-response+json",
            &[("extensions", &persisted(&hash))],
        ),
    )
    .await;
    assert_eq!((by_get.status, by_get.json()), (StatusCode::OK, expected));

    let mismatch = send(
        &world.app,
        post(Some(&world.alpha), with_hash("{ __typename }", &hash)),
    )
    .await;
    assert_eq!(
        mismatch.json()["errors"][0]["message"],
        "provided sha does not match query"
    );
}

#[tokio::test]
async fn a_persisted_mutation_is_refused_over_get() {
    let world = World::new().await;
    let document = "mutation { setMailOnChange(enabled: false) { mailOnChange } }";
    let hash = format!("{:x}", Sha256::digest(document));
    let registered = send(
        &world.app,
        post(Some(&world.alpha), with_hash(document, &hash)),
    )
    .await;
    assert_eq!(
        registered.json(),
        json!({"data": {"setMailOnChange": {"mailOnChange": false}}})
    );
    let answer = send(
        &world.app,
        get(
            Some(&world.alpha),
            "application/json",
            &[("extensions", &persisted(&hash))],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
}

const LISTED: &str = "https://portal.reseller.example";

async fn cors_app() -> TestApp {
    TestApp::with_settings(
        None,
        &[(
            "PORTAL_CORS_ORIGINS",
            "https://portal.reseller.example, http://localhost:3000",
        )],
    )
    .await
}

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri("/graphql")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "content-type,authorization",
        )
        .body(Body::empty())
        .unwrap()
}

fn cors_headers(answer: &Answer) -> Vec<(String, String)> {
    let mut headers: Vec<_> = answer
        .headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("access-control-"))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    headers
}

#[tokio::test]
async fn a_listed_origin_gets_what_a_browser_needs_to_post_json_with_a_token() {
    let app = cors_app().await;
    let answer = send(&app, preflight(LISTED)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        cors_headers(&answer),
        [
            ("access-control-allow-headers", "content-type,authorization"),
            ("access-control-allow-methods", "GET,POST"),
            ("access-control-allow-origin", LISTED),
            ("access-control-max-age", "600"),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
    );

    let mut request = post(None, r#"{"query": "{ __typename }"}"#);
    request
        .headers_mut()
        .insert(header::ORIGIN, "http://localhost:3000".parse().unwrap());
    let answer = send(&app, request).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert_eq!(answer.json(), json!({"data": {"__typename": "Query"}}));
}

#[tokio::test]
async fn any_other_origin_gets_no_cors_headers() {
    let app = cors_app().await;
    for origin in [
        "https://evil.example",
        "https://portal.reseller.example.evil.example",
        "http://portal.reseller.example",
        "null",
    ] {
        let answer = send(&app, preflight(origin)).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{origin}");
        assert_eq!(cors_headers(&answer), [], "{origin}");

        let mut request = post(None, r#"{"query": "{ __typename }"}"#);
        request
            .headers_mut()
            .insert(header::ORIGIN, origin.parse().unwrap());
        let answer = send(&app, request).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(cors_headers(&answer), [], "{origin}");
        assert_eq!(answer.header("vary"), Some("origin"));
    }

    let unconfigured = TestApp::new().await;
    let answer = send(&unconfigured, preflight(LISTED)).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(cors_headers(&answer), []);
}

#[test]
fn a_bad_cors_origin_stops_start_up_with_one_line_naming_the_variable() {
    for bad in [
        "*",
        "portal.reseller.example",
        "https://portal.reseller.example/app",
        "https://ok.example,ftp://files.example",
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_customer-portal"))
            .arg("serve")
            .env("PORTAL_CORS_ORIGINS", bad)
            .env("DATABASE_URL", "sqlite::memory:")
            .env("PORTAL_BIND", "127.0.0.1:0")
            .env("RUST_LOG", "off")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{bad}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{bad}: {stderr}");
        assert!(
            stderr.starts_with(
                "error: PORTAL_CORS_ORIGINS must be a comma-separated list of origins"
            ),
            "{bad}: {stderr}"
        );
    }
}
