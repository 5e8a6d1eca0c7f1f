//! The activation page the invitation mail links to, over HTTP: the form in the person's
//! language, a weak password shown again with the reason, the redirect home, and a link that
//! no longer works.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::{
    body::Body,
    http::{HeaderMap, Request, StatusCode, header},
};
use common::{TestApp, webdriver::Browser};
use customer_portal::domain::account::Role;
use http_body_util::BodyExt;
use serde_json::json;
use std::net::SocketAddr;
use tower::ServiceExt;

const HOME: &str = "https://portal.reseller.example/welcome";

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    html: String,
}

async fn send(app: &TestApp, request: Request<Body>) -> Page {
    let response = app.app.router().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        headers,
        html: String::from_utf8(body.to_vec()).unwrap(),
    }
}

fn open(token: &str, language: &str) -> Request<Body> {
    Request::get(format!("/activate?token={token}"))
        .header(header::ACCEPT_LANGUAGE, language)
        .body(Body::empty())
        .unwrap()
}

fn submit(token: &str, password: &str, language: &str) -> Request<Body> {
    let form = format!(
        "token={token}&username=x&password={}",
        password.replace(' ', "+").replace('@', "%40")
    );
    Request::post("/activate")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT_LANGUAGE, language)
        .body(Body::from(form))
        .unwrap()
}

/// An app whose home page is [`HOME`], and the token of a fresh invitation of
/// `anna@alpha.example` by Alpha's administrator.
async fn invited() -> (TestApp, String) {
    invited_with(&[("PORTAL_HOME_URL", HOME)]).await
}

async fn invited_with(settings: &[(&str, &str)]) -> (TestApp, String) {
    let app = TestApp::with_settings(None, settings).await;
    let alpha = app.company("Alpha Systems BV", "C-1").await;
    let admin = app
        .user("admin@alpha.example", Role::CustomerAdmin, Some(alpha))
        .await;
    let data = app
        .data(
            &admin,
            r#"mutation { inviteUser(email: "anna@alpha.example", role: CUSTOMER_USER) { activationUrl } }"#,
            json!({}),
        )
        .await;
    let url = data["inviteUser"]["activationUrl"].as_str().unwrap();
    let token = url.split_once("/activate?token=").unwrap().1.to_owned();
    (app, token)
}

/// Anna is active, and signs in through the API with `password`.
async fn assert_anna_signs_in(app: &TestApp, password: &str) {
    let session = app.login("anna@alpha.example", password).await;
    let data = app
        .data(&session, "{ me { email status } }", json!({}))
        .await;
    assert_eq!(
        data,
        json!({"me": {"email": "anna@alpha.example", "status": "ACTIVE"}})
    );
}

