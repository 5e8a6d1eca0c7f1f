//! The checks every write shares: text and quantity bounds, finding the order and its lines,
//! and the one validator of the line quantities a shipment, an invoice or an e-mail delivery
//! asks for.

use std::collections::{HashMap, HashSet};

use entities::{order, order_line};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::MAX_KEY_CHARS;
use crate::{
    domain,
    error::{AppError, AppResult},
};

pub(super) fn within(field: &str, value: &str, max_chars: usize) -> AppResult<()> {
    if value.chars().count() > max_chars {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must have at most {max_chars} characters"),
        ));
    }
    Ok(())
}

pub(super) fn optional(field: &str, value: Option<&str>, max_chars: usize) -> AppResult<()> {
    value.map_or(Ok(()), |value| within(field, value, max_chars))
}

pub(super) fn required(field: &str, value: &str, max_chars: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must not be empty"),
        ));
    }
    within(field, value, max_chars)?;
    Ok(value.to_owned())
}

pub(super) fn positive(field: &str, quantity: i32) -> AppResult<()> {
    if quantity <= 0 {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must be at least 1, got {quantity}"),
        ));
    }
    Ok(())
}

pub(super) async fn find_order(
    db: &impl ConnectionTrait,
    field: &str,
    order_number: &str,
) -> AppResult<order::Model> {
    within(field, order_number.trim(), MAX_KEY_CHARS)?;
    order::Entity::find()
        .filter(order::Column::OrderNumber.eq(order_number.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input(field, format!("no order has number {order_number:?}")))
}

/// Refuses a fact for a cancelled order. One the portal has not approved yet is still
/// recorded: the ERP reporting it says the order was processed, and its customer sees it once
/// approved.
pub(super) fn require_not_cancelled(order: &order::Model) -> AppResult<()> {
    if order.cancelled_at.is_some() {
        return Err(AppError::Conflict(format!(
            "order {} is cancelled",
            order.order_number
        )));
    }
    Ok(())
}

pub(super) async fn lines_by_number(
    db: &impl ConnectionTrait,
    order_id: i64,
) -> AppResult<HashMap<i32, order_line::Model>> {
    Ok(order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(order_id))
        .all(db)
        .await?
        .into_iter()
        .map(|line| (line.line_number, line))
        .collect())
}

pub(super) fn line_of<'a>(
    lines: &'a HashMap<i32, order_line::Model>,
    field: &str,
    order: &order::Model,
    line_number: i32,
) -> AppResult<&'a order_line::Model> {
    lines.get(&line_number).ok_or_else(|| {
        AppError::bad_input(
            field,
            format!("order {} has no line {line_number}", order.order_number),
        )
    })
}

/// One order line's units asked for by a fact, with the input fields to name in an error.
pub(super) struct Requested {
    pub line_field: String,
    pub quantity_field: String,
    pub line_number: i32,
    pub quantity: i32,
}

impl Requested {
    /// Item `index` of the input's `lines`.
    pub fn listed(index: usize, line_number: i32, quantity: i32) -> Self {
        Self {
            line_field: format!("input.lines[{index}].lineNumber"),
            quantity_field: format!("input.lines[{index}].quantity"),
            line_number,
            quantity,
        }
    }

    /// The only line of a fact given by top-level arguments.
    pub fn single(line_number: i32, quantity: i32) -> Self {
        Self {
            line_field: "lineNumber".to_owned(),
            quantity_field: "quantity".to_owned(),
            line_number,
            quantity,
        }
    }
}

/// Which of a line's quantities a fact uses up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum UsesUp {
    /// A shipment: units that have not left the warehouse.
    Shipping,
    /// An e-mail delivery: sent is shipped, so the same units as a shipment.
    Delivering,
    /// An invoice: units not invoiced yet.
    Invoicing,
}

impl UsesUp {
    fn remaining(self, line: &order_line::Model) -> i32 {
        match self {
            Self::Shipping | Self::Delivering => domain::order::units_left_to_ship(line),
            Self::Invoicing => domain::order::units_left_to_invoice(line),
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Self::Shipping => "ship",
            Self::Delivering => "deliver",
            Self::Invoicing => "invoice",
        }
    }
}

/// The lines a fact asks for, in its order, once each is known, asked for once, not
/// cancelled, passes `check` (what only one kind of fact needs) and has the units left.
pub(super) fn requested_lines<'a>(
    lines: &'a HashMap<i32, order_line::Model>,
    order: &order::Model,
    requested: &[Requested],
    uses_up: UsesUp,
    check: impl Fn(&order_line::Model, &Requested) -> AppResult<()>,
) -> AppResult<Vec<&'a order_line::Model>> {
    let mut seen = HashSet::new();
    let mut found = Vec::with_capacity(requested.len());
    for wanted in requested {
        let line = line_of(lines, &wanted.line_field, order, wanted.line_number)?;
        if !seen.insert(wanted.line_number) {
            return Err(AppError::bad_input(
                wanted.line_field.clone(),
                format!("line {} appears twice", wanted.line_number),
            ));
        }
        if line.cancelled_at.is_some() {
            return Err(AppError::Conflict(format!(
                "line {} of order {} is cancelled",
                line.line_number, order.order_number
            )));
        }
        check(line, wanted)?;
        let remaining = uses_up.remaining(line);
        if wanted.quantity > remaining {
            return Err(AppError::bad_input(
                wanted.quantity_field.clone(),
                format!(
                    "line {} has {remaining} units left to {}, not {}",
                    line.line_number,
                    uses_up.verb(),
                    wanted.quantity
                ),
            ));
        }
        found.push(line);
    }
    Ok(found)
}
