//! Support requests: customers ask, the back office reads.

use chrono::{DateTime, Utc};
use entities::support_request;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::Scope;
use crate::error::AppResult;

/// What a customer asks.
pub struct NewSupportRequest<'a> {
    pub company_id: i64,
    pub user_id: i64,
    pub subject: &'a str,
    pub message: &'a str,
    pub preferred_times: Option<&'a str>,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewSupportRequest<'_>,
    now: DateTime<Utc>,
) -> AppResult<support_request::Model> {
    Ok(support_request::ActiveModel {
        company_id: Set(new.company_id),
        user_id: Set(new.user_id),
        subject: Set(new.subject.to_owned()),
        message: Set(new.message.to_owned()),
        preferred_times: Set(new.preferred_times.map(str::to_owned)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

fn within(scope: Scope) -> Condition {
    scope.owns(support_request::Column::CompanyId)
}

/// The newest `limit` requests the scope sees, newest first.
pub async fn newest(
    db: &impl ConnectionTrait,
    scope: Scope,
    limit: u64,
) -> AppResult<Vec<support_request::Model>> {
    Ok(support_request::Entity::find()
        .filter(within(scope))
        .order_by_desc(support_request::Column::CreatedAt)
        .order_by_desc(support_request::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// One request, if the scope sees it.
pub async fn by_id(
    db: &impl ConnectionTrait,
    scope: Scope,
    id: i64,
) -> AppResult<Option<support_request::Model>> {
    Ok(support_request::Entity::find_by_id(id)
        .filter(within(scope))
        .one(db)
        .await?)
}
