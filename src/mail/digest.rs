//! The change mail: when an approved order's ETA moves later or something of it ships, its
//! company's subscribed people get a digest, at most one per order an hour. Built from the
//! order events, so that every write path that changes an order is covered, and queued in
//! the outbox like every other letter.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entities::{eta_change, order, order_event, order_line, product, shipment, user};
use sea_orm::DatabaseConnection;

use crate::{
    domain::{self, account::Role, language::Language},
    error::AppResult,
    mail::letters,
    store::{self, digests, events::EventKind, outbox},
};

/// Customers hear of an order's changes at most this often.
const QUIET: chrono::Duration = chrono::Duration::hours(1);
/// Changes older than this are not mailed any more: the portal shows them.
const FRESH: chrono::Duration = chrono::Duration::days(1);
/// Events looked at per round.
const BATCH: u64 = 1_000;

/// Queues the digests that are due; returns how many orders got one.
pub async fn queue_due(
    db: &DatabaseConnection,
    public_url: &str,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let events = digests::notable_candidates(db, now - FRESH, now - QUIET, BATCH).await?;
    if events.is_empty() {
        return Ok(0);
    }
    let mut by_order: BTreeMap<i64, Vec<order_event::Model>> = BTreeMap::new();
    for event in events {
        by_order.entry(event.order_id).or_default().push(event);
    }
    let facts = Facts::load(db, &by_order).await?;
    let mut queued = 0;
    for (order_id, events) in by_order {
        let Some(order) = facts.orders.get(&order_id) else {
            continue;
        };
        let through = events
            .iter()
            .map(|event| event.id)
            .max()
            .unwrap_or_default();
        let items = |language: Language| -> Vec<String> {
            events
                .iter()
                .filter_map(|event| facts.describe(event, language))
                .collect()
        };
        let txn = store::begin_write(db).await?;
        if items(Language::default()).is_empty() {
            digests::advance(&txn, order_id, through).await?;
        } else if digests::claim(&txn, order_id, through, now, now - QUIET).await? {
            let link = format!("{public_url}/orders/{}", order.order_number);
            for recipient in facts.recipients(order.company_id) {
                let language = Language::of_code(&recipient.language);
                let letter = letters::change_digest(
                    language,
                    &recipient.email,
                    order,
                    order.status,
                    &items(language),
                    &link,
                );
                outbox::enqueue(&txn, letter, now).await?;
            }
            queued += 1;
        }
        txn.commit().await?;
    }
    Ok(queued)
}

/// The words of a digest's lines.
struct Words {
    line: &'static str,
    unknown: &'static str,
    eta_moved_from: &'static str,
    to: &'static str,
    of: &'static str,
    shipped: &'static str,
    on: &'static str,
    with: &'static str,
    no_carrier: &'static str,
    no_tracking: &'static str,
}

impl Words {
    fn of(language: Language) -> Self {
        match language {
            Language::Nl => Self {
                line: "Regel",
                unknown: "onbekend",
                eta_moved_from: "ETA verschoven van",
                to: "naar",
                of: "van",
                shipped: "verzonden",
                on: "op",
                with: "met",
                no_carrier: "vervoerder onbekend",
                no_tracking: "geen trackingnummer",
            },
            Language::En => Self {
                line: "Line",
                unknown: "unknown",
                eta_moved_from: "ETA moved from",
                to: "to",
                of: "of",
                shipped: "shipped",
                on: "on",
                with: "with",
                no_carrier: "carrier unknown",
                no_tracking: "no tracking number",
            },
        }
    }
}

/// What the digests of one round describe, read in one statement per kind of row.
struct Facts {
    orders: HashMap<i64, order::Model>,
    lines: HashMap<i64, (order_line::Model, Option<product::Model>)>,
    /// ETA changes by line and time, to tell a later ETA from an earlier one.
    eta_changes: HashMap<(i64, DateTime<Utc>), eta_change::Model>,
    /// Shipments that carried each line.
    shipments: HashMap<i64, Vec<shipment::Model>>,
    users: Vec<user::Model>,
}

