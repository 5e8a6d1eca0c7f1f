//! Failed sign-ins, counted in the database so that every instance counts together.

use chrono::{DateTime, Utc};
use entities::login_failure::{self, Column, Entity};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    sea_query::{CaseStatement, Expr, OnConflict, Query},
};

use crate::error::{AppError, AppResult};

/// The counters of `keys`.
pub async fn of(
    db: &impl ConnectionTrait,
    keys: &[String],
) -> AppResult<Vec<login_failure::Model>> {
    Ok(Entity::find()
        .filter(Column::Key.is_in(keys.iter().cloned()))
        .all(db)
        .await?)
}

/// Counts a failure of `key`, in one statement whoever else counts at the same time: a
/// counter whose window began at or before `window_start`, or whose refusal is over, starts
/// again at one. Once it reaches `limit` the key is refused until `refuse_until`.
pub async fn count(
    db: &impl ConnectionTrait,
    key: &str,
    now: DateTime<Utc>,
    window_start: DateTime<Utc>,
    limit: i32,
    refuse_until: DateTime<Utc>,
) -> AppResult<()> {
    let existing = |column: Column| Expr::col((Entity, column));
    let over = || {
        existing(Column::Since)
            .lte(window_start)
            .or(existing(Column::RefusedUntil).lte(now))
    };
    let restarted = |fresh: Expr, going_on: Expr| -> Expr {
        CaseStatement::new()
            .case(over(), fresh)
            .finally(going_on)
            .into()
    };
    let insert = Query::insert()
        .into_table(Entity)
        .columns([
            Column::Key,
            Column::Failures,
            Column::Since,
            Column::RefusedUntil,
        ])
        .values([
            key.into(),
            1.into(),
            now.into(),
            Option::<DateTime<Utc>>::None.into(),
        ])
        .map_err(|error| AppError::Internal(error.into()))?
        .on_conflict(
            OnConflict::column(Column::Key)
                .value(
                    Column::Failures,
                    restarted(Expr::val(1), existing(Column::Failures).add(1)),
                )
                .value(
                    Column::Since,
                    restarted(Expr::val(now), existing(Column::Since)),
                )
                .value(
                    Column::RefusedUntil,
                    restarted(
                        Expr::val(Option::<DateTime<Utc>>::None),
                        existing(Column::RefusedUntil),
                    ),
                )
                .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await?;
    Entity::update_many()
        .col_expr(Column::RefusedUntil, Expr::val(refuse_until))
        .filter(Column::Key.eq(key))
        .filter(Column::Failures.gte(limit))
        .filter(Column::RefusedUntil.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets the failures of `key`.
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> AppResult<()> {
    Entity::delete_by_id(key.to_owned()).exec(db).await?;
    Ok(())
}

/// Deletes the counters that no longer count: their window began at or before
/// `window_start` and they are not refused after `now`.
pub async fn forget_expired(
    db: &impl ConnectionTrait,
    window_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    Entity::delete_many()
        .filter(Column::Since.lte(window_start))
        .filter(
            Column::RefusedUntil
                .is_null()
                .or(Column::RefusedUntil.lte(now)),
        )
        .exec(db)
        .await?;
    Ok(())
}
