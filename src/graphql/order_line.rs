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
        DeliveriesOfLine, EtaChangesOfLine, OrderById, OrderDeliveries, ProductById, SerialsOfLine,
        PortalLoader, ShipmentLinesOfLine, VendorById, lines_of_order,
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

/// An order's lines, each with what the delivery rules need (product kind and delivery method,
/// the vendor's software-after-hardware flag), and whether all its hardware has shipped.
/// Derived once per order and request from the loaders' rows (three batched statements for a
/// whole page), then shared by every field that needs it.
pub async fn deliveries(ctx: &Context<'_>, order: &order::Model) -> Result<Arc<OrderDeliveries>> {
    let loader = ctx.loader()?;
    let cell = loader.loader().deliveries_cell(order.id);
    let derived = cell
        .get_or_try_init(|| derive_deliveries(&loader, order))
        .await?;
    Ok(derived.clone())
}

async fn derive_deliveries(
    loader: &PortalLoader,
    order: &order::Model,
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
        result.push((line, delivery));
    }
    let all: Vec<LineDelivery> = result.iter().map(|(_, delivery)| *delivery).collect();
    Ok(Arc::new(OrderDeliveries {
        hardware_shipped: eta::hardware_all_shipped(&all),
        lines: result,
    }))
}

/// One line of an order.
pub struct OrderLine(pub order_line::Model);

impl OrderLine {
    async fn order_row(&self, ctx: &Context<'_>) -> Result<order::Model> {
        let order = ctx.loader()?.load_one(OrderById(self.0.order_id)).await?;
        Ok(promised(order, "order", self.0.order_id)?)
    }

    /// This line's delivery facts, and whether all hardware of its order has shipped.
    async fn delivery(&self, ctx: &Context<'_>) -> Result<(order::Model, LineDelivery, bool)> {
        let order = self.order_row(ctx).await?;
        let deliveries = deliveries(ctx, &order).await?;
        let own = deliveries
            .lines
            .iter()
            .find(|(line, _)| line.id == self.0.id)
            .map(|(_, delivery)| *delivery);
        Ok((
            order,
            promised(own, "order line", self.0.id)?,
            deliveries.hardware_shipped,
        ))
    }
}

#[Object]
impl OrderLine {
    pub async fn id(&self) -> ID {
        encode(NodeKind::OrderLine, self.0.id)
    }

    async fn order(&self, ctx: &Context<'_>) -> Result<Order> {
        Ok(Order(self.order_row(ctx).await?))
    }

    async fn line_number(&self) -> i32 {
        self.0.line_number
    }

    async fn product(&self, ctx: &Context<'_>) -> Result<Product> {
        let product = ctx
            .loader()?
            .load_one(ProductById(self.0.product_id))
            .await?;
        Ok(Product(promised(product, "product", self.0.product_id)?))
    }

    async fn quantity(&self) -> i32 {
        self.0.quantity
    }

    async fn unit_price(&self) -> Money {
        Money::from_e4(self.0.unit_price_e4, &self.0.currency)
    }

    async fn status(&self, ctx: &Context<'_>) -> Result<OrderStatus> {
        let order = self.order_row(ctx).await?;
        Ok(status::line_status(order_state(&order), &line_facts(&self.0)).into())
    }

    async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.0.cancelled_at
    }

    async fn progress(&self) -> FulfillmentProgress {
        progress(&self.0).into()
    }

    /// Expected arrival from the vendor at the warehouse. Null: not yet given by the vendor.
    async fn eta(&self) -> Option<Date> {
        self.0.eta.map(Date)
    }

    /// Every change of this line's ETA, oldest first.
    async fn eta_history(&self, ctx: &Context<'_>) -> Result<Vec<EtaChange>> {
        let changes = ctx
            .loader()?
            .load_one(EtaChangesOfLine(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(changes.into_iter().map(EtaChange).collect())
    }

    /// When the customer can expect it: ETA + 2 business days (physical), the ETA (electronic); null when unknown or already delivered.
    async fn expected_delivery_date(&self, ctx: &Context<'_>) -> Result<Option<Date>> {
        let (_, delivery, _) = self.delivery(ctx).await?;
        Ok(eta::expected_delivery_date(delivery.method, delivery.eta, &delivery.facts).map(Date))
    }

    /// Software held back until the order's hardware has shipped.
    async fn awaiting_hardware(&self, ctx: &Context<'_>) -> Result<bool> {
        let (_, delivery, hardware_shipped) = self.delivery(ctx).await?;
        Ok(eta::awaiting_hardware(&delivery, hardware_shipped))
    }

    /// Not yet delivered and either its ETA is unknown or past, or its expectedDeliveryDate falls after the order's requestedDeliveryDate.
    async fn at_risk(&self, ctx: &Context<'_>) -> Result<bool> {
        let (order, delivery, _) = self.delivery(ctx).await?;
        let today = ctx.services()?.clock.today();
        Ok(eta::at_risk(
            order_state(&order),
            order.requested_delivery_date,
            &delivery,
            today,
        ))
    }

    async fn shipment_lines(&self, ctx: &Context<'_>) -> Result<Vec<ShipmentLine>> {
        let lines = ctx
            .loader()?
            .load_one(ShipmentLinesOfLine(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(ShipmentLine::all_of_order(lines, self.0.order_id))
    }

    async fn serial_numbers(&self, ctx: &Context<'_>) -> Result<Vec<SerialNumber>> {
        let serials = ctx
            .loader()?
            .load_one(SerialsOfLine(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(serials
            .into_iter()
            .map(|(serial, line)| SerialNumber { serial, line })
            .collect())
    }

    async fn electronic_deliveries(&self, ctx: &Context<'_>) -> Result<Vec<ElectronicDelivery>> {
        let deliveries = ctx
            .loader()?
            .load_one(DeliveriesOfLine(self.0.id))
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

#[Object]
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
