//! Live order events: one tail per process that reads newly committed events once and fans
//! them out to every subscriber, who filters them by what it may see.
//!
//! Writers announce commits: on PostgreSQL with `NOTIFY` inside the transaction (so every
//! instance hears of every commit, whoever made it), in one process by [`EventBus::wake`].
//! A slow poll covers a lost notification. The fan-out buffer is bounded: a subscriber that
//! falls further behind than it holds is told so and resumes from its cursor through the
//! `orderEvents` feed, and writers never wait for subscribers.

use std::{sync::Arc, time::Duration};

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
}

impl EventBus {
    /// A tail holding up to `buffer` events for its slowest subscriber.
    pub fn new(db: DatabaseConnection, buffer: usize) -> Self {
        Self {
            db,
            wake: Notify::new(),
            tail: broadcast::channel(buffer).0,
            started: OnceCell::new(),
        }
    }

    /// Tells the tail that events were committed in this process.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Starts the tail on first use; from the moment this returns, every event committed
    /// later than the tail's start reaches [`EventBus::subscribe`]rs.
    async fn ensure_running(self: &Arc<Self>) -> AppResult<()> {
        self.started
            .get_or_try_init(|| async {
                let head = events::head(&self.db).await?;
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
                        for event in batch {
                            last = event.id;
                            // No receiver is fine: nobody is subscribed right now.
                            let _ = self.tail.send(Arc::new(event));
                        }
                        if !full {
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

    /// Turns PostgreSQL notifications, from this instance or any other, into wake-ups.
    async fn listen(self: Arc<Self>) {
        loop {
            let pool = self.db.get_postgres_connection_pool();
            let listening = async {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(CHANNEL).await?;
                loop {
                    listener.recv().await?;
                    self.wake();
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
