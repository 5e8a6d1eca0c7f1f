//! Orders, their computed figures, and the order list.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entities::{order, order_line};

use super::{
    ContextExt, Services,
    account::Company,
    ids::{NodeKind, decode_as, encode},
    invoice::Invoice,
    one_pass::{OnePassOrder, Page, one_pass_object},
    order_line::OrderLine,
    promised,
    scalars::{Date, Money},
    shipment::Shipment,
};
use crate::{
    auth::{Action, Viewer},
    domain::{self, status},
    error::{AppError, AppResult},
    loaders::{
        CompanyById, InvoicesOfOrder, OrderDeliveries, ShipmentsOfOrder, lines_of_order,
        order_facts,
    },
    store::{self, Scope, orders::Cursor},
};

/// Where an order (or line) stands; computed from quantities, never set by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::domain::status::Status")]
pub enum OrderStatus {
    /// Received, not yet approved and processed by the back office; back office only.
    PendingApproval,
    /// Processed and the purchase order sent to the vendor; nothing shipped yet.
    Confirmed,
    /// Some quantity shipped or delivered, and items still to be delivered or invoiced.
    PartiallyFulfilled,
    /// Every line delivered and invoiced.
    Fulfilled,
    /// Cancelled by the back office.
    Cancelled,
}

/// Ascending or descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum SortDirection {
    /// Oldest, lowest or alphabetically first at the top.
    Asc,
    /// Newest, highest or alphabetically last at the top.
    Desc,
}

/// What the order list can be sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::store::orders::SortField")]
pub enum OrderSortField {
    /// The day the customer placed the order.
    OrderDate,
    /// The distributor's order number, compared as text (`SO-10` sorts before `SO-9`).
    OrderNumber,
    /// The last time anything of the order changed (status, ETA, shipment, invoice).
    UpdatedAt,
}

/// A sort order of the order list; ties are broken by the order's id.
#[derive(Clone, Copy, Debug, InputObject)]
pub struct OrderSort {
    /// What to sort by.
    pub field: OrderSortField,
    /// Which end comes first.
    pub direction: SortDirection,
}

/// Narrows an order list; all given fields apply together, and a field left out (or null)
/// does not narrow it.
#[derive(Clone, Debug, Default, InputObject)]
pub struct OrderFilter {
    /// Orders in any of these statuses (an order's status, not its lines'). Customers never
    /// see `PENDING_APPROVAL` orders, so for them that status matches nothing. Null: every
    /// status.
    pub status: Option<Vec<OrderStatus>>,
    /// Orders placed on or after this date (`orderDate`, inclusive).
    pub ordered_from: Option<Date>,
    /// Orders placed on or before this date (`orderDate`, inclusive).
    pub ordered_to: Option<Date>,
    /// Orders with an open line whose ETA is on or after this date. Lines without an ETA
    /// never match an ETA bound.
    pub eta_from: Option<Date>,
    /// Orders with an open line whose ETA is on or before this date (inclusive).
    pub eta_to: Option<Date>,
    /// Matches exactly (surrounding spaces ignored) an order number, customer reference,
    /// SKU, serial number or tracking number.
    pub search: Option<String>,
    /// Back office only: one company's orders (a `Company.id`). A customer giving it gets
    /// FORBIDDEN.
    pub company_id: Option<ID>,
}

impl OrderFilter {
    /// The data layer's filter; `companyId` is refused to customers rather than ignored.
    pub fn parse(filter: Option<Self>, viewer: &Viewer) -> AppResult<store::orders::OrderFilter> {
        let filter = filter.unwrap_or_default();
        let company_id = match &filter.company_id {
            Some(id) => {
                viewer.require(Action::BackOffice).map_err(|_| {
                    AppError::Forbidden("filter.companyId is for the back office only")
                })?;
                Some(decode_as(id, NodeKind::Company, "filter.companyId")?)
            }
            None => None,
        };
        Ok(store::orders::OrderFilter {
            statuses: filter
                .status
                .map(|statuses| statuses.into_iter().map(Into::into).collect()),
            ordered_from: filter.ordered_from.map(|date| date.0),
            ordered_to: filter.ordered_to.map(|date| date.0),
            eta_from: filter.eta_from.map(|date| date.0),
            eta_to: filter.eta_to.map(|date| date.0),
            search: filter.search,
            company_id,
        })
    }
}

