//! Shipments, what they carry, and serial numbers.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entities::{serial_number, shipment, shipment_line};

use super::{
    ContextExt,
    catalogue::Product,
    ids::{NodeKind, encode},
    one_pass::{Walk, one_pass_object},
    order::Order,
    order_line::OrderLine,
    promised,
    scalars::Date,
};
use crate::loaders::{LinesOfShipment, OrderById, SerialsOfShipmentLine, ShipmentById};

/// A shipment that left the warehouse.
pub struct Shipment(pub shipment::Model);

one_pass_object! {
    /// A shipment that left the distributor's warehouse for the customer, with a carrier and
    /// tracking.
    #[Object(serial)]
    impl Shipment(self) {
        /// Global ID, for `node(id:)`.
        "id": pub async fn id(&self) -> ID {
            encode(NodeKind::Shipment, self.0.id)
        }

        /// The distributor's shipment (delivery note) number.
        "shipmentNumber": async fn shipment_number(&self) -> &str {
            &self.0.shipment_number
        }

        /// The order it ships (part of).
        "order": async fn order(&self, ctx) -> Result<Order> {
            let order = ctx.loader()?.load_one(OrderById(self.0.order_id)).await?;
            Ok(Order(promised(order, "order", self.0.order_id)?))
        }
        one_pass |walk| {
            let order = &walk.facts()?.order;
            (order.id == self.0.order_id).then(|| Order(order.clone()))
        }

        /// The date the shipment left the warehouse.
        "shipDate": async fn ship_date(&self) -> Date {
            self.0.ship_date.into()
        }

        /// Who carries it (e.g. `DHL`, `PostNL`); null when not reported.
        "carrier": async fn carrier(&self) -> Option<&str> {
            self.0.carrier.as_deref()
        }

        /// The carrier's tracking number; null when not reported. Searchable with
        /// `OrderFilter.search`.
        "trackingNumber": async fn tracking_number(&self) -> Option<&str> {
            self.0.tracking_number.as_deref()
        }

        /// A link to the carrier's tracking page; null when not reported.
        "trackingUrl": async fn tracking_url(&self) -> Option<&str> {
            self.0.tracking_url.as_deref()
        }

        /// Null while the shipment is on its way.
        "deliveredAt": async fn delivered_at(&self) -> Option<DateTime<Utc>> {
            self.0.delivered_at
        }

        /// How many units of which order lines it carries.
        "lines": async fn lines(&self, ctx) -> Result<Vec<ShipmentLine>> {
            let lines = ctx
                .loader()?
                .load_one(LinesOfShipment(self.0.id))
                .await?
                .unwrap_or_default();
            Ok(ShipmentLine::all_of_order(lines, self.0.order_id))
        }
        one_pass |walk| {
            let lines = walk.shipment_lines(self.0.id)?.to_vec();
            Some(ShipmentLine::all_of_order(lines, self.0.order_id))
        }
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

/// The order line of `line` among the walk's order's lines.
fn order_line_in(walk: &Walk<'_>, line: &shipment_line::Model) -> Option<OrderLine> {
    OrderLine::in_facts(walk.facts()?, line.order_line_id)
}

/// The shipment of `line` among the walk's order's shipments.
fn shipment_in(walk: &Walk<'_>, line: &shipment_line::Model) -> Option<Shipment> {
    let shipments = walk.shipments()?;
    let shipment = shipments
        .iter()
        .find(|shipment| shipment.id == line.shipment_id)?;
    Some(Shipment(shipment.clone()))
}

one_pass_object! {
    /// The quantity of one order line on one shipment, with the units' serial numbers.
    #[Object(serial)]
    impl ShipmentLine(self) {
        /// The shipment.
        "shipment": async fn shipment(&self, ctx) -> Result<Shipment> {
            shipment_of(ctx, &self.row).await
        }
        one_pass |walk| {
            shipment_in(walk, &self.row)
        }

        /// The order line whose units it carries.
        "orderLine": async fn order_line(&self, ctx) -> Result<OrderLine> {
            order_line_of(ctx, &self.row, self.order_id).await
        }
        one_pass |walk| {
            order_line_in(walk, &self.row)
        }

        /// Units of the order line on this shipment.
        "quantity": async fn quantity(&self) -> i32 {
            self.row.quantity
        }

        /// The serial number of each unit, sorted; empty for goods without serials.
        "serialNumbers": async fn serial_numbers(&self, ctx) -> Result<Vec<SerialNumber>> {
            let serials = ctx
                .loader()?
                .load_one(SerialsOfShipmentLine(self.row.id))
                .await?
                .unwrap_or_default();
            Ok(self.serials(serials))
        }
        one_pass |walk| {
            Some(self.serials(walk.serials(self.row.id)?.to_vec()))
        }
    }
}

impl ShipmentLine {
    fn serials(&self, serials: Vec<serial_number::Model>) -> Vec<SerialNumber> {
        let line = Arc::new(self.row.clone());
        serials
            .into_iter()
            .map(|serial| SerialNumber {
                serial,
                line: line.clone(),
                order_id: self.order_id,
            })
            .collect()
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

one_pass_object! {
    /// The serial number of one shipped unit, and where it went.
    #[Object(serial)]
    impl SerialNumber(self) {
        /// The serial number as the vendor printed it on the unit.
        "serial": async fn serial(&self) -> &str {
            &self.serial.serial
        }

        /// What the unit is.
        "product": async fn product(&self, ctx) -> Result<Product> {
            Ok(order_line_of(ctx, &self.line, self.order_id)
                .await?
                .product_of())
        }
        one_pass |walk| {
            Some(order_line_in(walk, &self.line)?.product_of())
        }

        /// The order line it was sold on.
        "orderLine": async fn order_line(&self, ctx) -> Result<OrderLine> {
            order_line_of(ctx, &self.line, self.order_id).await
        }
        one_pass |walk| {
            order_line_in(walk, &self.line)
        }

        /// The shipment that carried it.
        "shipment": async fn shipment(&self, ctx) -> Result<Shipment> {
            shipment_of(ctx, &self.line).await
        }
        one_pass |walk| {
            shipment_in(walk, &self.line)
        }
    }
}