impl Facts {
    async fn load(
        db: &DatabaseConnection,
        by_order: &BTreeMap<i64, Vec<order_event::Model>>,
    ) -> AppResult<Self> {
        let order_ids: Vec<i64> = by_order.keys().copied().collect();
        let line_ids: Vec<i64> = by_order
            .values()
            .flatten()
            .filter_map(|event| event.order_line_id)
            .collect();
        let rows = digests::digest_rows(db, order_ids, line_ids).await?;
        let products: HashMap<i64, product::Model> = rows
            .products
            .into_iter()
            .map(|product| (product.id, product))
            .collect();
        let mut shipments: HashMap<i64, Vec<shipment::Model>> = HashMap::new();
        for (line, shipment) in rows.carried {
            shipments
                .entry(line.order_line_id)
                .or_default()
                .extend(shipment);
        }
        Ok(Self {
            orders: rows
                .orders
                .into_iter()
                .map(|order| (order.id, order))
                .collect(),
            lines: rows
                .lines
                .into_iter()
                .map(|line| {
                    let product = products.get(&line.product_id).cloned();
                    (line.id, (line, product))
                })
                .collect(),
            eta_changes: rows
                .eta_changes
                .into_iter()
                .map(|change| ((change.order_line_id, change.changed_at), change))
                .collect(),
            shipments,
            users: rows.users,
        })
    }

    /// One line of the digest in `language`, or `None` when the event is not worth a mail (an
    /// earlier ETA).
    fn describe(&self, event: &order_event::Model, language: Language) -> Option<String> {
        let words = Words::of(language);
        let line_id = event.order_line_id?;
        let (line, product) = self.lines.get(&line_id)?;
        let what = format!(
            "{} {} ({})",
            words.line,
            line.line_number,
            product.as_ref().map_or("?", |product| product.sku.as_str())
        );
        match EventKind::parse(&event.kind)? {
            EventKind::EtaChanged => {
                let change = self.eta_changes.get(&(line_id, event.occurred_at))?;
                let later = match (change.previous_eta, change.new_eta) {
                    (Some(previous), Some(new)) => new > previous,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                later.then(|| {
                    let shown = |eta: Option<chrono::NaiveDate>| {
                        eta.map_or(words.unknown.to_owned(), |eta| eta.to_string())
                    };
                    let reason = change
                        .reason
                        .as_deref()
                        .map_or(String::new(), |reason| format!(" ({reason})"));
                    format!(
                        "{what}: {} {} {} {}{reason}",
                        words.eta_moved_from,
                        shown(change.previous_eta),
                        words.to,
                        shown(change.new_eta)
                    )
                })
            }
            EventKind::Shipped => {
                let tracking: Vec<String> = self
                    .shipments
                    .get(&line_id)
                    .into_iter()
                    .flatten()
                    .map(|shipment| {
                        let carrier = shipment.carrier.as_deref().unwrap_or(words.no_carrier);
                        let number = shipment
                            .tracking_number
                            .as_deref()
                            .unwrap_or(words.no_tracking);
                        format!(
                            "{} {} {} {} {carrier}, {number}",
                            shipment.shipment_number, words.on, shipment.ship_date, words.with
                        )
                    })
                    .collect();
                Some(format!(
                    "{what}: {} {} {} {}; {}",
                    domain::order::stored_progress(line).shipped,
                    words.of,
                    line.quantity,
                    words.shipped,
                    tracking.join("; ")
                ))
            }
            _ => None,
        }
    }

    /// People of the company who want the mail: their own choice, or by default the
    /// administrators.
    fn recipients(&self, company_id: i64) -> impl Iterator<Item = &user::Model> {
        self.users.iter().filter(move |user| {
            user.company_id == Some(company_id)
                && user
                    .mail_on_change
                    .unwrap_or(user.role == Role::CustomerAdmin)
        })
    }
}
