//! Slowing down and then refusing repeated failed sign-ins, per e-mail address and per client
//! address, so that guessing passwords online is too slow to be worth it.
//!
//! The counters live in the process: a restart forgets them, and two instances count apart,
//! which at worst doubles an attacker's budget. Only failures count, and the answer to a
//! refused attempt is the same whether the e-mail address exists or not.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use chrono::{DateTime, Utc};

use crate::config::LoginThrottlePolicy;

/// What is counted: the account asked for, and where the request came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Email(String),
    Client(IpAddr),
}

#[derive(Clone, Debug)]
struct Failures {
    count: u32,
    since: DateTime<Utc>,
    refused_until: Option<DateTime<Utc>>,
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

/// The failure counters of one process.
#[derive(Debug)]
pub struct LoginThrottle {
    policy: LoginThrottlePolicy,
    failures: Mutex<HashMap<Key, Failures>>,
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
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Decides about an attempt for the (normalised) `email` from `client`.
    pub fn verdict(&self, email: &str, client: Option<IpAddr>, now: DateTime<Utc>) -> Verdict {
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let mut wait = Duration::ZERO;
        for key in keys(email, client) {
            let Some(entry) = failures.get(&key) else {
                continue;
            };
            if let Some(until) = entry.refused_until
                && until > now
            {
                return Verdict::Refuse(until);
            }
            if entry.since + self.policy.window <= now {
                continue;
            }
            let beyond = entry.count.saturating_sub(self.policy.delay_after);
            wait = wait.max(self.policy.delay.saturating_mul(beyond));
        }
        match wait.min(self.policy.max_delay) {
            Duration::ZERO => Verdict::Go,
            wait => Verdict::Wait(wait),
        }
    }

    /// Counts a failed attempt.
    pub fn failed(&self, email: &str, client: Option<IpAddr>, now: DateTime<Utc>) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() >= self.policy.max_tracked_keys {
            self.forget_oldest(&mut failures, now);
        }
        for key in keys(email, client) {
            let limit = match key {
                Key::Email(_) => self.policy.lock_email_after,
                Key::Client(_) => self.policy.lock_client_after,
            };
            let entry = failures.entry(key).or_insert(Failures {
                count: 0,
                since: now,
                refused_until: None,
            });
            let refusal_over = entry.refused_until.is_some_and(|until| until <= now);
            if entry.since + self.policy.window <= now || refusal_over {
                *entry = Failures {
                    count: 0,
                    since: now,
                    refused_until: None,
                };
            }
            entry.count += 1;
            if entry.count >= limit {
                entry.refused_until = Some(now + self.policy.lockout);
            }
        }
    }

    /// A successful sign-in clears its e-mail address; the client's count stays, so that one
    /// account of the attacker's own cannot reset the count for guessing others.
    pub fn succeeded(&self, email: &str) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&Key::Email(email.to_owned()));
    }

    /// Makes room: first what no longer counts, then e-mail addresses that are not refused
    /// (a flood of made-up addresses must not wash out the client's own count), and client
    /// addresses only as a last resort.
    fn forget_oldest(&self, failures: &mut HashMap<Key, Failures>, now: DateTime<Utc>) {
        let window = self.policy.window;
        let refused = |entry: &Failures| entry.refused_until.is_some_and(|until| until > now);
        failures.retain(|_, entry| entry.since + window > now || refused(entry));
        for clients_too in [false, true] {
            if failures.len() < self.policy.max_tracked_keys {
                return;
            }
            let evictable = |key: &Key, entry: &Failures| {
                !refused(entry) && (clients_too || matches!(key, Key::Email(_)))
            };
            let mut ages: Vec<_> = failures
                .iter()
                .filter(|(key, entry)| evictable(key, entry))
                .map(|(_, entry)| entry.since)
                .collect();
            ages.sort_unstable();
            if let Some(median) = ages.get(ages.len() / 2).copied() {
                failures.retain(|key, entry| !evictable(key, entry) || entry.since > median);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(LoginThrottlePolicy {
            max_tracked_keys: 8,
            ..LoginThrottlePolicy::default()
        })
    }

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    const CLIENT: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7)));

    #[test]
    fn failures_first_slow_down_then_refuse_an_email() {
        let throttle = throttle();
        let mut verdicts = Vec::new();
        for _ in 0..10 {
            verdicts.push(throttle.verdict("a@x.example", None, noon()));
            throttle.failed("a@x.example", None, noon());
        }
        verdicts.push(throttle.verdict("a@x.example", None, noon()));
        let ms = |ms| Verdict::Wait(Duration::from_millis(ms));
        assert_eq!(
            verdicts,
            [
                Verdict::Go,
                Verdict::Go,
                Verdict::Go,
                Verdict::Go,
                ms(500),
                ms(1000),
                ms(1500),
                ms(2000),
                ms(2500),
                ms(3000),
                Verdict::Refuse(noon() + chrono::Duration::minutes(15)),
            ]
        );
        let later = noon() + chrono::Duration::minutes(15);
        assert_eq!(throttle.verdict("a@x.example", None, later), Verdict::Go);
        assert_eq!(throttle.verdict("b@x.example", None, noon()), Verdict::Go);
    }

    #[test]
    fn one_client_guessing_many_emails_is_refused() {
        let throttle = throttle();
        for n in 0..50 {
            throttle.failed(&format!("user{n}@x.example"), CLIENT, noon());
        }
        assert!(matches!(
            throttle.verdict("someone-new@x.example", CLIENT, noon()),
            Verdict::Refuse(_)
        ));
        assert_eq!(
            throttle.verdict("someone-new@x.example", None, noon()),
            Verdict::Go
        );
    }

    #[test]
    fn success_clears_the_email_and_an_old_window_starts_over() {
        let throttle = throttle();
        for _ in 0..5 {
            throttle.failed("a@x.example", None, noon());
        }
        throttle.succeeded("a@x.example");
        assert_eq!(throttle.verdict("a@x.example", None, noon()), Verdict::Go);
        for _ in 0..5 {
            throttle.failed("b@x.example", None, noon());
        }
        let later = noon() + chrono::Duration::minutes(16);
        assert_eq!(throttle.verdict("b@x.example", None, later), Verdict::Go);
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_addresses() {
        let throttle = throttle();
        for n in 0..100 {
            throttle.failed(
                &format!("flood{n}@x.example"),
                None,
                noon() + chrono::Duration::seconds(n),
            );
        }
        let tracked = throttle
            .failures
            .lock()
            .map(|map| map.len())
            .unwrap_or_default();
        assert!(tracked <= 8, "{tracked} keys tracked");
    }
}
