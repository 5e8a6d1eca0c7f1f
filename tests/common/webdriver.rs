//! Just enough of the W3C WebDriver protocol to drive headless Chromium through
//! `chromedriver`: open a page, type into and click elements, read the address and the page.
//! (A WebDriver crate would bring a second `http`, `thiserror` and ICU into the build.)
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::{
    io::{Read as _, Write as _},
    net::SocketAddr,
    process::{Child, Command, Stdio},
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, header};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// The key under which WebDriver names an element.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium session, with the `chromedriver` that runs it.
pub struct Browser {
    driver: Child,
    address: SocketAddr,
    session: String,
}

impl Drop for Browser {
    /// Ends the session, which closes Chromium (killing only `chromedriver` would leave it
    /// running), then stops `chromedriver`; also when a test fails half-way.
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let request = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.session, self.address
            );
            if let Ok(mut stream) = std::net::TcpStream::connect(self.address) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = stream.write_all(request.as_bytes());
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts `chromedriver` on a free port and a headless Chromium whose `Accept-Language`
    /// is `languages`. `None` when `chromedriver` is not installed.
    pub async fn start(languages: &str) -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = match Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(driver) => driver,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
            Err(error) => panic!("chromedriver did not start: {error}"),
        };
        let mut browser = Self {
            driver,
            address: SocketAddr::from(([127, 0, 0, 1], port)),
            session: String::new(),
        };
        browser.wait_until_ready().await;
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                // Root in a container has no user namespace for Chromium's sandbox.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
                "prefs": {"intl.accept_languages": languages},
            },
        }}});
        let session = browser
            .call(Method::POST, "/session", Some(capabilities))
            .await;
        browser.session = session["sessionId"].as_str().unwrap().to_owned();
        Some(browser)
    }

    async fn wait_until_ready(&self) {
        for _ in 0..100 {
            if let Ok(stream) = tokio::net::TcpStream::connect(self.address).await {
                drop(stream);
                let status = self.call(Method::GET, "/status", None).await;
                if status["ready"] == json!(true) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not become ready on {}", self.address);
    }

    /// Sends one command; returns its `value`, and fails the test on a WebDriver error.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let stream = tokio::net::TcpStream::connect(self.address).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.address.to_string())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(
                body.map(|body| body.to_string()).unwrap_or_default(),
            )))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let answer: Value = serde_json::from_slice(&body).unwrap();
        assert!(status.is_success(), "WebDriver {path}: {status} {answer}");
        answer["value"].clone()
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub async fn goto(&self, url: &str) {
        self.call(
            Method::POST,
            &self.session_path("/url"),
            Some(json!({"url": url})),
        )
        .await;
    }

    pub async fn current_url(&self) -> String {
        let url = self
            .call(Method::GET, &self.session_path("/url"), None)
            .await;
        url.as_str().unwrap().to_owned()
    }

    /// The page's HTML as the browser holds it now.
    pub async fn source(&self) -> String {
        let source = self
            .call(Method::GET, &self.session_path("/source"), None)
            .await;
        source.as_str().unwrap().to_owned()
    }

    /// The element that `css` selects.
    pub async fn find(&self, css: &str) -> String {
        let found = self
            .call(
                Method::POST,
                &self.session_path("/element"),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found[ELEMENT].as_str().unwrap().to_owned()
    }

    pub async fn text(&self, element: &str) -> String {
        let text = self
            .call(
                Method::GET,
                &self.session_path(&format!("/element/{element}/text")),
                None,
            )
            .await;
        text.as_str().unwrap().to_owned()
    }

    pub async fn type_into(&self, element: &str, text: &str) {
        self.call(
            Method::POST,
            &self.session_path(&format!("/element/{element}/value")),
            Some(json!({"text": text})),
        )
        .await;
    }

    pub async fn click(&self, element: &str) {
        self.call(
            Method::POST,
            &self.session_path(&format!("/element/{element}/click")),
            Some(json!({})),
        )
        .await;
    }

    /// Waits (up to ten seconds) until the browser is at `url`.
    pub async fn wait_for_url(&self, url: &str) {
        for _ in 0..100 {
            if self.current_url().await == url {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the browser stayed at {} instead of going to {url}",
            self.current_url().await
        );
    }

    /// Ends the session, and with it Chromium.
    pub async fn quit(self) {
        self.call(Method::DELETE, &self.session_path(""), None)
            .await;
    }
}