/// The ETA of an order: the earliest and latest ETA of its open lines.
#[derive(Clone, Debug)]
pub struct EtaRange {
    pub earliest: Option<Date>,
    pub latest: Option<Date>,
    pub pending: bool,
}

one_pass_object! {
    /// The ETA of an order: the earliest and latest ETA of its open lines.
    #[Object(serial)]
    impl EtaRange(self) {
        /// The earliest ETA (arrival at the distributor's warehouse) of the open lines. Null when
        /// no open line has an ETA.
        "earliest": async fn earliest(&self) -> Option<Date> {
            self.earliest
        }

        /// The latest ETA of the open lines; equal to `earliest` when they agree. Null when no
        /// open line has an ETA.
        "latest": async fn latest(&self) -> Option<Date> {
            self.latest
        }

        /// True when at least one open line has no ETA yet (shown as `date = ...`).
        "pending": async fn pending(&self) -> bool {
            self.pending
        }
    }
}

impl From<&OrderDeliveries> for EtaRange {
    fn from(of: &OrderDeliveries) -> Self {
        let range = of.facts.eta_range();
        Self {
            earliest: range.earliest.map(Date),
            latest: range.latest.map(Date),
            pending: range.pending,
        }
    }
}

/// Quantities of a line, or summed over an order's lines that are not cancelled.
#[derive(Clone, Debug)]
pub struct FulfillmentProgress {
    pub ordered: i32,
    pub shipped: i32,
    pub delivered: i32,
    pub invoiced: i32,
}

one_pass_object! {
    /// Quantities of a line, or summed over an order's lines that are not cancelled.
    #[Object(serial)]
    impl FulfillmentProgress(self) {
        /// Units ordered.
        "ordered": async fn ordered(&self) -> i32 {
            self.ordered
        }

        /// Units that left the warehouse, plus units delivered electronically.
        "shipped": async fn shipped(&self) -> i32 {
            self.shipped
        }

        /// Units on delivered shipments, plus units delivered electronically.
        "delivered": async fn delivered(&self) -> i32 {
            self.delivered
        }

        /// Units on invoices.
        "invoiced": async fn invoiced(&self) -> i32 {
            self.invoiced
        }
    }
}

impl From<status::Progress> for FulfillmentProgress {
    fn from(progress: status::Progress) -> Self {
        Self {
            ordered: progress.ordered,
            shipped: progress.shipped,
            delivered: progress.delivered,
            invoiced: progress.invoiced,
        }
    }
}

/// A sales order of one company. Customers see their own company's orders once the back
/// office has approved them; the back office sees all.
pub struct Order(pub order::Model);

impl Order {
    fn total_of(&self, lines: &[order_line::Model]) -> Result<Money, AppError> {
        let total = domain::order::order_total_e4(lines).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "order {} total overflows",
                self.0.order_number
            ))
        })?;
        Ok(Money::from_e4(total, &self.0.currency))
    }
}

