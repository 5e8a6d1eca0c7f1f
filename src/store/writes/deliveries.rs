//! Units of a line delivered by e-mail.

use entities::{electronic_delivery, order_line};

use super::shipments::products_of;
use crate::domain::eta::DeliveryMethod;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait,
};

use super::{
    MAX_NAME_CHARS, Written,
    checks::{
        Requested, UsesUp, find_order, line_of, lines_by_number, positive, requested_lines,
        require_not_cancelled, required,
    },
    refresh::refresh_order,
};
use crate::{
    error::{AppError, AppResult},
    store::{self},
};

/// Units of a line delivered by e-mail.
#[derive(Clone, Debug)]
pub struct ElectronicDeliveryInput {
    pub order_number: String,
    pub line_number: i32,
    pub quantity: i32,
    pub recipient_email: String,
    pub delivered_at: DateTime<Utc>,
}

/// Records units delivered by e-mail; the same delivery sent again is recorded once.
pub async fn record_electronic_delivery(
    db: &impl TransactionTrait,
    input: ElectronicDeliveryInput,
    now: DateTime<Utc>,
) -> AppResult<Written<order_line::Model>> {
    positive("quantity", input.quantity)?;
    let recipient = required("recipientEmail", &input.recipient_email, MAX_NAME_CHARS)?;
    if !recipient.contains('@') {
        return Err(AppError::bad_input(
            "recipientEmail",
            "`recipientEmail` is not an e-mail address",
        ));
    }
    store::write(db, |txn| {
        Box::pin(async move {
            let order = find_order(txn, "orderNumber", &input.order_number).await?;
            let lines = lines_by_number(txn, order.id).await?;
            let line = line_of(&lines, "lineNumber", &order, input.line_number)?.clone();
            let duplicate = electronic_delivery::Entity::find()
                .filter(electronic_delivery::Column::OrderLineId.eq(line.id))
                .filter(electronic_delivery::Column::DeliveredAt.eq(input.delivered_at))
                .filter(electronic_delivery::Column::RecipientEmail.eq(&recipient))
                .filter(electronic_delivery::Column::Quantity.eq(input.quantity))
                .one(txn)
                .await?;
            if duplicate.is_some() {
                return Ok(Written::unchanged(line));
            }
            require_not_cancelled(&order)?;
            let methods = products_of(txn, &lines).await?;
            // A software line held for its hardware is still delivered when the ERP says it
            // was: the hold says what the customer is shown while nothing was sent.
            let requested = [Requested::single(input.line_number, input.quantity)];
            requested_lines(
                &lines,
                &order,
                &requested,
                UsesUp::Delivering,
                |line, wanted| {
                    if methods.get(&line.product_id) != Some(&DeliveryMethod::Electronic) {
                        return Err(AppError::bad_input(
                            wanted.line_field.clone(),
                            format!(
                                "line {} is a physical product: record a shipment instead",
                                line.line_number
                            ),
                        ));
                    }
                    Ok(())
                },
            )?;
            electronic_delivery::ActiveModel {
                order_line_id: Set(line.id),
                delivered_at: Set(input.delivered_at),
                recipient_email: Set(recipient),
                quantity: Set(input.quantity),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            refresh_order(txn, order.id, now).await?;
            order_line::Entity::find_by_id(line.id)
                .one(txn)
                .await?
                .map(Written::changed)
                .ok_or_else(|| anyhow::anyhow!("order line {} vanished", line.id).into())
        })
    })
    .await
}
