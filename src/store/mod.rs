//! The data layer: every database query of the service, each scoped by the caller's `Scope`.

pub mod accounts;
pub mod api_tokens;
pub mod batch;
pub mod bulk;
pub mod digests;
pub mod events;
pub mod login_failures;
pub mod lookups;
pub mod orders;
pub mod outbox;
pub mod support;
pub mod webhooks;
pub mod writes;

use std::{future::Future, pin::Pin, time::Duration};

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionSession, TransactionTrait,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

use crate::error::AppResult;

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

/// How long a SQLite writer waits for the write lock before it gives up. Writers queue for
/// it one at a time, so this bounds the queue, not one write.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

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
        // Write-ahead logging lets readers go on while one writer writes; the busy timeout
        // makes a second writer wait for the lock instead of failing with "database is
        // locked". Every write transaction takes that lock when it begins (`begin_write`).
        // The pool is as large as on PostgreSQL, so that writers waiting their turn do not
        // hold every connection while readers wait for one.
        options.map_sqlx_sqlite_opts(sqlite_options);
    }
    let db = Database::connect(options)
        .await
        .context("DATABASE_URL: cannot connect to the database")?;
    Ok(db)
}

fn sqlite_options(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .journal_mode(SqliteJournalMode::Wal)
        // With write-ahead logging NORMAL loses no committed write to a crashed process, only
        // the last ones to a power cut, and saves an fsync per commit.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
}

/// Begins a transaction that writes. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`): a deferred transaction that reads first cannot wait for the lock when it then
/// writes after another writer committed, and fails at once. PostgreSQL ignores the mode.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Runs `work` in a write transaction (`begin_write`), committed when it succeeds and rolled
/// back when it fails.
pub async fn write<C, T, F>(db: &C, work: F) -> AppResult<T>
where
    C: TransactionTrait,
    T: Send,
    F: for<'c> FnOnce(
            &'c C::Transaction,
        ) -> Pin<Box<dyn Future<Output = AppResult<T>> + Send + 'c>>
        + Send,
{
    let txn = begin_write(db).await?;
    let value = work(&txn).await?;
    txn.commit().await?;
    Ok(value)
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("running database migrations")
}
