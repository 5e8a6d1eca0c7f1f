//! The bulk import of the ERP feed: JSON Lines whose records are the contract's mutation inputs
//! tagged with their kind. Records stream through one at a time (memory stays flat whatever the
//! file size) and are applied exactly as the mutations apply them, so a rerun changes nothing.
//! Every line is read, and then applied or rejected, exactly once.

mod lines;

use std::{io::BufRead, time::Instant};

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use serde::Deserialize;

use crate::{
    clock::Clock,
    error::{AppError, AppResult},
    graphql::{
        back_office::{
            EtaUpdate, InvoiceInput, OrderInput, ProductInput, ShipmentInput, VendorInput,
        },
        catalogue::{DeliveryMethod, ProductKind},
    },
    store::{self, writes},
};

pub use lines::{Content, Line, Lines, MAX_LINE_BYTES};

/// The exit status of `customer-portal import` when the feed was read to its end but some
/// records were rejected (0: none was; 1: the import could not start or stopped).
pub const EXIT_SOME_REJECTED: u8 = 3;

/// A record of the feed, ready to apply.
#[derive(Debug)]
pub struct Record(Kind);

/// What one line of the feed says.
#[derive(Debug)]
pub enum Parsed {
    /// Nothing but white space: skipped, neither applied nor rejected.
    Blank,
    Record(Record),
    /// Not a record, and why.
    Rejected(String),
}

/// Reads a line's content as a record.
pub fn parse(content: &Content) -> Parsed {
    match content {
        Content::Text(text) if text.trim().is_empty() => Parsed::Blank,
        Content::Text(text) => match serde_json::from_str::<Kind>(text) {
            Ok(kind) => Parsed::Record(Record(kind)),
            Err(error) => Parsed::Rejected(format!("not a record: {error}")),
        },
        Content::NotUtf8 { at } => {
            Parsed::Rejected(format!("not UTF-8: byte {at} of the line is not valid"))
        }
        Content::TooLong { bytes, limit } => Parsed::Rejected(format!(
            "the line has {bytes} bytes, more than the {limit} a line may have"
        )),
    }
}

/// One record of the feed.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum Kind {
    Vendor(VendorInput),
    Product(ProductRecord),
    Order(OrderInput),
    Confirmation(OrderNumber),
    Cancellation(Cancellation),
    Eta(EtaUpdate),
    Shipment(ShipmentInput),
    ShipmentDelivered(ShipmentDelivered),
    Delivery(ElectronicDelivery),
    Invoice(InvoiceInput),
}

/// A product: `ProductInput`, with its `kind` named `productKind` because `kind` tags the record.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProductRecord {
    sku: String,
    description: String,
    product_kind: ProductKind,
    delivery_method: DeliveryMethod,
    vendor_name: String,
}

