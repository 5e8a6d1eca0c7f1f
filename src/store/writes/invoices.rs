//! Invoices and their lines.

use std::collections::HashMap;

use entities::{invoice, invoice_line, order, order_line};

use crate::domain;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    TransactionTrait,
};

use super::{
    MAX_KEY_CHARS, Written,
    checks::{
        Requested, UsesUp, find_order, lines_by_number, positive, requested_lines,
        require_not_cancelled, required,
    },
    refresh::refresh_order,
};
use crate::{
    error::{AppError, AppResult},
    store::{self, bulk},
};

/// An invoice for some of an order's quantities.
#[derive(Clone, Debug)]
pub struct InvoiceInput {
    pub invoice_number: String,
    pub order_number: String,
    pub invoice_date: NaiveDate,
    /// (line number, quantity).
    pub lines: Vec<(i32, i32)>,
}

/// Records an invoice. Sent again unchanged it is accepted as it is.
pub async fn record_invoice(
    db: &impl TransactionTrait,
    input: InvoiceInput,
    now: DateTime<Utc>,
) -> AppResult<Written<invoice::Model>> {
    let invoice_number = required("input.invoiceNumber", &input.invoice_number, MAX_KEY_CHARS)?;
    if input.lines.is_empty() {
        return Err(AppError::bad_input(
            "input.lines",
            "an invoice has at least one line",
        ));
    }
    for (index, (_, quantity)) in input.lines.iter().enumerate() {
        positive(&format!("input.lines[{index}].quantity"), *quantity)?;
    }
    store::write(db, |txn| {
        Box::pin(async move {
            let order = find_order(txn, "input.orderNumber", &input.order_number).await?;
            let lines = lines_by_number(txn, order.id).await?;
            if let Some(existing) = invoice::Entity::find()
                .filter(invoice::Column::InvoiceNumber.eq(&invoice_number))
                .one(txn)
                .await?
            {
                return if same_invoice(txn, &existing, &order, &lines, &input).await? {
                    Ok(Written::unchanged(existing))
                } else {
                    Err(AppError::Conflict(format!(
                        "invoice {invoice_number} was already recorded with other contents"
                    )))
                };
            }
            require_not_cancelled(&order)?;
            let requested: Vec<Requested> = (input.lines.iter().enumerate())
                .map(|(index, (line_number, quantity))| {
                    Requested::listed(index, *line_number, *quantity)
                })
                .collect();
            let invoiced =
                requested_lines(&lines, &order, &requested, UsesUp::Invoicing, |_, _| Ok(()))?;
            let mut rows = Vec::with_capacity(invoiced.len());
            for (wanted, line) in requested.iter().zip(invoiced) {
                let amount_e4 =
                    domain::order::line_amount_e4(line, wanted.quantity).ok_or_else(|| {
                        AppError::bad_input(
                            wanted.quantity_field.clone(),
                            "the amount is too large",
                        )
                    })?;
                rows.push((line.id, wanted.quantity, amount_e4));
            }
            let invoice = invoice::ActiveModel {
                invoice_number: Set(invoice_number),
                order_id: Set(order.id),
                invoice_date: Set(input.invoice_date),
                currency: Set(order.currency.clone()),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            let lines: Vec<invoice_line::ActiveModel> = rows
                .into_iter()
                .map(
                    |(order_line_id, quantity, amount_e4)| invoice_line::ActiveModel {
                        invoice_id: Set(invoice.id),
                        order_line_id: Set(order_line_id),
                        quantity: Set(quantity),
                        amount_e4: Set(amount_e4),
                        ..Default::default()
                    },
                )
                .collect();
            bulk::insert_all(txn, lines).await?;
            refresh_order(txn, order.id, now).await?;
            Ok(Written::changed(invoice))
        })
    })
    .await
}

/// Whether a stored invoice is the one `input` describes, line for line.
async fn same_invoice(
    db: &impl ConnectionTrait,
    existing: &invoice::Model,
    order: &order::Model,
    lines: &HashMap<i32, order_line::Model>,
    input: &InvoiceInput,
) -> AppResult<bool> {
    let number_of: HashMap<i64, i32> = lines
        .values()
        .map(|line| (line.id, line.line_number))
        .collect();
    let mut stored: Vec<(i32, i32)> = invoice_line::Entity::find()
        .filter(invoice_line::Column::InvoiceId.eq(existing.id))
        .all(db)
        .await?
        .into_iter()
        .map(|line| {
            let number = number_of.get(&line.order_line_id).copied();
            (number.unwrap_or_default(), line.quantity)
        })
        .collect();
    let mut wanted = input.lines.clone();
    stored.sort();
    wanted.sort();
    Ok(existing.order_id == order.id
        && existing.invoice_date == input.invoice_date
        && stored == wanted)
}
