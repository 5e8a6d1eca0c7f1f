//! Companies, users, sessions (refresh tokens) and activation links.

use chrono::{DateTime, Utc};
use entities::{activation_token, company, refresh_token, user};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
    Statement,
    sea_query::{Expr, OnConflict, Query},
};

use crate::{
    domain::{
        account::{Role, UserStatus},
        language::Language,
    },
    error::AppResult,
};

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
    /// The language of their mail.
    pub language: Language,
}

/// Creates the user, or resets an existing one with that e-mail (password, role, status
/// ACTIVE when a password is given) and invalidates its tokens.
pub async fn upsert_user(
    db: &impl ConnectionTrait,
    new: NewUser<'_>,
    now: DateTime<Utc>,
) -> AppResult<user::Model> {
    let status = if new.password_hash.is_some() {
        UserStatus::Active
    } else {
        UserStatus::Invited
    };
    let email = normalise_email(new.email);
    if let Some(existing) = user_by_email(db, &email).await? {
        let token_version = existing.token_version + 1;
        let mut active: user::ActiveModel = existing.into();
        active.name = Set(new.name.map(str::to_owned));
        active.role = Set(new.role);
        active.company_id = Set(new.company_id);
        active.password_hash = Set(new.password_hash);
        active.status = Set(status);
        active.token_version = Set(token_version);
        active.language = Set(new.language.as_str().to_owned());
        let user = active.update(db).await?;
        announce_ended(db, user.id).await?;
        return Ok(user);
    }
    Ok(user::ActiveModel {
        company_id: Set(new.company_id),
        email: Set(email),
        name: Set(new.name.map(str::to_owned)),
        role: Set(new.role),
        status: Set(status),
        password_hash: Set(new.password_hash),
        token_version: Set(0),
        created_at: Set(now),
        language: Set(new.language.as_str().to_owned()),
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

/// The user of an access token, unless its session has ended (a revoked refresh-token family).
pub async fn user_of_live_session(
    db: &impl ConnectionTrait,
    user_id: i64,
    family: &str,
) -> AppResult<Option<user::Model>> {
    let ended = Query::select()
        .expr(Expr::val(1))
        .from(refresh_token::Entity)
        .and_where(refresh_token::Column::Family.eq(family))
        .and_where(refresh_token::Column::RevokedAt.is_not_null())
        .to_owned();
    Ok(user::Entity::find_by_id(user_id)
        .filter(Expr::exists(ended).not())
        .one(db)
        .await?)
}

/// A refresh token by the hash of its secret.
pub async fn refresh_token_by_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> AppResult<Option<refresh_token::Model>> {
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?)
}

/// Marks a refresh token traded; false when it already was (a concurrent trade won).
pub async fn mark_refresh_token_used(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The PostgreSQL channel on which the end of a credential is announced to every instance,
/// with the user's id as payload.
pub const ENDED_CHANNEL: &str = "credentials_ended";

/// Tells every instance, when the transaction commits, that a credential of `user_id` ended,
/// so that they close the connections it opened. On SQLite the one process is told in
/// memory by its caller.
pub async fn announce_ended(db: &impl ConnectionTrait, user_id: i64) -> AppResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [ENDED_CHANNEL.into(), user_id.to_string().into()],
        ))
        .await?;
    }
    Ok(())
}

/// Ends one session of `user_id`: every token of the family is revoked.
pub async fn end_session(
    db: &impl ConnectionTrait,
    user_id: i64,
    family: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::Family.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    announce_ended(db, user_id).await
}

/// Ends every session of a user but `except`.
pub async fn end_sessions_of(
    db: &impl ConnectionTrait,
    user_id: i64,
    except: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut update = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null());
    if let Some(family) = except {
        update = update.filter(refresh_token::Column::Family.ne(family));
    }
    update.exec(db).await?;
    announce_ended(db, user_id).await
}

/// Replaces a user's password hash.
pub async fn set_password(db: &impl ConnectionTrait, user_id: i64, hash: &str) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// An invited user's first password: the account becomes ACTIVE.
pub async fn activate_user(
    db: &impl ConnectionTrait,
    user_id: i64,
    hash: &str,
) -> AppResult<user::Model> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::Status, Expr::value(UserStatus::Active))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    user_by_id(db, user_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("user {user_id} vanished while activating").into())
}

/// Disables a user and invalidates every token they hold: access tokens by the token
/// version, sessions by revoking them. Their API tokens stop working because they act as them.
pub async fn disable_user(
    db: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> AppResult<user::Model> {
    user::Entity::update_many()
        .col_expr(user::Column::Status, Expr::value(UserStatus::Disabled))
        .col_expr(
            user::Column::TokenVersion,
            Expr::col(user::Column::TokenVersion).add(1),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    end_sessions_of(db, user_id, None, now).await?;
    user_by_id(db, user_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("user {user_id} vanished while disabling").into())
}

/// Stores an activation link's token hash; earlier links of the user stop working, so that
/// only the newest invitation counts.
pub async fn replace_activation(
    db: &impl ConnectionTrait,
    user_id: i64,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> AppResult<()> {
    activation_token::Entity::update_many()
        .col_expr(activation_token::Column::UsedAt, Expr::value(now))
        .filter(activation_token::Column::UserId.eq(user_id))
        .filter(activation_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    activation_token::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(token_hash.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// An activation token by its hash, with its user.
pub async fn activation_with_user(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> AppResult<Option<(activation_token::Model, user::Model)>> {
    let found = activation_token::Entity::find()
        .find_also_related(user::Entity)
        .filter(activation_token::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?;
    Ok(found.and_then(|(activation, user)| Some((activation, user?))))
}

/// Marks an activation link used; false when it already was (a concurrent activation won).
pub async fn mark_activation_used(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let result = activation_token::Entity::update_many()
        .col_expr(activation_token::Column::UsedAt, Expr::value(now))
        .filter(activation_token::Column::Id.eq(id))
        .filter(activation_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A company by the distributor's customer number.
pub async fn company_by_customer_number(
    db: &impl ConnectionTrait,
    customer_number: &str,
) -> AppResult<Option<company::Model>> {
    Ok(company::Entity::find()
        .filter(company::Column::CustomerNumber.eq(customer_number))
        .one(db)
        .await?)
}

/// The user's choice of the language of their mail.
pub async fn set_language(
    db: &impl ConnectionTrait,
    user_id: i64,
    language: Language,
) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(user::Column::Language, Expr::value(language.as_str()))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A user's own choice about change mail.
pub async fn set_mail_on_change(
    db: &impl ConnectionTrait,
    user_id: i64,
    enabled: bool,
) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(user::Column::MailOnChange, Expr::value(enabled))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