impl From<ProductRecord> for ProductInput {
    fn from(record: ProductRecord) -> Self {
        Self {
            sku: record.sku,
            description: record.description,
            kind: record.product_kind,
            delivery_method: record.delivery_method,
            vendor_name: record.vendor_name,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OrderNumber {
    order_number: String,
}

/// A whole order, or one line of it when `lineNumber` is given.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Cancellation {
    order_number: String,
    line_number: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ShipmentDelivered {
    shipment_number: String,
    delivered_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ElectronicDelivery {
    order_number: String,
    line_number: i32,
    quantity: i32,
    recipient_email: String,
    delivered_at: DateTime<Utc>,
}

/// How many records share one transaction: each record still succeeds or fails alone (a
/// savepoint each), but commits, the slowest part on PostgreSQL, are shared.
const RECORDS_PER_COMMIT: usize = 200;

/// Rejections kept for the summary; the count goes on beyond it.
const REJECTIONS_SHOWN: usize = 1_000;

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub applied: u64,
    pub unchanged: u64,
    pub rejected: u64,
    /// (line number, reason) of the first rejections.
    pub rejections: Vec<(u64, String)>,
}

impl Summary {
    fn reject(&mut self, line: u64, reason: String) {
        self.rejected += 1;
        if self.rejections.len() < REJECTIONS_SHOWN {
            self.rejections.push((line, reason));
        }
    }
}

/// Applies one record inside `txn`; `true` when it changed something.
async fn apply(txn: &DatabaseTransaction, record: Record, now: DateTime<Utc>) -> AppResult<bool> {
    Ok(match record.0 {
        Kind::Vendor(input) => writes::upsert_vendor(txn, input.into()).await?.changed,
        Kind::Product(record) => {
            writes::upsert_product(txn, ProductInput::from(record).into())
                .await?
                .changed
        }
        Kind::Order(input) => writes::upsert_order(txn, input.into(), now).await?.changed,
        Kind::Confirmation(order) => {
            writes::confirm_order(txn, &order.order_number, now)
                .await?
                .changed
        }
        Kind::Cancellation(Cancellation {
            order_number,
            line_number: None,
        }) => writes::cancel_order(txn, &order_number, now).await?.changed,
        Kind::Cancellation(Cancellation {
            order_number,
            line_number: Some(line_number),
        }) => {
            writes::cancel_order_line(txn, &order_number, line_number, now)
                .await?
                .changed
        }
        Kind::Eta(update) => {
            writes::update_etas(txn, vec![update.into()], now)
                .await?
                .changed
        }
        Kind::Shipment(input) => {
            writes::record_shipment(txn, input.into(), now)
                .await?
                .changed
        }
        Kind::ShipmentDelivered(delivered) => {
            writes::mark_shipment_delivered(
                txn,
                &delivered.shipment_number,
                delivered.delivered_at,
                now,
            )
            .await?
            .changed
        }
        Kind::Delivery(delivery) => {
            let input = writes::ElectronicDeliveryInput {
                order_number: delivery.order_number,
                line_number: delivery.line_number,
                quantity: delivery.quantity,
                recipient_email: delivery.recipient_email,
                delivered_at: delivery.delivered_at,
            };
            writes::record_electronic_delivery(txn, input, now)
                .await?
                .changed
        }
        Kind::Invoice(input) => {
            writes::record_invoice(txn, input.into(), now)
                .await?
                .changed
        }
    })
}

fn reason(error: &AppError) -> String {
    match error {
        AppError::BadUserInput {
            field: Some(field),
            message,
        } => format!("{message} ({field})"),
        AppError::Internal(cause) => {
            tracing::error!(
                error = format!("{cause:#}"),
                "internal error while importing"
            );
            "internal error (logged)".into()
        }
        other => other.to_string(),
    }
}

/// Reads the feed from `reader` and applies it. `total_bytes`, when known, sizes the progress
/// bar, which is drawn only when standard error is a terminal.
pub async fn run(
    db: &DatabaseConnection,
    reader: impl BufRead,
    total_bytes: Option<u64>,
    clock: Clock,
) -> anyhow::Result<Summary> {
    let progress = ProgressBar::with_draw_target(total_bytes, ProgressDrawTarget::stderr());
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut summary = Summary::default();
    let mut txn = store::begin_write(db).await?;
    let mut in_txn = 0;
    let mut lines = Lines::new(reader, MAX_LINE_BYTES);
    while let Some(line) = lines.next_line()? {
        progress.inc(line.bytes);
        match parse(&line.content) {
            Parsed::Blank => continue,
            Parsed::Rejected(reason) => summary.reject(line.number, reason),
            Parsed::Record(record) => match apply(&txn, record, clock.now()).await {
                Ok(true) => summary.applied += 1,
                Ok(false) => summary.unchanged += 1,
                Err(error) => summary.reject(line.number, reason(&error)),
            },
        }
        in_txn += 1;
        if in_txn == RECORDS_PER_COMMIT {
            txn.commit().await?;
            txn = store::begin_write(db).await?;
            in_txn = 0;
            progress.set_message(format!(
                "{} applied, {} unchanged, {} rejected",
                summary.applied, summary.unchanged, summary.rejected
            ));
        }
    }
    txn.commit().await?;
    progress.finish_and_clear();
    Ok(summary)
}

/// Prints the summary the way `customer-portal import` ends.
pub fn report(summary: &Summary, started: Instant) -> String {
    let seconds = started.elapsed().as_secs_f64();
    let records = summary.applied + summary.unchanged + summary.rejected;
    let mut text = format!(
        "{} applied, {} unchanged, {} rejected: {records} records in {seconds:.1} s ({:.0} records/s)",
        summary.applied,
        summary.unchanged,
        summary.rejected,
        records as f64 / seconds.max(f64::EPSILON),
    );
    if let Some(peak) = peak_memory_kib() {
        text.push_str(&format!(", peak memory {:.1} MiB", peak as f64 / 1024.0));
    }
    for (line, reason) in &summary.rejections {
        text.push_str(&format!("\n  line {line}: {reason}"));
    }
    if summary.rejected > summary.rejections.len() as u64 {
        text.push_str(&format!(
            "\n  … and {} more",
            summary.rejected - summary.rejections.len() as u64
        ));
    }
    text
}

/// The process's peak resident memory, where the system tells it (Linux).
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
