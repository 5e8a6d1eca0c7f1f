//! The serial number of one shipped unit; unique across all shipments.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "serial_numbers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub serial: String,
    pub shipment_line_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::shipment_line::Entity",
        from = "Column::ShipmentLineId",
        to = "super::shipment_line::Column::Id"
    )]
    ShipmentLine,
}

impl Related<super::shipment_line::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ShipmentLine.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
