//! Vendors and products.

use async_graphql::{Context, Enum, ID, Object, Result, Value, parser::types::Field};
use entities::{product, vendor};

use super::{
    ContextExt,
    ids::{NodeKind, encode},
    plain::{self, Plain, PlainFields},
    promised,
};
use crate::loaders::VendorById;

/// What a product is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(remote = "crate::domain::eta::ProductKind")]
pub enum ProductKind {
    /// Physical goods, usually with a serial number per unit.
    Hardware,
    /// Licences and software; often delivered by e-mail, for some vendors only after the
    /// order's hardware has shipped.
    Software,
    /// Support contracts, installation and other services.
    Service,
}

/// How a product reaches the customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(remote = "crate::domain::eta::DeliveryMethod")]
pub enum DeliveryMethod {
    /// Shipped from the warehouse by a carrier.
    Physical,
    /// Delivered by e-mail as soon as received from the vendor.
    Electronic,
}

/// A vendor (manufacturer).
pub struct Vendor(pub vendor::Model);

impl PlainFields for Vendor {
    fn plain(&self, field: &Field) -> Option<Value> {
        let vendor = &self.0;
        Some(match field.name.node.as_str() {
            "id" => plain::scalar(encode(NodeKind::Vendor, vendor.id)),
            "name" => Value::from(vendor.name.as_str()),
            "softwareAfterHardware" => Value::from(vendor.software_after_hardware),
            _ => return None,
        })
    }
}

/// A vendor (manufacturer) whose products the distributor sells.
#[Object(serial)]
impl Vendor {
    /// Global ID, for `node(id:)`.
    pub async fn id(&self) -> ID {
        encode(NodeKind::Vendor, self.0.id)
    }

    /// The vendor's name, unique.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Software of this vendor is delivered only after the order's hardware has shipped.
    async fn software_after_hardware(&self) -> bool {
        self.0.software_after_hardware
    }
}

/// A product of the catalogue.
pub struct Product(pub product::Model);

impl PlainFields for Product {
    fn plain(&self, field: &Field) -> Option<Value> {
        let product = &self.0;
        Some(match field.name.node.as_str() {
            "id" => plain::scalar(encode(NodeKind::Product, product.id)),
            "sku" => Value::from(product.sku.as_str()),
            "description" => Value::from(product.description.as_str()),
            "kind" => plain::enumeration(ProductKind::from(product.kind)),
            "deliveryMethod" => plain::enumeration(DeliveryMethod::from(product.delivery_method)),
            _ => return None,
        })
    }
}

/// A product of the distributor's catalogue.
#[Object(serial)]
impl Product {
    /// Global ID, for `node(id:)`.
    pub async fn id(&self) -> ID {
        encode(NodeKind::Product, self.0.id)
    }

    /// The distributor's article number (stock-keeping unit).
    async fn sku(&self) -> &str {
        &self.0.sku
    }

    /// The product's name and description, as on the order confirmation.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Hardware, software or service.
    #[graphql(name = "kind")]
    async fn product_kind(&self) -> ProductKind {
        self.0.kind.into()
    }

    /// Shipped by a carrier or delivered by e-mail.
    #[graphql(name = "deliveryMethod")]
    async fn product_delivery_method(&self) -> DeliveryMethod {
        self.0.delivery_method.into()
    }

    /// Who makes it.
    async fn vendor(&self, ctx: &Context<'_>) -> Result<Plain<Vendor>> {
        let vendor = ctx.loader()?.load_one(VendorById(self.0.vendor_id)).await?;
        Ok(Plain(Vendor(promised(vendor, "vendor", self.0.vendor_id)?)))
    }
}
