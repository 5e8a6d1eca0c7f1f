//! The change mail: when an approved order's ETA moves later or something of it ships, its
//! company's subscribed people get a digest, at most one per order an hour. Built from the
//! order events, so that every write path that changes an order is covered, and queued in
//! the outbox like every other letter.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entities::{
    eta_change, order, order_digest, order_event, order_line, product, shipment, shipment_line,
    user,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult,
    JoinType, QueryFilter, QueryOrder,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
};

use crate::{
    auth::Role,
    domain::{self, language::Language, status::Status},
    error::{AppError, AppResult},
    mail::letters,
    store::{self, accounts::STATUS_ACTIVE, events::EventKind, outbox},
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
    let events = notable_candidates(db, now).await?;
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
            advance(&txn, order_id, through).await?;
        } else if claim(&txn, order_id, through, now).await? {
            let link = format!("{public_url}/orders/{}", order.order_number);
            let status: Status = order.status.parse().map_err(|error| {
                AppError::Internal(anyhow::anyhow!("order {}: {error}", order.order_number))
            })?;
            for recipient in facts.recipients(order.company_id) {
                let language = Language::of_code(&recipient.language);
                let letter = letters::change_digest(
                    language,
                    &recipient.email,
                    order,
                    status,
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

#[derive(FromQueryResult)]
struct Candidate {
    id: i64,
    order_id: i64,
    company_id: i64,
    order_line_id: Option<i64>,
    kind: String,
    occurred_at: DateTime<Utc>,
    customer_visible: bool,
}

/// ETA changes and shipments of approved orders not yet considered, of orders whose last
/// digest is an hour old.
async fn notable_candidates(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<Vec<order_event::Model>> {
    let digest = Alias::new("digest");
    let select = Query::select()
        .columns([
            (order_event::Entity, order_event::Column::Id),
            (order_event::Entity, order_event::Column::OrderId),
            (order_event::Entity, order_event::Column::CompanyId),
            (order_event::Entity, order_event::Column::OrderLineId),
            (order_event::Entity, order_event::Column::Kind),
            (order_event::Entity, order_event::Column::OccurredAt),
            (order_event::Entity, order_event::Column::CustomerVisible),
        ])
        .from(order_event::Entity)
        .join_as(
            JoinType::LeftJoin,
            order_digest::Entity,
            digest.clone(),
            Expr::col((digest.clone(), order_digest::Column::OrderId))
                .equals((order_event::Entity, order_event::Column::OrderId)),
        )
        .and_where(
            Expr::col((order_event::Entity, order_event::Column::Kind))
                .is_in([EventKind::EtaChanged.as_str(), EventKind::Shipped.as_str()]),
        )
        .and_where(Expr::col((order_event::Entity, order_event::Column::CustomerVisible)).eq(true))
        .and_where(
            Expr::col((order_event::Entity, order_event::Column::OccurredAt)).gt(now - FRESH),
        )
        .and_where(
            Expr::col((order_event::Entity, order_event::Column::Id)).gt(Expr::expr(Expr::col((
                digest.clone(),
                order_digest::Column::DigestedThrough,
            )))
            .if_null(0)),
        )
        .cond_where(
            Condition::any()
                .add(Expr::col((digest.clone(), order_digest::Column::SentAt)).is_null())
                .add(Expr::col((digest, order_digest::Column::SentAt)).lte(now - QUIET)),
        )
        .order_by(
            (order_event::Entity, order_event::Column::Id),
            sea_orm::Order::Asc,
        )
        .limit(BATCH)
        .to_owned();
    let statement = db.get_database_backend().build(&select);
    let rows = Candidate::find_by_statement(statement).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|row| order_event::Model {
            id: row.id,
            order_id: row.order_id,
            company_id: row.company_id,
            order_line_id: row.order_line_id,
            kind: row.kind,
            occurred_at: row.occurred_at,
            customer_visible: row.customer_visible,
        })
        .collect())
}

/// Takes the order's digest slot for this hour; false when another instance already did.
async fn claim(
    db: &impl ConnectionTrait,
    order_id: i64,
    through: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let insert = Query::insert()
        .into_table(order_digest::Entity)
        .columns([
            order_digest::Column::OrderId,
            order_digest::Column::DigestedThrough,
            order_digest::Column::SentAt,
        ])
        .values([order_id.into(), through.into(), now.into()])
        .map_err(|error| anyhow::anyhow!("building the digest claim: {error}"))?
        .on_conflict(
            OnConflict::column(order_digest::Column::OrderId)
                .update_columns([
                    order_digest::Column::DigestedThrough,
                    order_digest::Column::SentAt,
                ])
                .action_and_where(
                    Expr::col((order_digest::Entity, order_digest::Column::SentAt))
                        .is_null()
                        .or(
                            Expr::col((order_digest::Entity, order_digest::Column::SentAt))
                                .lte(now - QUIET),
                        ),
                )
                .to_owned(),
        )
        .to_owned();
    Ok(db.execute(&insert).await?.rows_affected() == 1)
}

/// Marks events considered without mailing (nothing in them was worth it).
async fn advance(db: &impl ConnectionTrait, order_id: i64, through: i64) -> AppResult<()> {
    let insert = Query::insert()
        .into_table(order_digest::Entity)
        .columns([
            order_digest::Column::OrderId,
            order_digest::Column::DigestedThrough,
        ])
        .values([order_id.into(), through.into()])
        .map_err(|error| anyhow::anyhow!("building the digest advance: {error}"))?
        .on_conflict(
            OnConflict::column(order_digest::Column::OrderId)
                .update_column(order_digest::Column::DigestedThrough)
                .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await?;
    Ok(())
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
        let orders = order::Entity::find()
            .filter(order::Column::Id.is_in(order_ids))
            .all(db)
            .await?;
        let company_ids: Vec<i64> = orders.iter().map(|order| order.company_id).collect();
        let lines = order_line::Entity::find()
            .filter(order_line::Column::Id.is_in(line_ids.clone()))
            .all(db)
            .await?;
        let products: HashMap<i64, product::Model> = product::Entity::find()
            .filter(product::Column::Id.is_in(lines.iter().map(|line| line.product_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|product| (product.id, product))
            .collect();
        let eta_changes = eta_change::Entity::find()
            .filter(eta_change::Column::OrderLineId.is_in(line_ids.clone()))
            .order_by_asc(eta_change::Column::Id)
            .all(db)
            .await?;
        let carried: Vec<(shipment_line::Model, Option<shipment::Model>)> =
            shipment_line::Entity::find()
                .find_also_related(shipment::Entity)
                .filter(shipment_line::Column::OrderLineId.is_in(line_ids))
                .all(db)
                .await?;
        let users = user::Entity::find()
            .filter(user::Column::CompanyId.is_in(company_ids))
            .filter(user::Column::Status.eq(STATUS_ACTIVE))
            .order_by_asc(user::Column::Email)
            .all(db)
            .await?;
        let mut shipments: HashMap<i64, Vec<shipment::Model>> = HashMap::new();
        for (line, shipment) in carried {
            shipments
                .entry(line.order_line_id)
                .or_default()
                .extend(shipment);
        }
        Ok(Self {
            orders: orders.into_iter().map(|order| (order.id, order)).collect(),
            lines: lines
                .into_iter()
                .map(|line| {
                    let product = products.get(&line.product_id).cloned();
                    (line.id, (line, product))
                })
                .collect(),
            eta_changes: eta_changes
                .into_iter()
                .map(|change| ((change.order_line_id, change.changed_at), change))
                .collect(),
            shipments,
            users,
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
                    .unwrap_or(user.role == Role::CustomerAdmin.as_str())
        })
    }
}
