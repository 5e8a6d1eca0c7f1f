//! Storing what an order's recorded facts make of it: each line's quantities and the
//! order's status, derived by `domain::order`, and the events of what changed.

use entities::{electronic_delivery, invoice_line, order, order_line, shipment, shipment_line};

use crate::domain::{
    self,
    order::{LineUnits, Recorded, ShippedUnits},
    status::LineFacts,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::{
    error::AppResult,
    store::events::{self, EventKind},
};

/// Derives each line's shipped, delivered and invoiced quantities from the shipments,
/// electronic deliveries and invoices, then the order's status from those; stores what
/// changed and moves `updated_at`. The only place these derived columns are written.
pub async fn refresh_order(
    db: &impl ConnectionTrait,
    order_id: i64,
    now: DateTime<Utc>,
) -> AppResult<order::Model> {
    let order = order::Entity::find_by_id(order_id)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("order {order_id} vanished"))?;
    let lines = order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(order_id))
        .order_by_asc(order_line::Column::LineNumber)
        .all(db)
        .await?;
    let recorded = recorded_facts(db, order_id, &lines).await?;
    let progress = domain::order::derive_progress(&lines, &recorded);
    let mut facts = Vec::with_capacity(lines.len());
    let mut happened = Vec::new();
    for line in lines {
        let derived = progress.get(&line.id).copied().unwrap_or_default();
        for (kind, before, after) in [
            (EventKind::Shipped, line.shipped_quantity, derived.shipped),
            (
                EventKind::Delivered,
                line.delivered_quantity,
                derived.delivered,
            ),
            (
                EventKind::Invoiced,
                line.invoiced_quantity,
                derived.invoiced,
            ),
        ] {
            if after > before {
                happened.push((kind, Some(line.id)));
            }
        }
        facts.push(LineFacts {
            cancelled: line.cancelled_at.is_some(),
            progress: derived,
        });
        if (
            line.shipped_quantity,
            line.delivered_quantity,
            line.invoiced_quantity,
        ) != (derived.shipped, derived.delivered, derived.invoiced)
        {
            let mut active: order_line::ActiveModel = line.into();
            active.shipped_quantity = Set(derived.shipped);
            active.delivered_quantity = Set(derived.delivered);
            active.invoiced_quantity = Set(derived.invoiced);
            active.update(db).await?;
        }
    }
    let status = domain::order::order_status(&order, &facts);
    if status != order.status {
        happened.push((EventKind::StatusChanged, None));
    }
    let mut active: order::ActiveModel = order.into();
    active.status = Set(status);
    active.updated_at = Set(now);
    let order = active.update(db).await?;
    events::append(db, &order, &happened, now).await?;
    Ok(order)
}

/// The shipments, e-mail deliveries and invoices recorded for an order's lines.
async fn recorded_facts(
    db: &impl ConnectionTrait,
    order_id: i64,
    lines: &[order_line::Model],
) -> AppResult<Recorded> {
    let line_ids: Vec<i64> = lines.iter().map(|line| line.id).collect();
    let shipped: Vec<(i64, i32, Option<DateTime<Utc>>)> = shipment_line::Entity::find()
        .select_only()
        .column(shipment_line::Column::OrderLineId)
        .column(shipment_line::Column::Quantity)
        .column(shipment::Column::DeliveredAt)
        .inner_join(shipment::Entity)
        // Redundant with the line filter, but it lets the planner reach shipments through
        // their order index; without it, a bulk load with stale statistics scanned the whole
        // shipments table once per record.
        .filter(shipment::Column::OrderId.eq(order_id))
        .filter(shipment_line::Column::OrderLineId.is_in(line_ids.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let emailed: Vec<(i64, i32)> = electronic_delivery::Entity::find()
        .select_only()
        .column(electronic_delivery::Column::OrderLineId)
        .column(electronic_delivery::Column::Quantity)
        .filter(electronic_delivery::Column::OrderLineId.is_in(line_ids.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let invoiced: Vec<(i64, i32)> = invoice_line::Entity::find()
        .select_only()
        .column(invoice_line::Column::OrderLineId)
        .column(invoice_line::Column::Quantity)
        .filter(invoice_line::Column::OrderLineId.is_in(line_ids))
        .into_tuple()
        .all(db)
        .await?;
    let units = |(line_id, quantity)| LineUnits { line_id, quantity };
    Ok(Recorded {
        shipped: shipped
            .into_iter()
            .map(|(line_id, quantity, delivered_at)| ShippedUnits {
                line_id,
                quantity,
                delivered: delivered_at.is_some(),
            })
            .collect(),
        emailed: emailed.into_iter().map(units).collect(),
        invoiced: invoiced.into_iter().map(units).collect(),
    })
}
