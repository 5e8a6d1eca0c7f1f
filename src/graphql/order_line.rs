//! Order lines and what hangs off them: ETA history, electronic deliveries.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entities::{electronic_delivery, eta_change, order_line};

use super::{
    ContextExt,
    catalogue::Product,
    ids::{NodeKind, encode},
    one_pass::one_pass_object,
    order::{FulfillmentProgress, Order, OrderStatus},
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

    /// The line `line_id` of an order whose facts the caller holds.
    pub fn in_facts(of: &Arc<OrderDeliveries>, line_id: i64) -> Option<Self> {
        of.lines
            .iter()
            .position(|line| line.row.id == line_id)
            .map(|index| Self {
                of: of.clone(),
                index,
            })
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
        Ok(Self::in_facts(&of, line_id))
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
}

one_pass_object! {
    /// One line of an order: a product, a quantity, its own ETA and status.
    #[Object(serial)]
    impl OrderLine(self) {
        /// Global ID, for `node(id:)`.
        "id": pub async fn id(&self) -> ID {
            encode(NodeKind::OrderLine, self.row().id)
        }

        /// The order this line belongs to.
        "order": async fn order(&self) -> Order {
            Order(self.of.order.clone())
        }

        /// The line's number within its order (1, 2, …), as on the order confirmation.
        "lineNumber": async fn line_number(&self) -> i32 {
            self.row().line_number
        }

        /// What was ordered.
        "product": async fn product(&self) -> Product {
            self.product_of()
        }

        /// Units ordered.
        "quantity": async fn quantity(&self) -> i32 {
            self.row().quantity
        }

        /// Price of one unit, in the order's currency.
        "unitPrice": async fn unit_price(&self) -> Money {
            self.unit_price_of()
        }

        /// Where this line stands, computed from its own quantities like an order's status.
        "status": async fn status(&self) -> OrderStatus {
            domain::order::line_status(&self.of.order, self.row()).into()
        }

        /// When the back office cancelled this line; null while it is not cancelled. A
        /// cancelled line counts for nothing in its order's status, progress and total.
        "cancelledAt": async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
            self.row().cancelled_at
        }

        /// Units ordered, shipped, delivered and invoiced.
        "progress": async fn progress(&self) -> FulfillmentProgress {
            domain::order::stored_progress(self.row()).into()
        }

        /// Expected arrival from the vendor at the distributor's warehouse (a calendar date; the
        /// vendor's estimate, not a promise). Null: not yet given by the vendor (the portal shows
        /// `date = ...`).
        "eta": async fn eta(&self) -> Option<Date> {
            self.row().eta.map(Date)
        }

        /// Every change of this line's ETA, oldest first.
        "etaHistory": async fn eta_history(&self, ctx) -> Result<Vec<EtaChange>> {
            let changes = ctx
                .loader()?
                .load_one(EtaChangesOfLine(self.row().id))
                .await?
                .unwrap_or_default();
            Ok(changes.into_iter().map(EtaChange).collect())
        }
        one_pass |walk| {
            let changes = walk.eta_changes(self.row().id)?;
            Some(changes.iter().cloned().map(EtaChange).collect::<Vec<_>>())
        }

        /// When the customer can expect it: the ETA plus 2 business days (Monday to Friday) for
        /// physical goods, the ETA itself for electronic delivery. Null when the ETA is unknown or
        /// the line is already delivered.
        "expectedDeliveryDate": async fn expected_delivery_date(&self) -> Option<Date> {
            self.of.facts.expected_delivery_date(self.index).map(Date)
        }

        /// True for software of a vendor that delivers it only after the order's hardware has
        /// shipped, while that hardware has not: a delivery date of today may then still wait.
        "awaitingHardware": async fn awaiting_hardware(&self) -> bool {
            self.of.facts.awaiting_hardware(self.index)
        }

        /// Not yet delivered and either its ETA is unknown or before today (UTC), or its
        /// `expectedDeliveryDate` falls after the order's `requestedDeliveryDate`.
        "atRisk": async fn at_risk(&self, ctx) -> Result<bool> {
            let today = ctx.services()?.clock.today();
            Ok(self.of.facts.line_at_risk(self.index, today))
        }
        one_pass |walk| {
            Some(self.of.facts.line_at_risk(self.index, walk.today()))
        }

        /// The shipments' lines that carried units of this line, one per shipment.
        "shipmentLines": async fn shipment_lines(&self, ctx) -> Result<Vec<ShipmentLine>> {
            let lines = ctx
                .loader()?
                .load_one(ShipmentLinesOfLine(self.row().id))
                .await?
                .unwrap_or_default();
            Ok(ShipmentLine::all_of_order(lines, self.row().order_id))
        }

        /// The serial number of every shipped unit of this line, over all its shipments, sorted;
        /// empty for goods without serials.
        "serialNumbers": async fn serial_numbers(&self, ctx) -> Result<Vec<SerialNumber>> {
            let serials = ctx
                .loader()?
                .load_one(SerialsOfLine(self.row().id))
                .await?
                .unwrap_or_default();
            Ok(serials
                .into_iter()
                .map(|(serial, line)| SerialNumber::new(serial, line, Some(self.row().order_id)))
                .collect())
        }

        /// Units of this line delivered by e-mail, oldest first; empty for physical goods.
        "electronicDeliveries": async fn electronic_deliveries(&self, ctx) -> Result<Vec<ElectronicDelivery>> {
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
}

/// One change of a line's ETA.
pub struct EtaChange(pub eta_change::Model);

one_pass_object! {
    /// One change of a line's ETA: from what, to what, when and why.
    #[Object(serial)]
    impl EtaChange(self) {
        /// Null: the ETA was unknown before.
        "previousEta": async fn previous_eta(&self) -> Option<Date> {
            self.0.previous_eta.map(Date)
        }

        /// Null: the vendor withdrew its ETA.
        "newEta": async fn new_eta(&self) -> Option<Date> {
            self.0.new_eta.map(Date)
        }

        /// When the distributor recorded the change.
        "changedAt": async fn changed_at(&self) -> DateTime<Utc> {
            self.0.changed_at
        }

        /// Why it moved, as the vendor or back office put it; null when no reason was given.
        "reason": async fn reason(&self) -> Option<&str> {
            self.0.reason.as_deref()
        }
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