one_pass_object! {
    /// A sales order of one company: its lines, shipments and invoices, and figures computed from
    /// them. Customers see their own company's orders once the back office has approved them.
    #[Object]
    impl Order(self) {
        /// Global ID, for `node(id:)`.
        "id": pub async fn id(&self) -> ID {
            encode(NodeKind::Order, self.0.id)
        }

        /// The distributor's order number (`SO-…`), as on its confirmations and invoices.
        "orderNumber": async fn order_number(&self) -> &str {
            &self.0.order_number
        }

        /// The customer's own reference (their purchase order number).
        "customerReference": async fn customer_reference(&self) -> Option<&str> {
            self.0.customer_reference.as_deref()
        }

        /// The day the customer placed the order; the 3 business days before it must be visible
        /// count from here.
        "orderDate": async fn order_date(&self) -> Date {
            self.0.order_date.into()
        }

        /// The date the customer asked to have everything by, if any.
        "requestedDeliveryDate": async fn requested_delivery_date(&self) -> Option<Date> {
            self.0.requested_delivery_date.map(Date)
        }

        /// The customer that placed it.
        "company": async fn company(&self, ctx) -> Result<Company> {
            let company = ctx
                .loader()?
                .load_one(CompanyById(self.0.company_id))
                .await?;
            Ok(Company(promised(company, "company", self.0.company_id)?))
        }

        /// Where the order stands, computed from its lines' quantities.
        "status": async fn status(&self) -> OrderStatus {
            self.0.status.into()
        }

        /// When the purchase order went to the vendor(s).
        "confirmedAt": async fn confirmed_at(&self) -> Option<DateTime<Utc>> {
            self.0.confirmed_at
        }

        /// When the back office cancelled the whole order; null while it is not cancelled.
        "cancelledAt": async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
            self.0.cancelled_at
        }

        /// When the open lines are expected at the distributor's warehouse: the range of their
        /// ETAs. Both ends are null once nothing is left open.
        "eta": async fn eta(&self, ctx) -> Result<EtaRange> {
            Ok(EtaRange::from(&*order_facts(&*ctx.loader()?, &self.0).await?))
        }
        one_pass |walk| {
            Some(EtaRange::from(&**walk.of_order(self.0.id)?.facts()?))
        }

        /// True when a line is at risk (see OrderLine.atRisk).
        "atRisk": async fn at_risk(&self, ctx) -> Result<bool> {
            let facts = order_facts(&*ctx.loader()?, &self.0).await?;
            let today = ctx.services()?.clock.today();
            Ok(facts.facts.at_risk(today))
        }
        one_pass |walk| {
            let facts = walk.of_order(self.0.id)?.facts()?;
            Some(facts.facts.at_risk(walk.today()))
        }

        /// Quantities summed over the lines that are not cancelled.
        "progress": async fn progress(&self, ctx) -> Result<FulfillmentProgress> {
            let lines = lines_of_order(&*ctx.loader()?, self.0.id).await?;
            Ok(domain::order::order_progress(&lines).into())
        }
        one_pass |walk| {
            let lines = walk.of_order(self.0.id)?.lines()?;
            Some(FulfillmentProgress::from(domain::order::order_progress(lines)))
        }

        /// Sum of quantity × unit price over the lines that are not cancelled.
        "total": async fn total(&self, ctx) -> Result<Money> {
            let lines = lines_of_order(&*ctx.loader()?, self.0.id).await?;
            Ok(self.total_of(&lines)?)
        }
        one_pass |walk| {
            self.total_of(walk.of_order(self.0.id)?.lines()?).ok()
        }

        /// Every line, cancelled ones included, by line number.
        "lines": async fn lines(&self, ctx) -> Result<Vec<OrderLine>> {
            Ok(OrderLine::all_of(
                &order_facts(&*ctx.loader()?, &self.0).await?,
            ))
        }
        one_pass |walk| {
            Some(OrderLine::all_of(walk.of_order(self.0.id)?.facts()?))
        }

        /// What left the warehouse for this order, by ship date; empty before the first shipment.
        "shipments": async fn shipments(&self, ctx) -> Result<Vec<Shipment>> {
            let shipments = ctx
                .loader()?
                .load_one(ShipmentsOfOrder(self.0.id))
                .await?
                .unwrap_or_default();
            Ok(shipments.into_iter().map(Shipment).collect())
        }
        one_pass |walk| {
            let shipments = walk.of_order(self.0.id)?.shipments()?;
            Some(shipments.iter().cloned().map(Shipment).collect::<Vec<_>>())
        }

        /// The invoices of this order, by invoice date; empty before the first one.
        "invoices": async fn invoices(&self, ctx) -> Result<Vec<Invoice>> {
            let invoices = ctx
                .loader()?
                .load_one(InvoicesOfOrder(self.0.id))
                .await?
                .unwrap_or_default();
            Ok(invoices.into_iter().map(Invoice).collect())
        }
        one_pass |walk| {
            let invoices = walk.of_order(self.0.id)?.invoices()?;
            Some(invoices.iter().cloned().map(Invoice).collect::<Vec<_>>())
        }

        /// The last time anything of the order changed (status, an ETA, a shipment, an invoice).
        "updatedAt": async fn updated_at(&self) -> DateTime<Utc> {
            self.0.updated_at
        }
    }
}

