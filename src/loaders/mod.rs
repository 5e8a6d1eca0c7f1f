//! One DataLoader key type per relation. Each batch is one `IN (…)` statement from
//! `store::batch`, so a list of N parents costs one statement per level, whatever N is.
//! A loader is created per request: cached rows never cross from one caller to another.

use std::{
    collections::HashMap,
    future::Future,
    hash::Hash,
    pin::Pin,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, Wake, Waker},
    time::Duration,
};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entities::{
    company, electronic_delivery, eta_change, invoice, invoice_line, order, order_line, product,
    serial_number, shipment, shipment_line, user, vendor,
};
use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, OnceCell};

use crate::store::batch;

/// The per-request cache of each order's derived facts.
pub mod facts;

pub use facts::{
    LineOfOrder, OrderDeliveries, order_facts, order_facts_by_id, page_facts, page_lines,
};

/// The per-request loader every resolver reaches through `ctx.data::<PortalLoader>()`.
pub type PortalLoader = DataLoader<Loaders, HashMapCache<foldhash::fast::RandomState>>;

/// The loaders' cache is keyed by ids looked up thousands of times a request, where SipHash
/// was a tenth of the work; foldhash is still seeded at random per process.
fn cache() -> HashMapCache<foldhash::fast::RandomState> {
    HashMapCache::new()
}

/// Keys stay well under the bind-parameter limits of SQLite (32766) and PostgreSQL (65535)
/// while letting a 100-order page with all its lines go in one batch.
const MAX_BATCH: usize = 5_000;

/// The database behind the loaders, and what a request derives from the rows they loaded.
pub struct Loaders {
    db: DatabaseConnection,
    lines: Mutex<HashMap<i64, Arc<OnceCell<SharedLines>>>>,
    deliveries: facts::Cells,
}

/// An order's lines, loaded once per request and shared (see [`lines_of_order`]).
type SharedLines = Arc<Vec<order_line::Model>>;

impl Loaders {
    /// The cell that holds an order's lines for the request.
    fn lines_cell(&self, order_id: i64) -> Arc<OnceCell<SharedLines>> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(order_id)
            .or_default()
            .clone()
    }

    fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            lines: Mutex::default(),
            deliveries: Mutex::default(),
        }
    }
}

/// Forgets every row and derived fact the request has cached: a write answers with what it
/// wrote, and whatever the request reads after it (the written object's fields, the next
/// mutation's) is read again. A key type declared below belongs in this list too.
pub fn forget(loader: &PortalLoader) {
    macro_rules! clear {
        ($($key:ident),*) => { $(loader.clear::<$key>();)* };
    }
    clear!(
        OrderById,
        OrderLineById,
        ProductById,
        VendorById,
        ShipmentById,
        ShipmentLineById,
        CompanyById,
        UserById,
        LinesOfOrder,
        EtaChangesOfLine,
        ShipmentsOfOrder,
        LinesOfShipment,
        ShipmentLinesOfLine,
        SerialsOfShipmentLine,
        DeliveriesOfLine,
        InvoicesOfOrder,
        LinesOfInvoice,
        SerialsOfLine,
        UsersOfCompany
    );
    let loaders = loader.loader();
    loaders
        .lines
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    loaders
        .deliveries
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
}

impl Loaders {
    /// A fresh loader for one request, whose batches start when `idle` says the request has
    /// registered every key it can (see [`BatchWhenIdle`]).
    pub fn for_request(db: DatabaseConnection, idle: Arc<Notify>) -> PortalLoader {
        let spawner = move |batch: Pin<Box<dyn Future<Output = ()> + Send>>| {
            // Created now, while the request is still being polled, so that the signal at the
            // end of this poll reaches it.
            let request_idle = idle.clone().notified_owned();
            let batch = crate::budget::inherit(batch);
            tokio::spawn(async move {
                request_idle.await;
                batch.await;
            })
        };
        DataLoader::with_cache(Self::new(db), spawner, cache())
            .delay(Duration::ZERO)
            .max_batch_size(MAX_BATCH)
    }
}

