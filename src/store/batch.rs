//! The batched statements behind the DataLoaders: one query per call, whatever the number of
//! keys. Callers reach these rows only from parents they were allowed to see.

use entities::{serial_number, shipment_line};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Select,
    sea_query::Expr,
};

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
    Ok(
        select_where_in::<E>(db.get_database_backend(), column, keys, order_by)
            .all(db)
            .await?,
    )
}

fn select_where_in<E: EntityTrait>(
    backend: DbBackend,
    column: E::Column,
    keys: &[i64],
    order_by: &[E::Column],
) -> Select<E> {
    let mut query = E::find().filter(one_of(backend, column, keys));
    for column in order_by {
        query = query.order_by_asc(*column);
    }
    query
}

/// `column` is one of `keys`. PostgreSQL takes the keys as one array parameter, so that a
/// batch's statement reads the same whatever the number of keys: it is prepared once per
/// connection and planned without a parameter per key, where an `IN` list made a new statement
/// for nearly every page. SQLite has no arrays; it prepares statements in-process, cheaply.
fn one_of(backend: DbBackend, column: impl ColumnTrait, keys: &[i64]) -> Expr {
    match backend {
        DbBackend::Postgres => column.eq_any(keys.iter().copied()),
        _ => column.is_in(keys.iter().copied()),
    }
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
        .filter(one_of(
            db.get_database_backend(),
            shipment_line::Column::OrderLineId,
            order_line_ids,
        ))
        .order_by_asc(serial_number::Column::Serial)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(serial, line)| Some((serial, line?)))
        .collect())
}

#[cfg(test)]
mod tests {
    use entities::order_line;
    use sea_orm::QueryTrait;

    use super::*;

    fn statement(backend: DbBackend, keys: usize) -> String {
        let keys: Vec<i64> = (1..=i64::try_from(keys).unwrap_or(i64::MAX)).collect();
        select_where_in::<order_line::Entity>(
            backend,
            order_line::Column::OrderId,
            &keys,
            &[order_line::Column::LineNumber],
        )
        .build(backend)
        .sql
    }

    #[test]
    fn a_postgres_batch_is_one_statement_whatever_the_number_of_keys() {
        let one = statement(DbBackend::Postgres, 1);
        assert!(one.contains("= ANY($1)"), "{one}");
        assert_eq!(one, statement(DbBackend::Postgres, 50));
        assert_eq!(one, statement(DbBackend::Postgres, 5_000));
    }

    #[test]
    fn a_sqlite_batch_lists_its_keys() {
        assert!(statement(DbBackend::Sqlite, 3).contains("IN (?, ?, ?)"));
    }
}
