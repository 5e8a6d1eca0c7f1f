//! The per-request cache of each order's derived facts: the loaders bring the rows (the
//! order, its lines, their products and vendors) and `domain::order` derives the facts, once
//! per order and request, for every field of the order and its lines to read.

use std::sync::{Arc, PoisonError};

use entities::{order, order_line, product};
use tokio::sync::OnceCell;

use super::{Loaders, OrderById, PortalLoader, ProductById, VendorById, lines_of_order};
use crate::{
    domain::order::{OrderFacts, ProductFacts},
    error::AppError,
};

/// An order with its lines, their products, and the facts derived from them.
pub struct OrderDeliveries {
    pub order: order::Model,
    pub lines: Vec<LineOfOrder>,
    pub facts: OrderFacts,
}

/// One line of [`OrderDeliveries`], at the same index as in its facts.
pub struct LineOfOrder {
    pub row: order_line::Model,
    pub product: product::Model,
}

/// The cells of one request, one per order.
pub(super) type Cells =
    std::sync::Mutex<std::collections::HashMap<i64, Arc<OnceCell<Arc<OrderDeliveries>>>>>;

impl Loaders {
    /// The cell that holds this order's facts for the request: the first field to ask fills
    /// it while the others wait.
    fn deliveries_cell(&self, order_id: i64) -> Arc<OnceCell<Arc<OrderDeliveries>>> {
        self.deliveries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(order_id)
            .or_default()
            .clone()
    }
}

/// The facts of an order the caller holds (three batched statements for a whole page).
pub async fn order_facts(
    loader: &PortalLoader,
    order: &order::Model,
) -> Result<Arc<OrderDeliveries>, async_graphql::Error> {
    let cell = loader.loader().deliveries_cell(order.id);
    let derived = cell
        .get_or_try_init(|| derive(loader, order.clone()))
        .await?;
    Ok(derived.clone())
}

/// [`order_facts`] of an order known by id only (a shipment or invoice line's order): when
/// the page's order has started deriving them, this waits for it instead of loading the order.
pub async fn order_facts_by_id(
    loader: &PortalLoader,
    order_id: i64,
) -> Result<Arc<OrderDeliveries>, async_graphql::Error> {
    let cell = loader.loader().deliveries_cell(order_id);
    let derived = cell
        .get_or_try_init(|| async {
            let order = loader.load_one(OrderById(order_id)).await?;
            derive(loader, present(order, "order", order_id)?).await
        })
        .await?;
    Ok(derived.clone())
}

fn present<T>(row: Option<T>, what: &str, id: i64) -> Result<T, AppError> {
    row.ok_or_else(|| AppError::Internal(anyhow::anyhow!("{what} {id} is referenced but missing")))
}

async fn derive(
    loader: &PortalLoader,
    order: order::Model,
) -> Result<Arc<OrderDeliveries>, async_graphql::Error> {
    let rows = lines_of_order(loader, order.id).await?;
    let products = loader
        .load_many(rows.iter().map(|line| ProductById(line.product_id)))
        .await?;
    let vendors = loader
        .load_many(
            products
                .values()
                .map(|product| VendorById(product.vendor_id)),
        )
        .await?;
    let mut lines = Vec::with_capacity(rows.len());
    let mut inputs = Vec::with_capacity(rows.len());
    for line in rows.iter() {
        let product = present(
            products.get(&ProductById(line.product_id)).cloned(),
            "product",
            line.product_id,
        )?;
        let vendor = present(
            vendors.get(&VendorById(product.vendor_id)),
            "vendor",
            product.vendor_id,
        )?;
        inputs.push(ProductFacts {
            kind: product.kind,
            method: product.delivery_method,
            vendor_software_after_hardware: vendor.software_after_hardware,
        });
        lines.push(LineOfOrder {
            row: line.clone(),
            product,
        });
    }
    let with_products: Vec<_> = lines.iter().map(|line| &line.row).zip(inputs).collect();
    let facts = OrderFacts::derive(&order, &with_products);
    Ok(Arc::new(OrderDeliveries {
        order,
        lines,
        facts,
    }))
}
