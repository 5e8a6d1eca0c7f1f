//! The change digest's rows: the order events not yet considered, the digest slot of each
//! order, and what a round of digests describes. The mail policy (how quiet, how fresh, how
//! many) is the caller's, in `mail::digest`.

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

use crate::{domain::account::UserStatus, error::AppResult, store::events::EventKind};

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

/// At most `limit` ETA changes and shipments of approved orders, newer than `fresh_after`,
/// not yet considered, of orders whose last digest was sent no later than `quiet_until`.
pub async fn notable_candidates(
    db: &DatabaseConnection,
    fresh_after: DateTime<Utc>,
    quiet_until: DateTime<Utc>,
    limit: u64,
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
            Expr::col((order_event::Entity, order_event::Column::OccurredAt)).gt(fresh_after),
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
                .add(Expr::col((digest, order_digest::Column::SentAt)).lte(quiet_until)),
        )
        .order_by(
            (order_event::Entity, order_event::Column::Id),
            sea_orm::Order::Asc,
        )
        .limit(limit)
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

/// Takes the order's digest slot, sent `now`, when its last digest was sent no later than
/// `quiet_until`; false when another instance already took it.
pub async fn claim(
    db: &impl ConnectionTrait,
    order_id: i64,
    through: i64,
    now: DateTime<Utc>,
    quiet_until: DateTime<Utc>,
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
                                .lte(quiet_until),
                        ),
                )
                .to_owned(),
        )
        .to_owned();
    Ok(db.execute(&insert).await?.rows_affected() == 1)
}

/// Marks events considered without mailing (nothing in them was worth it).
pub async fn advance(db: &impl ConnectionTrait, order_id: i64, through: i64) -> AppResult<()> {
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

/// What a round of digests describes, one statement per kind of row.
pub struct DigestRows {
    pub orders: Vec<order::Model>,
    pub lines: Vec<order_line::Model>,
    pub products: Vec<product::Model>,
    /// ETA changes of the lines, oldest first.
    pub eta_changes: Vec<eta_change::Model>,
    /// Each line's shipment lines, with their shipments.
    pub carried: Vec<(shipment_line::Model, Option<shipment::Model>)>,
    /// The active users of the orders' companies, by e-mail.
    pub users: Vec<user::Model>,
}

/// The rows behind the digests of `order_ids`, whose events name `line_ids`.
pub async fn digest_rows(
    db: &DatabaseConnection,
    order_ids: Vec<i64>,
    line_ids: Vec<i64>,
) -> AppResult<DigestRows> {
    let orders = order::Entity::find()
        .filter(order::Column::Id.is_in(order_ids))
        .all(db)
        .await?;
    let company_ids: Vec<i64> = orders.iter().map(|order| order.company_id).collect();
    let lines = order_line::Entity::find()
        .filter(order_line::Column::Id.is_in(line_ids.clone()))
        .all(db)
        .await?;
    let products = product::Entity::find()
        .filter(product::Column::Id.is_in(lines.iter().map(|line| line.product_id)))
        .all(db)
        .await?;
    let eta_changes = eta_change::Entity::find()
        .filter(eta_change::Column::OrderLineId.is_in(line_ids.clone()))
        .order_by_asc(eta_change::Column::Id)
        .all(db)
        .await?;
    let carried = shipment_line::Entity::find()
        .find_also_related(shipment::Entity)
        .filter(shipment_line::Column::OrderLineId.is_in(line_ids))
        .all(db)
        .await?;
    let users = user::Entity::find()
        .filter(user::Column::CompanyId.is_in(company_ids))
        .filter(user::Column::Status.eq(UserStatus::Active))
        .order_by_asc(user::Column::Email)
        .all(db)
        .await?;
    Ok(DigestRows {
        orders,
        lines,
        products,
        eta_changes,
        carried,
        users,
    })
}
