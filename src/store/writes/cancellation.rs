//! Cancelling a whole order or one of its lines, while nothing of it has shipped.

use chrono::{DateTime, Utc};
use entities::{order, order_line};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, TransactionTrait};

use super::{
    Written,
    checks::{find_order, line_of, lines_by_number},
    refresh::refresh_order,
};
use crate::{
    domain::order::stored_progress,
    error::{AppError, AppResult},
    store,
};

/// Cancels the whole order; refused once anything of it has shipped.
pub async fn cancel_order(
    db: &impl TransactionTrait,
    order_number: &str,
    now: DateTime<Utc>,
) -> AppResult<Written<order::Model>> {
    let order_number = order_number.to_owned();
    store::write(db, |txn| {
        Box::pin(async move {
            let order = find_order(txn, "orderNumber", &order_number).await?;
            if order.cancelled_at.is_some() {
                return Ok(Written::unchanged(order));
            }
            if lines_by_number(txn, order.id)
                .await?
                .values()
                .any(|line| stored_progress(line).has_shipped())
            {
                return Err(AppError::Conflict(format!(
                    "order {order_number} has shipped goods: cancel its open lines instead"
                )));
            }
            let mut active: order::ActiveModel = order.into();
            active.cancelled_at = Set(Some(now));
            let order = active.update(txn).await?;
            refresh_order(txn, order.id, now)
                .await
                .map(Written::changed)
        })
    })
    .await
}

/// Cancels one line of which nothing has shipped.
pub async fn cancel_order_line(
    db: &impl TransactionTrait,
    order_number: &str,
    line_number: i32,
    now: DateTime<Utc>,
) -> AppResult<Written<order_line::Model>> {
    let order_number = order_number.to_owned();
    store::write(db, |txn| {
        Box::pin(async move {
            let order = find_order(txn, "orderNumber", &order_number).await?;
            let lines = lines_by_number(txn, order.id).await?;
            let line = line_of(&lines, "lineNumber", &order, line_number)?.clone();
            if line.cancelled_at.is_some() {
                return Ok(Written::unchanged(line));
            }
            if stored_progress(&line).has_shipped() {
                return Err(AppError::Conflict(format!("line {line_number} of order {order_number} has shipped units and cannot be cancelled")));
            }
            let mut active: order_line::ActiveModel = line.into();
            active.cancelled_at = Set(Some(now));
            let line = active.update(txn).await?;
            refresh_order(txn, order.id, now).await?;
            Ok(Written::changed(line))
        })
    })
    .await
}
