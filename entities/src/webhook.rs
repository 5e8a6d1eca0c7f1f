//! A company's endpoint that receives its order events, signed, in order.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    /// The administrator who made it; it delivers only while they may.
    pub created_by: i64,
    pub url: String,
    /// Comma-separated event kinds (API names); null: every kind.
    pub kinds: Option<String>,
    /// The signing secret is HMAC-SHA256 of this random salt under the service's key: the
    /// database alone does not give it away.
    pub secret_salt: String,
    pub created_at: DateTimeUtc,
    /// Position of the last event delivered (or not wanted); the next one comes after it.
    pub delivered_through: i64,
    /// Failed attempts at the event after `delivered_through`.
    pub attempts: i32,
    /// When the event after `delivered_through` first failed; null while nothing fails.
    pub failing_since: Option<DateTimeUtc>,
    /// Not tried before this instant (the back-off after a failure).
    pub next_attempt_at: DateTimeUtc,
    /// A deliverer works on it until then; another one leaves it alone.
    pub claimed_until: Option<DateTimeUtc>,
    /// Set when failures went on for too long; nothing more is sent.
    pub disabled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::CreatedBy",
        to = "super::user::Column::Id"
    )]
    Creator,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Creator.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