/// The loader of a subscription: events arrive one at a time over a long-lived connection,
/// so each event gets a fresh loader (no row cached from an earlier event), batching by a
/// short timer since there is no request to wait for.
pub struct StreamLoader {
    db: DatabaseConnection,
    current: Mutex<Arc<PortalLoader>>,
}

impl StreamLoader {
    pub fn new(db: DatabaseConnection) -> Self {
        let current = Mutex::new(Arc::new(Self::fresh(&db)));
        Self { db, current }
    }

    fn fresh(db: &DatabaseConnection) -> PortalLoader {
        DataLoader::with_cache(Loaders::new(db.clone()), tokio::spawn, cache())
            .max_batch_size(MAX_BATCH)
    }

    /// The loader for the event being resolved now.
    pub fn current(&self) -> Arc<PortalLoader> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets every cached row, before the next event is resolved.
    pub fn renew(&self) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) =
            Arc::new(Self::fresh(&self.db));
    }
}

/// Runs a request and signals every time it stops to wait. A timer-based batch window splits
/// batches whenever resolving a level takes longer than the window (a slow machine, a debug
/// build, a large page); waiting until the request is idle means that every resolver that could
/// run has asked for its keys, so each level is exactly one statement per relation.
pub struct BatchWhenIdle<F> {
    request: Pin<Box<F>>,
    idle: Arc<Notify>,
}

impl<F: Future> BatchWhenIdle<F> {
    /// Wraps `request`; pass the same `idle` to [`Loaders::for_request`].
    pub fn new(request: F, idle: Arc<Notify>) -> Self {
        Self {
            request: Box::pin(request),
            idle,
        }
    }
}

impl<F: Future> Future for BatchWhenIdle<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let watch = Arc::new(WakeWatch {
            waker: cx.waker().clone(),
            woken: AtomicBool::new(false),
        });
        let waker = Waker::from(watch.clone());
        let polled = self.request.as_mut().poll(&mut Context::from_waker(&waker));
        // A request that woke itself while being polled only yielded to be fair (join_all and
        // tokio's budget do that); it still has keys to ask for.
        if polled.is_pending() && !watch.woken.load(Ordering::SeqCst) {
            self.idle.notify_waiters();
        }
        polled
    }
}

/// Passes wake-ups on, remembering that one happened.
struct WakeWatch {
    waker: Waker,
    woken: AtomicBool,
}

impl Wake for WakeWatch {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.waker.wake_by_ref();
    }
}

fn by_key<K: Hash + Eq, V>(rows: Vec<V>, key: impl Fn(&V) -> K) -> HashMap<K, V> {
    rows.into_iter().map(|row| (key(&row), row)).collect()
}

fn grouped<K: Hash + Eq + Copy, V>(
    keys: &[K],
    rows: Vec<V>,
    key: impl Fn(&V) -> K,
) -> HashMap<K, Vec<V>> {
    let mut groups: HashMap<K, Vec<V>> = keys.iter().map(|key| (*key, Vec::new())).collect();
    for row in rows {
        groups.entry(key(&row)).or_default().push(row);
    }
    groups
}

fn raw(keys: &[impl Copy + Into<i64>]) -> Vec<i64> {
    keys.iter().map(|key| (*key).into()).collect()
}

/// The lines of an order, by line number, shared by every field of the request that needs
/// them. A DataLoader forgets keys while their batch runs, so a field that asked for an
/// order's lines then (a shipment line's order line, reached faster through two short
/// statements than the lines' one long one) would start a second batch; here it waits for the
/// first instead, and no clone of the rows is made per field.
pub async fn lines_of_order(
    loader: &PortalLoader,
    order_id: i64,
) -> Result<SharedLines, async_graphql::Error> {
    let cell = loader.loader().lines_cell(order_id);
    let lines = cell
        .get_or_try_init(|| async {
            let lines = loader.load_one(LinesOfOrder(order_id)).await?;
            Ok::<_, async_graphql::Error>(Arc::new(lines.unwrap_or_default()))
        })
        .await?;
    Ok(lines.clone())
}

