//! The per-request cache of each order's derived facts: the loaders bring the rows (the
//! order, its lines, their products and vendors) and `domain::order` derives the facts, once
//! per order and request, for every field of the order and its lines to read.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError},
};

use entities::{order, order_line, product, vendor};
use tokio::sync::OnceCell;

use super::{
    LinesOfOrder, Loaders, OrderById, PortalLoader, ProductById, VendorById, lines_of_order,
};
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
    /// The product's vendor, which the facts needed anyway: an order page answers its
    /// products' vendors from here.
    pub vendor: vendor::Model,
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
    let (products, vendors) = catalogue_of(loader, rows.iter()).await?;
    Ok(Arc::new(assemble(order, &rows, &products, &vendors)?))
}

type Catalogue = (
    HashMap<ProductById, product::Model>,
    HashMap<VendorById, vendor::Model>,
);

/// The products of `lines` and their vendors, a `load_many` each.
async fn catalogue_of(
    loader: &PortalLoader,
    lines: impl Iterator<Item = &order_line::Model>,
) -> Result<Catalogue, async_graphql::Error> {
    let products = loader
        .load_many(lines.map(|line| ProductById(line.product_id)))
        .await?;
    let vendors = loader
        .load_many(
            products
                .values()
                .map(|product| VendorById(product.vendor_id)),
        )
        .await?;
    Ok((products, vendors))
}

/// The lines of a page of orders, in one `load_many`, shared with [`lines_of_order`].
pub async fn page_lines(
    loader: &PortalLoader,
    orders: &[order::Model],
) -> Result<HashMap<i64, Arc<Vec<order_line::Model>>>, async_graphql::Error> {
    let mut loaded = loader
        .load_many(orders.iter().map(|order| LinesOfOrder(order.id)))
        .await?;
    let mut page = HashMap::with_capacity(orders.len());
    for order in orders {
        let rows = Arc::new(loaded.remove(&LinesOfOrder(order.id)).unwrap_or_default());
        let cell = loader.loader().lines_cell(order.id);
        // A field that asked on its own first keeps its rows: both came from the same request.
        // One still loading them holds the cell without a value yet: these rows are as good.
        let _ = cell.set(rows.clone());
        page.insert(order.id, cell.get().cloned().unwrap_or(rows));
    }
    Ok(page)
}

/// The facts of a page of orders, derived with one `load_many` per relation for the whole
/// page: a batch per order level would split whenever its answers reached the orders in more
/// than one poll of the request. Shared with [`order_facts`].
pub async fn page_facts(
    loader: &PortalLoader,
    orders: &[order::Model],
) -> Result<HashMap<i64, Arc<OrderDeliveries>>, async_graphql::Error> {
    let lines = page_lines(loader, orders).await?;
    let (products, vendors) =
        catalogue_of(loader, lines.values().flat_map(|rows| rows.iter())).await?;
    let mut page = HashMap::with_capacity(orders.len());
    for order in orders {
        let rows = lines.get(&order.id).cloned().unwrap_or_default();
        let derived = Arc::new(assemble(order.clone(), &rows, &products, &vendors)?);
        let cell = loader.loader().deliveries_cell(order.id);
        let _ = cell.set(derived.clone());
        page.insert(order.id, cell.get().cloned().unwrap_or(derived));
    }
    Ok(page)
}

/// An order's facts from its loaded rows.
fn assemble(
    order: order::Model,
    rows: &[order_line::Model],
    products: &HashMap<ProductById, product::Model>,
    vendors: &HashMap<VendorById, vendor::Model>,
) -> Result<OrderDeliveries, AppError> {
    let mut lines = Vec::with_capacity(rows.len());
    let mut inputs = Vec::with_capacity(rows.len());
    for line in rows.iter() {
        let product = present(
            products.get(&ProductById(line.product_id)).cloned(),
            "product",
            line.product_id,
        )?;
        let vendor = present(
            vendors.get(&VendorById(product.vendor_id)).cloned(),
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
            vendor,
        });
    }
    let with_products: Vec<_> = lines.iter().map(|line| &line.row).zip(inputs).collect();
    let facts = OrderFacts::derive(&order, &with_products);
    Ok(OrderDeliveries {
        order,
        lines,
        facts,
    })
}
