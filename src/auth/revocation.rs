//! Credentials that end close the connections they opened, on every instance, at once.
//!
//! Whoever ends a credential (logout, a new password, disabling, revoking an API token)
//! names the user it belonged to: to this process with [`Revocations::announce`] after the
//! commit, and to every instance with a PostgreSQL `NOTIFY` sent inside the ending
//! transaction (`store::accounts::announce_ended`). Each open connection watches its own
//! credential: it checks again when its user is named, when the credential expires, and now
//! and then in case a notification was lost. Requests go by the credentials this instance
//! checked lately ([`Checked`]), which forget a user when named, and are not trusted while
//! the listener is down.

use std::{sync::Arc, time::Duration};

use sea_orm::{DatabaseConnection, DbBackend};
use sqlx::postgres::PgListener;
use tokio::sync::{OnceCell, broadcast};

use super::{
    Lapse, Viewer,
    checked::{Checked, Ticket},
    lapsed,
};
use crate::{clock::Clock, store::accounts::ENDED_CHANNEL};

/// Announcements held for a watcher that is busy; one that misses some checks anyway.
const BUFFER: usize = 256;
/// How long the listener waits before listening again after losing its connection.
const RELISTEN: Duration = Duration::from_secs(2);

/// The process's hub of ended credentials.
pub struct Revocations {
    db: DatabaseConnection,
    ended: broadcast::Sender<i64>,
    listening: OnceCell<()>,
    checked: Checked,
}

impl Revocations {
    /// The hub of `db`, whose requests trust a checked credential for up to `recheck`.
    pub fn new(db: DatabaseConnection, recheck: std::time::Duration) -> Self {
        // On PostgreSQL other instances end credentials too: trusted once listening.
        let trusted = db.get_database_backend() != DbBackend::Postgres;
        Self {
            db,
            ended: broadcast::channel(BUFFER).0,
            listening: OnceCell::new(),
            checked: Checked::new(trusted, recheck),
        }
    }

    /// Tells this process's connections that a credential of `user_id` has ended; call it
    /// after the commit, so that their check sees the change.
    pub fn announce(&self, user_id: i64) {
        self.checked.forget(user_id);
        // No receiver is fine: no connection is open.
        let _ = self.ended.send(user_id);
    }

    /// The credentials this instance checked lately.
    pub fn checked(&self) -> &Checked {
        &self.checked
    }

    /// Taken before a request's credential is read from the database, so that what it read
    /// can be kept; `None` while announcements could be missed. Starts listening on first use.
    pub async fn ticket(self: &Arc<Self>) -> Option<Ticket> {
        self.ensure_listening().await;
        self.checked.ticket()
    }

    /// Starts watching for ended credentials: every announcement from the moment this
    /// returns reaches the [`Watch`], from this instance or (on PostgreSQL) any other.
    pub async fn watch(self: &Arc<Self>) -> Watch {
        let ended = self.ended.subscribe();
        self.ensure_listening().await;
        Watch {
            revocations: self.clone(),
            ended,
        }
    }

    /// On PostgreSQL, starts turning other instances' announcements into this process's;
    /// the first connection waits until the database listens, so that nothing announced
    /// after it opened is missed.
    async fn ensure_listening(self: &Arc<Self>) {
        if self.db.get_database_backend() != DbBackend::Postgres {
            return;
        }
        self.listening
            .get_or_init(|| async {
                let listener = self.listener().await;
                if let Err(error) = &listener {
                    tracing::warn!(error = %error, "listening for ended credentials; retrying");
                }
                tokio::spawn(self.clone().listen(listener.ok()));
            })
            .await;
    }

    /// A listener on [`ENDED_CHANNEL`]; checked credentials are trusted from then on.
    async fn listener(&self) -> Result<PgListener, sqlx::Error> {
        let pool = self.db.get_postgres_connection_pool();
        let mut listener = PgListener::connect_with(pool).await?;
        // A lost connection must be seen (the credentials checked meanwhile may have ended),
        // not silently made again.
        listener.eager_reconnect(false);
        listener.listen(ENDED_CHANNEL).await?;
        self.checked.trust();
        Ok(listener)
    }

    async fn listen(self: Arc<Self>, mut listening: Option<PgListener>) {
        loop {
            let listener = match listening.take() {
                Some(listener) => Ok(listener),
                None => self.listener().await,
            };
            let stopped = match listener {
                Ok(mut listener) => loop {
                    match listener.try_recv().await {
                        Ok(Some(notification)) => match notification.payload().parse() {
                            Ok(user_id) => self.announce(user_id),
                            Err(_) => tracing::warn!(
                                payload = notification.payload(),
                                "an ended credential without a user id"
                            ),
                        },
                        Ok(None) => break "the connection was lost".to_owned(),
                        Err(error) => break error.to_string(),
                    }
                },
                Err(error) => error.to_string(),
            };
            self.checked.distrust();
            tracing::warn!(error = %stopped, "listening for ended credentials; retrying");
            // Connections check again by themselves meanwhile (the recheck interval).
            tokio::time::sleep(RELISTEN).await;
        }
    }
}

/// Announcements of ended credentials, as one connection receives them.
pub struct Watch {
    revocations: Arc<Revocations>,
    ended: broadcast::Receiver<i64>,
}

impl Watch {
    /// Waits until `viewer`'s credential lapses, and says why. `recheck` bounds how long a
    /// lost notification goes unnoticed.
    pub async fn lapse(mut self, viewer: &Viewer, clock: &Clock, recheck: Duration) -> Lapse {
        let start = tokio::time::Instant::now() + recheck;
        let mut poll = tokio::time::interval_at(start, recheck);
        loop {
            let until_expiry = viewer
                .expires_at
                .map(|expires_at| (expires_at - clock.now()).to_std().unwrap_or_default());
            let expiry = async {
                match until_expiry {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = expiry => {}
                _ = poll.tick() => {}
                named = self.ended.recv() => {
                    // Another user's credential: nothing to check. A lagged receiver may have
                    // missed its own user's, so it checks.
                    if matches!(named, Ok(user_id) if user_id != viewer.user_id) {
                        continue;
                    }
                }
            }
            match lapsed(&self.revocations.db, viewer, clock.now()).await {
                Ok(Some(lapse)) => return lapse,
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(error = %error, "rechecking a connection's credential")
                }
            }
        }
    }
}