/// Declares a key that loads one row per id.
macro_rules! one_by_id {
    ($(#[$doc:meta])* $key:ident => $entity:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub i64);

        impl From<$key> for i64 {
            fn from(key: $key) -> i64 {
                key.0
            }
        }

        impl Loader<$key> for Loaders {
            type Value = $entity::Model;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let rows = batch::rows_where_in::<$entity::Entity>(&self.db, $entity::Column::Id, &raw(keys), &[]).await?;
                Ok(by_key(rows, |row| $key(row.id)))
            }
        }
    };
}

/// Declares a key that loads the children of one parent, in a stable order.
macro_rules! many_of {
    ($(#[$doc:meta])* $key:ident => $entity:ident by $parent:ident / $field:ident, ordered by [$($order:ident),*]) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub i64);

        impl From<$key> for i64 {
            fn from(key: $key) -> i64 {
                key.0
            }
        }

        impl Loader<$key> for Loaders {
            type Value = Vec<$entity::Model>;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let order = [$($entity::Column::$order),*];
                let rows = batch::rows_where_in::<$entity::Entity>(&self.db, $entity::Column::$parent, &raw(keys), &order).await?;
                Ok(grouped(keys, rows, |row| $key(row.$field)))
            }
        }
    };
}

one_by_id!(/// An order by id.
    OrderById => order);
one_by_id!(/// An order line by id.
    OrderLineById => order_line);
one_by_id!(/// A product by id.
    ProductById => product);
one_by_id!(/// A vendor by id.
    VendorById => vendor);
one_by_id!(/// A shipment by id.
    ShipmentById => shipment);
one_by_id!(/// A shipment line by id.
    ShipmentLineById => shipment_line);
one_by_id!(/// A company by id.
    CompanyById => company);
one_by_id!(/// A user by id.
    UserById => user);

many_of!(/// The lines of an order, by line number.
    LinesOfOrder => order_line by OrderId / order_id, ordered by [LineNumber, Id]);
many_of!(/// The ETA changes of an order line, oldest first.
    EtaChangesOfLine => eta_change by OrderLineId / order_line_id, ordered by [ChangedAt, Id]);
many_of!(/// The shipments of an order, by ship date.
    ShipmentsOfOrder => shipment by OrderId / order_id, ordered by [ShipDate, Id]);
many_of!(/// The lines of a shipment.
    LinesOfShipment => shipment_line by ShipmentId / shipment_id, ordered by [Id]);
many_of!(/// The shipment lines that carried units of an order line.
    ShipmentLinesOfLine => shipment_line by OrderLineId / order_line_id, ordered by [Id]);
many_of!(/// The serial numbers of a shipment line.
    SerialsOfShipmentLine => serial_number by ShipmentLineId / shipment_line_id, ordered by [Serial]);
many_of!(/// The electronic deliveries of an order line, oldest first.
    DeliveriesOfLine => electronic_delivery by OrderLineId / order_line_id, ordered by [DeliveredAt, Id]);
many_of!(/// The invoices of an order, by date.
    InvoicesOfOrder => invoice by OrderId / order_id, ordered by [InvoiceDate, Id]);
many_of!(/// The lines of an invoice.
    LinesOfInvoice => invoice_line by InvoiceId / invoice_id, ordered by [Id]);

/// The serial numbers shipped for an order line, with the shipment line of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SerialsOfLine(pub i64);

impl Loader<SerialsOfLine> for Loaders {
    type Value = Vec<(serial_number::Model, shipment_line::Model)>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[SerialsOfLine],
    ) -> Result<HashMap<SerialsOfLine, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|key| key.0).collect();
        let rows = batch::serials_of_order_lines(&self.db, &ids).await?;
        Ok(grouped(keys, rows, |(_, line)| {
            SerialsOfLine(line.order_line_id)
        }))
    }
}

/// The users of a company, by e-mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UsersOfCompany(pub i64);

impl Loader<UsersOfCompany> for Loaders {
    type Value = Vec<user::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[UsersOfCompany],
    ) -> Result<HashMap<UsersOfCompany, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|key| key.0).collect();
        let rows = batch::rows_where_in::<user::Entity>(
            &self.db,
            user::Column::CompanyId,
            &ids,
            &[user::Column::Email],
        )
        .await?;
        Ok(grouped(keys, rows, |row| {
            UsersOfCompany(row.company_id.unwrap_or_default())
        }))
    }
}
