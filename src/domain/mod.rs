//! Pure business rules of the Customer Portal: no I/O, only values in and values out, so every
//! rule can be unit-tested and reused by resolvers and SQL filters alike. An order's rows enter
//! `order` as plain entity values; the enumerated values (order status, product kind, delivery
//! method, role, user status) are the entities' typed columns, which this module re-exports and
//! owns: the rest of the service names them only through `domain`.

/// A user's role and account status.
pub mod account;
/// Which network addresses a webhook may reach.
pub mod address;
/// Business-day calendar arithmetic and the order-approval deadline.
pub mod business_days;
/// Delivery dates, ETA ranges and the per-line delivery warnings (awaiting hardware, at risk).
pub mod eta;
/// The languages of mail, and the status names customers know in each.
pub mod language;
/// Every derived fact of one order from its rows: progress, statuses, ETA range, expected
/// delivery, awaiting hardware, at risk, money totals.
pub mod order;
/// Order and order-line status derived from quantities, plus the progress figures behind it.
pub mod status;
