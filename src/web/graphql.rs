//! GraphQL over HTTP: `POST` with a JSON body, `GET` for queries (cacheable, never a
//! mutation), GraphiQL for a browser asking for HTML; every failure a GraphQL response.

use std::{
    net::SocketAddr,
    sync::{Arc, atomic::Ordering},
};

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::GraphQLResponse;
use axum::{
    Extension,
    body::Bytes,
    extract::{
        ConnectInfo, Query, State,
        rejection::{BytesRejection, FailedToBufferBody},
    },
    http::{
        HeaderMap, HeaderValue, StatusCode, Uri,
        header::{ACCEPT, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH},
    },
    response::{Html, IntoResponse, Response},
};

use super::Refusal;
use crate::{
    app::App,
    graphql::{
        OverGet,
        response_cache::{Outcome, Revalidation},
    },
};

/// The media type of GraphQL responses, from the GraphQL-over-HTTP spec.
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The methods `/graphql` answers.
const ALLOWED: &str = "GET, POST";

/// `POST /graphql`: one operation as `{query, variables, operationName, extensions}`.
pub async fn post(
    State(app): State<App>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = match read_post(&headers, body, app.max_body_bytes()) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    let client = connection.map(|Extension(ConnectInfo(address))| address.ip());
    let revalidation = revalidation(&headers);
    let response = app
        .execute_from(
            client,
            authorization(&headers),
            request.data(revalidation.clone()),
        )
        .await;
    respond(&app, &headers, &revalidation, response)
}

fn read_post(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<async_graphql::Request, Refusal> {
    let media_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    if !media_type.is_some_and(|media| media.eq_ignore_ascii_case("application/json")) {
        return Err(Refusal::unsupported_media_type(
            "send the request as Content-Type: application/json",
        ));
    }
    let body = body.map_err(|rejection| match rejection {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
            Refusal::too_large(limit)
        }
        _ => Refusal::bad_request("the request body could not be read"),
    })?;
    if body.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[') {
        return Err(Refusal::bad_request(
            "batches are not supported: send one operation per request",
        ));
    }
    serde_json::from_slice(&body).map_err(|error| {
        Refusal::bad_request(format!(
            "the body is not a GraphQL request ({{\"query\": …, \"variables\": {{…}}}}): {error}"
        ))
    })
}

/// `GET /graphql`: a query as `?query=…&variables=…` (or only its persisted hash in
/// `extensions`) for a client accepting JSON, GraphiQL for a browser asking for HTML.
pub async fn get(
    State(app): State<App>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if wants_html(&headers) {
        return graphiql().into_response();
    }
    let request = match read_get(&uri) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    if request.query.is_empty() && request.extensions.is_empty() {
        return Refusal::bad_request("send the document as ?query=…").into_response();
    }
    let over_get = OverGet {
        operation_name: request.operation_name.clone(),
        refused: Arc::default(),
    };
    let refused = over_get.refused.clone();
    let client = connection.map(|Extension(ConnectInfo(address))| address.ip());
    let revalidation = revalidation(&headers);
    let response = app
        .execute_from(
            client,
            authorization(&headers),
            request.data(over_get).data(revalidation.clone()),
        )
        .await;
    if refused.load(Ordering::Relaxed) {
        return Refusal::method_not_allowed(
            "only queries run over GET: send mutations with POST",
            "POST",
        )
        .into_response();
    }
    respond(&app, &headers, &revalidation, response)
}

fn revalidation(headers: &HeaderMap) -> Revalidation {
    Revalidation::new(
        headers
            .get(IF_NONE_MATCH)
            .and_then(|value| value.to_str().ok()),
    )
}

/// The answer to an order query the response cache looked at carries its version as `ETag`,
/// and must be revalidated before each use (a browser may keep it, a shared cache may not).
fn respond(
    app: &App,
    headers: &HeaderMap,
    revalidation: &Revalidation,
    response: async_graphql::Response,
) -> Response {
    let (mut answer, etag) = match revalidation.outcome() {
        Outcome::Uncached => return answer(headers, response),
        Outcome::NotModified { etag } => (StatusCode::NOT_MODIFIED.into_response(), etag),
        Outcome::Stored { etag, body } => (stored(headers, body), etag),
        Outcome::Executed { etag, key, version } => {
            let body = match serde_json::to_vec(&response) {
                Ok(body) if response.errors.is_empty() => Bytes::from(body),
                _ => return answer(headers, response),
            };
            app.responses().store(key, version, body.clone());
            (stored(headers, body), etag)
        }
    };
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        answer.headers_mut().insert(ETAG, etag);
    }
    answer
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    answer
}

/// The response in the media type the client accepts: `application/graphql-response+json`,
/// unless it asks for `application/json` only (as clients from before the spec do).
fn answer(headers: &HeaderMap, response: async_graphql::Response) -> Response {
    let mut answer = GraphQLResponse::from(response).into_response();
    answer
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(media_type(headers)));
    answer
}

/// A serialised answer, in the media type the client accepts.
fn stored(headers: &HeaderMap, body: Bytes) -> Response {
    ([(CONTENT_TYPE, media_type(headers))], body).into_response()
}

fn media_type(headers: &HeaderMap) -> &'static str {
    if accepted(headers, "application/json") && !accepted(headers, GRAPHQL_RESPONSE) {
        "application/json"
    } else {
        GRAPHQL_RESPONSE
    }
}

/// The parameters of a GraphQL request over `GET`, as the GraphQL-over-HTTP spec names them.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParameters {
    #[serde(default)]
    query: String,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

fn read_get(uri: &Uri) -> Result<async_graphql::Request, Refusal> {
    let Query(parameters) = Query::<GetParameters>::try_from_uri(uri).map_err(|error| {
        Refusal::bad_request(format!(
            "the query string is not a GraphQL request: {}",
            error.body_text()
        ))
    })?;
    let mut request = async_graphql::Request::new(parameters.query).variables(
        async_graphql::Variables::from_json(json("variables", parameters.variables.as_deref())?),
    );
    request.operation_name = parameters.operation_name;
    request.extensions = json("extensions", parameters.extensions.as_deref())?;
    Ok(request)
}

/// A parameter that holds a JSON object; absent, an empty one.
fn json<T: serde::de::DeserializeOwned + Default>(
    name: &str,
    text: Option<&str>,
) -> Result<T, Refusal> {
    text.map(serde_json::from_str)
        .transpose()
        .map_err(|error| Refusal::bad_request(format!("`{name}` is not a JSON object: {error}")))
        .map(Option::unwrap_or_default)
}

/// Any other method on `/graphql`.
pub async fn other_method() -> Refusal {
    Refusal::method_not_allowed("/graphql takes GET (queries) and POST", ALLOWED)
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
}

/// A browser navigating to the endpoint asks for HTML and not for JSON; a GraphQL client
/// asks for JSON, or for anything (`*/*`, or no `Accept` at all).
fn wants_html(headers: &HeaderMap) -> bool {
    accepted(headers, "text/html")
        && !accepted(headers, "application/json")
        && !accepted(headers, GRAPHQL_RESPONSE)
}

/// Whether `Accept` names `media_type` itself (not by a wildcard).
fn accepted(headers: &HeaderMap, media_type: &str) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|entry| entry.split(';').next())
        .any(|media| media.trim().eq_ignore_ascii_case(media_type))
}

fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .finish(),
    )
}