fn assert_locked_down(page: &Page) {
    let policy = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        policy.starts_with("default-src 'none'; style-src 'sha256-"),
        "{policy}"
    );
    assert!(
        policy.ends_with(
            "; form-action 'self' https://portal.reseller.example; frame-ancestors 'none'; base-uri 'none'"
        ),
        "{policy}"
    );
    assert_eq!(page.headers[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(
        page.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    for outside in ["<script", "http://", "https://", "src="] {
        assert!(!page.html.contains(outside), "{outside} in {}", page.html);
    }
}

#[tokio::test]
async fn the_link_shows_a_form_in_the_persons_language() {
    let (app, token) = invited().await;
    let page = send(&app, open(&token, "nl-NL,nl;q=0.9,en;q=0.8")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_locked_down(&page);
    for expected in [
        r#"<html lang="nl">"#,
        "<h1>Stel uw wachtwoord in</h1>",
        "<p>Kies een wachtwoord voor <strong>anna@alpha.example</strong>.</p>",
        r#"<form method="post" action="activate">"#,
        &format!(r#"<input type="hidden" name="token" value="{token}">"#),
        r#"<label for="password">Nieuw wachtwoord</label>"#,
        r#"<p id="rules">Minstens 10 tekens, en niet uw e-mailadres.</p>"#,
    ] {
        assert!(page.html.contains(expected), "{expected} in {}", page.html);
    }

    let page = send(&app, open(&token, "en-GB,en;q=0.9")).await;
    assert!(page.html.contains(r#"<html lang="en">"#));
    assert!(page.html.contains("<h1>Set your password</h1>"));
}

#[tokio::test]
async fn a_weak_password_shows_the_form_again_with_the_reason() {
    let (app, token) = invited().await;
    for (password, language, reason) in [
        (
            "too short",
            "nl",
            "Het wachtwoord moet minstens 10 tekens hebben.",
        ),
        (
            "anna@alpha.example",
            "en",
            "The password must not be your e-mail address.",
        ),
    ] {
        let page = send(&app, submit(&token, password, language)).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_locked_down(&page);
        assert!(
            page.html.contains(&format!(
                r#"<p class="problem" id="problem" role="alert">{reason}</p>"#
            )),
            "{}",
            page.html
        );
        assert!(page.html.contains(r#"aria-invalid="true""#));
        assert!(
            page.html
                .contains(&format!(r#"name="token" value="{token}""#))
        );
    }
    // The link still works after a refused password.
    let page = send(&app, open(&token, "en")).await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn a_good_password_activates_and_goes_home_then_the_link_is_used() {
    let (app, token) = invited().await;
    let page = send(&app, submit(&token, "a long enough password", "en")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers[header::LOCATION], HOME);

    assert_anna_signs_in(&app, "a long enough password").await;

    for request in [
        open(&token, "nl"),
        submit(&token, "another long password", "nl"),
    ] {
        let page = send(&app, request).await;
        assert_eq!(page.status, StatusCode::GONE);
        assert_locked_down(&page);
        assert!(page.html.contains("<h1>Deze link werkt niet meer</h1>"));
        assert!(
            page.html
                .contains("Vraag uw beheerder om een nieuwe uitnodiging.")
        );
    }
    assert_eq!(
        app.code(
            None,
            "mutation { login(email: \"anna@alpha.example\", password: \"another long password\") { accessToken } }",
            json!({}),
        )
        .await,
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn an_expired_or_unknown_link_says_to_ask_the_administrator() {
    let (app, token) = invited().await;
    app.clock.advance(chrono::Duration::days(7));
    for request in [
        open(&token, "en"),
        open("cpa_unknown", "en"),
        open("", "en"),
        submit(&token, "a long enough password", "en"),
    ] {
        let page = send(&app, request).await;
        assert_eq!(page.status, StatusCode::GONE);
        assert!(page.html.contains("<h1>This link no longer works</h1>"));
        assert!(
            page.html
                .contains("Ask your administrator for a new invitation."),
            "{}",
            page.html
        );
    }
}

/// The whole way a new customer goes, in a real browser: the mailed link, the form, the home
/// page, then signing in through the API. Skipped (with a note) where `chromedriver` is not
/// installed, unless `TEST_REQUIRE_BROWSER` is set, as CI sets it.
#[tokio::test]
async fn a_person_sets_a_password_in_chromium_and_signs_in_with_it() {
    let service = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let home = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public_url = format!("http://{}", service.local_addr().unwrap());
    let home_url = format!("http://{}/welcome", home.local_addr().unwrap());
    let welcome = axum::Router::new().route(
        "/welcome",
        axum::routing::get(|| async {
            axum::response::Html("<!doctype html><title>Portal</title><h1>Welkom</h1>")
        }),
    );
    tokio::spawn(async move { axum::serve(home, welcome).await.unwrap() });
    let (app, _) =
        invited_with(&[("PUBLIC_URL", &public_url), ("PORTAL_HOME_URL", &home_url)]).await;
    let mail = app.mail().await;
    let prefix = format!("{public_url}/activate?token=");
    let link: String = mail
        .iter()
        .find_map(|letter| letter.find(&prefix).map(|at| &letter[at..]))
        .expect("an invitation with the activation link")
        .chars()
        .take_while(|c| !c.is_whitespace() && !"\"<>".contains(*c))
        .collect();
    let service_app = app
        .app
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(service, service_app).await.unwrap() });

    let Some(browser) = Browser::start("nl-NL,nl").await else {
        assert!(
            std::env::var_os("TEST_REQUIRE_BROWSER").is_none(),
            "chromedriver is not installed"
        );
        eprintln!("skipped: chromedriver is not installed");
        return;
    };
    browser.goto(&link).await;
    assert_eq!(
        browser.text(&browser.find("h1").await).await,
        "Stel uw wachtwoord in"
    );
    let password = browser.find("#password").await;
    browser.type_into(&password, "a long enough password").await;
    browser
        .click(&browser.find("button[type=submit]").await)
        .await;
    browser.wait_for_url(&home_url).await;
    assert!(browser.source().await.contains("<h1>Welkom</h1>"));
    drop(browser);

    assert_anna_signs_in(&app, "a long enough password").await;
}
