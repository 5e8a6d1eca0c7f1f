//! Webhooks: a company's order events POSTed to its own systems, signed, in order, each
//! until a 2xx answer.
//!
//! Each endpoint keeps its position in the change feed. A round claims the due endpoints
//! with a lease in the database (as the mail outbox does), sends each the events after its
//! position, oldest first, and moves the position past each one answered with a 2xx, only
//! while the lease holds. A failure stops that endpoint's round and schedules a retry with
//! exponential back-off and jitter; after `retry_for` of failures the endpoint is disabled and
//! its company's administrators are mailed. A deliverer that dies mid-round leaves its lease
//! to run out, and the next one resends the event that was not recorded.

pub mod client;
pub mod endpoints;
pub mod signing;

use std::{
    fmt::Write as _,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use entities::{order_event, webhook};
use sea_orm::{ActiveEnum, DatabaseConnection};
use serde_json::json;
use tokio::sync::{Notify, Semaphore};

use self::{
    client::{Answer, Client},
    signing::SecretKey,
};
use crate::{
    clock::Clock,
    config::WebhookSettings,
    domain::language::Language,
    error::AppResult,
    feed::EventBus,
    ids::{NodeKind, cursor_of, encode},
    mail::{Mailer, letters},
    store::{
        self, outbox,
        webhooks::{self, Attempt, EventFacts},
    },
};

/// Endpoints claimed per round.
const ENDPOINTS: u64 = 50;
/// Events sent to one endpoint per round: with the 5 s timeout, well inside the lease.
const EVENTS: u64 = 10;
/// How long a claimed endpoint is left to its deliverer before another may take it.
const LEASE: chrono::Duration = chrono::Duration::minutes(2);
/// A quiet deliverer still looks this often, for retries that came due.
const POLL: Duration = Duration::from_secs(1);
/// The first retry waits about this long; each further one twice as long.
const FIRST_BACKOFF_SECONDS: i64 = 5;
/// Longest wait between two tries of one event.
const MAX_BACKOFF_SECONDS: i64 = 60 * 60;
/// How often old delivered attempts are forgotten: a round every second, not a delete.
const PRUNE_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// Headers of every delivery.
pub const EVENT_ID_HEADER: &str = "portal-event-id";
pub const CURSOR_HEADER: &str = "portal-event-cursor";
pub const SIGNATURE_HEADER: &str = "portal-signature";

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Events answered with a 2xx.
    pub delivered: usize,
    /// Attempts that will be retried.
    pub failed: usize,
    /// Endpoints turned off after failing for too long.
    pub disabled: usize,
    /// Some endpoint has more events waiting than one round sends.
    pub more: bool,
}

impl std::ops::AddAssign for Round {
    fn add_assign(&mut self, other: Self) {
        self.delivered += other.delivered;
        self.failed += other.failed;
        self.disabled += other.disabled;
        self.more |= other.more;
    }
}

/// The process's deliverer.
pub struct Deliverer {
    client: Client,
    key: SecretKey,
    settings: WebhookSettings,
    mailer: Arc<Mailer>,
    /// An endpoint's task ended after sending: more may be waiting.
    more: Notify,
    /// Deliveries in flight at once (`WebhookSettings::max_connections`).
    connections: Semaphore,
    delivered: AtomicU64,
    failed: AtomicU64,
    disabled: AtomicU64,
    /// When this process last forgot old delivered attempts.
    pruned: std::sync::Mutex<Option<DateTime<Utc>>>,
}

impl Deliverer {
    pub fn new(settings: &WebhookSettings, key: SecretKey, mailer: Arc<Mailer>) -> Self {
        Self {
            client: Client::new(settings),
            key,
            settings: settings.clone(),
            mailer,
            more: Notify::new(),
            connections: Semaphore::new(settings.max_connections.max(1)),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            disabled: AtomicU64::new(0),
            pruned: std::sync::Mutex::default(),
        }
    }

