//! One attempt to deliver one event to one webhook.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub webhook_id: i64,
    /// The event's position in the feed.
    pub event_id: i64,
    /// 1 for the first try of this event at this endpoint.
    pub attempt: i32,
    /// The receiver's answer; null when there was none (refused, timed out).
    pub http_status: Option<i32>,
    /// Why it failed; null after a 2xx.
    pub error: Option<String>,
    pub started_at: DateTimeUtc,
    pub finished_at: DateTimeUtc,
    /// When it is tried again; null after a 2xx or when the endpoint was disabled.
    pub next_attempt_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
