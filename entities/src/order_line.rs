//! One line of an order.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    /// Unique within the order; the ERP's key for the line.
    pub line_number: i32,
    pub product_id: i64,
    pub quantity: i32,
    /// Unit price × 10⁴.
    pub unit_price_e4: i64,
    pub currency: String,
    /// Expected arrival at the warehouse; null while the vendor has not given one.
    pub eta: Option<Date>,
    pub cancelled_at: Option<DateTimeUtc>,
    /// Units on shipments plus electronically delivered units; kept by the write path.
    pub shipped_quantity: i32,
    /// Units on delivered shipments plus electronically delivered units; kept by the write path.
    pub delivered_quantity: i32,
    /// Units on invoices; kept by the write path.
    pub invoiced_quantity: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::order::Entity",
        from = "Column::OrderId",
        to = "super::order::Column::Id"
    )]
    Order,
    #[sea_orm(
        belongs_to = "super::product::Entity",
        from = "Column::ProductId",
        to = "super::product::Column::Id"
    )]
    Product,
}

impl Related<super::order::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Order.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
