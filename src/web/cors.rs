//! Cross-origin access for the portal's pages served from other hosts: the origins of
//! `PORTAL_CORS_ORIGINS` get what a browser needs to `POST` JSON with a bearer token; any
//! other origin gets no CORS headers at all, so its browser refuses to hand over the answer.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    http::{HeaderValue, Method, header},
    middleware::Next,
    response::Response,
};
use tower::{Layer as _, ServiceExt as _};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may keep a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The CORS policy of `/graphql`; the middleware takes a clone for every request, so it is
/// shared rather than copied.
#[derive(Clone)]
pub struct Cors {
    origins: Arc<[HeaderValue]>,
    layer: Arc<CorsLayer>,
}

impl Cors {
    /// The policy for `origins`, as `Config::cors_origins` holds them (already checked).
    pub fn new(origins: &[String]) -> Self {
        let origins: Arc<[HeaderValue]> = origins
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect();
        let layer = CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
            .max_age(PREFLIGHT_MAX_AGE);
        Self {
            origins,
            layer: Arc::new(layer),
        }
    }
}

/// Runs a request from a listed origin through the CORS layer (which answers its preflight)
/// and every other request past it.
pub async fn middleware(State(cors): State<Cors>, request: Request, next: Next) -> Response {
    let listed = request
        .headers()
        .get(header::ORIGIN)
        .is_some_and(|origin| cors.origins.contains(origin));
    if listed {
        return match cors.layer.layer(next).oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    }
    let mut response = next.run(request).await;
    if !cors.origins.is_empty() {
        // The answer differs by origin: a cache must not give this one to a listed origin.
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("origin"));
    }
    response
}
