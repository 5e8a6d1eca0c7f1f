//! The batched statements behind the DataLoaders: one `IN (…)` query per call, whatever the
//! number of keys. Callers reach these rows only from parents they were allowed to see.

use entities::{serial_number, shipment_line};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::error::AppResult;

/// Every row of `E` whose `column` is one of `keys`, sorted by `order_by` then in key order.
pub async fn rows_where_in<E>(
    db: &impl ConnectionTrait,
    column: E::Column,
    keys: &[i64],
    order_by: &[E::Column],
) -> AppResult<Vec<E::Model>>
where
    E: EntityTrait,
{
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = E::find().filter(column.is_in(keys.iter().copied()));
    for column in order_by {
        query = query.order_by_asc(*column);
    }
    Ok(query.all(db).await?)
}

/// The serial numbers shipped for each of the given order lines, with the line that carried
/// them, in one join.
pub async fn serials_of_order_lines(
    db: &impl ConnectionTrait,
    order_line_ids: &[i64],
) -> AppResult<Vec<(serial_number::Model, shipment_line::Model)>> {
    if order_line_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = serial_number::Entity::find()
        .find_also_related(shipment_line::Entity)
        .filter(shipment_line::Column::OrderLineId.is_in(order_line_ids.iter().copied()))
        .order_by_asc(serial_number::Column::Serial)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(serial, line)| Some((serial, line?)))
        .collect())
}
