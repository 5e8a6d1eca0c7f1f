//! The one error type of the service and its single mapping to GraphQL `extensions.code`.

use async_graphql::ErrorExtensions;

/// The stable error codes of the API contract, as clients see them in `extensions.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    PasswordChangeRequired,
    RateLimited,
    QueryTooComplex,
    ServiceUnavailable,
    Internal,
    /// The HTTP request is not a GraphQL request this service takes (malformed JSON, a batch,
    /// a wrong method or content type), so no document ran.
    BadRequest,
    /// The request body is larger than the service accepts (`Limits::max_body_bytes`).
    PayloadTooLarge,
}

impl ErrorCode {
    /// The code as written in `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::PasswordChangeRequired => "PASSWORD_CHANGE_REQUIRED",
            Self::RateLimited => "RATE_LIMITED",
            Self::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::Internal => "INTERNAL",
            Self::BadRequest => "BAD_REQUEST",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
        }
    }
}

/// Everything that can go wrong while serving a request.
///
/// Every variant but `Internal` is the client's to read; `Internal` is logged with its cause
/// and reaches the client as a bare "internal error".
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(String),
    /// `field` names the offending input (`input.lines[2].quantity`), where there is one.
    #[error("{message}")]
    BadUserInput {
        field: Option<String>,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    /// Too many failed attempts; the client may try again after the given wait.
    #[error("too many failed attempts: try again in {retry_after_seconds} seconds")]
    RateLimited { retry_after_seconds: i64 },
    /// The request sent more SQL statements than one request may.
    #[error(
        "this request needed more than {limit} database statements and was stopped: ask for fewer fields or aliases at the top level"
    )]
    StatementBudget { limit: u64 },
    /// The database did not answer in time; the client may try again shortly.
    #[error("the database is not answering: try again shortly")]
    Unavailable,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// Bad input tied to one field of the request.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// The contract's code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::BadUserInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::StatementBudget { .. } => ErrorCode::QueryTooComplex,
            Self::Unavailable => ErrorCode::ServiceUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(error: sea_orm::DbErr) -> Self {
        if is_unavailable(&error) {
            tracing::warn!(error = %error, "the database did not answer in time");
            return Self::Unavailable;
        }
        Self::Internal(anyhow::Error::new(error).context("database"))
    }
}

/// A database that does not answer: no connection within the acquire timeout, a statement
/// cancelled by the statement timeout (PostgreSQL's `query_canceled`), a broken connection.
fn is_unavailable(error: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    const QUERY_CANCELED: &str = "57014";
    match error {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(cause))
        | DbErr::Exec(RuntimeErr::SqlxError(cause))
        | DbErr::Query(RuntimeErr::SqlxError(cause)) => match cause.as_ref() {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => true,
            sqlx::Error::Database(cause) => cause.code().as_deref() == Some(QUERY_CANCELED),
            _ => false,
        },
        _ => false,
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(error: sea_orm::TransactionError<AppError>) -> Self {
        match error {
            sea_orm::TransactionError::Connection(error) => error.into(),
            sea_orm::TransactionError::Transaction(error) => error,
        }
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        if let AppError::Internal(cause) = &error {
            tracing::error!(
                error = format!("{cause:#}"),
                "internal error while resolving"
            );
        }
        let code = error.code();
        let field = match &error {
            AppError::BadUserInput { field, .. } => field.clone(),
            _ => None,
        };
        let retry_after = match &error {
            AppError::RateLimited {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            _ => None,
        };
        async_graphql::Error::new(error.to_string()).extend_with(|_, extensions| {
            extensions.set("code", code.as_str());
            if let Some(field) = field {
                extensions.set("field", field);
            }
            if let Some(seconds) = retry_after {
                extensions.set("retryAfterSeconds", seconds);
            }
        })
    }
}

/// Gives a code to the errors that async-graphql raises itself, before any resolver runs:
/// syntax, validation (unknown fields, wrong types, missing arguments) and the query limits.
/// Their messages quote the document, so they are cut to an [`excerpt`] first.
pub fn classify_unhandled(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        error.message = excerpt(&error.message);
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_some() {
            continue;
        }
        // The parser's own recursion limit comes before the depth limit: it is the same
        // refusal, of a document nested too deep.
        let too_complex = ["nested too deep", "too complex", "recursion limit exceeded"]
            .iter()
            .any(|marker| error.message.contains(marker));
        let code = if too_complex {
            ErrorCode::QueryTooComplex
        } else {
            ErrorCode::BadUserInput
        };
        extensions.set("code", code.as_str());
    }
}

/// Longest line of an error message that goes back to the client: a syntax error quotes the
/// document's line, and an unknown field its name, whatever their length.
const MAX_MESSAGE_LINE_CHARS: usize = 120;
/// Most lines of an error message that go back to the client.
const MAX_MESSAGE_LINES: usize = 12;

/// `message` with every line cut to [`MAX_MESSAGE_LINE_CHARS`] and at most
/// [`MAX_MESSAGE_LINES`] lines, each cut marked with `…`: what a person needs to find the fault,
/// never the whole of a large input.
pub fn excerpt(message: &str) -> String {
    let mut lines: Vec<String> = message
        .lines()
        .take(MAX_MESSAGE_LINES)
        .map(
            |line| match line.char_indices().nth(MAX_MESSAGE_LINE_CHARS) {
                Some((cut, _)) => format!("{}…", &line[..cut]),
                None => line.to_owned(),
            },
        )
        .collect();
    if message.lines().nth(MAX_MESSAGE_LINES).is_some() {
        lines.push("…".to_owned());
    }
    lines.join("\n")
}

/// Shorthand for resolver and data-layer results.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_long_lines_and_many_lines() {
        let long = format!(
            "{}{}",
            "a".repeat(MAX_MESSAGE_LINE_CHARS),
            "b".repeat(100_000)
        );
        for (message, expected) in [
            ("short".to_owned(), "short".to_owned()),
            (
                format!("--> 1:3\n1 | {long}\n= expected name"),
                format!(
                    "--> 1:3\n1 | {}…\n= expected name",
                    "a".repeat(MAX_MESSAGE_LINE_CHARS - 4)
                ),
            ),
            ("é".repeat(121), format!("{}…", "é".repeat(120))),
            ("x\n".repeat(20), format!("{}…", "x\n".repeat(12))),
        ] {
            assert_eq!(excerpt(&message), expected, "{message:.40}");
        }
    }
}
