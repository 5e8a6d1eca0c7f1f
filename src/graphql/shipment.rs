//! Shipments, what they carry, and serial numbers.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, Value, parser::types::Field};
use chrono::{DateTime, Utc};
use entities::{serial_number, shipment, shipment_line};

use super::{
    ContextExt,
    catalogue::Product,
    ids::{NodeKind, encode},
    order::Order,
    order_line::OrderLine,
    plain::{self, Plain, PlainFields},
    promised,
    scalars::Date,
};
use crate::loaders::{LinesOfShipment, OrderById, SerialsOfShipmentLine, ShipmentById};

/// A shipment that left the warehouse.
pub struct Shipment(pub shipment::Model);

impl PlainFields for Shipment {
    fn plain(&self, field: &Field) -> Option<Value> {
        let shipment = &self.0;
        Some(match field.name.node.as_str() {
            "id" => plain::scalar(encode(NodeKind::Shipment, shipment.id)),
            "shipmentNumber" => Value::from(shipment.shipment_number.as_str()),
            "shipDate" => plain::scalar(Date(shipment.ship_date)),
            "carrier" => plain::text(shipment.carrier.as_deref()),
            "trackingNumber" => plain::text(shipment.tracking_number.as_deref()),
            "trackingUrl" => plain::text(shipment.tracking_url.as_deref()),
            "deliveredAt" => plain::optional(shipment.delivered_at),
            _ => return None,
        })
    }
}

/// A shipment that left the distributor's warehouse for the customer, with a carrier and
/// tracking.
#[Object(serial)]
impl Shipment {
    /// Global ID, for `node(id:)`.
    pub async fn id(&self) -> ID {
        encode(NodeKind::Shipment, self.0.id)
    }

    /// The distributor's shipment (delivery note) number.
    async fn shipment_number(&self) -> &str {
        &self.0.shipment_number
    }

    /// The order it ships (part of).
    async fn order(&self, ctx: &Context<'_>) -> Result<Order> {
        let order = ctx.loader()?.load_one(OrderById(self.0.order_id)).await?;
        Ok(Order(promised(order, "order", self.0.order_id)?))
    }

    /// The date the shipment left the warehouse.
    async fn ship_date(&self) -> Date {
        self.0.ship_date.into()
    }

    /// Who carries it (e.g. `DHL`, `PostNL`); null when not reported.
    async fn carrier(&self) -> Option<&str> {
        self.0.carrier.as_deref()
    }

    /// The carrier's tracking number; null when not reported. Searchable with
    /// `OrderFilter.search`.
    async fn tracking_number(&self) -> Option<&str> {
        self.0.tracking_number.as_deref()
    }

    /// A link to the carrier's tracking page; null when not reported.
    async fn tracking_url(&self) -> Option<&str> {
        self.0.tracking_url.as_deref()
    }

    /// Null while the shipment is on its way.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }

    /// How many units of which order lines it carries.
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<Plain<ShipmentLine>>> {
        let lines = ctx
            .loader()?
            .load_one(LinesOfShipment(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(Plain::all(ShipmentLine::all_of_order(
            lines,
            self.0.order_id,
        )))
    }
}

/// The quantity of one order line on one shipment.
pub struct ShipmentLine {
    pub row: shipment_line::Model,
    /// The order, when the line was reached through its shipment: the order's lines are then
    /// loaded (or being loaded) for the same page, and the order line is read from them.
    pub order_id: Option<i64>,
}

impl ShipmentLine {
    /// Shipment lines of a known order.
    pub fn all_of_order(rows: Vec<shipment_line::Model>, order_id: i64) -> Vec<Self> {
        rows.into_iter()
            .map(|row| Self {
                row,
                order_id: Some(order_id),
            })
            .collect()
    }
}

async fn shipment_of(ctx: &Context<'_>, line: &shipment_line::Model) -> Result<Shipment> {
    let shipment = ctx
        .loader()?
        .load_one(ShipmentById(line.shipment_id))
        .await?;
    Ok(Shipment(promised(shipment, "shipment", line.shipment_id)?))
}

/// The order line a shipment line carried; `order_id` when known (see [`ShipmentLine`]).
async fn order_line_of(
    ctx: &Context<'_>,
    line: &shipment_line::Model,
    order_id: Option<i64>,
) -> Result<OrderLine> {
    let id = line.order_line_id;
    let order_line = OrderLine::load(&*ctx.loader()?, order_id, id).await?;
    Ok(promised(order_line, "order line", id)?)
}

impl PlainFields for ShipmentLine {
    fn plain(&self, field: &Field) -> Option<Value> {
        (field.name.node == "quantity").then(|| Value::from(self.row.quantity))
    }
}

/// The quantity of one order line on one shipment, with the units' serial numbers.
#[Object(serial)]
impl ShipmentLine {
    /// The shipment.
    async fn shipment(&self, ctx: &Context<'_>) -> Result<Shipment> {
        shipment_of(ctx, &self.row).await
    }

    /// The order line whose units it carries.
    async fn order_line(&self, ctx: &Context<'_>) -> Result<Plain<OrderLine>> {
        Ok(Plain(order_line_of(ctx, &self.row, self.order_id).await?))
    }

    /// Units of the order line on this shipment.
    async fn quantity(&self) -> i32 {
        self.row.quantity
    }

    /// The serial number of each unit, sorted; empty for goods without serials.
    async fn serial_numbers(&self, ctx: &Context<'_>) -> Result<Vec<Plain<SerialNumber>>> {
        let serials = ctx
            .loader()?
            .load_one(SerialsOfShipmentLine(self.row.id))
            .await?
            .unwrap_or_default();
        let line = Arc::new(self.row.clone());
        Ok(serials
            .into_iter()
            .map(|serial| {
                Plain(SerialNumber {
                    serial,
                    line: line.clone(),
                    order_id: self.order_id,
                })
            })
            .collect())
    }
}

/// The serial number of one shipped unit.
pub struct SerialNumber {
    serial: serial_number::Model,
    /// The shipment line that carried the unit, shared by its serial numbers.
    line: Arc<shipment_line::Model>,
    /// The order, when known (see [`ShipmentLine`]).
    order_id: Option<i64>,
}

impl SerialNumber {
    pub fn new(
        serial: serial_number::Model,
        line: shipment_line::Model,
        order_id: Option<i64>,
    ) -> Self {
        Self {
            serial,
            line: Arc::new(line),
            order_id,
        }
    }
}

impl PlainFields for SerialNumber {
    fn plain(&self, field: &Field) -> Option<Value> {
        (field.name.node == "serial").then(|| Value::from(self.serial.serial.as_str()))
    }
}

/// The serial number of one shipped unit, and where it went.
#[Object(serial)]
impl SerialNumber {
    /// The serial number as the vendor printed it on the unit.
    async fn serial(&self) -> &str {
        &self.serial.serial
    }

    /// What the unit is.
    async fn product(&self, ctx: &Context<'_>) -> Result<Product> {
        Ok(order_line_of(ctx, &self.line, self.order_id)
            .await?
            .product_of())
    }

    /// The order line it was sold on.
    async fn order_line(&self, ctx: &Context<'_>) -> Result<OrderLine> {
        order_line_of(ctx, &self.line, self.order_id).await
    }

    /// The shipment that carried it.
    async fn shipment(&self, ctx: &Context<'_>) -> Result<Shipment> {
        shipment_of(ctx, &self.line).await
    }
}
