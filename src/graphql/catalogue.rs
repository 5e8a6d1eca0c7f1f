//! Vendors and products.

use async_graphql::{Enum, ID, Object, Result};
use entities::{product, vendor};

use super::{
    ContextExt,
    ids::{NodeKind, encode},
    one_pass::one_pass_object,
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

one_pass_object! {
    /// A vendor (manufacturer) whose products the distributor sells.
    #[Object(serial)]
    impl Vendor(self) {
        /// Global ID, for `node(id:)`.
        "id": pub async fn id(&self) -> ID {
            encode(NodeKind::Vendor, self.0.id)
        }

        /// The vendor's name, unique.
        "name": async fn name(&self) -> &str {
            &self.0.name
        }

        /// Software of this vendor is delivered only after the order's hardware has shipped.
        "softwareAfterHardware": async fn software_after_hardware(&self) -> bool {
            self.0.software_after_hardware
        }
    }
}

/// A product of the catalogue.
pub struct Product(pub product::Model);

one_pass_object! {
    /// A product of the distributor's catalogue.
    #[Object(serial)]
    impl Product(self) {
        /// Global ID, for `node(id:)`.
        "id": pub async fn id(&self) -> ID {
            encode(NodeKind::Product, self.0.id)
        }

        /// The distributor's article number (stock-keeping unit).
        "sku": async fn sku(&self) -> &str {
            &self.0.sku
        }

        /// The product's name and description, as on the order confirmation.
        "description": async fn description(&self) -> &str {
            &self.0.description
        }

        /// Hardware, software or service.
        "kind": async fn product_kind(&self) -> ProductKind {
            self.0.kind.into()
        }

        /// Shipped by a carrier or delivered by e-mail.
        "deliveryMethod": async fn product_delivery_method(&self) -> DeliveryMethod {
            self.0.delivery_method.into()
        }

        /// Who makes it.
        "vendor": async fn vendor(&self, ctx) -> Result<Vendor> {
            let vendor = ctx.loader()?.load_one(VendorById(self.0.vendor_id)).await?;
            Ok(Vendor(promised(vendor, "vendor", self.0.vendor_id)?))
        }
        one_pass |walk| {
            let lines = &walk.facts()?.lines;
            let line = lines.iter().find(|line| line.vendor.id == self.0.vendor_id)?;
            Some(Vendor(line.vendor.clone()))
        }
    }
}
