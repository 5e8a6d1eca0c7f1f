//! API tokens of reseller dashboards, scoped by company.

use chrono::{DateTime, Utc};
use entities::{api_token, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, sea_query::Expr,
};

use super::Scope;
use crate::error::AppResult;

fn within(scope: Scope) -> Condition {
    scope.owns(api_token::Column::CompanyId)
}

/// The token with this secret hash and the user it acts as.
pub async fn with_creator(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> AppResult<Option<(api_token::Model, user::Model)>> {
    let found = api_token::Entity::find()
        .find_also_related(user::Entity)
        .filter(api_token::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?;
    Ok(found.and_then(|(token, user)| Some((token, user?))))
}

/// Records a use, unless another request did within the interval (`stale_before`).
pub async fn touch(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> AppResult<()> {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(api_token::Column::LastUsedAt.is_null())
                .add(api_token::Column::LastUsedAt.lte(stale_before)),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// What a new token is.
pub struct NewApiToken<'a> {
    pub user_id: i64,
    pub company_id: Option<i64>,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewApiToken<'_>,
    now: DateTime<Utc>,
) -> AppResult<api_token::Model> {
    Ok(api_token::ActiveModel {
        user_id: Set(new.user_id),
        company_id: Set(new.company_id),
        name: Set(new.name.to_owned()),
        token_hash: Set(new.token_hash.to_owned()),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// The tokens the scope sees, newest first.
pub async fn list(db: &impl ConnectionTrait, scope: Scope) -> AppResult<Vec<api_token::Model>> {
    Ok(api_token::Entity::find()
        .filter(within(scope))
        .order_by_desc(api_token::Column::CreatedAt)
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await?)
}

/// One token, if the scope sees it.
pub async fn by_id(
    db: &impl ConnectionTrait,
    scope: Scope,
    id: i64,
) -> AppResult<Option<api_token::Model>> {
    Ok(api_token::Entity::find_by_id(id)
        .filter(within(scope))
        .one(db)
        .await?)
}

/// Revokes a token the scope sees; the first revocation time stands.
pub async fn revoke(
    db: &impl ConnectionTrait,
    scope: Scope,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Option<api_token::Model>> {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(within(scope))
        .exec(db)
        .await?;
    let token = by_id(db, scope, id).await?;
    if let Some(token) = &token {
        super::accounts::announce_ended(db, token.user_id).await?;
    }
    Ok(token)
}
