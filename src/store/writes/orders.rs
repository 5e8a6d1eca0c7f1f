//! Orders and their lines as the ERP sends them, and their approval by the back office.

use std::collections::{HashMap, HashSet};

use entities::{company, eta_change, order, order_line, product};
use rust_decimal::Decimal;

use super::eta::record_eta_change;
use crate::{
    domain::{order::stored_progress, status::Status},
    money,
};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

use super::{
    MAX_KEY_CHARS, MAX_NAME_CHARS, Written,
    checks::{find_order, optional, positive, require_not_cancelled, required, within},
    refresh::refresh_order,
};
use crate::{
    error::{AppError, AppResult},
    store::{self, bulk},
};

/// An order as the ERP sends it.
#[derive(Clone, Debug)]
pub struct OrderInput {
    pub order_number: String,
    pub customer_number: String,
    pub customer_reference: Option<String>,
    pub order_date: NaiveDate,
    pub requested_delivery_date: Option<NaiveDate>,
    pub currency: String,
    pub lines: Vec<LineInput>,
}

/// One line of an `OrderInput`.
#[derive(Clone, Debug)]
pub struct LineInput {
    pub line_number: i32,
    pub sku: String,
    pub quantity: i32,
    pub unit_price: Decimal,
    pub eta: Option<NaiveDate>,
}

/// A validated order line, ready to store.
#[derive(Clone, Debug, PartialEq)]
struct LineRow {
    line_number: i32,
    product_id: i64,
    quantity: i32,
    unit_price_e4: i64,
    eta: Option<NaiveDate>,
}

/// The order's header as the ERP sends it: company, customer reference, order date,
/// requested delivery date, currency.
type Header = (i64, Option<String>, NaiveDate, Option<NaiveDate>, String);

/// Creates an order, or replaces one the back office has not approved yet. An approved order
/// sent again unchanged is accepted as it is; changed, it is a CONFLICT.
pub async fn upsert_order(
    db: &impl TransactionTrait,
    input: OrderInput,
    now: DateTime<Utc>,
) -> AppResult<Written<order::Model>> {
    let (order_number, customer_number, currency) = validate_order(&input)?;
    store::write(db, |txn| {
        Box::pin(async move {
            let company = company::Entity::find()
                .filter(company::Column::CustomerNumber.eq(&customer_number))
                .one(txn)
                .await?
                .ok_or_else(|| {
                    AppError::bad_input(
                        "input.customerNumber",
                        format!("no customer has number {customer_number:?}"),
                    )
                })?;
            let rows = line_rows(txn, &input.lines).await?;
            let header: Header = (
                company.id,
                input.customer_reference.clone(),
                input.order_date,
                input.requested_delivery_date,
                currency,
            );
            let existing = order::Entity::find()
                .filter(order::Column::OrderNumber.eq(&order_number))
                .one(txn)
                .await?;
            let order = match existing {
                Some(existing) => {
                    let written = replace_order(txn, existing, header, &rows, now).await?;
                    if !written.changed {
                        return Ok(written);
                    }
                    written.row
                }
                None => insert_order(txn, order_number, header, &rows, now).await?,
            };
            refresh_order(txn, order.id, now)
                .await
                .map(Written::changed)
        })
    })
    .await
}

/// Checks what needs no database; answers the trimmed order number, customer number and
/// currency.
fn validate_order(input: &OrderInput) -> AppResult<(String, String, String)> {
    let order_number = required("input.orderNumber", &input.order_number, MAX_KEY_CHARS)?;
    let customer_number = required(
        "input.customerNumber",
        &input.customer_number,
        MAX_KEY_CHARS,
    )?;
    optional(
        "input.customerReference",
        input.customer_reference.as_deref(),
        MAX_NAME_CHARS,
    )?;
    let currency = input.currency.trim().to_owned();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(AppError::bad_input(
            "input.currency",
            "`currency` must be an ISO 4217 code such as EUR",
        ));
    }
    if input.lines.is_empty() {
        return Err(AppError::bad_input(
            "input.lines",
            "an order needs at least one line",
        ));
    }
    let mut seen = HashSet::new();
    for (index, line) in input.lines.iter().enumerate() {
        if line.line_number <= 0 || !seen.insert(line.line_number) {
            return Err(AppError::bad_input(
                format!("input.lines[{index}].lineNumber"),
                format!(
                    "line number {} must be positive and unique within the order",
                    line.line_number
                ),
            ));
        }
        positive(&format!("input.lines[{index}].quantity"), line.quantity)?;
        within(
            &format!("input.lines[{index}].sku"),
            line.sku.trim(),
            MAX_KEY_CHARS,
        )?;
    }
    Ok((order_number, customer_number, currency))
}

