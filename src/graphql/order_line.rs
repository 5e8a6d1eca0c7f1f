//! Order lines and what hangs off them: ETA history, electronic deliveries.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject, Value, parser::types::Field};
use chrono::{DateTime, Utc};
use entities::{electronic_delivery, eta_change, order_line};

use super::{
    ContextExt,
    catalogue::Product,
    ids::{NodeKind, encode},
    order::{FulfillmentProgress, Order, OrderStatus},
    plain::{self, Plain, PlainFields},
    promised,
    scalars::{Date, Money},
    shipment::{SerialNumber, ShipmentLine},
};
use crate::{
    domain,
    loaders::{
        DeliveriesOfLine, EtaChangesOfLine, LineOfOrder, OrderDeliveries, OrderLineById,
        PortalLoader, SerialsOfLine, ShipmentLinesOfLine, order_facts_by_id,
    },
};

/// One line of an order, read from its order's shared [`OrderDeliveries`]: every field but its
/// lists answers without waiting for anything.
pub struct OrderLine {
    of: Arc<OrderDeliveries>,
    index: usize,
}

impl OrderLine {
    /// Every line of an order, by line number.
    pub fn all_of(of: &Arc<OrderDeliveries>) -> Vec<Self> {
        (0..of.lines.len())
            .map(|index| Self {
                of: of.clone(),
                index,
            })
            .collect()
    }

    /// A line by id, with its order's id when the caller knows it (a shipment or invoice line
    /// reached through its parent shares the page's order then, at no statement of its own).
    pub async fn load(
        loader: &PortalLoader,
        order_id: Option<i64>,
        line_id: i64,
    ) -> Result<Option<Self>> {
        let order_id = match order_id {
            Some(order_id) => order_id,
            None => match loader.load_one(OrderLineById(line_id)).await? {
                Some(line) => line.order_id,
                None => return Ok(None),
            },
        };
        let of = order_facts_by_id(loader, order_id).await?;
        Ok(of
            .lines
            .iter()
            .position(|line| line.row.id == line_id)
            .map(|index| Self { of, index }))
    }

    /// The line a write answers with, read after the write made the request forget its
    /// cached rows (see `back_office::Announce`).
    pub async fn written(ctx: &Context<'_>, row: order_line::Model) -> Result<Self> {
        let line = Self::load(&*ctx.loader()?, Some(row.order_id), row.id).await?;
        Ok(promised(line, "order line", row.id)?)
    }

    /// The line's product, as its `product` field answers it.
    pub fn product_of(&self) -> Product {
        Product(self.line().product.clone())
    }

    fn line(&self) -> &LineOfOrder {
        &self.of.lines[self.index]
    }

    fn row(&self) -> &order_line::Model {
        &self.line().row
    }

    fn unit_price_of(&self) -> Money {
        Money::from_e4(self.row().unit_price_e4, &self.row().currency)
    }

    fn status_of(&self) -> OrderStatus {
        domain::order::line_status(&self.of.order, self.row()).into()
    }

    fn progress_of(&self) -> FulfillmentProgress {
        domain::order::stored_progress(self.row()).into()
    }

    fn expected_delivery_date_of(&self) -> Option<Date> {
        self.of.facts.expected_delivery_date(self.index).map(Date)
    }

    fn awaiting_hardware_of(&self) -> bool {
        self.of.facts.awaiting_hardware(self.index)
    }
}

impl PlainFields for OrderLine {
    fn plain(&self, field: &Field) -> Option<Value> {
        let row = self.row();
        Some(match field.name.node.as_str() {
            "id" => plain::scalar(encode(NodeKind::OrderLine, row.id)),
            "lineNumber" => Value::from(row.line_number),
            "quantity" => Value::from(row.quantity),
            "unitPrice" => plain::object(&self.unit_price_of(), field)?,
            "status" => plain::enumeration(self.status_of()),
            "cancelledAt" => plain::optional(row.cancelled_at),
            "progress" => plain::object(&self.progress_of(), field)?,
            "eta" => plain::optional(row.eta.map(Date)),
            "expectedDeliveryDate" => plain::optional(self.expected_delivery_date_of()),
            "awaitingHardware" => Value::from(self.awaiting_hardware_of()),
            _ => return None,
        })
    }
}

/// One line of an order: a product, a quantity, its own ETA and status.
#[Object(serial)]
impl OrderLine {
    /// Global ID, for `node(id:)`.
    pub async fn id(&self) -> ID {
        encode(NodeKind::OrderLine, self.row().id)
    }

    /// The order this line belongs to.
    async fn order(&self) -> Order {
        Order(self.of.order.clone())
    }

    /// The line's number within its order (1, 2, …), as on the order confirmation.
    async fn line_number(&self) -> i32 {
        self.row().line_number
    }

    /// What was ordered.
    async fn product(&self) -> Plain<Product> {
        Plain(self.product_of())
    }

    /// Units ordered.
    async fn quantity(&self) -> i32 {
        self.row().quantity
    }

    /// Price of one unit, in the order's currency.
    async fn unit_price(&self) -> Money {
        self.unit_price_of()
    }

