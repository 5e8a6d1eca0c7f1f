//! The write path for back-office facts. Each function runs in one transaction, is idempotent
//! on its business key, validates everything before writing anything, and ends by deriving
//! the order's quantities and status again from the facts (`refresh_order`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use entities::{
    company, electronic_delivery, eta_change, invoice, invoice_line, order, order_line, product,
    serial_number, shipment, shipment_line, vendor,
};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

use crate::{
    domain::{
        self,
        eta::{DeliveryMethod, ProductKind},
        order::{LineUnits, Recorded, ShippedUnits},
        status::LineFacts,
    },
    error::{AppError, AppResult},
    money,
    store::{
        bulk,
        events::{self, EventKind},
    },
};

/// A vendor as the ERP sends it.
#[derive(Clone, Debug)]
pub struct VendorInput {
    pub name: String,
    pub software_after_hardware: bool,
}

/// A product as the ERP sends it.
#[derive(Clone, Debug)]
pub struct ProductInput {
    pub sku: String,
    pub description: String,
    pub kind: ProductKind,
    pub delivery_method: DeliveryMethod,
    pub vendor_name: String,
}

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

/// A shipment that left the warehouse.
#[derive(Clone, Debug)]
pub struct ShipmentInput {
    pub shipment_number: String,
    pub order_number: String,
    pub ship_date: NaiveDate,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub lines: Vec<ShipmentLineInput>,
}

/// One order line's quantity on a shipment, with a serial per unit for serialised goods.
#[derive(Clone, Debug)]
pub struct ShipmentLineInput {
    pub line_number: i32,
    pub quantity: i32,
    pub serial_numbers: Vec<String>,
}

/// An invoice for some of an order's quantities.
#[derive(Clone, Debug)]
pub struct InvoiceInput {
    pub invoice_number: String,
    pub order_number: String,
    pub invoice_date: NaiveDate,
    /// (line number, quantity).
    pub lines: Vec<(i32, i32)>,
}

/// A new ETA from the vendor for one line; `eta: None` means the vendor withdrew it.
#[derive(Clone, Debug)]
pub struct EtaUpdate {
    pub order_number: String,
    pub line_number: i32,
    pub eta: Option<NaiveDate>,
    pub reason: Option<String>,
}

/// Units of a line delivered by e-mail.
#[derive(Clone, Debug)]
pub struct ElectronicDeliveryInput {
    pub order_number: String,
    pub line_number: i32,
    pub quantity: i32,
    pub recipient_email: String,
    pub delivered_at: DateTime<Utc>,
}

/// What a write left behind, and whether it changed anything: a resent record changes nothing.
#[derive(Clone, Debug)]
pub struct Written<T> {
    pub row: T,
    pub changed: bool,
}

impl<T> Written<T> {
    fn changed(row: T) -> Self {
        Self { row, changed: true }
    }

    fn unchanged(row: T) -> Self {
        Self {
            row,
            changed: false,
        }
    }
}

/// Longest business key (an order, customer, shipment or invoice number, a SKU, a serial or
/// tracking number), in characters.
pub const MAX_KEY_CHARS: usize = 100;
/// Longest name (a vendor's, a carrier's), customer reference or e-mail address, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest free text (a product description, the reason of an ETA change, a tracking URL), in
/// characters.
pub const MAX_TEXT_CHARS: usize = 2_000;

fn within(field: &str, value: &str, max_chars: usize) -> AppResult<()> {
    if value.chars().count() > max_chars {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must have at most {max_chars} characters"),
        ));
    }
    Ok(())
}

fn optional(field: &str, value: Option<&str>, max_chars: usize) -> AppResult<()> {
    value.map_or(Ok(()), |value| within(field, value, max_chars))
}

fn required(field: &str, value: &str, max_chars: usize) -> AppResult<String> {
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

fn positive(field: &str, quantity: i32) -> AppResult<()> {
    if quantity <= 0 {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must be at least 1, got {quantity}"),
        ));
    }
    Ok(())
}

