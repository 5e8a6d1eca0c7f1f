//! The write path for back-office facts, a file per business fact. Each function runs in one
//! transaction (`store::write`), is idempotent on its business key, validates everything
//! before writing anything (the shared checks, one validator of requested line quantities),
//! and ends by storing what `domain::order` derives of the order again (`refresh`).

mod cancellation;
mod catalogue;
mod checks;
mod deliveries;
mod eta;
mod invoices;
mod orders;
mod refresh;
mod shipments;

pub use cancellation::{cancel_order, cancel_order_line};
pub use catalogue::{ProductInput, VendorInput, upsert_product, upsert_vendor};
pub use deliveries::{ElectronicDeliveryInput, record_electronic_delivery};
pub use eta::{EtaUpdate, update_etas};
pub use invoices::{InvoiceInput, record_invoice};
pub use orders::{LineInput, OrderInput, confirm_order, upsert_order};
pub use refresh::refresh_order;
pub use shipments::{ShipmentInput, ShipmentLineInput, mark_shipment_delivered, record_shipment};

/// What a write left behind, and whether it changed anything: a resent record changes nothing.
#[derive(Clone, Debug)]
pub struct Written<T> {
    pub row: T,
    pub changed: bool,
}

impl<T> Written<T> {
    pub(super) fn changed(row: T) -> Self {
        Self { row, changed: true }
    }

    pub(super) fn unchanged(row: T) -> Self {
        Self {
            row,
            changed: false,
        }
    }
}

/// Longest business key (an order, customer, shipment or invoice number, a SKU, a serial or
/// tracking number), in characters.
pub const MAX_KEY_CHARS: usize = 100;
/// Longest name (a vendor's, a carrier's), customer reference or e-mail address, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest free text (a product description, the reason of an ETA change, a tracking URL), in
/// characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
