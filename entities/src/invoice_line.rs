//! The invoiced quantity of one order line.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub invoice_id: i64,
    pub order_line_id: i64,
    pub quantity: i32,
    /// Quantity × the line's unit price at invoicing, × 10⁴.
    pub amount_e4: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::invoice::Entity",
        from = "Column::InvoiceId",
        to = "super::invoice::Column::Id"
    )]
    Invoice,
    #[sea_orm(
        belongs_to = "super::order_line::Entity",
        from = "Column::OrderLineId",
        to = "super::order_line::Column::Id"
    )]
    OrderLine,
}

impl ActiveModelBehavior for ActiveModel {}
