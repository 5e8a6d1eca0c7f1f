//! Live order events: one tail per process that reads newly committed events once and fans
//! them out to every subscriber, who filters them by what it may see.
//!
//! Writers announce commits: on PostgreSQL with `NOTIFY` inside the transaction (so every
//! instance hears of every commit, whoever made it), in one process by [`EventBus::wake`].
//! A slow poll covers a lost notification. The fan-out buffer is bounded: a subscriber that
//! falls further behind than it holds is told so and resumes from its cursor through the
//! `orderEvents` feed, and writers never wait for subscribers.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use entities::order_event;
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::{Notify, OnceCell, broadcast};

use crate::{
    error::{AppError, AppResult},
    store::{
        Scope,
        events::{self, CHANNEL, Feed},
    },
};

/// Events read from the database per statement.
const PAGE: u64 = 500;
/// How often the tail looks without being told, in case a notification was lost.
const POLL: Duration = Duration::from_secs(2);

/// The process's tail of the event table.
pub struct EventBus {
    db: DatabaseConnection,
    wake: Notify,
    tail: broadcast::Sender<Arc<order_event::Model>>,
    started: OnceCell<()>,
    heard: Mutex<Heard>,
    /// Wake-ups so far, and the count the tail had seen when it last read to the end: while
    /// they differ, committed events may be waiting that the tail has not read yet.
    wakes: AtomicU64,
    read_up_to_wake: AtomicU64,
    /// Writes made in this process, which include writes that append no event (catalogue).
    local_writes: AtomicU64,
}

/// The positions the tail has read, by scope.
#[derive(Default)]
struct Heard {
    /// The head when the tail started: every scope's events up to it are already stored.
    start: i64,
    latest: i64,
    by_company: HashMap<i64, i64>,
}

/// What a scope's stored orders look like as of the events this process has read: equal
/// versions mean equal data (for the same business date and schema).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    /// The position of the scope's last event (or of the head when the tail started).
    pub position: i64,
    /// Writes of this process, which is the only one to know of its catalogue writes.
    pub local_writes: u64,
}

impl EventBus {
    /// A tail holding up to `buffer` events for its slowest subscriber.
    pub fn new(db: DatabaseConnection, buffer: usize) -> Self {
        Self {
            db,
            wake: Notify::new(),
            tail: broadcast::channel(buffer).0,
            started: OnceCell::new(),
            heard: Mutex::default(),
            wakes: AtomicU64::new(0),
            read_up_to_wake: AtomicU64::new(0),
            local_writes: AtomicU64::new(0),
        }
    }

    /// Tells the tail that this process committed a write (with or without events).
    pub fn wake(&self) {
        self.local_writes.fetch_add(1, Ordering::SeqCst);
        self.heard_of_commit();
    }

    /// Tells the tail that events were committed, here or by another instance.
    fn heard_of_commit(&self) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// The version of what `scope` may read, or `None` while a commit this process heard of
    /// is not read yet (or for a scope that sees nothing): then no stored answer is current.
    pub async fn version(self: &Arc<Self>, scope: Scope) -> AppResult<Option<Version>> {
        self.ensure_running().await?;
        let local_writes = self.local_writes.load(Ordering::SeqCst);
        if self.read_up_to_wake.load(Ordering::SeqCst) != self.wakes.load(Ordering::SeqCst) {
            return Ok(None);
        }
        let heard = self.heard.lock().unwrap_or_else(PoisonError::into_inner);
        let position = match scope {
            Scope::Everything => heard.latest,
            Scope::Company(company_id) => heard
                .by_company
                .get(&company_id)
                .copied()
                .unwrap_or(heard.start),
            Scope::Nothing => return Ok(None),
        };
        Ok(Some(Version {
            position,
            local_writes,
        }))
    }

    /// Starts the tail on first use; from the moment this returns, every event committed
    /// later than the tail's start reaches [`EventBus::subscribe`]rs.
    async fn ensure_running(self: &Arc<Self>) -> AppResult<()> {
        self.started
            .get_or_try_init(|| async {
                // Commits announced before the head is read are in it.
                let wakes = self.wakes.load(Ordering::SeqCst);
                let head = events::head(&self.db).await?;
                {
                    let mut heard = self.heard.lock().unwrap_or_else(PoisonError::into_inner);
                    heard.start = head;
                    heard.latest = head;
                }
                self.read_up_to_wake.store(wakes, Ordering::SeqCst);
                tokio::spawn(self.clone().follow(head));
                if self.db.get_database_backend() == DbBackend::Postgres {
                    tokio::spawn(self.clone().listen());
                }
                Ok::<_, AppError>(())
            })
            .await?;
        Ok(())
    }

    /// Live events from now on. Subscribe before reading the backlog from the database: then
    /// every event is in the backlog, on the tail, or both (skip what was seen).
    pub async fn subscribe(
        self: &Arc<Self>,
    ) -> AppResult<broadcast::Receiver<Arc<order_event::Model>>> {
        self.ensure_running().await?;
        Ok(self.tail.subscribe())
    }

    async fn follow(self: Arc<Self>, mut last: i64) {
        loop {
            let wakes = self.wakes.load(Ordering::SeqCst);
            loop {
                match events::after(
                    &self.db,
                    Feed {
                        scope: Scope::Everything,
                        order_id: None,
                    },
                    last,
                    PAGE,
                )
                .await
                {
                    Ok(batch) => {
                        let full = batch.len() as u64 == PAGE;
                        self.record(&batch);
                        for event in batch {
                            last = event.id;
                            // No receiver is fine: nobody is subscribed right now.
                            let _ = self.tail.send(Arc::new(event));
                        }
                        if !full {
                            self.read_up_to_wake.store(wakes, Ordering::SeqCst);
                            break;
                        }
                    }
                    Err(error) => {
                        tracing::error!(error = %error, "reading new order events");
                        break;
                    }
                }
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    fn record(&self, batch: &[order_event::Model]) {
        let mut heard = self.heard.lock().unwrap_or_else(PoisonError::into_inner);
        for event in batch {
            heard.latest = event.id;
            heard.by_company.insert(event.company_id, event.id);
        }
    }

    /// Turns PostgreSQL notifications, from this instance or any other, into wake-ups.
    async fn listen(self: Arc<Self>) {
        loop {
            let pool = self.db.get_postgres_connection_pool();
            let listening = async {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(CHANNEL).await?;
                loop {
                    listener.recv().await?;
                    self.heard_of_commit();
                }
            };
            let result: Result<(), sqlx::Error> = listening.await;
            if let Err(error) = result {
                tracing::warn!(error = %error, "listening for order events; retrying");
            }
            // Whatever was missed meanwhile, the next poll reads.
            tokio::time::sleep(POLL).await;
        }
    }
}
