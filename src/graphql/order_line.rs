//! Order lines and what hangs off them: ETA history, electronic deliveries.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entities::{electronic_delivery, eta_change, order, order_line};

use super::{
    ContextExt,
    catalogue::Product,
    ids::{NodeKind, encode},
    order::{FulfillmentProgress, Money, Order, OrderStatus, order_state},
    promised,
    scalars::Date,
    shipment::{SerialNumber, ShipmentLine},
};
use crate::{
    domain::{
        eta::{self, LineDelivery},
        status::{self, LineFacts, Progress},
    },
    loaders::{
        DeliveriesOfLine, EtaChangesOfLine, LineOfOrder, OrderById, OrderDeliveries, OrderLineById,
        PortalLoader, ProductById, SerialsOfLine, ShipmentLinesOfLine, VendorById, lines_of_order,
    },
};

/// The stored quantities of a line.
pub fn progress(line: &order_line::Model) -> Progress {
    Progress {
        ordered: line.quantity,
        shipped: line.shipped_quantity,
        delivered: line.delivered_quantity,
        invoiced: line.invoiced_quantity,
    }
}

/// What the status rules need of a line.
pub fn line_facts(line: &order_line::Model) -> LineFacts {
    LineFacts {
        cancelled: line.cancelled_at.is_some(),
        progress: progress(line),
    }
}

/// An order with its lines, each with its product and what the delivery rules need (product
/// kind and delivery method, the vendor's software-after-hardware flag), and whether all its
/// hardware has shipped. Derived once per order and request from the loaders' rows (three
/// batched statements for a whole page), then shared by every field that needs it.
pub async fn deliveries(ctx: &Context<'_>, order: &order::Model) -> Result<Arc<OrderDeliveries>> {
    let loader = ctx.loader()?;
    let cell = loader.loader().deliveries_cell(order.id);
    let derived = cell
        .get_or_try_init(|| derive_deliveries(&loader, order.clone()))
        .await?;
    Ok(derived.clone())
}

/// [`deliveries`] of an order known by id only (a shipment or invoice line's order): when the
/// page's order has started deriving them, this waits for it instead of loading the order.
async fn deliveries_of(loader: &PortalLoader, order_id: i64) -> Result<Arc<OrderDeliveries>> {
    let cell = loader.loader().deliveries_cell(order_id);
    let derived = cell
        .get_or_try_init(|| async {
            let order = loader.load_one(OrderById(order_id)).await?;
            derive_deliveries(loader, promised(order, "order", order_id)?).await
        })
        .await?;
    Ok(derived.clone())
}

async fn derive_deliveries(
    loader: &PortalLoader,
    order: order::Model,
) -> Result<Arc<OrderDeliveries>> {
    let lines = lines_of_order(loader, order.id).await?;
    let products = loader
        .load_many(lines.iter().map(|line| ProductById(line.product_id)))
        .await?;
    let vendors = loader
        .load_many(
            products
                .values()
                .map(|product| VendorById(product.vendor_id)),
        )
        .await?;
    let mut result = Vec::with_capacity(lines.len());
    for line in lines.iter().cloned() {
        let product = Product(promised(
            products.get(&ProductById(line.product_id)).cloned(),
            "product",
            line.product_id,
        )?);
        let vendor = promised(
            vendors.get(&VendorById(product.0.vendor_id)),
            "vendor",
            product.0.vendor_id,
        )?;
        let delivery = LineDelivery {
            kind: product.kind()?,
            vendor_software_after_hardware: vendor.software_after_hardware,
            method: product.delivery_method()?,
            eta: line.eta,
            facts: LineFacts {
                // Nothing of a cancelled order is awaited any more.
                cancelled: line.cancelled_at.is_some() || order.cancelled_at.is_some(),
                progress: progress(&line),
            },
        };
        result.push(LineOfOrder {
            row: line,
            product: product.0,
            delivery,
        });
    }
    let all: Vec<LineDelivery> = result.iter().map(|line| line.delivery).collect();
    Ok(Arc::new(OrderDeliveries {
        order,
        hardware_shipped: eta::hardware_all_shipped(&all),
        lines: result,
    }))
}

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
        let of = deliveries_of(loader, order_id).await?;
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
}

#[Object(serial)]
impl OrderLine {
    pub async fn id(&self) -> ID {
        encode(NodeKind::OrderLine, self.row().id)
    }

    async fn order(&self) -> Order {
        Order(self.of.order.clone())
    }

    async fn line_number(&self) -> i32 {
        self.row().line_number
    }

    async fn product(&self) -> Product {
        self.product_of()
    }

    async fn quantity(&self) -> i32 {
        self.row().quantity
    }

    async fn unit_price(&self) -> Money {
        Money::from_e4(self.row().unit_price_e4, &self.row().currency)
    }

    async fn status(&self) -> OrderStatus {
        status::line_status(order_state(&self.of.order), &line_facts(self.row())).into()
    }

    async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.row().cancelled_at
    }

    async fn progress(&self) -> FulfillmentProgress {
        progress(self.row()).into()
    }

    /// Expected arrival from the vendor at the warehouse. Null: not yet given by the vendor.
    async fn eta(&self) -> Option<Date> {
        self.row().eta.map(Date)
    }

    /// Every change of this line's ETA, oldest first.
    async fn eta_history(&self, ctx: &Context<'_>) -> Result<Vec<EtaChange>> {
        let changes = ctx
            .loader()?
            .load_one(EtaChangesOfLine(self.row().id))
            .await?
            .unwrap_or_default();
        Ok(changes.into_iter().map(EtaChange).collect())
    }

    /// When the customer can expect it: ETA + 2 business days (physical), the ETA (electronic); null when unknown or already delivered.
    async fn expected_delivery_date(&self) -> Option<Date> {
        let delivery = &self.line().delivery;
        eta::expected_delivery_date(delivery.method, delivery.eta, &delivery.facts).map(Date)
    }

    /// Software held back until the order's hardware has shipped.
    async fn awaiting_hardware(&self) -> bool {
        eta::awaiting_hardware(&self.line().delivery, self.of.hardware_shipped)
    }

    /// Not yet delivered and either its ETA is unknown or past, or its expectedDeliveryDate falls after the order's requestedDeliveryDate.
    async fn at_risk(&self, ctx: &Context<'_>) -> Result<bool> {
        let order = &self.of.order;
        let today = ctx.services()?.clock.today();
        Ok(eta::at_risk(
            order_state(order),
            order.requested_delivery_date,
            &self.line().delivery,
            today,
        ))
    }

    async fn shipment_lines(&self, ctx: &Context<'_>) -> Result<Vec<ShipmentLine>> {
        let lines = ctx
            .loader()?
            .load_one(ShipmentLinesOfLine(self.row().id))
            .await?
            .unwrap_or_default();
        Ok(ShipmentLine::all_of_order(lines, self.row().order_id))
    }

    async fn serial_numbers(&self, ctx: &Context<'_>) -> Result<Vec<SerialNumber>> {
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

    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }

    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
}

/// Units of a line delivered by e-mail.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ElectronicDelivery {
    pub delivered_at: DateTime<Utc>,
    pub recipient_email: String,
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
