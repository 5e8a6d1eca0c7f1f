//! ETA changes of order lines, each kept in the line's history.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use entities::{eta_change, order_line};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, TransactionTrait};

use super::{
    MAX_TEXT_CHARS, Written,
    checks::{find_order, line_of, lines_by_number, optional},
    refresh::refresh_order,
};
use crate::{
    error::AppResult,
    store::{
        self,
        events::{self, EventKind},
    },
};

/// A new ETA from the vendor for one line; `eta: None` means the vendor withdrew it.
#[derive(Clone, Debug)]
pub struct EtaUpdate {
    pub order_number: String,
    pub line_number: i32,
    pub eta: Option<NaiveDate>,
    pub reason: Option<String>,
}

/// Applies all the ETA updates or none. A change appends to the line's history; the same
/// value again appends nothing.
pub async fn update_etas(
    db: &impl TransactionTrait,
    updates: Vec<EtaUpdate>,
    now: DateTime<Utc>,
) -> AppResult<Written<Vec<order_line::Model>>> {
    for (index, update) in updates.iter().enumerate() {
        optional(
            &format!("updates[{index}].reason"),
            update.reason.as_deref(),
            MAX_TEXT_CHARS,
        )?;
    }
    store::write(db, |txn| {
        Box::pin(async move {
            let mut changed_orders = HashSet::new();
            let mut result = Vec::with_capacity(updates.len());
            for (index, update) in updates.into_iter().enumerate() {
                let order = find_order(
                    txn,
                    &format!("updates[{index}].orderNumber"),
                    &update.order_number,
                )
                .await?;
                let lines = lines_by_number(txn, order.id).await?;
                let line = line_of(
                    &lines,
                    &format!("updates[{index}].lineNumber"),
                    &order,
                    update.line_number,
                )?
                .clone();
                if line.eta == update.eta {
                    result.push(line);
                    continue;
                }
                record_eta_change(
                    txn,
                    line.id,
                    line.eta,
                    update.eta,
                    update.reason.filter(|reason| !reason.trim().is_empty()),
                    now,
                )
                .await?;
                let mut active: order_line::ActiveModel = line.into();
                active.eta = Set(update.eta);
                result.push(active.update(txn).await?);
                changed_orders.insert(order.id);
            }
            let changed = !changed_orders.is_empty();
            for order_id in changed_orders {
                refresh_order(txn, order_id, now).await?;
            }
            Ok(Written {
                row: result,
                changed,
            })
        })
    })
    .await
}

pub(super) async fn record_eta_change(
    db: &impl ConnectionTrait,
    order_line_id: i64,
    previous_eta: Option<NaiveDate>,
    new_eta: Option<NaiveDate>,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    eta_change::ActiveModel {
        order_line_id: Set(order_line_id),
        previous_eta: Set(previous_eta),
        new_eta: Set(new_eta),
        changed_at: Set(now),
        reason: Set(reason),
        ..Default::default()
    }
    .insert(db)
    .await?;
    events::append_for_line(db, order_line_id, EventKind::EtaChanged, now).await
}
