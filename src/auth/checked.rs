//! Credentials this instance has checked lately, so that a dashboard polling with one token
//! costs no statement per request.
//!
//! Ending a credential announces its user ([`super::revocation`]); an entry of that user is
//! forgotten then, on every instance within the notification's delay. An entry is trusted only
//! while this instance hears of every announcement: always on SQLite, whose one process is told
//! in memory; on PostgreSQL while its listener listens (forgetting everything whenever it
//! stops). A check that read the database before an announcement is not kept after it, and
//! every entry is checked again after `recheck`, in case a notification was lost unnoticed.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use super::Viewer;

/// Entries kept at most; past it, those due for a check go, then all.
const CAPACITY: usize = 10_000;

/// The SHA-256 of a presented bearer token: the secret itself is not kept.
pub type Key = [u8; 32];

/// The key of the bearer token `token`.
pub fn key(token: &str) -> Key {
    Sha256::digest(token.as_bytes()).into()
}

/// The process's recently checked credentials.
pub struct Checked {
    recheck: Duration,
    state: Mutex<State>,
}

struct State {
    /// Bumped whenever entries are forgotten: a check that began before read what may have
    /// ended since.
    epoch: u64,
    /// False while announcements may be missed.
    trusted: bool,
    entries: HashMap<Key, Entry>,
}

struct Entry {
    viewer: Viewer,
    checked: Instant,
    /// When the credential must be looked up again anyway (an API token's `lastUsedAt` is due).
    due: Option<DateTime<Utc>>,
}

/// Proof that a check began while the entries could be trusted, at one epoch.
#[derive(Clone, Copy)]
pub struct Ticket(u64);

impl Checked {
    /// Entries trusted from the start (`trusted`) or once a listener says so, kept `recheck`.
    pub fn new(trusted: bool, recheck: Duration) -> Self {
        Self {
            recheck,
            state: Mutex::new(State {
                epoch: 0,
                trusted,
                entries: HashMap::new(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The viewer of the credential `key` if it was checked lately, has not lapsed by `now`
    /// and needs no look-up.
    pub fn viewer(&self, key: &Key, now: DateTime<Utc>) -> Option<Viewer> {
        let state = self.state();
        if !state.trusted {
            return None;
        }
        let entry = state.entries.get(key)?;
        let current = entry.checked.elapsed() < self.recheck
            && entry.viewer.expires_at.is_none_or(|expires| now < expires)
            && entry.due.is_none_or(|due| now < due);
        current.then(|| entry.viewer.clone())
    }

    /// Taken before a credential is read from the database; `None` while not trusted.
    pub fn ticket(&self) -> Option<Ticket> {
        let state = self.state();
        state.trusted.then_some(Ticket(state.epoch))
    }

    /// Keeps a credential checked under `ticket`, unless something was forgotten since.
    pub fn remember(&self, ticket: Ticket, key: Key, viewer: Viewer, due: Option<DateTime<Utc>>) {
        let mut state = self.state();
        if !state.trusted || state.epoch != ticket.0 {
            return;
        }
        if state.entries.len() >= CAPACITY {
            let recheck = self.recheck;
            state
                .entries
                .retain(|_, entry| entry.checked.elapsed() < recheck);
            if state.entries.len() >= CAPACITY {
                state.entries.clear();
            }
        }
        let checked = Instant::now();
        state.entries.insert(
            key,
            Entry {
                viewer,
                checked,
                due,
            },
        );
    }

    /// Forgets the credentials of `user_id`, one of which has ended.
    pub fn forget(&self, user_id: i64) {
        let mut state = self.state();
        state.epoch += 1;
        state
            .entries
            .retain(|_, entry| entry.viewer.user_id != user_id);
    }

    /// Forgets everything and trusts nothing until [`Checked::trust`]: announcements may be
    /// missed from now on.
    pub fn distrust(&self) {
        let mut state = self.state();
        state.epoch += 1;
        state.trusted = false;
        state.entries.clear();
    }

    /// Announcements are heard again; whatever was checked before is not kept.
    pub fn trust(&self) {
        let mut state = self.state();
        state.epoch += 1;
        state.trusted = true;
        state.entries.clear();
    }
}
