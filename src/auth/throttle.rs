//! Slowing down and then refusing repeated failed sign-ins, per e-mail address and per client
//! address, so that guessing passwords online is too slow to be worth it.
//!
//! The counters live in the database (`store::login_failures`), so that every instance counts
//! together: spreading attempts over instances gains an attacker nothing, and a restart
//! forgets nothing. Only failures count, and the answer to a refused attempt is the same
//! whether the e-mail address exists or not.

use std::{
    net::IpAddr,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use chrono::{DateTime, Utc};
use entities::login_failure;
use sea_orm::DatabaseConnection;

use crate::{config::LoginThrottlePolicy, error::AppResult, store::login_failures};

/// Failures counted by this process between two deletions of the counters that no longer
/// count.
const FORGET_EVERY: u32 = 100;

/// What is counted: the account asked for, and where the request came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Email(String),
    Client(IpAddr),
}

impl Key {
    fn stored(&self) -> String {
        match self {
            Self::Email(email) => format!("email:{email}"),
            Self::Client(address) => format!("client:{address}"),
        }
    }
}

/// What to do with a sign-in attempt before checking its password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Check it now.
    Go,
    /// Check it after this wait.
    Wait(Duration),
    /// Refuse it without checking, until then.
    Refuse(DateTime<Utc>),
}

/// Failed sign-ins, counted in the database.
#[derive(Debug)]
pub struct LoginThrottle {
    policy: LoginThrottlePolicy,
    since_forgetting: AtomicU32,
}

fn keys(email: &str, client: Option<IpAddr>) -> Vec<Key> {
    let mut keys = vec![Key::Email(email.to_owned())];
    keys.extend(client.map(Key::Client));
    keys
}

impl LoginThrottle {
    pub fn new(policy: LoginThrottlePolicy) -> Self {
        Self {
            policy,
            since_forgetting: AtomicU32::new(0),
        }
    }

    /// Decides about an attempt for the (normalised) `email` from `client`.
    pub async fn verdict(
        &self,
        db: &DatabaseConnection,
        email: &str,
        client: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> AppResult<Verdict> {
        let stored: Vec<String> = keys(email, client).iter().map(Key::stored).collect();
        let counters = login_failures::of(db, &stored).await?;
        Ok(decide(&self.policy, &counters, now))
    }

    /// Counts a failed attempt.
    pub async fn failed(
        &self,
        db: &DatabaseConnection,
        email: &str,
        client: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let window_start = now - self.policy.window;
        for key in keys(email, client) {
            let limit = match key {
                Key::Email(_) => self.policy.lock_email_after,
                Key::Client(_) => self.policy.lock_client_after,
            };
            let limit = i32::try_from(limit).unwrap_or(i32::MAX);
            let refuse_until = now + self.policy.lockout;
            login_failures::count(db, &key.stored(), now, window_start, limit, refuse_until)
                .await?;
        }
        if self.since_forgetting.fetch_add(1, Ordering::Relaxed) + 1 >= FORGET_EVERY {
            self.since_forgetting.store(0, Ordering::Relaxed);
            login_failures::forget_expired(db, window_start, now).await?;
        }
        Ok(())
    }

    /// A successful sign-in clears its e-mail address; the client's count stays, so that one
    /// account of the attacker's own cannot reset the count for guessing others.
    pub async fn succeeded(&self, db: &DatabaseConnection, email: &str) -> AppResult<()> {
        login_failures::clear(db, &Key::Email(email.to_owned()).stored()).await
    }
}

/// The verdict of the stored counters of an attempt's keys.
fn decide(
    policy: &LoginThrottlePolicy,
    counters: &[login_failure::Model],
    now: DateTime<Utc>,
) -> Verdict {
    let mut wait = Duration::ZERO;
    for counter in counters {
        if let Some(until) = counter.refused_until
            && until > now
        {
            return Verdict::Refuse(until);
        }
        if counter.since + policy.window <= now {
            continue;
        }
        let failures = u32::try_from(counter.failures).unwrap_or_default();
        let beyond = failures.saturating_sub(policy.delay_after);
        wait = wait.max(policy.delay.saturating_mul(beyond));
    }
    match wait.min(policy.max_delay) {
        Duration::ZERO => Verdict::Go,
        wait => Verdict::Wait(wait),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn counter(
        failures: i32,
        since: DateTime<Utc>,
        refused_until: Option<DateTime<Utc>>,
    ) -> login_failure::Model {
        login_failure::Model {
            key: "email:a@x.example".into(),
            failures,
            since,
            refused_until,
        }
    }

    #[test]
    fn failures_first_slow_down_then_refuse() {
        let policy = LoginThrottlePolicy::default();
        let ms = |ms| Verdict::Wait(Duration::from_millis(ms));
        let cases = [
            (0, Verdict::Go),
            (3, Verdict::Go),
            (4, ms(500)),
            (9, ms(3000)),
            (12, ms(4000)),
        ];
        for (failures, expected) in cases {
            assert_eq!(
                decide(&policy, &[counter(failures, noon(), None)], noon()),
                expected,
                "{failures} failures"
            );
        }
        let until = noon() + chrono::Duration::minutes(15);
        assert_eq!(
            decide(&policy, &[counter(10, noon(), Some(until))], noon()),
            Verdict::Refuse(until)
        );
        assert_eq!(
            decide(&policy, &[counter(10, noon(), Some(until))], until),
            Verdict::Go
        );
    }

    #[test]
    fn an_old_window_no_longer_counts_and_the_worst_key_decides() {
        let policy = LoginThrottlePolicy::default();
        let later = noon() + chrono::Duration::minutes(16);
        assert_eq!(
            decide(&policy, &[counter(9, noon(), None)], later),
            Verdict::Go
        );
        let both = [counter(4, noon(), None), counter(6, noon(), None)];
        assert_eq!(
            decide(&policy, &both, noon()),
            Verdict::Wait(Duration::from_millis(1500))
        );
    }
}
