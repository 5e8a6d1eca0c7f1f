//! What one request may take: a turn among the requests executed at once (its admission),
//! and a budget of SQL statements.
//!
//! A request past its statement budget ends with `QUERY_TOO_COMPLEX` instead of running on.
//! The cost limit refuses most expensive documents before they run; the budget catches
//! whatever the cost could not foresee.
//!
//! The statement counter (the database's metric callback) finds the running request's budget
//! in a task-local; loader batches, which run in tasks of their own, take it along
//! ([`inherit`]).

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use tokio::sync::{Mutex, Notify, OwnedSemaphorePermit, Semaphore};

tokio::task_local! {
    static BUDGET: Arc<StatementBudget>;
}

/// The statements one request may still send.
pub struct StatementBudget {
    limit: u64,
    spent: AtomicU64,
    exceeded: Notify,
}

/// The request sent more statements than its budget allows.
#[derive(Debug)]
pub struct Exceeded {
    pub limit: u64,
}

impl StatementBudget {
    pub fn new(limit: u64) -> Arc<Self> {
        Arc::new(Self {
            limit,
            spent: AtomicU64::new(0),
            exceeded: Notify::new(),
        })
    }

    /// Runs `request` under this budget; it is dropped (ends) once the budget is exceeded.
    pub async fn run<F: Future>(self: Arc<Self>, request: F) -> Result<F::Output, Exceeded> {
        let budget = self.clone();
        BUDGET
            .scope(self, async move {
                tokio::select! {
                    biased;
                    () = budget.exceeded.notified() => Err(Exceeded { limit: budget.limit }),
                    // A request can send its last statements and finish within one poll,
                    // before the notice is seen: what it spent decides, not that race.
                    answer = request => {
                        if budget.spent.load(Ordering::Relaxed) > budget.limit {
                            Err(Exceeded { limit: budget.limit })
                        } else {
                            Ok(answer)
                        }
                    }
                }
            })
            .await
    }

    fn spend(&self) {
        if self.spent.fetch_add(1, Ordering::Relaxed) == self.limit {
            // Stored if the request is not waiting right now: it sees it at its next poll.
            self.exceeded.notify_one();
        }
    }
}

/// Counts a statement against the budget of the request that sent it, if any.
pub fn count_statement() {
    let _ = BUDGET.try_with(|budget| budget.spend());
}

/// `work`, counted against the budget of the request that starts it (for tasks it spawns).
pub fn inherit<F: Future>(work: F) -> impl Future<Output = F::Output> {
    let budget = BUDGET.try_with(Arc::clone).ok();
    async move {
        match budget {
            Some(budget) => BUDGET.scope(budget, work).await,
            None => work.await,
        }
    }
}

/// A request's turn to execute: one of `Limits::concurrent_requests` permits.
pub struct Admission {
    permits: Arc<Semaphore>,
    held: Mutex<Option<OwnedSemaphorePermit>>,
}

impl Admission {
    /// Waits for a turn among `permits`.
    pub async fn enter(permits: Arc<Semaphore>) -> Arc<Self> {
        // The semaphore is never closed, so a permit always comes.
        let held = permits.clone().acquire_owned().await.ok();
        Arc::new(Self {
            permits,
            held: Mutex::new(held),
        })
    }

    /// Gives the turn to another request while `wait` runs (a deliberate delay, which needs
    /// no core), and takes a turn again afterwards.
    pub async fn step_aside<F: Future>(&self, wait: F) -> F::Output {
        let mut held = self.held.lock().await;
        held.take();
        let output = wait.await;
        *held = self.permits.clone().acquire_owned().await.ok();
        output
    }
}
