//! A person who signs in: customer staff (with a company) or back office (without).
use sea_orm::entity::prelude::*;

use crate::enums::{Role, UserStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Null for back-office staff.
    pub company_id: Option<i64>,
    /// Stored lower-cased so that sign-in is case-insensitive.
    #[sea_orm(unique)]
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub status: UserStatus,
    /// Argon2id PHC string; null until the user has chosen a password.
    pub password_hash: Option<String>,
    /// Part of every access token; raising it invalidates all tokens issued before.
    pub token_version: i32,
    pub created_at: DateTimeUtc,
    /// Mailed about later ETAs and shipments; null follows the role (administrators yes).
    pub mail_on_change: Option<bool>,
    /// `nl` or `en`: the language of every letter to this user.
    pub language: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::company::Entity",
        from = "Column::CompanyId",
        to = "super::company::Column::Id"
    )]
    Company,
}

impl Related<super::company::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Company.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
