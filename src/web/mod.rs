//! The HTTP edge around the GraphQL executor: the routes, GraphQL over `GET` and `POST` with
//! its failures answered as GraphQL errors, CORS, and the activation page.

pub mod activation;
pub mod cors;
pub mod graphql;

use std::sync::Arc;

use axum::{
    Extension, Json, Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use tower_http::trace::TraceLayer;

use crate::{
    app::{self, App},
    error::{ErrorCode, excerpt},
    proxies,
};
use activation::ActivationPage;
use cors::Cors;

impl App {
    /// The HTTP routes of `operations.md`. The CORS layer and the activation page are built
    /// here once and shared by every request.
    pub fn router(&self) -> Router {
        let activation_page = Arc::new(ActivationPage::new(&self.home_url));
        Router::new()
            .route(
                "/graphql",
                get(graphql::get)
                    .post(graphql::post)
                    .fallback(graphql::other_method)
                    .layer(middleware::from_fn_with_state(
                        Cors::new(&self.cors_origins),
                        cors::middleware,
                    )),
            )
            .route("/graphql/ws", get(app::graphql_ws))
            .route(
                "/activate",
                get(activation::show)
                    .post(activation::submit)
                    .layer(Extension(activation_page)),
            )
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(app::ready))
            .route("/metrics", get(app::metrics))
            .layer(DefaultBodyLimit::max(self.max_body_bytes()))
            .layer(TraceLayer::new_for_http())
            .layer(middleware::from_fn_with_state(
                self.trusted_proxies.clone(),
                proxies::client_address,
            ))
            .with_state(self.clone())
    }
}

/// A request refused before any document ran, answered as a GraphQL response so that a
/// client reads every failure the same way.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    /// The methods that would have been accepted, for a 405.
    allow: Option<&'static str>,
}

impl Refusal {
    /// `BAD_REQUEST` with status 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: ErrorCode::BadRequest,
            message: message.into(),
            allow: None,
        }
    }

    /// `PAYLOAD_TOO_LARGE` with status 413.
    pub fn too_large(limit: usize) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: ErrorCode::PayloadTooLarge,
            message: format!("the request body is larger than {limit} bytes"),
            allow: None,
        }
    }

    /// `BAD_REQUEST` with status 405, naming the methods that `Allow` lists.
    pub fn method_not_allowed(message: impl Into<String>, allow: &'static str) -> Self {
        Self {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: ErrorCode::BadRequest,
            message: message.into(),
            allow: Some(allow),
        }
    }

    /// `BAD_REQUEST` with status 415.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: ErrorCode::BadRequest,
            message: message.into(),
            allow: None,
        }
    }
}

/// `{"errors": [{"message": …, "extensions": {"code": …}}]}`, in that order, and no `data`:
/// no document ran.
#[derive(serde::Serialize)]
struct Errors {
    errors: [Error; 1],
}

#[derive(serde::Serialize)]
struct Error {
    message: String,
    extensions: Extensions,
}

#[derive(serde::Serialize)]
struct Extensions {
    code: &'static str,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = Errors {
            errors: [Error {
                message: excerpt(&self.message),
                extensions: Extensions {
                    code: self.code.as_str(),
                },
            }],
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(allow) = self.allow {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}
