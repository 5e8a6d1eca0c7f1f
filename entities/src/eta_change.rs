//! One change of an order line's ETA, kept so the customer sees how it moved.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "eta_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_line_id: i64,
    pub previous_eta: Option<Date>,
    pub new_eta: Option<Date>,
    pub changed_at: DateTimeUtc,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::order_line::Entity",
        from = "Column::OrderLineId",
        to = "super::order_line::Column::Id"
    )]
    OrderLine,
}

impl ActiveModelBehavior for ActiveModel {}
