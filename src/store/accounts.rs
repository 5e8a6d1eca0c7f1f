//! Companies, users and refresh tokens.

use chrono::{DateTime, Utc};
use entities::{company, refresh_token, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, sea_query::OnConflict,
};

use crate::{auth::Role, error::AppResult};

/// Stored user statuses.
pub const STATUS_INVITED: &str = "INVITED";
pub const STATUS_ACTIVE: &str = "ACTIVE";
pub const STATUS_DISABLED: &str = "DISABLED";

/// E-mail addresses are compared lower-cased and trimmed.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A user by id, whatever their status.
pub async fn user_by_id(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

/// A user by e-mail address, whatever their status.
pub async fn user_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(normalise_email(email)))
        .one(db)
        .await?)
}

/// Every company, by name.
pub async fn companies(db: &impl ConnectionTrait) -> AppResult<Vec<company::Model>> {
    Ok(company::Entity::find()
        .order_by_asc(company::Column::Name)
        .order_by_asc(company::Column::Id)
        .all(db)
        .await?)
}

/// What is needed to create an account.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub role: Role,
    pub company_id: Option<i64>,
    /// Argon2 hash; `None` leaves the user INVITED until activation.
    pub password_hash: Option<String>,
}

/// Creates the user, or resets an existing one with that e-mail (password, role, status
/// ACTIVE when a password is given) and invalidates its tokens.
pub async fn upsert_user(
    db: &impl ConnectionTrait,
    new: NewUser<'_>,
    now: DateTime<Utc>,
) -> AppResult<user::Model> {
    let status = if new.password_hash.is_some() {
        STATUS_ACTIVE
    } else {
        STATUS_INVITED
    };
    let email = normalise_email(new.email);
    if let Some(existing) = user_by_email(db, &email).await? {
        let token_version = existing.token_version + 1;
        let mut active: user::ActiveModel = existing.into();
        active.name = Set(new.name.map(str::to_owned));
        active.role = Set(new.role.as_str().to_owned());
        active.company_id = Set(new.company_id);
        active.password_hash = Set(new.password_hash);
        active.status = Set(status.to_owned());
        active.token_version = Set(token_version);
        return Ok(active.update(db).await?);
    }
    Ok(user::ActiveModel {
        company_id: Set(new.company_id),
        email: Set(email),
        name: Set(new.name.map(str::to_owned)),
        role: Set(new.role.as_str().to_owned()),
        status: Set(status.to_owned()),
        password_hash: Set(new.password_hash),
        token_version: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Creates the company, or renames the one with that customer number.
pub async fn upsert_company(
    db: &impl ConnectionTrait,
    name: &str,
    customer_number: &str,
    now: DateTime<Utc>,
) -> AppResult<company::Model> {
    company::Entity::insert(company::ActiveModel {
        name: Set(name.to_owned()),
        customer_number: Set(customer_number.to_owned()),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(company::Column::CustomerNumber)
            .update_column(company::Column::Name)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    company::Entity::find()
        .filter(company::Column::CustomerNumber.eq(customer_number))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("company {customer_number} vanished after upsert").into())
}

/// Stores a refresh token's hash.
pub async fn insert_refresh_token(
    db: &impl ConnectionTrait,
    user_id: i64,
    family: &str,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> AppResult<()> {
    refresh_token::ActiveModel {
        user_id: Set(user_id),
        family: Set(family.to_owned()),
        token_hash: Set(token_hash.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
