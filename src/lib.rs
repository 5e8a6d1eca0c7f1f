//! The Customer Portal: the GraphQL back end where resellers look up their orders, ETAs,
//! shipments, serial numbers and invoices.
//!
//! A tour, from the edge inwards:

/// The application builder and HTTP routes, shared by `main` and the tests.
pub mod app;
/// Permissions, the Viewer, passwords, sessions, onboarding, API tokens.
pub mod auth;
/// A request's budget of SQL statements.
pub mod budget;
/// The service's notion of "now", fixed in tests.
pub mod clock;
/// Configuration read once from the environment.
pub mod config;
/// The demo data set of `serve --demo`.
pub mod demo;
/// Business rules without I/O: statuses, ETA ranges, business days, roles and user statuses,
/// and every fact of an order derived from its rows (`domain::order`).
pub mod domain;
/// The error type and its single mapping to GraphQL codes.
pub mod error;
/// Live order events: the process's tail of the event table, fanned out to subscribers.
pub mod feed;
/// The benchmark data set of `generate --scale N`.
pub mod generate;
/// The GraphQL schema: roots and one file per type.
pub mod graphql;
/// Relay global IDs and feed cursors: the identifiers clients hold, in the API and in webhooks.
pub(crate) mod ids;
/// The bulk import of the ERP feed (JSON Lines).
pub mod import;
/// One DataLoader key per relation, and the per-request cache of each order's facts.
pub mod loaders;
/// The mail outbox's dispatcher and the letters it sends.
pub mod mail;
/// `/metrics`: request counts and latencies by operation, database pool figures.
pub mod metrics;
/// Exact money amounts.
pub mod money;
/// The client's address behind trusted reverse proxies.
pub mod proxies;
/// Serving HTTP: timeouts, and a bounded drain at shutdown.
pub mod server;
/// Every database query, scoped by the caller; the writes, a file per business fact.
pub mod store;
/// Customers' requests for guidance.
pub mod support;
/// The HTTP edge: GraphQL over GET and POST, its failures, CORS, the activation page.
pub mod web;
/// Webhooks: order events POSTed to resellers' own systems, signed, retried, in order.
pub mod webhooks;