    /// Where this line stands, computed from its own quantities like an order's status.
    async fn status(&self) -> OrderStatus {
        self.status_of()
    }

    /// When the back office cancelled this line; null while it is not cancelled. A
    /// cancelled line counts for nothing in its order's status, progress and total.
    async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.row().cancelled_at
    }

    /// Units ordered, shipped, delivered and invoiced.
    async fn progress(&self) -> FulfillmentProgress {
        self.progress_of()
    }

    /// Expected arrival from the vendor at the distributor's warehouse (a calendar date; the
    /// vendor's estimate, not a promise). Null: not yet given by the vendor (the portal shows
    /// `date = ...`).
    async fn eta(&self) -> Option<Date> {
        self.row().eta.map(Date)
    }

    /// Every change of this line's ETA, oldest first.
    async fn eta_history(&self, ctx: &Context<'_>) -> Result<Vec<Plain<EtaChange>>> {
        let changes = ctx
            .loader()?
            .load_one(EtaChangesOfLine(self.row().id))
            .await?
            .unwrap_or_default();
        Ok(changes
            .into_iter()
            .map(|change| Plain(EtaChange(change)))
            .collect())
    }

    /// When the customer can expect it: the ETA plus 2 business days (Monday to Friday) for
    /// physical goods, the ETA itself for electronic delivery. Null when the ETA is unknown or
    /// the line is already delivered.
    async fn expected_delivery_date(&self) -> Option<Date> {
        self.expected_delivery_date_of()
    }

    /// True for software of a vendor that delivers it only after the order's hardware has
    /// shipped, while that hardware has not: a delivery date of today may then still wait.
    async fn awaiting_hardware(&self) -> bool {
        self.awaiting_hardware_of()
    }

    /// Not yet delivered and either its ETA is unknown or before today (UTC), or its
    /// `expectedDeliveryDate` falls after the order's `requestedDeliveryDate`.
    async fn at_risk(&self, ctx: &Context<'_>) -> Result<bool> {
        let today = ctx.services()?.clock.today();
        Ok(self.of.facts.line_at_risk(self.index, today))
    }

    /// The shipments' lines that carried units of this line, one per shipment.
    async fn shipment_lines(&self, ctx: &Context<'_>) -> Result<Vec<Plain<ShipmentLine>>> {
        let lines = ctx
            .loader()?
            .load_one(ShipmentLinesOfLine(self.row().id))
            .await?
            .unwrap_or_default();
        Ok(Plain::all(ShipmentLine::all_of_order(
            lines,
            self.row().order_id,
        )))
    }

    /// The serial number of every shipped unit of this line, over all its shipments, sorted;
    /// empty for goods without serials.
    async fn serial_numbers(&self, ctx: &Context<'_>) -> Result<Vec<Plain<SerialNumber>>> {
        let serials = ctx
            .loader()?
            .load_one(SerialsOfLine(self.row().id))
            .await?
            .unwrap_or_default();
        Ok(serials
            .into_iter()
            .map(|(serial, line)| Plain(SerialNumber::new(serial, line, Some(self.row().order_id))))
            .collect())
    }

    /// Units of this line delivered by e-mail, oldest first; empty for physical goods.
    async fn electronic_deliveries(&self, ctx: &Context<'_>) -> Result<Vec<ElectronicDelivery>> {
        let deliveries = ctx
            .loader()?
            .load_one(DeliveriesOfLine(self.row().id))
            .await?
            .unwrap_or_default();
        Ok(deliveries
            .into_iter()
            .map(ElectronicDelivery::from)
            .collect())
    }
}

/// One change of a line's ETA.
pub struct EtaChange(pub eta_change::Model);

impl PlainFields for EtaChange {
    fn plain(&self, field: &Field) -> Option<Value> {
        let change = &self.0;
        Some(match field.name.node.as_str() {
            "previousEta" => plain::optional(change.previous_eta.map(Date)),
            "newEta" => plain::optional(change.new_eta.map(Date)),
            "changedAt" => plain::scalar(change.changed_at),
            "reason" => plain::text(change.reason.as_deref()),
            _ => return None,
        })
    }
}

/// One change of a line's ETA: from what, to what, when and why.
#[Object(serial)]
impl EtaChange {
    /// Null: the ETA was unknown before.
    async fn previous_eta(&self) -> Option<Date> {
        self.0.previous_eta.map(Date)
    }

    /// Null: the vendor withdrew its ETA.
    async fn new_eta(&self) -> Option<Date> {
        self.0.new_eta.map(Date)
    }

    /// When the distributor recorded the change.
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }

    /// Why it moved, as the vendor or back office put it; null when no reason was given.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
}

/// Units of a line delivered by e-mail.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ElectronicDelivery {
    /// When the licence or download was e-mailed.
    pub delivered_at: DateTime<Utc>,
    /// Who received it.
    pub recipient_email: String,
    /// Units delivered in that mail.
    pub quantity: i32,
}

impl From<electronic_delivery::Model> for ElectronicDelivery {
    fn from(row: electronic_delivery::Model) -> Self {
        Self {
            delivered_at: row.delivered_at,
            recipient_email: row.recipient_email,
            quantity: row.quantity,
        }
    }
}
