//! `/metrics` in the Prometheus text format: GraphQL requests and their latencies by
//! operation, SQL statements, and the database pool. Kept by hand: a few counters do not need a library.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use sea_orm::{DatabaseConnection, DbBackend};

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
/// Operation names are the client's to choose: past this many, the rest count as "other".
const MAX_OPERATIONS: usize = 200;

#[derive(Default)]
struct Operation {
    requests: u64,
    errors: u64,
    /// Requests at or under each bucket's bound (cumulative, as Prometheus wants).
    within: [u64; BUCKETS.len()],
    seconds: f64,
}

/// The counters of one process.
#[derive(Default)]
pub struct Metrics {
    operations: Mutex<BTreeMap<String, Operation>>,
    statements: AtomicU64,
    /// Polled order queries by what the response cache did: hit, miss, 304.
    cache: [AtomicU64; 3],
}

/// What the response cache did with a polled order query.
#[derive(Clone, Copy)]
pub enum CacheOutcome {
    Hit = 0,
    Miss = 1,
    NotModified = 2,
}

impl Metrics {
    /// Counts one SQL statement sent to the database.
    pub fn statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    /// SQL statements sent so far: a benchmark divides their growth by the requests'.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Counts one polled order query.
    pub fn cached(&self, outcome: CacheOutcome) {
        self.cache[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one GraphQL request.
    pub fn observe(&self, operation: Option<&str>, failed: bool, took: Duration) {
        let mut operations = self
            .operations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let name = operation
            .filter(|name| {
                name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .unwrap_or("anonymous");
        let name = if operations.contains_key(name) || operations.len() < MAX_OPERATIONS {
            name
        } else {
            "other"
        };
        let entry = operations.entry(name.to_owned()).or_default();
        let seconds = took.as_secs_f64();
        entry.requests += 1;
        entry.errors += u64::from(failed);
        entry.seconds += seconds;
        for (bound, count) in BUCKETS.iter().zip(entry.within.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
    }

    /// The exposition text.
    pub fn render(&self, db: &DatabaseConnection) -> String {
        let mut out = String::new();
        let operations = self
            .operations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (metric, help, value) in [
            (
                "portal_graphql_requests_total",
                "GraphQL requests by operation name.",
                (|operation| operation.requests) as fn(&Operation) -> u64,
            ),
            (
                "portal_graphql_errors_total",
                "GraphQL requests that answered with errors.",
                |operation| operation.errors,
            ),
        ] {
            header(&mut out, metric, help, "counter");
            for (name, operation) in operations.iter() {
                let _ = writeln!(out, "{metric}{{operation=\"{name}\"}} {}", value(operation));
            }
        }
        header(
            &mut out,
            "portal_graphql_request_seconds",
            "Time to answer a GraphQL request.",
            "histogram",
        );
        for (name, operation) in operations.iter() {
            for (bound, count) in BUCKETS.iter().zip(operation.within) {
                let _ = writeln!(
                    out,
                    "portal_graphql_request_seconds_bucket{{operation=\"{name}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "portal_graphql_request_seconds_bucket{{operation=\"{name}\",le=\"+Inf\"}} {}",
                operation.requests
            );
            let _ = writeln!(
                out,
                "portal_graphql_request_seconds_sum{{operation=\"{name}\"}} {}",
                operation.seconds
            );
            let _ = writeln!(
                out,
                "portal_graphql_request_seconds_count{{operation=\"{name}\"}} {}",
                operation.requests
            );
        }
        let (size, idle) = match db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        };
        for (metric, help, kind, value) in [
            (
                "portal_sql_statements_total",
                "SQL statements sent to the database.",
                "counter",
                self.statements(),
            ),
            (
                "portal_db_pool_connections",
                "Open database connections.",
                "gauge",
                u64::from(size),
            ),
            (
                "portal_db_pool_idle_connections",
                "Open database connections not in use.",
                "gauge",
                idle as u64,
            ),
        ] {
            header(&mut out, metric, help, kind);
            let _ = writeln!(out, "{metric} {value}");
        }
        header(
            &mut out,
            "portal_response_cache_total",
            "Polled order queries by outcome: answered from the cache, executed, or 304.",
            "counter",
        );
        for (outcome, count) in ["hit", "miss", "not_modified"].iter().zip(&self.cache) {
            let _ = writeln!(
                out,
                "portal_response_cache_total{{outcome=\"{outcome}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        out
    }
}

/// The `# HELP` and `# TYPE` lines that open a metric family.
fn header(out: &mut String, metric: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {metric} {help}");
    let _ = writeln!(out, "# TYPE {metric} {kind}");
}
