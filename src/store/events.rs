//! Order events: appended in the transaction of the change, read as a feed in position order.
//!
//! Positions must never appear out of commit order, or a client that stored the last cursor
//! would skip an event committed late under an earlier id. On PostgreSQL, writers append
//! under a transaction-scoped advisory lock, so ids are taken and committed one transaction
//! after the other; SQLite has a single writer anyway. The lock is held only from the first
//! event of a transaction to its commit, which ends every write.

use chrono::{DateTime, Utc};
use entities::{order, order_event, order_line};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
    sea_query::{Expr, ExprTrait, Query},
};

use super::Scope;
use crate::error::AppResult;

/// The kinds of facts the feed carries, stored by their API names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    StatusChanged,
    EtaChanged,
    Shipped,
    Delivered,
    Invoiced,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StatusChanged => "STATUS_CHANGED",
            Self::EtaChanged => "ETA_CHANGED",
            Self::Shipped => "SHIPPED",
            Self::Delivered => "DELIVERED",
            Self::Invoiced => "INVOICED",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [
            Self::StatusChanged,
            Self::EtaChanged,
            Self::Shipped,
            Self::Delivered,
            Self::Invoiced,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == stored)
    }
}

/// The PostgreSQL channel on which writers announce committed events to every instance.
pub const CHANNEL: &str = "order_events";

/// Any number that no other advisory lock of this database uses.
const APPEND_LOCK: i64 = 0x6f72_6465_7273;

async fn before_append(db: &impl ConnectionTrait) -> AppResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        // The NOTIFY is delivered at commit, and only if the transaction commits.
        db.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_advisory_xact_lock({APPEND_LOCK}), pg_notify('{CHANNEL}', '')"),
        ))
        .await?;
    }
    Ok(())
}

/// Appends events of `order` (as it is after the change), each for a line or the whole order.
pub async fn append(
    db: &impl ConnectionTrait,
    order: &order::Model,
    events: &[(EventKind, Option<i64>)],
    now: DateTime<Utc>,
) -> AppResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    before_append(db).await?;
    let rows = events.iter().map(|(kind, line)| order_event::ActiveModel {
        order_id: Set(order.id),
        company_id: Set(order.company_id),
        order_line_id: Set(*line),
        kind: Set(kind.as_str().to_owned()),
        occurred_at: Set(now),
        customer_visible: Set(order.confirmed_at.is_some()),
        ..Default::default()
    });
    order_event::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Appends an event of one line, reading its order in the same statement.
pub async fn append_for_line(
    db: &impl ConnectionTrait,
    order_line_id: i64,
    kind: EventKind,
    now: DateTime<Utc>,
) -> AppResult<()> {
    before_append(db).await?;
    let select = Query::select()
        .column((order::Entity, order::Column::Id))
        .column((order::Entity, order::Column::CompanyId))
        .column((order_line::Entity, order_line::Column::Id))
        .expr(Expr::val(kind.as_str()))
        .expr(Expr::val(now))
        .expr(Expr::col((order::Entity, order::Column::ConfirmedAt)).is_not_null())
        .from(order_line::Entity)
        .inner_join(
            order::Entity,
            Expr::col((order::Entity, order::Column::Id))
                .equals((order_line::Entity, order_line::Column::OrderId)),
        )
        .and_where(Expr::col((order_line::Entity, order_line::Column::Id)).eq(order_line_id))
        .to_owned();
    let insert = Query::insert()
        .into_table(order_event::Entity)
        .columns([
            order_event::Column::OrderId,
            order_event::Column::CompanyId,
            order_event::Column::OrderLineId,
            order_event::Column::Kind,
            order_event::Column::OccurredAt,
            order_event::Column::CustomerVisible,
        ])
        .select_from(select)
        .map_err(|error| anyhow::anyhow!("building the event insert: {error}"))?
        .to_owned();
    db.execute(&insert).await?;
    Ok(())
}

/// Which events a reader gets.
#[derive(Clone, Copy, Debug)]
pub struct Feed {
    pub scope: Scope,
    /// One order's events only.
    pub order_id: Option<i64>,
}

impl Feed {
    /// Customers see their own company's events from the time its orders were approved.
    pub fn condition(self) -> Condition {
        let mut condition = match self.scope {
            Scope::Everything => Condition::all(),
            Scope::Company(company_id) => Condition::all()
                .add(order_event::Column::CompanyId.eq(company_id))
                .add(order_event::Column::CustomerVisible.eq(true)),
            Scope::Nothing => Condition::all().add(Expr::val(false)),
        };
        if let Some(order_id) = self.order_id {
            condition = condition.add(order_event::Column::OrderId.eq(order_id));
        }
        condition
    }

    /// The same rule for an event already in memory.
    pub fn admits(self, event: &order_event::Model) -> bool {
        let scoped = match self.scope {
            Scope::Everything => true,
            Scope::Company(company_id) => event.company_id == company_id && event.customer_visible,
            Scope::Nothing => false,
        };
        scoped
            && self
                .order_id
                .is_none_or(|order_id| event.order_id == order_id)
    }
}

/// Up to `limit` events after position `after`, oldest first.
pub async fn after(
    db: &impl ConnectionTrait,
    feed: Feed,
    after: i64,
    limit: u64,
) -> AppResult<Vec<order_event::Model>> {
    Ok(order_event::Entity::find()
        .filter(order_event::Column::Id.gt(after))
        .filter(feed.condition())
        .order_by_asc(order_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// The newest position, or 0 when there are no events yet.
pub async fn head(db: &impl ConnectionTrait) -> AppResult<i64> {
    let newest: Option<i64> = order_event::Entity::find()
        .select_only()
        .column(order_event::Column::Id)
        .order_by_desc(order_event::Column::Id)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(newest.unwrap_or(0))
}
