//! SeaORM entities of the Customer Portal's database: tables and relations only.
//!
//! Money columns end in `_e4`: the amount times 10⁴ as an integer, because SQLite has no exact
//! decimal type and SeaORM would read it back through `f64`. Enumerated columns (roles, user and
//! order statuses, product kinds, delivery methods) are typed by `enums`: stored as the API's
//! SCREAMING_CASE names, decoded when a row is read.

pub mod activation_token;
pub mod api_token;
pub mod company;
pub mod electronic_delivery;
pub mod enums;
pub mod eta_change;
pub mod invoice;
pub mod invoice_line;
pub mod login_failure;
pub mod mail_outbox;
pub mod order;
pub mod order_digest;
pub mod order_event;
pub mod order_line;
pub mod product;
pub mod refresh_token;
pub mod serial_number;
pub mod shipment;
pub mod shipment_line;
pub mod support_request;
pub mod user;
pub mod vendor;
pub mod webhook;
pub mod webhook_delivery;
