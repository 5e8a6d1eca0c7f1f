//! A sales order of one company.
use sea_orm::entity::prelude::*;

use crate::enums::Status;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub order_number: String,
    pub company_id: i64,
    /// The customer's own purchase order number.
    pub customer_reference: Option<String>,
    pub order_date: Date,
    pub requested_delivery_date: Option<Date>,
    /// ISO 4217 code of every amount of the order.
    pub currency: String,
    /// Derived from the lines' quantities by the write path after every change, so that
    /// lists can filter, count and index by it; never set by hand.
    pub status: Status,
    /// When the back office received the order (the approval clock starts here).
    pub received_at: DateTimeUtc,
    /// Approved, processed and sent to the vendor: from here on the customer sees the order.
    pub confirmed_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::company::Entity",
        from = "Column::CompanyId",
        to = "super::company::Column::Id"
    )]
    Company,
    #[sea_orm(has_many = "super::order_line::Entity")]
    OrderLine,
}

impl Related<super::order_line::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OrderLine.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
