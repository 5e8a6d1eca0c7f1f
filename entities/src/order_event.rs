//! One fact that changed an order as a customer sees it; the id is its position in the feed.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_events")]
pub struct Model {
    /// Strictly increasing in commit order: writers append under one lock.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    /// The order's company, kept here so that a customer's feed is one index range.
    pub company_id: i64,
    pub order_line_id: Option<i64>,
    /// `STATUS_CHANGED`, `ETA_CHANGED`, `SHIPPED`, `DELIVERED` or `INVOICED`.
    pub kind: String,
    pub occurred_at: DateTimeUtc,
    /// Whether the order was visible to its customer (approved) when this happened.
    pub customer_visible: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
