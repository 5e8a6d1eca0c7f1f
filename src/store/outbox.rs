//! The mail outbox: messages are written in the transaction of what caused them and sent after
//! commit by the dispatcher, so that a message is never sent for a change that rolled back,
//! nor lost when sending fails.

use chrono::{DateTime, Utc};
use entities::mail_outbox;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    ExprTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, sea_query::Expr,
};

use crate::error::AppResult;

/// A message to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Letter {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Queues `letter`; call inside the transaction of the change it tells about.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    letter: Letter,
    now: DateTime<Utc>,
) -> AppResult<()> {
    mail_outbox::ActiveModel {
        recipient: Set(letter.to),
        subject: Set(letter.subject),
        body: Set(letter.body),
        created_at: Set(now),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        sent_at: Set(None),
        last_error: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Claims up to `limit` due messages until `lease` (a value unique to this claim) and returns
/// them. A message claimed by another dispatcher is left alone until its lease runs out, so
/// two instances do not send the same message twice.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<mail_outbox::Model>> {
    let claimable = Condition::all()
        .add(mail_outbox::Column::SentAt.is_null())
        .add(mail_outbox::Column::NextAttemptAt.lte(now))
        .add(
            Condition::any()
                .add(mail_outbox::Column::ClaimedUntil.is_null())
                .add(mail_outbox::Column::ClaimedUntil.lt(now)),
        );
    let due = mail_outbox::Entity::find()
        .select_only()
        .column(mail_outbox::Column::Id)
        .filter(claimable.clone())
        .order_by_asc(mail_outbox::Column::Id)
        .limit(limit)
        .into_query();
    mail_outbox::Entity::update_many()
        .col_expr(mail_outbox::Column::ClaimedUntil, Expr::value(lease))
        .filter(mail_outbox::Column::Id.in_subquery(due))
        .filter(claimable)
        .exec(db)
        .await?;
    Ok(mail_outbox::Entity::find()
        .filter(mail_outbox::Column::ClaimedUntil.eq(lease))
        .filter(mail_outbox::Column::SentAt.is_null())
        .order_by_asc(mail_outbox::Column::Id)
        .all(db)
        .await?)
}

/// Records a message as sent.
pub async fn mark_sent(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> AppResult<()> {
    mail_outbox::Entity::update_many()
        .col_expr(mail_outbox::Column::SentAt, Expr::value(now))
        .col_expr(
            mail_outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(mail_outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records a failed send; the message is tried again from `retry_at`.
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    id: i64,
    error: &str,
    retry_at: DateTime<Utc>,
) -> AppResult<()> {
    mail_outbox::Entity::update_many()
        .col_expr(
            mail_outbox::Column::Attempts,
            Expr::col(mail_outbox::Column::Attempts).add(1),
        )
        .col_expr(mail_outbox::Column::NextAttemptAt, Expr::value(retry_at))
        .col_expr(
            mail_outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(mail_outbox::Column::LastError, Expr::value(error))
        .filter(mail_outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
