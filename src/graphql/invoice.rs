//! Invoices.

use async_graphql::{Context, ID, Object, Result};
use entities::{invoice, invoice_line};

use super::{
    ContextExt,
    ids::{NodeKind, encode},
    one_pass::one_pass_object,
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

one_pass_object! {
    /// An invoice for (part of) an order.
    #[Object]
    impl Invoice(self) {
        /// Global ID, for `node(id:)`.
        "id": pub async fn id(&self) -> ID {
            encode(NodeKind::Invoice, self.0.id)
        }

        /// The distributor's invoice number, as on the invoice document.
        "invoiceNumber": async fn invoice_number(&self) -> &str {
            &self.0.invoice_number
        }

        /// The date on the invoice.
        "invoiceDate": async fn invoice_date(&self) -> Date {
            self.0.invoice_date.into()
        }

        /// The order it invoices.
        "order": async fn order(&self, ctx) -> Result<Order> {
            let order = ctx.loader()?.load_one(OrderById(self.0.order_id)).await?;
            Ok(Order(promised(order, "order", self.0.order_id)?))
        }
        one_pass |walk| {
            let order = &walk.facts()?.order;
            (order.id == self.0.order_id).then(|| Order(order.clone()))
        }

        /// Sum of the amounts of its lines.
        "total": async fn total(&self, ctx) -> Result<Money> {
            Ok(self.total_of(&self.rows(ctx).await?)?)
        }
        one_pass |walk| {
            self.total_of(walk.invoice_lines(self.0.id)?).ok()
        }

        /// The invoiced quantity per order line.
        "lines": async fn lines(&self, ctx) -> Result<Vec<InvoiceLine>> {
            Ok(self.lines_of(self.rows(ctx).await?))
        }
        one_pass |walk| {
            Some(self.lines_of(walk.invoice_lines(self.0.id)?.to_vec()))
        }
    }
}

impl Invoice {
    fn total_of(&self, rows: &[invoice_line::Model]) -> Result<Money, AppError> {
        let total = domain::order::invoice_total_e4(rows).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "invoice {} total overflows",
                self.0.invoice_number
            ))
        })?;
        Ok(Money::from_e4(total, &self.0.currency))
    }

    fn lines_of(&self, rows: Vec<invoice_line::Model>) -> Vec<InvoiceLine> {
        rows.into_iter()
            .map(|row| InvoiceLine {
                row,
                order_id: self.0.order_id,
                currency: self.0.currency.clone(),
            })
            .collect()
    }
}

/// The invoiced quantity of one order line.
pub struct InvoiceLine {
    row: invoice_line::Model,
    /// The invoice's order, whose lines the page has loaded already.
    order_id: i64,
    currency: String,
}

one_pass_object! {
    /// The invoiced quantity of one order line.
    #[Object]
    impl InvoiceLine(self) {
        /// The order line invoiced.
        "orderLine": async fn order_line(&self, ctx) -> Result<OrderLine> {
            let line =
                OrderLine::load(&*ctx.loader()?, Some(self.order_id), self.row.order_line_id).await?;
            Ok(promised(line, "order line", self.row.order_line_id)?)
        }
        one_pass |walk| {
            OrderLine::in_facts(walk.facts()?, self.row.order_line_id)
        }

        /// Units invoiced on this invoice.
        "quantity": async fn quantity(&self) -> i32 {
            self.row.quantity
        }

        /// Quantity × the line's unit price.
        "amount": async fn amount(&self) -> Money {
            Money::from_e4(self.row.amount_e4, &self.currency)
        }
    }
}
