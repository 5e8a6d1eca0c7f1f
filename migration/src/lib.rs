//! Database migrations of the Customer Portal; each runs on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_tables;
mod m20261203_000001_accounts_and_access;
mod m20261203_000002_order_events;
mod m20261203_000003_visible_orders_index;
mod m20261203_000004_open_lines_index;
mod m20261204_000001_login_failures;
mod m20261204_000004_user_language;
mod m20261204_000005_webhooks;
mod shape;

/// Applies the migrations in order; `customer-portal migrate` and `serve` run it.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_tables::Migration),
            Box::new(m20261203_000001_accounts_and_access::Migration),
            Box::new(m20261203_000002_order_events::Migration),
            Box::new(m20261203_000003_visible_orders_index::Migration),
            Box::new(m20261203_000004_open_lines_index::Migration),
            Box::new(m20261204_000001_login_failures::Migration),
            Box::new(m20261204_000004_user_language::Migration),
            Box::new(m20261204_000005_webhooks::Migration),
        ]
    }
}
