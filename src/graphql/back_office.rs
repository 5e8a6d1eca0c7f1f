//! Back-office writes: what the distributor's ERP sends. Every mutation is back-office only,
//! runs in one transaction, and is idempotent on its business key (see `store::writes`).
//! The input types also read JSON, so that the bulk import takes the very same records.

use async_graphql::{Context, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use futures_util::future::try_join_all;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{
    ContextExt,
    catalogue::{DeliveryMethod, Product, ProductKind, Vendor},
    invoice::Invoice,
    order::Order,
    order_line::OrderLine,
    scalars::Date,
    shipment::Shipment,
};
use crate::{
    auth::{Action, Viewer},
    error::AppResult,
    loaders,
    store::writes,
};

/// A vendor as the ERP knows it; the name is its key.
#[derive(Clone, Debug, InputObject, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VendorInput {
    /// The vendor's name; an existing vendor of that name is updated.
    pub name: String,
    /// True when the vendor delivers software only after the order's hardware has shipped.
    pub software_after_hardware: bool,
}

/// A product; the SKU is its key.
#[derive(Clone, Debug, InputObject, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductInput {
    /// The distributor's article number; an existing product with it is updated.
    pub sku: String,
    /// The product's name and description, as customers see it.
    pub description: String,
    /// Hardware, software or service.
    pub kind: ProductKind,
    /// Shipped by a carrier or delivered by e-mail.
    pub delivery_method: DeliveryMethod,
    /// The name of a vendor recorded before (`upsertVendor`).
    pub vendor_name: String,
}

/// One line of an order.
#[derive(Clone, Debug, InputObject, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LineInput {
    /// The line's number within the order, unique in it.
    pub line_number: i32,
    /// The SKU of a product recorded before (`upsertProduct`).
    pub sku: String,
    /// Units ordered, at least 1.
    pub quantity: i32,
    /// Price of one unit in the order's currency, as a decimal string (at most 4 decimals).
    pub unit_price: Decimal,
    /// The vendor's ETA at the warehouse; null: not known yet.
    pub eta: Option<Date>,
}

/// An order; the order number is its key.
#[derive(Clone, Debug, InputObject, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderInput {
    /// The distributor's order number; an existing, not yet approved order with it is
    /// replaced.
    pub order_number: String,
    /// The customer's `customerNumber` (`createCustomer`).
    pub customer_number: String,
    /// The customer's own reference (their PO number); null: none.
    pub customer_reference: Option<String>,
    /// The day the customer placed the order.
    pub order_date: Date,
    /// The date the customer asked to have everything by; null: none.
    pub requested_delivery_date: Option<Date>,
    /// ISO 4217 code of every amount of the order (`EUR`).
    pub currency: String,
    /// The order's lines, at least one.
    pub lines: Vec<LineInput>,
}

/// One order line's quantity on a shipment, with one serial per unit for serialised goods.
#[derive(Clone, Debug, InputObject, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShipmentLineInput {
    /// The order line shipped.
    pub line_number: i32,
    /// Units of it on this shipment; at most what the line has left to ship.
    pub quantity: i32,
    /// One serial per unit for serialised goods, none shipped before; null or empty: no
    /// serials.
    pub serial_numbers: Option<Vec<String>>,
}

/// A shipment that left the warehouse; the shipment number is its key.
#[derive(Clone, Debug, InputObject, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShipmentInput {
    /// The distributor's shipment number.
    pub shipment_number: String,
    /// The order it ships (part of).
    pub order_number: String,
    /// The date it left the warehouse.
    pub ship_date: Date,
    /// Who carries it; null: not known.
    pub carrier: Option<String>,
    /// The carrier's tracking number; null: none.
    pub tracking_number: Option<String>,
    /// A link to the carrier's tracking page; null: none.
    pub tracking_url: Option<String>,
    /// What it carries, at least one line.
    pub lines: Vec<ShipmentLineInput>,
}

/// The invoiced quantity of one line.
#[derive(Clone, Debug, InputObject, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvoiceLineInput {
    /// The order line invoiced.
    pub line_number: i32,
    /// Units invoiced.
    pub quantity: i32,
}

/// An invoice; the invoice number is its key.
#[derive(Clone, Debug, InputObject, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvoiceInput {
    /// The distributor's invoice number.
    pub invoice_number: String,
    /// The order it invoices.
    pub order_number: String,
    /// The date on the invoice.
    pub invoice_date: Date,
    /// The invoiced quantities, at least one line.
    pub lines: Vec<InvoiceLineInput>,
}