/// The sent lines with their products found and prices parsed, by line number.
async fn line_rows(db: &impl ConnectionTrait, lines: &[LineInput]) -> AppResult<Vec<LineRow>> {
    let skus: Vec<&str> = lines.iter().map(|line| line.sku.trim()).collect();
    let products: HashMap<String, i64> = product::Entity::find()
        .filter(product::Column::Sku.is_in(skus))
        .all(db)
        .await?
        .into_iter()
        .map(|product| (product.sku, product.id))
        .collect();
    let mut rows = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let product_id = *products.get(line.sku.trim()).ok_or_else(|| {
            AppError::bad_input(
                format!("input.lines[{index}].sku"),
                format!("no product has SKU {:?}", line.sku),
            )
        })?;
        let unit_price_e4 = money::to_e4(line.unit_price).ok_or_else(|| {
            AppError::bad_input(
                format!("input.lines[{index}].unitPrice"),
                "`unitPrice` must be zero or more, with at most 4 decimals",
            )
        })?;
        rows.push(LineRow {
            line_number: line.line_number,
            product_id,
            quantity: line.quantity,
            unit_price_e4,
            eta: line.eta,
        });
    }
    rows.sort_by_key(|row| row.line_number);
    Ok(rows)
}

/// Replaces a stored order the back office has not approved yet; one sent again unchanged is
/// left as it is.
async fn replace_order(
    db: &impl ConnectionTrait,
    existing: order::Model,
    header: Header,
    rows: &[LineRow],
    now: DateTime<Utc>,
) -> AppResult<Written<order::Model>> {
    let stored = stored_lines(db, existing.id).await?;
    // An order with shipped or invoiced units counts as approved: its lines carry facts and
    // cannot be replaced.
    let under_way = (stored.iter()).any(|(line, _)| stored_progress(line).is_under_way());
    let approved = existing.confirmed_at.is_some() || existing.cancelled_at.is_some() || under_way;
    // Once approved, a line's ETA belongs to updateEtas: the ERP resending the order with the
    // ETA it first had is not a change.
    let same_line = |stored: &LineRow, sent: &LineRow| {
        stored == sent
            || (approved
                && LineRow {
                    eta: stored.eta,
                    ..sent.clone()
                } == *stored)
    };
    let stored_header: Header = (
        existing.company_id,
        existing.customer_reference.clone(),
        existing.order_date,
        existing.requested_delivery_date,
        existing.currency.clone(),
    );
    let unchanged = stored_header == header
        && stored.len() == rows.len()
        && (stored.iter().zip(rows)).all(|((_, stored), sent)| same_line(stored, sent));
    if unchanged {
        return Ok(Written::unchanged(existing));
    }
    if approved {
        return Err(AppError::Conflict(format!(
            "order {} is already approved, under way or cancelled: change it through \
             updateEtas, cancelOrderLine and the other back-office mutations",
            existing.order_number
        )));
    }
    replace_lines(db, existing.id, &header.4, stored, rows, now).await?;
    let mut active: order::ActiveModel = existing.into();
    active.company_id = Set(header.0);
    active.customer_reference = Set(header.1);
    active.order_date = Set(header.2);
    active.requested_delivery_date = Set(header.3);
    active.currency = Set(header.4);
    Ok(Written::changed(active.update(db).await?))
}

