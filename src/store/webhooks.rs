//! Webhooks: endpoints scoped by company, the events each still has to receive, and the
//! leases that keep two deliverers from sending one event twice.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entities::{order, order_event, order_line, product, user, webhook, webhook_delivery};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, Statement,
    sea_query::{Expr, ExprTrait, Query},
};

use super::{
    Scope,
    events::{EventKind, Feed},
};
use crate::{domain::account::UserStatus, error::AppResult};

fn within(scope: Scope) -> Condition {
    scope.owns(webhook::Column::CompanyId)
}

/// Endpoints of a company, disabled ones included.
pub async fn count(db: &impl ConnectionTrait, company_id: i64) -> AppResult<u64> {
    Ok(webhook::Entity::find()
        .filter(webhook::Column::CompanyId.eq(company_id))
        .count(db)
        .await?)
}

/// What a new endpoint is.
pub struct NewWebhook<'a> {
    pub company_id: i64,
    pub created_by: i64,
    pub url: &'a str,
    pub kinds: Option<String>,
    pub secret_salt: &'a str,
    /// The feed's newest position: an endpoint gets the events from its creation on.
    pub head: i64,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewWebhook<'_>,
    now: DateTime<Utc>,
) -> AppResult<webhook::Model> {
    Ok(webhook::ActiveModel {
        company_id: Set(new.company_id),
        created_by: Set(new.created_by),
        url: Set(new.url.to_owned()),
        kinds: Set(new.kinds),
        secret_salt: Set(new.secret_salt.to_owned()),
        created_at: Set(now),
        delivered_through: Set(new.head),
        attempts: Set(0),
        failing_since: Set(None),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        disabled_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// The endpoints the scope sees, newest first.
pub async fn list(db: &impl ConnectionTrait, scope: Scope) -> AppResult<Vec<webhook::Model>> {
    Ok(webhook::Entity::find()
        .filter(within(scope))
        .order_by_desc(webhook::Column::Id)
        .all(db)
        .await?)
}

/// One endpoint, if the scope sees it.
pub async fn by_id(
    db: &impl ConnectionTrait,
    scope: Scope,
    id: i64,
) -> AppResult<Option<webhook::Model>> {
    Ok(webhook::Entity::find_by_id(id)
        .filter(within(scope))
        .one(db)
        .await?)
}

/// Deletes an endpoint the scope sees, with its attempts; false when there was none.
pub async fn delete(db: &impl ConnectionTrait, scope: Scope, id: i64) -> AppResult<bool> {
    let deleted = webhook::Entity::delete_many()
        .filter(webhook::Column::Id.eq(id))
        .filter(within(scope))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

/// Up to `limit` attempts of an endpoint older than attempt `before`, newest first.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    webhook_id: i64,
    before: Option<i64>,
    limit: u64,
) -> AppResult<Vec<webhook_delivery::Model>> {
    let mut query =
        webhook_delivery::Entity::find().filter(webhook_delivery::Column::WebhookId.eq(webhook_id));
    if let Some(before) = before {
        query = query.filter(webhook_delivery::Column::Id.lt(before));
    }
    Ok(query
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// An endpoint's company has an event after its position that its customers see (the rule of
/// the change feed, `Feed::condition`). Of any kind: the deliverer moves an endpoint past the
/// kinds it did not ask for, so that this stays one probe of the company's index.
const HAS_PENDING_EVENT: &str = "EXISTS (SELECT 1 FROM order_events e \
     WHERE e.company_id = webhooks.company_id AND e.id > webhooks.delivered_through \
     AND e.customer_visible)";

/// Claims up to `limit` endpoints that are due until `lease` (a value unique to this claim).
/// An endpoint is due when it is enabled, has an event waiting, its retry time has come, no
/// other deliverer holds it, and the person who made it is still an active administrator (or
/// back office): an endpoint does not outlive its creator's access, as API tokens do not.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<webhook::Model>> {
    let creators = Query::select()
        .column(user::Column::Id)
        .from(user::Entity)
        .and_where(user::Column::Status.eq(UserStatus::Active))
        .and_where(user::Column::Role.is_in(["CUSTOMER_ADMIN", "BACK_OFFICE"]))
        .to_owned();
    let claimable = Condition::all()
        .add(webhook::Column::DisabledAt.is_null())
        .add(webhook::Column::NextAttemptAt.lte(now))
        .add(
            Condition::any()
                .add(webhook::Column::ClaimedUntil.is_null())
                .add(webhook::Column::ClaimedUntil.lt(now)),
        );
    // Read first: an idle deliverer then writes nothing, which matters to SQLite's single
    // writer since deliverers look every second.
    let due: Vec<i64> = webhook::Entity::find()
        .select_only()
        .column(webhook::Column::Id)
        .filter(claimable.clone())
        .filter(webhook::Column::CreatedBy.in_subquery(creators))
        .filter(Expr::cust(HAS_PENDING_EVENT))
        .order_by_asc(webhook::Column::NextAttemptAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    webhook::Entity::update_many()
        .col_expr(webhook::Column::ClaimedUntil, Expr::value(lease))
        .filter(webhook::Column::Id.is_in(due))
        .filter(claimable)
        .exec(db)
        .await?;
    Ok(webhook::Entity::find()
        .filter(webhook::Column::ClaimedUntil.eq(lease))
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await?)
}

/// Lets other deliverers have the endpoint again, if this claim still holds it, moving it to
/// `skip_to` first when that is further: past events it did not ask for.
pub async fn finish(
    db: &impl ConnectionTrait,
    webhook_id: i64,
    lease: DateTime<Utc>,
    skip_to: Option<i64>,
) -> AppResult<()> {
    let held = Condition::all()
        .add(webhook::Column::Id.eq(webhook_id))
        .add(webhook::Column::ClaimedUntil.eq(lease));
    if let Some(position) = skip_to {
        webhook::Entity::update_many()
            .col_expr(webhook::Column::DeliveredThrough, Expr::value(position))
            .filter(held.clone())
            .filter(webhook::Column::DeliveredThrough.lt(position))
            .exec(db)
            .await?;
    }
    webhook::Entity::update_many()
        .col_expr(
            webhook::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(held)
        .exec(db)
        .await?;
    Ok(())
}

/// The newest event of a company that its customers see; 0 when there is none.
pub async fn visible_head(db: &impl ConnectionTrait, company_id: i64) -> AppResult<i64> {
    let feed = Feed {
        scope: Scope::Company(company_id),
        order_id: None,
    };
    let newest: Option<i64> = order_event::Entity::find()
        .select_only()
        .column(order_event::Column::Id)
        .filter(feed.condition())
        .order_by_desc(order_event::Column::Id)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(newest.unwrap_or(0))
}

/// The kinds an endpoint asked for, as stored; `None`: every kind.
pub fn stored_kinds(kinds: &[EventKind]) -> String {
    kinds
        .iter()
        .map(|kind| kind.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Up to `limit` events an endpoint is still to get, oldest first: the change feed of its
/// company (the same rule as `orderEvents`), of the kinds it asked for.
pub async fn pending(
    db: &impl ConnectionTrait,
    endpoint: &webhook::Model,
    limit: u64,
) -> AppResult<Vec<order_event::Model>> {
    let feed = Feed {
        scope: Scope::Company(endpoint.company_id),
        order_id: None,
    };
    let mut query = order_event::Entity::find()
        .filter(order_event::Column::Id.gt(endpoint.delivered_through))
        .filter(feed.condition());
    if let Some(kinds) = &endpoint.kinds {
        query = query.filter(order_event::Column::Kind.is_in(kinds.split(',')));
    }
    Ok(query
        .order_by_asc(order_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// The orders, and the lines with their products, that `events` are about.
pub struct EventFacts {
    pub orders: HashMap<i64, order::Model>,
    pub lines: HashMap<i64, (order_line::Model, Option<product::Model>)>,
}

pub async fn facts(
    db: &impl ConnectionTrait,
    events: &[order_event::Model],
) -> AppResult<EventFacts> {
    let order_ids: Vec<i64> = events.iter().map(|event| event.order_id).collect();
    let line_ids: Vec<i64> = events
        .iter()
        .filter_map(|event| event.order_line_id)
        .collect();
    let orders = order::Entity::find()
        .filter(order::Column::Id.is_in(order_ids))
        .all(db)
        .await?;
    let lines = if line_ids.is_empty() {
        Vec::new()
    } else {
        order_line::Entity::find()
            .select_also(product::Entity)
            .join(JoinType::LeftJoin, order_line::Relation::Product.def())
            .filter(order_line::Column::Id.is_in(line_ids))
            .all(db)
            .await?
    };
    Ok(EventFacts {
        orders: orders.into_iter().map(|row| (row.id, row)).collect(),
        lines: lines.into_iter().map(|row| (row.0.id, row)).collect(),
    })
}

/// One attempt as it went.
pub struct Attempt<'a> {
    pub webhook_id: i64,
    pub event_id: i64,
    pub attempt: i32,
    pub http_status: Option<i32>,
    pub error: Option<&'a str>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// When the event is tried again; `None` after a 2xx or when the endpoint is disabled.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

async fn log(db: &impl ConnectionTrait, attempt: &Attempt<'_>) -> AppResult<()> {
    webhook_delivery::ActiveModel {
        webhook_id: Set(attempt.webhook_id),
        event_id: Set(attempt.event_id),
        attempt: Set(attempt.attempt),
        http_status: Set(attempt.http_status),
        error: Set(attempt.error.map(|error| error.chars().take(500).collect())),
        started_at: Set(attempt.started_at),
        finished_at: Set(attempt.finished_at),
        next_attempt_at: Set(attempt.next_attempt_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Records a delivered event and moves the endpoint past it, if `lease` still holds it;
/// false when it does not (deleted, or the lease ran out), and then nothing is recorded.
pub async fn delivered(
    db: &impl ConnectionTrait,
    lease: DateTime<Utc>,
    attempt: &Attempt<'_>,
) -> AppResult<bool> {
    let moved = webhook::Entity::update_many()
        .col_expr(
            webhook::Column::DeliveredThrough,
            Expr::value(attempt.event_id),
        )
        .col_expr(webhook::Column::Attempts, Expr::value(0))
        .col_expr(
            webhook::Column::FailingSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(webhook::Column::Id.eq(attempt.webhook_id))
        .filter(webhook::Column::ClaimedUntil.eq(lease))
        .exec(db)
        .await?;
    if moved.rows_affected == 0 {
        return Ok(false);
    }
    log(db, attempt).await?;
    Ok(true)
}

/// Forgets the delivered attempts that finished before `before`.
pub async fn prune_delivered(db: &impl ConnectionTrait, before: DateTime<Utc>) -> AppResult<u64> {
    let pruned = webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::Error.is_null())
        .filter(webhook_delivery::Column::FinishedAt.lt(before))
        .exec(db)
        .await?;
    Ok(pruned.rows_affected)
}

/// Records a failed attempt: the endpoint waits until `attempt.next_attempt_at`, or is
/// disabled when that is `None` (in the transaction that queues the letters about it). False
/// when `lease` no longer holds the endpoint, and then nothing is recorded.
pub async fn failed(
    db: &impl ConnectionTrait,
    lease: DateTime<Utc>,
    attempt: &Attempt<'_>,
) -> AppResult<bool> {
    let mut update = webhook::Entity::update_many()
        .col_expr(webhook::Column::Attempts, Expr::value(attempt.attempt))
        .col_expr(
            webhook::Column::FailingSince,
            Expr::col(webhook::Column::FailingSince).if_null(attempt.started_at),
        )
        .col_expr(
            webhook::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
    update = match attempt.next_attempt_at {
        Some(retry_at) => update.col_expr(webhook::Column::NextAttemptAt, Expr::value(retry_at)),
        None => update.col_expr(
            webhook::Column::DisabledAt,
            Expr::value(attempt.finished_at),
        ),
    };
    let moved = update
        .filter(webhook::Column::Id.eq(attempt.webhook_id))
        .filter(webhook::Column::ClaimedUntil.eq(lease))
        .exec(db)
        .await?;
    if moved.rows_affected == 0 {
        return Ok(false);
    }
    log(db, attempt).await?;
    Ok(true)
}

/// The active administrators of a company, who hear when its endpoint is disabled.
pub async fn administrators(
    db: &impl ConnectionTrait,
    company_id: i64,
) -> AppResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::CompanyId.eq(company_id))
        .filter(user::Column::Role.eq("CUSTOMER_ADMIN"))
        .filter(user::Column::Status.eq(UserStatus::Active))
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?)
}

/// When the oldest event that an endpoint still waits for was recorded (of those that
/// deliver: enabled, their creator active); `None` when
/// every endpoint is up to date.
pub async fn oldest_undelivered(db: &impl ConnectionTrait) -> AppResult<Option<DateTime<Utc>>> {
    // The events of `HAS_PENDING_EVENT` of the kinds asked for (stored comma-separated:
    // wrapping both sides in commas matches whole names), of the endpoints that deliver.
    let sql = "SELECT MIN(e.occurred_at) AS oldest FROM webhooks \
               JOIN order_events e ON e.company_id = webhooks.company_id \
               AND e.id > webhooks.delivered_through AND e.customer_visible \
               AND (webhooks.kinds IS NULL \
                    OR (',' || webhooks.kinds || ',') LIKE ('%,' || e.kind || ',%')) \
               JOIN users u ON u.id = webhooks.created_by AND u.status = 'ACTIVE' \
               AND u.role IN ('CUSTOMER_ADMIN', 'BACK_OFFICE') \
               WHERE webhooks.disabled_at IS NULL";
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?;
    Ok(match row {
        Some(row) if backend == DbBackend::Postgres => row.try_get("", "oldest")?,
        Some(row) => row
            .try_get::<Option<String>>("", "oldest")?
            .and_then(|text| parse_sqlite_time(&text)),
        None => None,
    })
}

/// SQLite keeps timestamps as text in the form SeaORM writes them.
fn parse_sqlite_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .or_else(|| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z").ok())
        .map(|time| time.with_timezone(&Utc))
}
