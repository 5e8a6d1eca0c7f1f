//! The bulk path: many rows of one table in as few multi-row `INSERT`s as the databases'
//! bind-parameter limits allow. The write paths use it for the rows one record brings (lines
//! of an order, serials of a shipment, lines of an invoice); `generate` for whole tables.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Iterable};

use crate::error::AppResult;

/// Bind parameters per statement: under SQLite's limit (32766) and PostgreSQL's (65535).
const MAX_PARAMETERS: usize = 30_000;

/// Inserts every row, without reading anything back.
pub async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> AppResult<()>
where
    A: ActiveModelTrait + Send,
{
    let columns = <A::Entity as EntityTrait>::Column::iter().count().max(1);
    let per_statement = (MAX_PARAMETERS / columns).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let statement: Vec<A> = rows.by_ref().take(per_statement).collect();
        A::Entity::insert_many(statement)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}