/// Stores a new order, pending approval, with its lines.
async fn insert_order(
    db: &impl ConnectionTrait,
    order_number: String,
    header: Header,
    rows: &[LineRow],
    now: DateTime<Utc>,
) -> AppResult<order::Model> {
    let currency = header.4.clone();
    let order = order::ActiveModel {
        order_number: Set(order_number),
        company_id: Set(header.0),
        customer_reference: Set(header.1),
        order_date: Set(header.2),
        requested_delivery_date: Set(header.3),
        currency: Set(header.4),
        status: Set(Status::PendingApproval),
        received_at: Set(now),
        confirmed_at: Set(None),
        cancelled_at: Set(None),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    replace_lines(db, order.id, &currency, Vec::new(), rows, now).await?;
    Ok(order)
}

async fn stored_lines(
    db: &impl ConnectionTrait,
    order_id: i64,
) -> AppResult<Vec<(order_line::Model, LineRow)>> {
    let lines = order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(order_id))
        .order_by_asc(order_line::Column::LineNumber)
        .all(db)
        .await?;
    Ok(lines
        .into_iter()
        .map(|line| {
            let row = LineRow {
                line_number: line.line_number,
                product_id: line.product_id,
                quantity: line.quantity,
                unit_price_e4: line.unit_price_e4,
                eta: line.eta,
            };
            (line, row)
        })
        .collect())
}

/// Makes the order's lines equal `rows`, keeping the ids of lines whose number stays.
async fn replace_lines(
    db: &impl ConnectionTrait,
    order_id: i64,
    currency: &str,
    stored: Vec<(order_line::Model, LineRow)>,
    rows: &[LineRow],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let wanted: HashMap<i32, &LineRow> = rows.iter().map(|row| (row.line_number, row)).collect();
    let mut kept = HashSet::new();
    for (line, row) in stored {
        match wanted.get(&row.line_number) {
            Some(new) => {
                kept.insert(row.line_number);
                if **new != row || line.currency != currency {
                    if new.eta != line.eta {
                        record_eta_change(
                            db,
                            line.id,
                            line.eta,
                            new.eta,
                            Some("Order updated".into()),
                            now,
                        )
                        .await?;
                    }
                    let mut active: order_line::ActiveModel = line.into();
                    active.product_id = Set(new.product_id);
                    active.quantity = Set(new.quantity);
                    active.unit_price_e4 = Set(new.unit_price_e4);
                    active.currency = Set(currency.to_owned());
                    active.eta = Set(new.eta);
                    active.update(db).await?;
                }
            }
            None => {
                eta_change::Entity::delete_many()
                    .filter(eta_change::Column::OrderLineId.eq(line.id))
                    .exec(db)
                    .await?;
                order_line::Entity::delete_by_id(line.id).exec(db).await?;
            }
        }
    }
    let new_lines: Vec<order_line::ActiveModel> = rows
        .iter()
        .filter(|row| !kept.contains(&row.line_number))
        .map(|row| order_line::ActiveModel {
            order_id: Set(order_id),
            line_number: Set(row.line_number),
            product_id: Set(row.product_id),
            quantity: Set(row.quantity),
            unit_price_e4: Set(row.unit_price_e4),
            currency: Set(currency.to_owned()),
            eta: Set(row.eta),
            cancelled_at: Set(None),
            shipped_quantity: Set(0),
            delivered_quantity: Set(0),
            invoiced_quantity: Set(0),
            ..Default::default()
        })
        .collect();
    bulk::insert_all(db, new_lines).await
}

/// Approves the order: it becomes visible to its customer, CONFIRMED.
pub async fn confirm_order(
    db: &impl TransactionTrait,
    order_number: &str,
    now: DateTime<Utc>,
) -> AppResult<Written<order::Model>> {
    let order_number = order_number.to_owned();
    store::write(db, |txn| {
        Box::pin(async move {
            let order = find_order(txn, "orderNumber", &order_number).await?;
            require_not_cancelled(&order)?;
            if order.confirmed_at.is_some() {
                return Ok(Written::unchanged(order));
            }
            let mut active: order::ActiveModel = order.into();
            active.confirmed_at = Set(Some(now));
            let order = active.update(txn).await?;
            refresh_order(txn, order.id, now)
                .await
                .map(Written::changed)
        })
    })
    .await
}