/// A vendor's new ETA for one line.
#[derive(Clone, Debug, InputObject, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EtaUpdate {
    /// The order of the line.
    pub order_number: String,
    /// The line whose ETA moves.
    pub line_number: i32,
    /// Null: the vendor withdrew its ETA.
    pub eta: Option<Date>,
    /// Why it moved, shown to the customer in the ETA history; null: no reason given.
    pub reason: Option<String>,
}

impl From<VendorInput> for writes::VendorInput {
    fn from(input: VendorInput) -> Self {
        Self {
            name: input.name,
            software_after_hardware: input.software_after_hardware,
        }
    }
}

impl From<ProductInput> for writes::ProductInput {
    fn from(input: ProductInput) -> Self {
        Self {
            sku: input.sku,
            description: input.description,
            kind: input.kind.into(),
            delivery_method: input.delivery_method.into(),
            vendor_name: input.vendor_name,
        }
    }
}

impl From<OrderInput> for writes::OrderInput {
    fn from(input: OrderInput) -> Self {
        Self {
            order_number: input.order_number,
            customer_number: input.customer_number,
            customer_reference: input.customer_reference,
            order_date: input.order_date.0,
            requested_delivery_date: input.requested_delivery_date.map(|date| date.0),
            currency: input.currency,
            lines: input
                .lines
                .into_iter()
                .map(|line| writes::LineInput {
                    line_number: line.line_number,
                    sku: line.sku,
                    quantity: line.quantity,
                    unit_price: line.unit_price,
                    eta: line.eta.map(|date| date.0),
                })
                .collect(),
        }
    }
}

impl From<ShipmentInput> for writes::ShipmentInput {
    fn from(input: ShipmentInput) -> Self {
        Self {
            shipment_number: input.shipment_number,
            order_number: input.order_number,
            ship_date: input.ship_date.0,
            carrier: input.carrier,
            tracking_number: input.tracking_number,
            tracking_url: input.tracking_url,
            lines: input
                .lines
                .into_iter()
                .map(|line| writes::ShipmentLineInput {
                    line_number: line.line_number,
                    quantity: line.quantity,
                    serial_numbers: line.serial_numbers.unwrap_or_default(),
                })
                .collect(),
        }
    }
}

impl From<InvoiceInput> for writes::InvoiceInput {
    fn from(input: InvoiceInput) -> Self {
        Self {
            invoice_number: input.invoice_number,
            order_number: input.order_number,
            invoice_date: input.invoice_date.0,
            lines: input
                .lines
                .into_iter()
                .map(|line| (line.line_number, line.quantity))
                .collect(),
        }
    }
}

impl From<EtaUpdate> for writes::EtaUpdate {
    fn from(update: EtaUpdate) -> Self {
        Self {
            order_number: update.order_number,
            line_number: update.line_number,
            eta: update.eta.map(|date| date.0),
            reason: update.reason,
        }
    }
}

fn back_office<'a>(ctx: &'a Context<'_>) -> AppResult<&'a Viewer> {
    let viewer = ctx.viewer()?;
    viewer.require_write(Action::BackOffice)?;
    Ok(viewer)
}

/// What a committed write hands back to its resolver.
trait Announce<T> {
    /// The written row; live subscribers of this process learn of the write's events now
    /// (other instances hear of them from the database), and the request forgets the rows it
    /// had cached, so that the answer and any later mutation of it read what is stored now.
    fn announced(self, ctx: &Context<'_>) -> AppResult<T>;
}

impl<T> Announce<T> for writes::Written<T> {
    fn announced(self, ctx: &Context<'_>) -> AppResult<T> {
        if self.changed {
            ctx.services()?.events.wake();
        }
        loaders::forget(&*ctx.loader()?);
        Ok(self.row)
    }
}

/// The back office's writes.
#[derive(Default)]
pub struct BackOfficeMutation;

#[Object]
impl BackOfficeMutation {
    /// Creates a vendor or updates the one of that name.
    async fn upsert_vendor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The vendor.")] input: VendorInput,
    ) -> Result<Vendor> {
        back_office(ctx)?;
        Ok(Vendor(
            writes::upsert_vendor(&ctx.services()?.db, input.into())
                .await?
                .announced(ctx)?,
        ))
    }

