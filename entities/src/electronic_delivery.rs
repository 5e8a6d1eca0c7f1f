//! Units of an order line delivered by e-mail (licences, software keys).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "electronic_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_line_id: i64,
    pub delivered_at: DateTimeUtc,
    pub recipient_email: String,
    pub quantity: i32,
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
