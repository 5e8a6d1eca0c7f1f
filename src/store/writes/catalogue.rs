//! Vendors and products, as the ERP sends them.

use entities::{product, vendor};

use crate::domain::eta::{DeliveryMethod, ProductKind};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait,
};

use super::{MAX_KEY_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS, Written, checks::required};
use crate::{
    error::{AppError, AppResult},
    store::{self},
};

/// A vendor as the ERP sends it.
#[derive(Clone, Debug)]
pub struct VendorInput {
    pub name: String,
    pub software_after_hardware: bool,
}

/// A product as the ERP sends it.
#[derive(Clone, Debug)]
pub struct ProductInput {
    pub sku: String,
    pub description: String,
    pub kind: ProductKind,
    pub delivery_method: DeliveryMethod,
    pub vendor_name: String,
}

/// Creates the vendor or updates its flag.
pub async fn upsert_vendor(
    db: &impl TransactionTrait,
    input: VendorInput,
) -> AppResult<Written<vendor::Model>> {
    let name = required("input.name", &input.name, MAX_NAME_CHARS)?;
    store::write(db, |txn| {
        Box::pin(async move {
            match vendor::Entity::find()
                .filter(vendor::Column::Name.eq(&name))
                .one(txn)
                .await?
            {
                Some(existing)
                    if existing.software_after_hardware == input.software_after_hardware =>
                {
                    Ok(Written::unchanged(existing))
                }
                Some(existing) => {
                    let mut active: vendor::ActiveModel = existing.into();
                    active.software_after_hardware = Set(input.software_after_hardware);
                    Ok(Written::changed(active.update(txn).await?))
                }
                None => Ok(Written::changed(
                    vendor::ActiveModel {
                        name: Set(name),
                        software_after_hardware: Set(input.software_after_hardware),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?,
                )),
            }
        })
    })
    .await
}

/// Creates the product or updates it; the vendor must exist.
pub async fn upsert_product(
    db: &impl TransactionTrait,
    input: ProductInput,
) -> AppResult<Written<product::Model>> {
    let sku = required("input.sku", &input.sku, MAX_KEY_CHARS)?;
    let description = required("input.description", &input.description, MAX_TEXT_CHARS)?;
    let vendor_name = required("input.vendorName", &input.vendor_name, MAX_NAME_CHARS)?;
    store::write(db, |txn| {
        Box::pin(async move {
            let vendor = vendor::Entity::find()
                .filter(vendor::Column::Name.eq(&vendor_name))
                .one(txn)
                .await?
                .ok_or_else(|| {
                    AppError::bad_input(
                        "input.vendorName",
                        format!("no vendor is named {vendor_name:?}"),
                    )
                })?;
            let wanted = (description, input.kind, input.delivery_method, vendor.id);
            match product::Entity::find()
                .filter(product::Column::Sku.eq(&sku))
                .one(txn)
                .await?
            {
                Some(existing)
                    if (
                        existing.description.clone(),
                        existing.kind,
                        existing.delivery_method,
                        existing.vendor_id,
                    ) == wanted =>
                {
                    Ok(Written::unchanged(existing))
                }
                Some(existing) => {
                    let mut active: product::ActiveModel = existing.into();
                    active.description = Set(wanted.0);
                    active.kind = Set(wanted.1);
                    active.delivery_method = Set(wanted.2);
                    active.vendor_id = Set(wanted.3);
                    Ok(Written::changed(active.update(txn).await?))
                }
                None => Ok(Written::changed(
                    product::ActiveModel {
                        sku: Set(sku),
                        description: Set(wanted.0),
                        kind: Set(wanted.1),
                        delivery_method: Set(wanted.2),
                        vendor_id: Set(wanted.3),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?,
                )),
            }
        })
    })
    .await
}