    /// The rules of endpoints.
    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }

    /// The key that gives each endpoint its signing secret.
    pub fn key(&self) -> &SecretKey {
        &self.key
    }

    /// Sends what is due now to every endpoint, and returns when all are done.
    pub async fn deliver_due(&self, db: &DatabaseConnection, clock: &Clock) -> AppResult<Round> {
        let (claimed, lease) = self.claim(db, clock).await?;
        let rounds = futures_util::future::join_all(
            claimed
                .iter()
                .map(|endpoint| self.serve_endpoint(db, clock, endpoint, lease)),
        )
        .await;
        let mut total = Round::default();
        for round in rounds {
            total += round?;
        }
        self.count(total);
        Ok(total)
    }

    async fn claim(
        &self,
        db: &DatabaseConnection,
        clock: &Clock,
    ) -> AppResult<(Vec<webhook::Model>, DateTime<Utc>)> {
        let now = clock.now();
        self.prune(db, now).await?;
        // Sub-second jitter keeps two instances' leases apart.
        let jitter = chrono::Duration::microseconds(rand::random_range(0..1_000_000));
        let lease = now + LEASE + jitter;
        Ok((webhooks::claim_due(db, now, lease, ENDPOINTS).await?, lease))
    }

    /// Forgets the delivered attempts past their retention, once every [`PRUNE_EVERY`].
    async fn prune(&self, db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<()> {
        {
            let mut pruned = self
                .pruned
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if pruned.is_some_and(|pruned| now - pruned < PRUNE_EVERY) {
                return Ok(());
            }
            *pruned = Some(now);
        }
        let before = now - self.settings.delivered_retention;
        let pruned = webhooks::prune_delivered(db, before).await?;
        if pruned > 0 {
            tracing::info!(
                pruned,
                "forgot delivered webhook attempts past their retention"
            );
        }
        Ok(())
    }

    fn count(&self, round: Round) {
        self.delivered
            .fetch_add(round.delivered as u64, Ordering::Relaxed);
        self.failed
            .fetch_add(round.failed as u64, Ordering::Relaxed);
        self.disabled
            .fetch_add(round.disabled as u64, Ordering::Relaxed);
    }

    /// Starts a task per due endpoint and returns: a slow receiver holds up only its own
    /// endpoint, whose lease keeps the next rounds away from it meanwhile.
    async fn start_round(
        self: &Arc<Self>,
        db: &DatabaseConnection,
        clock: &Clock,
    ) -> AppResult<()> {
        let (claimed, lease) = self.claim(db, clock).await?;
        for endpoint in claimed {
            let (deliverer, db, clock) = (self.clone(), db.clone(), clock.clone());
            tokio::spawn(async move {
                match deliverer
                    .serve_endpoint(&db, &clock, &endpoint, lease)
                    .await
                {
                    Ok(round) => {
                        deliverer.count(round);
                        // Events committed while it sent are not in this batch.
                        if round.more || round.delivered > 0 {
                            deliverer.more.notify_one();
                        }
                    }
                    Err(error) => {
                        tracing::error!(webhook = endpoint.id, error = %error, "webhook round failed");
                    }
                }
            });
        }
        Ok(())
    }

    async fn serve_endpoint(
        &self,
        db: &DatabaseConnection,
        clock: &Clock,
        endpoint: &webhook::Model,
        lease: DateTime<Utc>,
    ) -> AppResult<Round> {
        let mut round = Round::default();
        // Read before the pending events: every event up to it is committed, so once the
        // matching ones are delivered the endpoint can skip the rest up to here.
        let head = webhooks::visible_head(db, endpoint.company_id).await?;
        let events = webhooks::pending(db, endpoint, EVENTS).await?;
        round.more = events.len() as u64 == EVENTS;
        let facts = webhooks::facts(db, &events).await?;
        let secret = self.key.secret(&endpoint.secret_salt);
        let mut attempts = endpoint.attempts;
        for event in &events {
            // The semaphore is never closed, so a permit always comes.
            let _permit = self.connections.acquire().await.ok();
            if clock.now() + chrono::Duration::from_std(self.settings.timeout * 2).unwrap_or(LEASE)
                >= lease
            {
                // Waited so long for a connection that the lease could end mid-send, and
                // another deliverer send this event too: leave it to the next round.
                webhooks::finish(db, endpoint.id, lease, None).await?;
                round.more = true;
                return Ok(round);
            }
            let body = Bytes::from(payload(event, &facts).to_string());
            let started_at = clock.now();
            let headers = [
                (EVENT_ID_HEADER, event.id.to_string()),
                (CURSOR_HEADER, cursor_of(event.id)),
                (
                    SIGNATURE_HEADER,
                    signing::signature(&secret, started_at.timestamp(), &body),
                ),
            ];
            let answer = self.client.post(&endpoint.url, &headers, body).await;
            let finished_at = clock.now();
            attempts += 1;
            let (http_status, error) = match &answer {
                Answer::Status(status) if (200..300).contains(status) => (Some(*status), None),
                Answer::Status(status) => (Some(*status), Some(format!("answered {status}"))),
                Answer::Failed(error) => (None, Some(error.clone())),
            };
            let mut attempt = Attempt {
                webhook_id: endpoint.id,
                event_id: event.id,
                attempt: attempts,
                http_status: http_status.map(i32::from),
                error: error.as_deref(),
                started_at,
                finished_at,
                next_attempt_at: None,
            };
            let Some(error) = &error else {
                if !webhooks::delivered(db, lease, &attempt).await? {
                    // Deleted meanwhile, or the lease ran out: another deliverer carries on.
                    return Ok(round);
                }
                round.delivered += 1;
                attempts = 0;
                continue;
            };
            let failing_since = endpoint
                .failing_since
                .filter(|_| attempts > 1)
                .unwrap_or(started_at);
            if finished_at - failing_since >= self.settings.retry_for {
                self.disable(db, endpoint, lease, &attempt, failing_since, error)
                    .await?;
                round.disabled += 1;
            } else {
                attempt.next_attempt_at = Some(finished_at + backoff(attempts));
                webhooks::failed(db, lease, &attempt).await?;
                round.failed += 1;
            }
            tracing::warn!(
                webhook = endpoint.id,
                event = event.id,
                attempt = attempts,
                error,
                "webhook delivery failed"
            );
            round.more = false;
            return Ok(round);
        }
        let skip_to = (!round.more).then_some(head);
        webhooks::finish(db, endpoint.id, lease, skip_to).await?;
        Ok(round)
    }

    async fn disable(
        &self,
        db: &DatabaseConnection,
        endpoint: &webhook::Model,
        lease: DateTime<Utc>,
        attempt: &Attempt<'_>,
        failing_since: DateTime<Utc>,
        error: &str,
    ) -> AppResult<()> {
        let txn = store::begin_write(db).await?;
        if webhooks::failed(&txn, lease, attempt).await? {
            for admin in webhooks::administrators(&txn, endpoint.company_id).await? {
                let letter = letters::webhook_disabled(
                    Language::of_code(&admin.language),
                    &admin.email,
                    admin.name.as_deref(),
                    &endpoint.url,
                    failing_since,
                    error,
                );
                outbox::enqueue(&txn, letter, attempt.finished_at).await?;
            }
        }
        txn.commit().await?;
        tracing::warn!(
            webhook = endpoint.id,
            url = endpoint.url,
            "webhook disabled after failing for too long"
        );
        self.mailer.wake();
        Ok(())
    }

    /// Delivers until the process ends: when events are committed (on any instance), and
    /// every second for retries that came due.
    pub async fn run(self: Arc<Self>, db: DatabaseConnection, clock: Clock, bus: Arc<EventBus>) {
        let mut events = match bus.subscribe().await {
            Ok(events) => Some(events),
            Err(error) => {
                tracing::error!(error = %error, "webhooks: cannot follow the event feed; polling");
                None
            }
        };
        loop {
            if let Err(error) = self.start_round(&db, &clock).await {
                tracing::error!(error = %error, "webhooks: cannot claim endpoints");
            }
            let committed = async {
                match events.as_mut() {
                    // A lagging receiver only means many events came: a round reads them all.
                    Some(events) => {
                        let _ = events.recv().await;
                        while events.try_recv().is_ok() {}
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = committed => {}
                () = self.more.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// The deliverer's lines of `/metrics`: attempts by outcome since start, and how long the
    /// oldest event an endpoint still waits for has waited.
    pub async fn metrics(&self, db: &DatabaseConnection, now: DateTime<Utc>) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP portal_webhook_deliveries_total Webhook delivery attempts by outcome.\n\
             # TYPE portal_webhook_deliveries_total counter"
        );
        for (outcome, count) in [
            ("delivered", &self.delivered),
            ("failed", &self.failed),
            ("disabled", &self.disabled),
        ] {
            let _ = writeln!(
                out,
                "portal_webhook_deliveries_total{{outcome=\"{outcome}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        match webhooks::oldest_undelivered(db).await {
            Ok(oldest) => {
                let age = oldest.map_or(0.0, |oldest| {
                    (now - oldest).num_milliseconds().max(0) as f64 / 1000.0
                });
                let _ = writeln!(
                    out,
                    "# HELP portal_webhook_oldest_undelivered_seconds Age of the oldest event an enabled webhook still waits for; 0 when none waits.\n\
                     # TYPE portal_webhook_oldest_undelivered_seconds gauge\n\
                     portal_webhook_oldest_undelivered_seconds {age}"
                );
            }
            Err(error) => tracing::error!(error = %error, "webhook metrics"),
        }
        out
    }
}

/// The wait before try `attempts + 1`: doubling from a few seconds up to an hour, with up to
/// half of it taken off at random, so that endpoints that failed together do not come back
/// together.
fn backoff(attempts: i32) -> chrono::Duration {
    let doublings = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let full = FIRST_BACKOFF_SECONDS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_BACKOFF_SECONDS);
    let millis = full * 1000;
    chrono::Duration::milliseconds(millis - rand::random_range(0..=millis / 2))
}

/// The event as the change feed shows it, with its order's number and status and the line
/// concerned.
fn payload(event: &order_event::Model, facts: &EventFacts) -> serde_json::Value {
    let order = facts.orders.get(&event.order_id).map(|order| {
        json!({
            "id": encode(NodeKind::Order, order.id).0,
            "orderNumber": order.order_number,
            "customerReference": order.customer_reference,
            "status": order.status.to_value(),
        })
    });
    let line = event
        .order_line_id
        .and_then(|id| facts.lines.get(&id))
        .map(|(line, product)| {
            json!({
                "id": encode(NodeKind::OrderLine, line.id).0,
                "lineNumber": line.line_number,
                "sku": product.as_ref().map(|product| product.sku.as_str()),
                "quantity": line.quantity,
                "shippedQuantity": line.shipped_quantity,
                "deliveredQuantity": line.delivered_quantity,
                "invoicedQuantity": line.invoiced_quantity,
                "eta": line.eta,
            })
        });
    json!({
        "cursor": cursor_of(event.id),
        "kind": event.kind,
        "occurredAt": event.occurred_at,
        "order": order,
        "orderLine": line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour_with_jitter() {
        for (attempts, full) in [(1, 5), (2, 10), (3, 20), (4, 40), (12, 3600), (40, 3600)] {
            for _ in 0..20 {
                let wait = backoff(attempts).num_milliseconds();
                assert!(
                    (full * 500..=full * 1000).contains(&wait),
                    "attempt {attempts}: {wait} ms"
                );
            }
        }
    }
}
