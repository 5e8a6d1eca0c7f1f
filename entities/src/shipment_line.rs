//! The quantity of one order line carried by one shipment.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipment_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub shipment_id: i64,
    pub order_line_id: i64,
    pub quantity: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::shipment::Entity",
        from = "Column::ShipmentId",
        to = "super::shipment::Column::Id"
    )]
    Shipment,
    #[sea_orm(
        belongs_to = "super::order_line::Entity",
        from = "Column::OrderLineId",
        to = "super::order_line::Column::Id"
    )]
    OrderLine,
    #[sea_orm(has_many = "super::serial_number::Entity")]
    SerialNumber,
}

impl Related<super::shipment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Shipment.def()
    }
}

impl Related<super::order_line::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OrderLine.def()
    }
}

impl Related<super::serial_number::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SerialNumber.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
