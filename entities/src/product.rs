//! A product of the catalogue.
use sea_orm::entity::prelude::*;

use crate::enums::{DeliveryMethod, ProductKind};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub sku: String,
    pub description: String,
    pub kind: ProductKind,
    pub delivery_method: DeliveryMethod,
    pub vendor_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::vendor::Entity",
        from = "Column::VendorId",
        to = "super::vendor::Column::Id"
    )]
    Vendor,
}

impl ActiveModelBehavior for ActiveModel {}