    /// Creates a product or updates the one with that SKU.
    async fn upsert_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product.")] input: ProductInput,
    ) -> Result<Product> {
        back_office(ctx)?;
        Ok(Product(
            writes::upsert_product(&ctx.services()?.db, input.into())
                .await?
                .announced(ctx)?,
        ))
    }

    /// Creates or replaces a not-yet-approved order; an approved order's lines are only
    /// changed by the mutations below.
    async fn upsert_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order with all its lines.")] input: OrderInput,
    ) -> Result<Order> {
        back_office(ctx)?;
        let services = ctx.services()?;
        Ok(Order(
            writes::upsert_order(&services.db, input.into(), services.clock.now())
                .await?
                .announced(ctx)?,
        ))
    }

    /// Approve, process and send the purchase order: the order becomes visible, status
    /// CONFIRMED.
    async fn confirm_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order to approve.")] order_number: String,
    ) -> Result<Order> {
        back_office(ctx)?;
        let services = ctx.services()?;
        Ok(Order(
            writes::confirm_order(&services.db, &order_number, services.clock.now())
                .await?
                .announced(ctx)?,
        ))
    }

    /// Cancel the whole order; refused (CONFLICT) once anything of it has shipped.
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order to cancel.")] order_number: String,
    ) -> Result<Order> {
        back_office(ctx)?;
        let services = ctx.services()?;
        Ok(Order(
            writes::cancel_order(&services.db, &order_number, services.clock.now())
                .await?
                .announced(ctx)?,
        ))
    }

    /// Cancel what remains of one line (nothing of it shipped yet).
    async fn cancel_order_line(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The line's order.")] order_number: String,
        #[graphql(desc = "The line to cancel.")] line_number: i32,
    ) -> Result<OrderLine> {
        back_office(ctx)?;
        let services = ctx.services()?;
        let line = writes::cancel_order_line(
            &services.db,
            &order_number,
            line_number,
            services.clock.now(),
        )
        .await?;
        OrderLine::written(ctx, line.announced(ctx)?).await
    }

    /// All the updates or none; an update to the ETA a line already has changes nothing.
    async fn update_etas(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new ETAs, each for one line.")] updates: Vec<EtaUpdate>,
    ) -> Result<Vec<OrderLine>> {
        back_office(ctx)?;
        let services = ctx.services()?;
        let updates = updates.into_iter().map(Into::into).collect();
        let lines = writes::update_etas(&services.db, updates, services.clock.now()).await?;
        // Together, so that the lines' orders load in one batch.
        try_join_all(
            lines
                .announced(ctx)?
                .into_iter()
                .map(|line| OrderLine::written(ctx, line)),
        )
        .await
    }

    /// Sent again unchanged, answers the recorded shipment; with other contents, CONFLICT.
    async fn record_shipment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shipment, its lines and serials.")] input: ShipmentInput,
    ) -> Result<Shipment> {
        back_office(ctx)?;
        let services = ctx.services()?;
        Ok(Shipment(
            writes::record_shipment(&services.db, input.into(), services.clock.now())
                .await?
                .announced(ctx)?,
        ))
    }

    /// The first delivery time recorded stands; calling again changes nothing.
    async fn mark_shipment_delivered(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shipment that arrived.")] shipment_number: String,
        #[graphql(desc = "When the carrier delivered it.")] delivered_at: DateTime<Utc>,
    ) -> Result<Shipment> {
        back_office(ctx)?;
        let services = ctx.services()?;
        let shipment = writes::mark_shipment_delivered(
            &services.db,
            &shipment_number,
            delivered_at,
            services.clock.now(),
        )
        .await?;
        Ok(Shipment(shipment.announced(ctx)?))
    }

    /// Units of an electronic product e-mailed to the customer; the same delivery sent again is recorded once.
    async fn record_electronic_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The line's order.")] order_number: String,
        #[graphql(desc = "The line of an electronic product.")] line_number: i32,
        #[graphql(desc = "Units delivered; at most what the line has left.")] quantity: i32,
        #[graphql(desc = "Who received the licence or download.")] recipient_email: String,
        #[graphql(desc = "When it was e-mailed.")] delivered_at: DateTime<Utc>,
    ) -> Result<OrderLine> {
        back_office(ctx)?;
        let services = ctx.services()?;
        let input = writes::ElectronicDeliveryInput {
            order_number,
            line_number,
            quantity,
            recipient_email,
            delivered_at,
        };
        let line = writes::record_electronic_delivery(&services.db, input, services.clock.now())
            .await?
            .announced(ctx)?;
        OrderLine::written(ctx, line).await
    }

    /// Sent again unchanged, answers the recorded invoice; with other contents, CONFLICT.
    async fn record_invoice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invoice and its lines.")] input: InvoiceInput,
    ) -> Result<Invoice> {
        back_office(ctx)?;
        let services = ctx.services()?;
        Ok(Invoice(
            writes::record_invoice(&services.db, input.into(), services.clock.now())
                .await?
                .announced(ctx)?,
        ))
    }
}