/// Creates the vendor or updates its flag.
pub async fn upsert_vendor(
    db: &impl TransactionTrait,
    input: VendorInput,
) -> AppResult<Written<vendor::Model>> {
    let name = required("input.name", &input.name, MAX_NAME_CHARS)?;
    super::write(db, |txn| {
        Box::pin(async move {
            match vendor::Entity::find()
                .filter(vendor::Column::Name.eq(&name))
                .one(txn)
                .await?
            {
                Some(existing)
                    if existing.software_after_hardware == input.software_after_hardware =>
                {
                    Ok(Written::unchanged(existing))
                }
                Some(existing) => {
                    let mut active: vendor::ActiveModel = existing.into();
                    active.software_after_hardware = Set(input.software_after_hardware);
                    Ok(Written::changed(active.update(txn).await?))
                }
                None => Ok(Written::changed(
                    vendor::ActiveModel {
                        name: Set(name),
                        software_after_hardware: Set(input.software_after_hardware),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?,
                )),
            }
        })
    })
    .await
}

/// Creates the product or updates it; the vendor must exist.
pub async fn upsert_product(
    db: &impl TransactionTrait,
    input: ProductInput,
) -> AppResult<Written<product::Model>> {
    let sku = required("input.sku", &input.sku, MAX_KEY_CHARS)?;
    let description = required("input.description", &input.description, MAX_TEXT_CHARS)?;
    let vendor_name = required("input.vendorName", &input.vendor_name, MAX_NAME_CHARS)?;
    super::write(db, |txn| {
        Box::pin(async move {
            let vendor = vendor::Entity::find()
                .filter(vendor::Column::Name.eq(&vendor_name))
                .one(txn)
                .await?
                .ok_or_else(|| {
                    AppError::bad_input(
                        "input.vendorName",
                        format!("no vendor is named {vendor_name:?}"),
                    )
                })?;
            let wanted = (
                description,
                input.kind.as_str().to_owned(),
                input.delivery_method.as_str().to_owned(),
                vendor.id,
            );
            match product::Entity::find()
                .filter(product::Column::Sku.eq(&sku))
                .one(txn)
                .await?
            {
                Some(existing)
                    if (
                        existing.description.clone(),
                        existing.kind.clone(),
                        existing.delivery_method.clone(),
                        existing.vendor_id,
                    ) == wanted =>
                {
                    Ok(Written::unchanged(existing))
                }
                Some(existing) => {
                    let mut active: product::ActiveModel = existing.into();
                    active.description = Set(wanted.0);
                    active.kind = Set(wanted.1);
                    active.delivery_method = Set(wanted.2);
                    active.vendor_id = Set(wanted.3);
                    Ok(Written::changed(active.update(txn).await?))
                }
                None => Ok(Written::changed(
                    product::ActiveModel {
                        sku: Set(sku),
                        description: Set(wanted.0),
                        kind: Set(wanted.1),
                        delivery_method: Set(wanted.2),
                        vendor_id: Set(wanted.3),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?,
                )),
            }
        })
    })
    .await
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

/// Creates an order, or replaces one the back office has not approved yet. An approved order
/// sent again unchanged is accepted as it is; changed, it is a CONFLICT.
pub async fn upsert_order(
    db: &impl TransactionTrait,
    input: OrderInput,
    now: DateTime<Utc>,
) -> AppResult<Written<order::Model>> {
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
    super::write(db, |txn| {
        Box::pin(async move {
            let company = company::Entity::find()
                .filter(company::Column::CustomerNumber.eq(&customer_number))
                .one(txn)
                .await?
                .ok_or_else(|| AppError::bad_input("input.customerNumber", format!("no customer has number {customer_number:?}")))?;
            let skus: Vec<&str> = input.lines.iter().map(|line| line.sku.trim()).collect();
            let products: HashMap<String, i64> = product::Entity::find()
                .filter(product::Column::Sku.is_in(skus.clone()))
                .all(txn)
                .await?
                .into_iter()
                .map(|product| (product.sku, product.id))
                .collect();
            let mut rows = Vec::with_capacity(input.lines.len());
            for (index, line) in input.lines.iter().enumerate() {
                let product_id = *products
                    .get(line.sku.trim())
                    .ok_or_else(|| AppError::bad_input(format!("input.lines[{index}].sku"), format!("no product has SKU {:?}", line.sku)))?;
                let unit_price_e4 = money::to_e4(line.unit_price).ok_or_else(|| {
                    AppError::bad_input(format!("input.lines[{index}].unitPrice"), "`unitPrice` must be zero or more, with at most 4 decimals")
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
            let header = (company.id, input.customer_reference.clone(), input.order_date, input.requested_delivery_date, currency.clone());
            let existing = order::Entity::find().filter(order::Column::OrderNumber.eq(&order_number)).one(txn).await?;
            let order = match existing {
                Some(existing) => {
                    let stored = stored_lines(txn, existing.id).await?;
                    // An order with shipped or invoiced units counts as approved: its lines
                    // carry facts and cannot be replaced.
                    let under_way = stored.iter().any(|(line, _)| line.shipped_quantity > 0 || line.invoiced_quantity > 0);
                    let approved = existing.confirmed_at.is_some() || existing.cancelled_at.is_some() || under_way;
                    // Once approved, a line's ETA belongs to updateEtas: the ERP resending the
                    // order with the ETA it first had is not a change.
                    let same_line = |stored: &LineRow, sent: &LineRow| stored == sent || (approved && LineRow { eta: stored.eta, ..sent.clone() } == *stored);
                    let unchanged = (existing.company_id, existing.customer_reference.clone(), existing.order_date, existing.requested_delivery_date, existing.currency.clone()) == header
                        && stored.len() == rows.len()
                        && stored.iter().zip(rows.iter()).all(|((_, stored), sent)| same_line(stored, sent));
                    if unchanged {
                        return Ok(Written::unchanged(existing));
                    }
                    if approved {
                        return Err(AppError::Conflict(format!(
                            "order {order_number} is already approved, under way or cancelled: change it through updateEtas, cancelOrderLine and the other back-office mutations"
                        )));
                    }
                    replace_lines(txn, existing.id, &currency, stored, &rows, now).await?;
                    let mut active: order::ActiveModel = existing.into();
                    active.company_id = Set(header.0);
                    active.customer_reference = Set(header.1);
                    active.order_date = Set(header.2);
                    active.requested_delivery_date = Set(header.3);
                    active.currency = Set(header.4);
                    active.update(txn).await?
                }
                None => {
                    let order = order::ActiveModel {
                        order_number: Set(order_number.clone()),
                        company_id: Set(header.0),
                        customer_reference: Set(header.1),
                        order_date: Set(header.2),
                        requested_delivery_date: Set(header.3),
                        currency: Set(header.4),
                        status: Set(crate::domain::status::Status::PendingApproval.as_str().to_owned()),
                        received_at: Set(now),
                        confirmed_at: Set(None),
                        cancelled_at: Set(None),
                        updated_at: Set(now),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?;
                    replace_lines(txn, order.id, &currency, Vec::new(), &rows, now).await?;
                    order
                }
            };
            refresh_order(txn, order.id, now).await.map(Written::changed)
        })
    })
    .await
}

async fn record_eta_change(
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

async fn find_order(
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
fn require_not_cancelled(order: &order::Model) -> AppResult<()> {
    if order.cancelled_at.is_some() {
        return Err(AppError::Conflict(format!(
            "order {} is cancelled",
            order.order_number
        )));
    }
    Ok(())
}

async fn lines_by_number(
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

fn line_of<'a>(
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

/// Approves the order: it becomes visible to its customer, CONFIRMED.
pub async fn confirm_order(
    db: &impl TransactionTrait,
    order_number: &str,
    now: DateTime<Utc>,
) -> AppResult<Written<order::Model>> {
    let order_number = order_number.to_owned();
    super::write(db, |txn| {
        Box::pin(async move {
            let order = find_order(txn, "orderNumber", &order_number).await?;
            if order.cancelled_at.is_some() {
                return Err(AppError::Conflict(format!(
                    "order {order_number} is cancelled"
                )));
            }
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

/// Cancels the whole order; refused once anything of it has shipped.
pub async fn cancel_order(
    db: &impl TransactionTrait,
    order_number: &str,
    now: DateTime<Utc>,
) -> AppResult<Written<order::Model>> {
    let order_number = order_number.to_owned();
    super::write(db, |txn| {
        Box::pin(async move {
            let order = find_order(txn, "orderNumber", &order_number).await?;
            if order.cancelled_at.is_some() {
                return Ok(Written::unchanged(order));
            }
            if lines_by_number(txn, order.id)
                .await?
                .values()
                .any(|line| line.shipped_quantity > 0)
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
    super::write(db, |txn| {
        Box::pin(async move {
            let order = find_order(txn, "orderNumber", &order_number).await?;
            let lines = lines_by_number(txn, order.id).await?;
            let line = line_of(&lines, "lineNumber", &order, line_number)?.clone();
            if line.cancelled_at.is_some() {
                return Ok(Written::unchanged(line));
            }
            if line.shipped_quantity > 0 {
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
    super::write(db, |txn| {
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

/// Records a shipment. Sent again unchanged it is accepted as it is; a different shipment
/// under the same number is a CONFLICT, so quantities and serials are never doubled.
pub async fn record_shipment(
    db: &impl TransactionTrait,
    input: ShipmentInput,
    now: DateTime<Utc>,
) -> AppResult<Written<shipment::Model>> {
    let shipment_number = required(
        "input.shipmentNumber",
        &input.shipment_number,
        MAX_KEY_CHARS,
    )?;
    optional("input.carrier", input.carrier.as_deref(), MAX_NAME_CHARS)?;
    optional(
        "input.trackingNumber",
        input.tracking_number.as_deref(),
        MAX_KEY_CHARS,
    )?;
    optional(
        "input.trackingUrl",
        input.tracking_url.as_deref(),
        MAX_TEXT_CHARS,
    )?;
    if input.lines.is_empty() {
        return Err(AppError::bad_input(
            "input.lines",
            "a shipment carries at least one line",
        ));
    }
    let mut serials_in_input = HashSet::new();
    for (index, line) in input.lines.iter().enumerate() {
        positive(&format!("input.lines[{index}].quantity"), line.quantity)?;
        if !line.serial_numbers.is_empty() && line.serial_numbers.len() != line.quantity as usize {
            return Err(AppError::bad_input(
                format!("input.lines[{index}].serialNumbers"),
                format!(
                    "{} serial numbers for {} units: give one per unit, or none",
                    line.serial_numbers.len(),
                    line.quantity
                ),
            ));
        }
        for serial in &line.serial_numbers {
            let serial = required(
                &format!("input.lines[{index}].serialNumbers"),
                serial,
                MAX_KEY_CHARS,
            )?;
            if !serials_in_input.insert(serial.clone()) {
                return Err(AppError::bad_input(
                    format!("input.lines[{index}].serialNumbers"),
                    format!("serial number {serial} appears twice"),
                ));
            }
        }
    }
    super::write(db, |txn| {
        Box::pin(async move {
            let order = find_order(txn, "input.orderNumber", &input.order_number).await?;
            if let Some(existing) = shipment::Entity::find()
                .filter(shipment::Column::ShipmentNumber.eq(&shipment_number))
                .one(txn)
                .await?
            {
                return if same_shipment(txn, &existing, &order, &input).await? {
                    Ok(Written::unchanged(existing))
                } else {
                    Err(AppError::Conflict(format!(
                        "shipment {shipment_number} was already recorded with other contents"
                    )))
                };
            }
            require_not_cancelled(&order)?;
            let lines = lines_by_number(txn, order.id).await?;
            let products = products_of(txn, &lines).await?;
            let mut seen_lines = HashSet::new();
            for (index, wanted) in input.lines.iter().enumerate() {
                let field = format!("input.lines[{index}]");
                let line = line_of(
                    &lines,
                    &format!("{field}.lineNumber"),
                    &order,
                    wanted.line_number,
                )?;
                if !seen_lines.insert(wanted.line_number) {
                    return Err(AppError::bad_input(
                        format!("{field}.lineNumber"),
                        format!("line {} appears twice", wanted.line_number),
                    ));
                }
                if line.cancelled_at.is_some() {
                    return Err(AppError::Conflict(format!(
                        "line {} of order {} is cancelled",
                        line.line_number, order.order_number
                    )));
                }
                if products
                    .get(&line.product_id)
                    .is_some_and(|method| *method == DeliveryMethod::Electronic)
                {
                    return Err(AppError::bad_input(
                        format!("{field}.lineNumber"),
                        format!(
                            "line {} is delivered electronically, not shipped",
                            line.line_number
                        ),
                    ));
                }
                let remaining = line.quantity - line.shipped_quantity;
                if wanted.quantity > remaining {
                    return Err(AppError::bad_input(
                        format!("{field}.quantity"),
                        format!(
                            "line {} has {remaining} units left to ship, not {}",
                            line.line_number, wanted.quantity
                        ),
                    ));
                }
            }
            let taken: Vec<String> = serial_number::Entity::find()
                .filter(serial_number::Column::Serial.is_in(serials_in_input.iter().cloned()))
                .select_only()
                .column(serial_number::Column::Serial)
                .into_tuple()
                .all(txn)
                .await?;
            if let Some(serial) = taken.first() {
                return Err(AppError::Conflict(format!(
                    "serial number {serial} has already been shipped"
                )));
            }
            let shipment = shipment::ActiveModel {
                shipment_number: Set(shipment_number),
                order_id: Set(order.id),
                ship_date: Set(input.ship_date),
                carrier: Set(input.carrier),
                tracking_number: Set(input.tracking_number),
                tracking_url: Set(input.tracking_url),
                delivered_at: Set(None),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            for wanted in &input.lines {
                let line = line_of(&lines, "input.lines", &order, wanted.line_number)?;
                let shipment_line = shipment_line::ActiveModel {
                    shipment_id: Set(shipment.id),
                    order_line_id: Set(line.id),
                    quantity: Set(wanted.quantity),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                let serials: Vec<serial_number::ActiveModel> = wanted
                    .serial_numbers
                    .iter()
                    .map(|serial| serial_number::ActiveModel {
                        serial: Set(serial.trim().to_owned()),
                        shipment_line_id: Set(shipment_line.id),
                        ..Default::default()
                    })
                    .collect();
                bulk::insert_all(txn, serials).await?;
            }
            refresh_order(txn, order.id, now).await?;
            Ok(Written::changed(shipment))
        })
    })
    .await
}

async fn products_of(
    db: &impl ConnectionTrait,
    lines: &HashMap<i32, order_line::Model>,
) -> AppResult<HashMap<i64, DeliveryMethod>> {
    let ids: Vec<i64> = lines.values().map(|line| line.product_id).collect();
    product::Entity::find()
        .filter(product::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|product| {
            let method = product.delivery_method.parse().map_err(|error| {
                AppError::Internal(anyhow::anyhow!("product {}: {error}", product.sku))
            })?;
            Ok((product.id, method))
        })
        .collect()
}

/// Whether a stored shipment is the one `input` describes, line for line and serial for serial.
async fn same_shipment(
    db: &impl ConnectionTrait,
    existing: &shipment::Model,
    order: &order::Model,
    input: &ShipmentInput,
) -> AppResult<bool> {
    if existing.order_id != order.id
        || existing.ship_date != input.ship_date
        || existing.carrier != input.carrier
        || existing.tracking_number != input.tracking_number
        || existing.tracking_url != input.tracking_url
    {
        return Ok(false);
    }
    let lines = lines_by_number(db, order.id).await?;
    let number_of: HashMap<i64, i32> = lines
        .values()
        .map(|line| (line.id, line.line_number))
        .collect();
    let stored_lines = shipment_line::Entity::find()
        .filter(shipment_line::Column::ShipmentId.eq(existing.id))
        .all(db)
        .await?;
    // Two indexed statements rather than a join: with the join, PostgreSQL planned a scan of
    // every serial number for each resent shipment.
    let mut serials_of: HashMap<i64, Vec<String>> = HashMap::new();
    let serials = serial_number::Entity::find()
        .filter(
            serial_number::Column::ShipmentLineId.is_in(stored_lines.iter().map(|line| line.id)),
        )
        .all(db)
        .await?;
    for serial in serials {
        serials_of
            .entry(serial.shipment_line_id)
            .or_default()
            .push(serial.serial);
    }
    let mut stored: Vec<(i32, i32, Vec<String>)> = stored_lines
        .into_iter()
        .map(|line| {
            let mut serials = serials_of.remove(&line.id).unwrap_or_default();
            serials.sort();
            (
                number_of
                    .get(&line.order_line_id)
                    .copied()
                    .unwrap_or_default(),
                line.quantity,
                serials,
            )
        })
        .collect();
    let mut wanted: Vec<(i32, i32, Vec<String>)> = input
        .lines
        .iter()
        .map(|line| {
            let mut serials: Vec<String> = line
                .serial_numbers
                .iter()
                .map(|serial| serial.trim().to_owned())
                .collect();
            serials.sort();
            (line.line_number, line.quantity, serials)
        })
        .collect();
    stored.sort();
    wanted.sort();
    Ok(stored == wanted)
}

/// Marks a shipment delivered to the customer; a second call changes nothing.
pub async fn mark_shipment_delivered(
    db: &impl TransactionTrait,
    shipment_number: &str,
    delivered_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<Written<shipment::Model>> {
    within("shipmentNumber", shipment_number.trim(), MAX_KEY_CHARS)?;
    let shipment_number = shipment_number.to_owned();
    super::write(db, |txn| {
        Box::pin(async move {
            let shipment = shipment::Entity::find()
                .filter(shipment::Column::ShipmentNumber.eq(shipment_number.trim()))
                .one(txn)
                .await?
                .ok_or_else(|| {
                    AppError::bad_input(
                        "shipmentNumber",
                        format!("no shipment has number {shipment_number:?}"),
                    )
                })?;
            if shipment.delivered_at.is_some() {
                return Ok(Written::unchanged(shipment));
            }
            if delivered_at.date_naive() < shipment.ship_date {
                return Err(AppError::bad_input(
                    "deliveredAt",
                    format!(
                        "shipment {} left the warehouse on {}: it cannot be delivered before",
                        shipment.shipment_number, shipment.ship_date
                    ),
                ));
            }
            let order_id = shipment.order_id;
            let mut active: shipment::ActiveModel = shipment.into();
            active.delivered_at = Set(Some(delivered_at));
            let shipment = active.update(txn).await?;
            refresh_order(txn, order_id, now).await?;
            Ok(Written::changed(shipment))
        })
    })
    .await
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
    super::write(db, |txn| {
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
            if line.cancelled_at.is_some() {
                return Err(AppError::Conflict(format!(
                    "line {} of order {} is cancelled",
                    line.line_number, order.order_number
                )));
            }
            let method = products_of(txn, &lines)
                .await?
                .get(&line.product_id)
                .copied();
            if method != Some(DeliveryMethod::Electronic) {
                return Err(AppError::bad_input(
                    "lineNumber",
                    format!(
                        "line {} is a physical product: record a shipment instead",
                        line.line_number
                    ),
                ));
            }
            // A software line held for its hardware is still delivered when the ERP says it
            // was: the hold says what the customer is shown while nothing was sent.
            let remaining = line.quantity - line.shipped_quantity;
            if input.quantity > remaining {
                return Err(AppError::bad_input(
                    "quantity",
                    format!(
                        "line {} has {remaining} units left to deliver, not {}",
                        line.line_number, input.quantity
                    ),
                ));
            }
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
    super::write(db, |txn| {
        Box::pin(async move {
            let order = find_order(txn, "input.orderNumber", &input.order_number).await?;
            let lines = lines_by_number(txn, order.id).await?;
            if let Some(existing) = invoice::Entity::find().filter(invoice::Column::InvoiceNumber.eq(&invoice_number)).one(txn).await? {
                let number_of: HashMap<i64, i32> = lines.values().map(|line| (line.id, line.line_number)).collect();
                let mut stored: Vec<(i32, i32)> = invoice_line::Entity::find()
                    .filter(invoice_line::Column::InvoiceId.eq(existing.id))
                    .all(txn)
                    .await?
                    .into_iter()
                    .map(|line| (number_of.get(&line.order_line_id).copied().unwrap_or_default(), line.quantity))
                    .collect();
                let mut wanted = input.lines.clone();
                stored.sort();
                wanted.sort();
                return if existing.order_id == order.id && existing.invoice_date == input.invoice_date && stored == wanted {
                    Ok(Written::unchanged(existing))
                } else {
                    Err(AppError::Conflict(format!("invoice {invoice_number} was already recorded with other contents")))
                };
            }
            require_not_cancelled(&order)?;
            let mut rows = Vec::with_capacity(input.lines.len());
            let mut seen = HashSet::new();
            for (index, (line_number, quantity)) in input.lines.iter().enumerate() {
                let field = format!("input.lines[{index}]");
                let line = line_of(&lines, &format!("{field}.lineNumber"), &order, *line_number)?;
                if !seen.insert(*line_number) {
                    return Err(AppError::bad_input(format!("{field}.lineNumber"), format!("line {line_number} appears twice")));
                }
                if line.cancelled_at.is_some() {
                    return Err(AppError::Conflict(format!("line {line_number} of order {} is cancelled", order.order_number)));
                }
                let remaining = line.quantity - line.invoiced_quantity;
                if *quantity > remaining {
                    return Err(AppError::bad_input(format!("{field}.quantity"), format!("line {line_number} has {remaining} units left to invoice, not {quantity}")));
                }
                let amount_e4 = domain::order::line_amount_e4(line, *quantity)
                    .ok_or_else(|| AppError::bad_input(format!("{field}.quantity"), "the amount is too large"))?;
                rows.push((line.id, *quantity, amount_e4));
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
                .map(|(order_line_id, quantity, amount_e4)| invoice_line::ActiveModel {
                    invoice_id: Set(invoice.id),
                    order_line_id: Set(order_line_id),
                    quantity: Set(quantity),
                    amount_e4: Set(amount_e4),
                    ..Default::default()
                })
                .collect();
            bulk::insert_all(txn, lines).await?;
            refresh_order(txn, order.id, now).await?;
            Ok(Written::changed(invoice))
        })
    })
    .await
}

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
    let status = domain::order::order_status(&order, &facts).as_str();
    if status != order.status {
        happened.push((EventKind::StatusChanged, None));
    }
    let mut active: order::ActiveModel = order.into();
    active.status = Set(status.to_owned());
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
