//! Order lists: scoping, filters, keyset pagination, counts and the dashboard summary.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{order, order_line, product, serial_number, shipment, shipment_line};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, Iterable, JoinType,
    Order as Direction, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Value,
    sea_query::{Expr, ExprTrait, Func, Query, SimpleExpr, UnionType},
};
use serde::{Deserialize, Serialize};

use super::Scope;
use crate::{
    domain::status::Status,
    error::{AppError, AppResult},
};

/// What an order list is narrowed to; every field is optional and they all apply together.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    pub statuses: Option<Vec<Status>>,
    pub ordered_from: Option<NaiveDate>,
    pub ordered_to: Option<NaiveDate>,
    pub eta_from: Option<NaiveDate>,
    pub eta_to: Option<NaiveDate>,
    /// Exact order number, customer reference, SKU, serial number or tracking number.
    pub search: Option<String>,
    pub company_id: Option<i64>,
}

/// What an order list is sorted by; the order id breaks ties so that pages never overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortField {
    OrderDate,
    OrderNumber,
    UpdatedAt,
}

/// A sort field and direction.
#[derive(Clone, Copy, Debug)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

impl Default for Sort {
    /// Newest orders first: what a reseller looks for.
    fn default() -> Self {
        Self {
            field: SortField::OrderDate,
            descending: true,
        }
    }
}

/// A position in an order list: the sort key and id of one order. Opaque to clients.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "f")]
    field: SortField,
    #[serde(rename = "k")]
    key: String,
    #[serde(rename = "i")]
    id: i64,
}

impl Cursor {
    /// The cursor of `row` in a list sorted by `field`.
    pub fn of(row: &order::Model, field: SortField) -> Self {
        let key = match field {
            SortField::OrderDate => row.order_date.to_string(),
            SortField::OrderNumber => row.order_number.clone(),
            SortField::UpdatedAt => row.updated_at.to_rfc3339(),
        };
        Self {
            field,
            key,
            id: row.id,
        }
    }

