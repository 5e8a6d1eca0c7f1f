//! Shipments that left the warehouse, their serial numbers, and their delivery.

use std::collections::{HashMap, HashSet};

use entities::{order, order_line, product, serial_number, shipment, shipment_line};

use crate::domain::eta::DeliveryMethod;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};

use super::{
    MAX_KEY_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS, Written,
    checks::{
        Requested, UsesUp, find_order, lines_by_number, optional, positive, requested_lines,
        require_not_cancelled, required, within,
    },
    refresh::refresh_order,
};
use crate::{
    error::{AppError, AppResult},
    store::{self, bulk},
};

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

/// Records a shipment. Sent again unchanged it is accepted as it is; a different shipment
/// under the same number is a CONFLICT, so quantities and serials are never doubled.
pub async fn record_shipment(
    db: &impl TransactionTrait,
    input: ShipmentInput,
    now: DateTime<Utc>,
) -> AppResult<Written<shipment::Model>> {
    let shipment_number = validate_shipment(&input)?;
    store::write(db, |txn| {
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
            let methods = products_of(txn, &lines).await?;
            let requested: Vec<Requested> = (input.lines.iter().enumerate())
                .map(|(index, line)| Requested::listed(index, line.line_number, line.quantity))
                .collect();
            let shipped = requested_lines(
                &lines,
                &order,
                &requested,
                UsesUp::Shipping,
                |line, wanted| {
                    if methods.get(&line.product_id) == Some(&DeliveryMethod::Electronic) {
                        return Err(AppError::bad_input(
                            wanted.line_field.clone(),
                            format!(
                                "line {} is delivered electronically, not shipped",
                                line.line_number
                            ),
                        ));
                    }
                    Ok(())
                },
            )?;
            refuse_shipped_serials(txn, &input).await?;
            let shipment = insert_shipment(txn, shipment_number, &order, &input, &shipped).await?;
            refresh_order(txn, order.id, now).await?;
            Ok(Written::changed(shipment))
        })
    })
    .await
}

/// Checks what needs no database: bounds, at least one line, a serial per unit or none,
/// no serial twice. Answers the trimmed shipment number.
fn validate_shipment(input: &ShipmentInput) -> AppResult<String> {
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
    Ok(shipment_number)
}

/// Refuses a serial number that an earlier shipment carried.
async fn refuse_shipped_serials(db: &impl ConnectionTrait, input: &ShipmentInput) -> AppResult<()> {
    let serials = input.lines.iter().flat_map(|line| {
        line.serial_numbers
            .iter()
            .map(|serial| serial.trim().to_owned())
    });
    let taken: Vec<String> = serial_number::Entity::find()
        .filter(serial_number::Column::Serial.is_in(serials))
        .select_only()
        .column(serial_number::Column::Serial)
        .into_tuple()
        .all(db)
        .await?;
    if let Some(serial) = taken.first() {
        return Err(AppError::Conflict(format!(
            "serial number {serial} has already been shipped"
        )));
    }
    Ok(())
}

/// Stores the shipment, a line per requested order line (`lines`, in the input's order) and
/// their serial numbers.
async fn insert_shipment(
    db: &impl ConnectionTrait,
    shipment_number: String,
    order: &order::Model,
    input: &ShipmentInput,
    lines: &[&order_line::Model],
) -> AppResult<shipment::Model> {
    let shipment = shipment::ActiveModel {
        shipment_number: Set(shipment_number),
        order_id: Set(order.id),
        ship_date: Set(input.ship_date),
        carrier: Set(input.carrier.clone()),
        tracking_number: Set(input.tracking_number.clone()),
        tracking_url: Set(input.tracking_url.clone()),
        delivered_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    for (wanted, line) in input.lines.iter().zip(lines) {
        let shipment_line = shipment_line::ActiveModel {
            shipment_id: Set(shipment.id),
            order_line_id: Set(line.id),
            quantity: Set(wanted.quantity),
            ..Default::default()
        }
        .insert(db)
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
        bulk::insert_all(db, serials).await?;
    }
    Ok(shipment)
}

pub(super) async fn products_of(
    db: &impl ConnectionTrait,
    lines: &HashMap<i32, order_line::Model>,
) -> AppResult<HashMap<i64, DeliveryMethod>> {
    let ids: Vec<i64> = lines.values().map(|line| line.product_id).collect();
    Ok(product::Entity::find()
        .filter(product::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|product| (product.id, product.delivery_method))
        .collect())
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
    store::write(db, |txn| {
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
