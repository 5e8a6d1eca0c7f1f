//! The HTTP edge around the GraphQL executor: GraphQL over `GET` and `POST` with its
//! failures answered as GraphQL errors, CORS, and the activation page.

pub mod activation;
pub mod cors;
pub mod graphql;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::error::{ErrorCode, excerpt};

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