    /// The opaque string handed to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads a cursor given back by a client; `argument` names it in the error.
    pub fn decode(value: &str, field: SortField, argument: &str) -> AppResult<Self> {
        let invalid = || {
            AppError::bad_input(
                argument,
                format!("`{argument}` is not a cursor of this list and sort order"),
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(value).map_err(|_| invalid())?;
        let cursor: Self = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.field != field || cursor.sort_value().is_none() {
            return Err(invalid());
        }
        Ok(cursor)
    }

    fn sort_value(&self) -> Option<Value> {
        Some(match self.field {
            SortField::OrderDate => self.key.parse::<NaiveDate>().ok()?.into(),
            SortField::OrderNumber => self.key.clone().into(),
            SortField::UpdatedAt => DateTime::parse_from_rfc3339(&self.key)
                .ok()?
                .with_timezone(&Utc)
                .into(),
        })
    }
}

/// Which slice of the list to read.
#[derive(Clone, Debug)]
pub struct Window {
    /// How many rows at most.
    pub size: u64,
    /// Read backwards from the end (`last`) instead of forwards (`first`).
    pub from_end: bool,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
}

/// One page of orders in list order.
#[derive(Debug)]
pub struct Page {
    pub rows: Vec<order::Model>,
    pub has_next: bool,
    pub has_previous: bool,
}

fn sort_column(field: SortField) -> order::Column {
    match field {
        SortField::OrderDate => order::Column::OrderDate,
        SortField::OrderNumber => order::Column::OrderNumber,
        SortField::UpdatedAt => order::Column::UpdatedAt,
    }
}

/// The rows strictly after (`forward`) or before the cursor in the sort order.
fn beyond(cursor: &Cursor, sort: Sort, forward: bool) -> Condition {
    let column = sort_column(sort.field);
    let value = cursor.sort_value().unwrap_or(Value::Int(None));
    let greater = forward != sort.descending;
    let (key_beyond, id_beyond) = if greater {
        (column.gt(value.clone()), order::Column::Id.gt(cursor.id))
    } else {
        (column.lt(value.clone()), order::Column::Id.lt(cursor.id))
    };
    Condition::any()
        .add(key_beyond)
        .add(Condition::all().add(column.eq(value)).add(id_beyond))
}

/// The orders the scope may see.
pub fn visible(scope: Scope) -> Condition {
    match scope {
        Scope::Everything => Condition::all(),
        Scope::Company(company_id) => Condition::all()
            .add(order::Column::CompanyId.eq(company_id))
            .add(order::Column::ConfirmedAt.is_not_null()),
        Scope::Nothing => Condition::all().add(Expr::cust("1 = 0")),
    }
}

fn open_line() -> Condition {
    Condition::all()
        .add(Expr::col((order_line::Entity, order_line::Column::CancelledAt)).is_null())
        .add(
            Expr::col((order_line::Entity, order_line::Column::ShippedQuantity)).lt(Expr::col((
                order_line::Entity,
                order_line::Column::Quantity,
            ))),
        )
}

fn matching(filter: &OrderFilter) -> Condition {
    let mut condition = Condition::all();
    if let Some(statuses) = &filter.statuses {
        condition = condition.add(order::Column::Status.is_in(statuses.iter().copied()));
    }
    if let Some(from) = filter.ordered_from {
        condition = condition.add(order::Column::OrderDate.gte(from));
    }
    if let Some(to) = filter.ordered_to {
        condition = condition.add(order::Column::OrderDate.lte(to));
    }
    if filter.eta_from.is_some() || filter.eta_to.is_some() {
        let mut lines = Query::select();
        lines
            .column(order_line::Column::OrderId)
            .from(order_line::Entity)
            .cond_where(open_line());
        if let Some(from) = filter.eta_from {
            lines.and_where(Expr::col((order_line::Entity, order_line::Column::Eta)).gte(from));
        }
        if let Some(to) = filter.eta_to {
            lines.and_where(Expr::col((order_line::Entity, order_line::Column::Eta)).lte(to));
        }
        condition = condition
            .add(order::Column::CancelledAt.is_null())
            .add(order::Column::Id.in_subquery(lines.to_owned()));
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|search| !search.is_empty())
    {
        condition = condition.add(search_condition(search));
    }
    if let Some(company_id) = filter.company_id {
        condition = condition.add(order::Column::CompanyId.eq(company_id));
    }
    condition
}

/// Exact matches only, each branch its own index lookup, united before they meet the orders:
/// an `OR` across the branches would make PostgreSQL filter every order in scope instead.
fn search_condition(term: &str) -> Condition {
    let mut matches = Query::select()
        .column(order::Column::Id)
        .from(order::Entity)
        .and_where(Expr::col(order::Column::OrderNumber).eq(term))
        .to_owned();
    let by_reference = Query::select()
        .column(order::Column::Id)
        .from(order::Entity)
        .and_where(Expr::col(order::Column::CustomerReference).eq(term))
        .to_owned();
    let by_sku = Query::select()
        .column((order_line::Entity, order_line::Column::OrderId))
        .from(order_line::Entity)
        .inner_join(
            product::Entity,
            Expr::col((product::Entity, product::Column::Id))
                .equals((order_line::Entity, order_line::Column::ProductId)),
        )
        .and_where(Expr::col((product::Entity, product::Column::Sku)).eq(term))
        .to_owned();
    let by_tracking = Query::select()
        .column(shipment::Column::OrderId)
        .from(shipment::Entity)
        .and_where(Expr::col(shipment::Column::TrackingNumber).eq(term))
        .to_owned();
    let by_serial = Query::select()
        .column((shipment::Entity, shipment::Column::OrderId))
        .from(serial_number::Entity)
        .inner_join(
            shipment_line::Entity,
            Expr::col((shipment_line::Entity, shipment_line::Column::Id))
                .equals((serial_number::Entity, serial_number::Column::ShipmentLineId)),
        )
        .inner_join(
            shipment::Entity,
            Expr::col((shipment::Entity, shipment::Column::Id))
                .equals((shipment_line::Entity, shipment_line::Column::ShipmentId)),
        )
        .and_where(Expr::col((serial_number::Entity, serial_number::Column::Serial)).eq(term))
        .to_owned();
    matches.unions([
        (UnionType::All, by_reference),
        (UnionType::All, by_sku),
        (UnionType::All, by_tracking),
        (UnionType::All, by_serial),
    ]);
    Condition::all().add(order::Column::Id.in_subquery(matches))
}

/// One page of the orders that `scope` sees and `filter` selects.
pub async fn page(
    db: &impl ConnectionTrait,
    scope: Scope,
    filter: &OrderFilter,
    sort: Sort,
    window: &Window,
) -> AppResult<Page> {
    let forward = !window.from_end;
    let mut condition = visible(scope).add(matching(filter));
    if let Some(after) = &window.after {
        condition = condition.add(beyond(after, sort, true));
    }
    if let Some(before) = &window.before {
        condition = condition.add(beyond(before, sort, false));
    }
    let ascending = forward != sort.descending;
    let direction = if ascending {
        Direction::Asc
    } else {
        Direction::Desc
    };
    let mut rows = order::Entity::find()
        .filter(condition)
        .order_by(sort_column(sort.field), direction.clone())
        .order_by(order::Column::Id, direction)
        .limit(window.size + 1)
        .all(db)
        .await?;
    let has_more = rows.len() as u64 > window.size;
    rows.truncate(window.size as usize);
    if forward {
        Ok(Page {
            rows,
            has_next: has_more,
            has_previous: window.after.is_some(),
        })
    } else {
        rows.reverse();
        Ok(Page {
            rows,
            has_next: window.before.is_some(),
            has_previous: has_more,
        })
    }
}

/// How many orders `scope` sees that `filter` selects.
pub async fn count(
    db: &impl ConnectionTrait,
    scope: Scope,
    filter: &OrderFilter,
) -> AppResult<u64> {
    Ok(order::Entity::find()
        .filter(visible(scope).add(matching(filter)))
        .count(db)
        .await?)
}

/// One order by its number, if `scope` sees it.
pub async fn by_number(
    db: &impl ConnectionTrait,
    scope: Scope,
    order_number: &str,
) -> AppResult<Option<order::Model>> {
    Ok(order::Entity::find()
        .filter(visible(scope).add(order::Column::OrderNumber.eq(order_number)))
        .one(db)
        .await?)
}

/// One order by id, if `scope` sees it.
pub async fn by_id(
    db: &impl ConnectionTrait,
    scope: Scope,
    id: i64,
) -> AppResult<Option<order::Model>> {
    Ok(order::Entity::find()
        .filter(visible(scope).add(order::Column::Id.eq(id)))
        .one(db)
        .await?)
}

/// Orders neither approved nor cancelled and dated on or before `ordered_by`, oldest first.
pub async fn awaiting_approval_since(
    db: &impl ConnectionTrait,
    ordered_by: NaiveDate,
) -> AppResult<Vec<order::Model>> {
    Ok(order::Entity::find()
        .filter(order::Column::ConfirmedAt.is_null())
        .filter(order::Column::CancelledAt.is_null())
        .filter(order::Column::OrderDate.lte(ordered_by))
        .order_by_asc(order::Column::OrderDate)
        .order_by_asc(order::Column::Id)
        .all(db)
        .await?)
}

/// Dashboard figures over the orders that `scope` sees and `filter` selects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub order_count: i64,
    pub by_status: Vec<(Status, i64)>,
    pub open_line_count: i64,
    pub lines_without_eta: i64,
    pub overdue_lines: i64,
}

#[derive(FromQueryResult)]
struct LineFigures {
    open: Option<i64>,
    without_eta: Option<i64>,
    overdue: Option<i64>,
}

fn count_where(condition: Condition) -> SimpleExpr {
    let counted: SimpleExpr = Expr::case(condition, 1).finally(0).into();
    Func::coalesce([SimpleExpr::from(Func::sum(counted)), Expr::val(0)]).into()
}

/// Two statements whatever the number of orders: counts by status, then line figures.
pub async fn summary(
    db: &impl ConnectionTrait,
    scope: Scope,
    filter: &OrderFilter,
    today: NaiveDate,
) -> AppResult<Summary> {
    let selected = visible(scope).add(matching(filter));
    let counts: Vec<(Status, i64)> = order::Entity::find()
        .select_only()
        .column(order::Column::Status)
        .column_as(order::Column::Id.count(), "orders")
        .filter(selected.clone())
        .group_by(order::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut summary = Summary::default();
    for status in Status::iter() {
        if status == Status::PendingApproval && scope != Scope::Everything {
            continue;
        }
        let count = counts
            .iter()
            .find(|(stored, _)| *stored == status)
            .map_or(0, |(_, count)| *count);
        summary.order_count += count;
        summary.by_status.push((status, count));
    }
    // Only open lines are read, in the WHERE clause, so that they come from the partial index
    // of open lines and their ETA (an index-only scan) rather than from every line's row.
    let eta = || Expr::col((order_line::Entity, order_line::Column::Eta));
    let figures = order_line::Entity::find()
        .select_only()
        // Counting a column of the index keeps the scan index-only.
        .column_as(
            Expr::col((order_line::Entity, order_line::Column::OrderId)).count(),
            "open",
        )
        .column_as(
            count_where(Condition::all().add(eta().is_null())),
            "without_eta",
        )
        .column_as(
            count_where(Condition::all().add(eta().lt(today))),
            "overdue",
        )
        .join(JoinType::InnerJoin, order_line::Relation::Order.def())
        .filter(selected)
        .filter(open_line())
        .filter(Expr::col((order::Entity, order::Column::CancelledAt)).is_null())
        .into_model::<LineFigures>()
        .one(db)
        .await?;
    if let Some(figures) = figures {
        summary.open_line_count = figures.open.unwrap_or(0);
        summary.lines_without_eta = figures.without_eta.unwrap_or(0);
        summary.overdue_lines = figures.overdue.unwrap_or(0);
    }
    Ok(summary)
}