/// Relay page information.
#[derive(Clone, Debug, SimpleObject)]
pub struct PageInfo {
    /// More items follow this page: ask again with `after: endCursor`.
    pub has_next_page: bool,
    /// Items precede this page: ask again with `before: startCursor` and `last`.
    pub has_previous_page: bool,
    /// The cursor of the page's first item; null when the page is empty.
    pub start_cursor: Option<String>,
    /// The cursor of the page's last item; null when the page is empty. Opaque: store it
    /// as it is.
    pub end_cursor: Option<String>,
}

/// An order and its position in the list.
#[derive(SimpleObject)]
// In the query's order: async-graphql merges a response key given twice (`node` under one
// alias twice) in the order its answers finish, and an object whose selection was all skipped
// answers null, which swallows the other answer when it comes second.
#[graphql(serial)]
pub struct OrderEdge {
    /// Opaque position of this order in the list, for `after` or `before`; valid only with
    /// the same sort field.
    pub cursor: String,
    /// The order.
    pub node: OnePassOrder,
}

/// One page of orders (Relay connection).
pub struct OrderConnection {
    pub page: store::orders::Page,
    pub sort: store::orders::Sort,
    pub scope: Scope,
    pub filter: store::orders::OrderFilter,
}

/// One page of orders (a Relay connection) and the total the filter selects.
#[Object]
impl OrderConnection {
    /// The page's orders with their cursors.
    async fn edges(&self) -> Vec<OrderEdge> {
        let rows = &self.page.rows;
        rows.iter()
            .zip(Page::orders(rows))
            .map(|(row, node)| OrderEdge {
                cursor: Cursor::of(row, self.sort.field).encode(),
                node,
            })
            .collect()
    }

    /// The page's orders, when the cursors are not needed.
    async fn nodes(&self) -> Vec<OnePassOrder> {
        Page::orders(&self.page.rows)
    }

    /// Whether there is more, and the cursors to get it.
    async fn page_info(&self) -> PageInfo {
        let cursor = |row: &order::Model| Cursor::of(row, self.sort.field).encode();
        PageInfo {
            has_next_page: self.page.has_next,
            has_previous_page: self.page.has_previous,
            start_cursor: self.page.rows.first().map(cursor),
            end_cursor: self.page.rows.last().map(cursor),
        }
    }

    /// Every order the filter selects, on all pages; one extra statement, only when asked and
    /// only when the list does not fit this page (a search mostly finds one order).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i32> {
        if !self.page.has_next && !self.page.has_previous {
            return Ok(i32::try_from(self.page.rows.len()).unwrap_or(i32::MAX));
        }
        let services: &Arc<Services> = ctx.services()?;
        let count = store::orders::count(&services.db, self.scope, &self.filter).await?;
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }
}

/// How many orders have one status.
#[derive(Clone, Debug, SimpleObject)]
pub struct StatusCount {
    /// The status.
    pub status: OrderStatus,
    /// Orders in that status.
    pub count: i32,
}

/// Figures for a dashboard, over the orders the filter selects.
#[derive(Clone, Debug, SimpleObject)]
pub struct OrderSummary {
    /// Orders the filter selects.
    pub order_count: i32,
    /// Every status the caller can see, zeros included, in lifecycle order.
    pub by_status: Vec<StatusCount>,
    /// Lines of those orders not yet fully shipped and not cancelled.
    pub open_line_count: i32,
    /// Open lines whose ETA the vendor has not given yet.
    pub lines_without_eta: i32,
    /// Open lines whose ETA lies before today (UTC).
    pub overdue_lines: i32,
}

fn clamp(count: i64) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

impl From<store::orders::Summary> for OrderSummary {
    fn from(summary: store::orders::Summary) -> Self {
        Self {
            order_count: clamp(summary.order_count),
            by_status: summary
                .by_status
                .into_iter()
                .map(|(status, count)| StatusCount {
                    status: status.into(),
                    count: clamp(count),
                })
                .collect(),
            open_line_count: clamp(summary.open_line_count),
            lines_without_eta: clamp(summary.lines_without_eta),
            overdue_lines: clamp(summary.overdue_lines),
        }
    }
}
