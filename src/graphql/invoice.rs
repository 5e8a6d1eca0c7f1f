//! Invoices.

use async_graphql::{Context, ID, Object, Result};
use entities::{invoice, invoice_line};

use super::{
    ContextExt,
    ids::{NodeKind, encode},
    order::Order,
    order_line::OrderLine,
    promised,
    scalars::{Date, Money},
};
use crate::{
    domain,
    error::AppError,
    loaders::{LinesOfInvoice, OrderById},
};

/// An invoice for (part of) an order.
pub struct Invoice(pub invoice::Model);

impl Invoice {
    async fn rows(&self, ctx: &Context<'_>) -> Result<Vec<invoice_line::Model>> {
        Ok(ctx
            .loader()?
            .load_one(LinesOfInvoice(self.0.id))
            .await?
            .unwrap_or_default())
    }
}

/// An invoice for (part of) an order.
#[Object]
impl Invoice {
    /// Global ID, for `node(id:)`.
    pub async fn id(&self) -> ID {
        encode(NodeKind::Invoice, self.0.id)
    }

    /// The distributor's invoice number, as on the invoice document.
    async fn invoice_number(&self) -> &str {
        &self.0.invoice_number
    }

    /// The date on the invoice.
    async fn invoice_date(&self) -> Date {
        self.0.invoice_date.into()
    }

    /// The order it invoices.
    async fn order(&self, ctx: &Context<'_>) -> Result<Order> {
        let order = ctx.loader()?.load_one(OrderById(self.0.order_id)).await?;
        Ok(Order(promised(order, "order", self.0.order_id)?))
    }

    /// Sum of the amounts of its lines.
    async fn total(&self, ctx: &Context<'_>) -> Result<Money> {
        let total = domain::order::invoice_total_e4(&self.rows(ctx).await?).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "invoice {} total overflows",
                self.0.invoice_number
            ))
        })?;
        Ok(Money::from_e4(total, &self.0.currency))
    }

    /// The invoiced quantity per order line.
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<InvoiceLine>> {
        Ok(self
            .rows(ctx)
            .await?
            .into_iter()
            .map(|row| InvoiceLine {
                row,
                order_id: self.0.order_id,
                currency: self.0.currency.clone(),
            })
            .collect())
    }
}

/// The invoiced quantity of one order line.
pub struct InvoiceLine {
    row: invoice_line::Model,
    /// The invoice's order, whose lines the page has loaded already.
    order_id: i64,
    currency: String,
}

/// The invoiced quantity of one order line.
#[Object]
impl InvoiceLine {
    /// The order line invoiced.
    async fn order_line(&self, ctx: &Context<'_>) -> Result<OrderLine> {
        let line =
            OrderLine::load(&*ctx.loader()?, Some(self.order_id), self.row.order_line_id).await?;
        Ok(promised(line, "order line", self.row.order_line_id)?)
    }

    /// Units invoiced on this invoice.
    async fn quantity(&self) -> i32 {
        self.row.quantity
    }

    /// Quantity × the line's unit price.
    async fn amount(&self) -> Money {
        Money::from_e4(self.row.amount_e4, &self.currency)
    }
}
