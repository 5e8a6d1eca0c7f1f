//! The data layer: every database query of the service, each scoped by the caller's `Scope`.

pub mod accounts;
pub mod api_tokens;
pub mod batch;
pub mod bulk;
pub mod events;
pub mod login_failures;
pub mod lookups;
pub mod orders;
pub mod outbox;
pub mod support;
pub mod writes;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

/// Which rows a caller may read. Built only from a `Viewer`, so no resolver filters by company
/// on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Back office: every company, including orders not yet approved.
    Everything,
    /// A customer: its own company's approved (confirmed) orders and what hangs off them.
    Company(i64),
    /// Nothing at all.
    Nothing,
}

impl Scope {
    /// The condition on a table whose `company` column says whose row it is.
    pub fn owns(self, company: impl sea_orm::ColumnTrait) -> sea_orm::Condition {
        use sea_orm::{Condition, sea_query::Expr};
        match self {
            Self::Everything => Condition::all(),
            Self::Company(company_id) => Condition::all().add(company.eq(company_id)),
            Self::Nothing => Condition::all().add(Expr::val(false)),
        }
    }
}

/// Opens the pool (sqlx turns on SQLite's foreign keys, so both databases enforce them).
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    connect_with(url, &crate::config::Limits::default()).await
}

/// [`connect`] with the statement and acquire timeouts of `limits`, so that a stalled
/// database makes requests fail fast instead of waiting.
pub async fn connect_with(
    url: &str,
    limits: &crate::config::Limits,
) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .max_connections(16)
        .acquire_timeout(limits.database_acquire_timeout);
    let statement_timeout = limits.database_statement_timeout.as_millis().to_string();
    options.map_sqlx_postgres_opts(move |pg| {
        pg.options([("statement_timeout", statement_timeout.as_str())])
    });
    if url.starts_with("sqlite:") {
        // SQLite allows one writer: a small pool avoids "database is locked" under load.
        options.max_connections(4);
    }
    let db = Database::connect(options)
        .await
        .context("DATABASE_URL: cannot connect to the database")?;
    Ok(db)
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("running database migrations")
}
