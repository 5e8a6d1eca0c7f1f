//! Every derived fact of one order, from its stored rows: per-line progress (from shipments,
//! e-mail deliveries and invoices), statuses, ETA range, expected delivery, awaiting hardware,
//! at risk, and money totals. The GraphQL layer, `store::writes::refresh`, the generator and
//! the mail digest call these; none of them derives a fact itself. The rules behind them live
//! in [`super::status`] and [`super::eta`]; this module only gathers an order's rows into their
//! inputs. Rows are plain values here: nothing in this module does I/O.

use std::collections::HashMap;

use chrono::NaiveDate;
use entities::{invoice_line, order, order_line};

use super::{
    eta::{self, DeliveryMethod, EtaRange, LineDelivery, ProductKind},
    status::{self, LineFacts, OrderState, Progress, Status},
};

/// The approval and cancellation flags of an order.
pub fn state(order: &order::Model) -> OrderState {
    OrderState {
        confirmed: order.confirmed_at.is_some(),
        cancelled: order.cancelled_at.is_some(),
    }
}

/// The quantities stored on a line (written only by `refresh`, from [`LineProgress`]).
pub fn stored_progress(line: &order_line::Model) -> Progress {
    Progress {
        ordered: line.quantity,
        shipped: line.shipped_quantity,
        delivered: line.delivered_quantity,
        invoiced: line.invoiced_quantity,
    }
}

/// What the status rules need of a line, from its stored quantities.
pub fn line_facts(line: &order_line::Model) -> LineFacts {
    LineFacts {
        cancelled: line.cancelled_at.is_some(),
        progress: stored_progress(line),
    }
}

/// The status of a line.
pub fn line_status(order: &order::Model, line: &order_line::Model) -> Status {
    status::line_status(state(order), &line_facts(line))
}

/// The status of an order from its lines, as they now stand.
pub fn order_status(order: &order::Model, lines: &[LineFacts]) -> Status {
    status::order_status(state(order), lines)
}

/// Quantities summed over the lines that are not cancelled.
pub fn order_progress(lines: &[order_line::Model]) -> Progress {
    let facts: Vec<LineFacts> = lines.iter().map(line_facts).collect();
    status::order_progress(&facts)
}

/// Sum of quantity × unit price (× 10⁴) over the lines that are not cancelled; `None` when it
/// overflows.
pub fn order_total_e4(lines: &[order_line::Model]) -> Option<i64> {
    lines
        .iter()
        .filter(|line| line.cancelled_at.is_none())
        .try_fold(0_i64, |sum, line| {
            line_amount_e4(line, line.quantity)?.checked_add(sum)
        })
}

/// What `quantity` units of a line cost (× 10⁴); `None` when it overflows.
pub fn line_amount_e4(line: &order_line::Model, quantity: i32) -> Option<i64> {
    amount_e4(line.unit_price_e4, quantity)
}

/// What `quantity` units at `unit_price_e4` cost (× 10⁴); `None` when it overflows.
pub fn amount_e4(unit_price_e4: i64, quantity: i32) -> Option<i64> {
    unit_price_e4.checked_mul(i64::from(quantity))
}

/// Units of a line that have not left the warehouse (nor been sent by e-mail).
pub fn units_left_to_ship(line: &order_line::Model) -> i32 {
    line.quantity - line.shipped_quantity
}

/// Units of a line not invoiced yet.
pub fn units_left_to_invoice(line: &order_line::Model) -> i32 {
    line.quantity - line.invoiced_quantity
}

/// Sum of an invoice's line amounts (× 10⁴); `None` when it overflows.
pub fn invoice_total_e4(lines: &[invoice_line::Model]) -> Option<i64> {
    lines
        .iter()
        .try_fold(0_i64, |sum, line| sum.checked_add(line.amount_e4))
}

/// The quantities of one line as its recorded facts make them (see `domain.md`, "Status"):
/// physical units count as shipped once on a shipment and as delivered once that shipment
/// is delivered; units sent by e-mail count as both at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineProgress(pub Progress);

impl LineProgress {
    /// Nothing recorded yet for a line of `ordered` units.
    pub fn ordered(ordered: i32) -> Self {
        Self(Progress {
            ordered,
            ..Progress::default()
        })
    }

    /// Units on a shipment, delivered or not yet.
    pub fn shipped(&mut self, quantity: i32, delivered: bool) {
        self.0.shipped = self.0.shipped.saturating_add(quantity);
        if delivered {
            self.0.delivered = self.0.delivered.saturating_add(quantity);
        }
    }

    /// Units delivered by e-mail: sent is received.
    pub fn emailed(&mut self, quantity: i32) {
        self.shipped(quantity, true);
    }

    /// Units on an invoice.
    pub fn invoiced(&mut self, quantity: i32) {
        self.0.invoiced = self.0.invoiced.saturating_add(quantity);
    }
}

/// Units of one order line on one shipment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShippedUnits {
    pub line_id: i64,
    pub quantity: i32,
    pub delivered: bool,
}

/// Units of one order line in one e-mail delivery or on one invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineUnits {
    pub line_id: i64,
    pub quantity: i32,
}

/// The recorded facts of an order's lines.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    pub shipped: Vec<ShippedUnits>,
    pub emailed: Vec<LineUnits>,
    pub invoiced: Vec<LineUnits>,
}

/// Each line's quantities from the recorded facts, by line id; facts of other lines are
/// ignored.
pub fn derive_progress(lines: &[order_line::Model], recorded: &Recorded) -> HashMap<i64, Progress> {
    let mut progress: HashMap<i64, LineProgress> = lines
        .iter()
        .map(|line| (line.id, LineProgress::ordered(line.quantity)))
        .collect();
    for units in &recorded.shipped {
        if let Some(line) = progress.get_mut(&units.line_id) {
            line.shipped(units.quantity, units.delivered);
        }
    }
    for units in &recorded.emailed {
        if let Some(line) = progress.get_mut(&units.line_id) {
            line.emailed(units.quantity);
        }
    }
    for units in &recorded.invoiced {
        if let Some(line) = progress.get_mut(&units.line_id) {
            line.invoiced(units.quantity);
        }
    }
    progress
        .into_iter()
        .map(|(id, line)| (id, line.0))
        .collect()
}

/// What the delivery rules need of a line's product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProductFacts {
    pub kind: ProductKind,
    pub method: DeliveryMethod,
    /// The product's vendor releases software only after the order's hardware has shipped.
    pub vendor_software_after_hardware: bool,
}

/// The derived facts of one order and its lines (in the order given), as every field of an
/// order and its lines shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderFacts {
    state: OrderState,
    requested_delivery_date: Option<NaiveDate>,
    lines: Vec<LineDelivery>,
    hardware_shipped: bool,
}

impl OrderFacts {
    /// The facts of `order` from its lines' stored quantities and their products.
    pub fn derive(order: &order::Model, lines: &[(&order_line::Model, ProductFacts)]) -> Self {
        let state = state(order);
        let lines: Vec<LineDelivery> = lines
            .iter()
            .map(|(line, product)| LineDelivery {
                kind: product.kind,
                vendor_software_after_hardware: product.vendor_software_after_hardware,
                method: product.method,
                eta: line.eta,
                facts: LineFacts {
                    // Nothing of a cancelled order is awaited any more.
                    cancelled: line.cancelled_at.is_some() || state.cancelled,
                    progress: stored_progress(line),
                },
            })
            .collect();
        Self {
            state,
            requested_delivery_date: order.requested_delivery_date,
            hardware_shipped: eta::hardware_all_shipped(&lines),
            lines,
        }
    }

    /// Earliest and latest ETA of the open lines.
    pub fn eta_range(&self) -> EtaRange {
        eta::eta_range(self.state, &self.lines)
    }

    /// Whether any line is at risk on `today`.
    pub fn at_risk(&self, today: NaiveDate) -> bool {
        eta::order_at_risk(self.state, self.requested_delivery_date, &self.lines, today)
    }

    /// The status of line `index`.
    pub fn line_status(&self, index: usize) -> Option<Status> {
        let line = self.lines.get(index)?;
        Some(status::line_status(self.state, &line.facts))
    }

    /// The quantities of line `index`.
    pub fn line_progress(&self, index: usize) -> Option<Progress> {
        Some(self.lines.get(index)?.facts.progress)
    }

    /// When the customer can expect line `index`.
    pub fn expected_delivery_date(&self, index: usize) -> Option<NaiveDate> {
        let line = self.lines.get(index)?;
        eta::expected_delivery_date(line.method, line.eta, &line.facts)
    }

    /// Whether line `index` is software held back for the order's hardware.
    pub fn awaiting_hardware(&self, index: usize) -> bool {
        self.lines
            .get(index)
            .is_some_and(|line| eta::awaiting_hardware(line, self.hardware_shipped))
    }

    /// Whether line `index` is at risk on `today`.
    pub fn line_at_risk(&self, index: usize, today: NaiveDate) -> bool {
        self.lines
            .get(index)
            .is_some_and(|line| eta::at_risk(self.state, self.requested_delivery_date, line, today))
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "test fixtures are fixed valid dates; a failed unwrap is a failed test"
)]
mod tests {
    //! The rules themselves are tabled in `status` and `eta`; these cases cover how an order's
    //! rows reach them: progress from facts, cancellation, totals, and one order end to end.

    use chrono::{DateTime, Utc};

    use super::*;

    fn day(day: u32) -> NaiveDate {
        // June 2024 starts on a Saturday, so June 3 is a Monday.
        NaiveDate::from_ymd_opt(2024, 6, day).unwrap()
    }

    fn now() -> DateTime<Utc> {
        day(1).and_hms_opt(9, 0, 0).unwrap().and_utc()
    }

    fn order(confirmed: bool, cancelled: bool) -> order::Model {
        order::Model {
            id: 1,
            order_number: "SO-1".into(),
            company_id: 1,
            customer_reference: None,
            order_date: day(1),
            requested_delivery_date: Some(day(14)),
            currency: "EUR".into(),
            status: Status::Confirmed,
            received_at: now(),
            confirmed_at: confirmed.then(now),
            cancelled_at: cancelled.then(now),
            updated_at: now(),
        }
    }

    fn line(
        id: i64,
        quantity: i32,
        price_e4: i64,
        shipped: i32,
        cancelled: bool,
    ) -> order_line::Model {
        order_line::Model {
            id,
            order_id: 1,
            line_number: id as i32,
            product_id: id,
            quantity,
            unit_price_e4: price_e4,
            currency: "EUR".into(),
            eta: Some(day(10)),
            cancelled_at: cancelled.then(now),
            shipped_quantity: shipped,
            delivered_quantity: 0,
            invoiced_quantity: 0,
        }
    }

    fn progress(ordered: i32, shipped: i32, delivered: i32, invoiced: i32) -> Progress {
        Progress {
            ordered,
            shipped,
            delivered,
            invoiced,
        }
    }

    #[test]
    fn a_lines_quantities_follow_its_shipments_mails_and_invoices() {
        let shipped = |quantity, delivered| ShippedUnits {
            line_id: 1,
            quantity,
            delivered,
        };
        let units = |quantity| LineUnits {
            line_id: 1,
            quantity,
        };
        let cases = [
            (
                "nothing recorded",
                Recorded::default(),
                progress(10, 0, 0, 0),
            ),
            (
                "a shipment on its way",
                Recorded {
                    shipped: vec![shipped(4, false)],
                    ..Recorded::default()
                },
                progress(10, 4, 0, 0),
            ),
            (
                "one delivered shipment, one on its way",
                Recorded {
                    shipped: vec![shipped(4, true), shipped(3, false)],
                    ..Recorded::default()
                },
                progress(10, 7, 4, 0),
            ),
            (
                "an e-mail delivery is shipped and delivered at once",
                Recorded {
                    emailed: vec![units(5)],
                    ..Recorded::default()
                },
                progress(10, 5, 5, 0),
            ),
            (
                "invoices add up on their own",
                Recorded {
                    invoiced: vec![units(2), units(3)],
                    ..Recorded::default()
                },
                progress(10, 0, 0, 5),
            ),
            (
                "facts of another line do not count",
                Recorded {
                    shipped: vec![ShippedUnits {
                        line_id: 2,
                        quantity: 4,
                        delivered: true,
                    }],
                    ..Recorded::default()
                },
                progress(10, 0, 0, 0),
            ),
        ];
        let lines = [line(1, 10, 0, 0, false)];
        for (name, recorded, expected) in cases {
            assert_eq!(derive_progress(&lines, &recorded)[&1], expected, "{name}");
        }
    }

    #[test]
    fn the_order_status_follows_its_flags_and_lines() {
        let open = LineFacts {
            cancelled: false,
            progress: progress(2, 1, 0, 0),
        };
        let cases = [
            (
                "pending approval",
                order(false, false),
                Status::PendingApproval,
            ),
            (
                "approved, partly shipped",
                order(true, false),
                Status::PartiallyFulfilled,
            ),
            ("cancelled", order(true, true), Status::Cancelled),
        ];
        for (name, order, expected) in cases {
            assert_eq!(order_status(&order, &[open]), expected, "{name}");
        }
    }

    #[test]
    fn totals_leave_out_cancelled_lines_and_report_overflow() {
        let lines = [
            line(1, 2, 15_000, 0, false),
            line(2, 3, 10_000, 0, false),
            line(3, 9, 10_000, 0, true),
        ];
        assert_eq!(order_total_e4(&lines), Some(60_000));
        assert_eq!(order_total_e4(&[]), Some(0));
        assert_eq!(order_total_e4(&[line(1, 2, i64::MAX, 0, false)]), None);
        assert_eq!(order_progress(&lines), progress(5, 0, 0, 0));
        let invoice = |amount_e4| invoice_line::Model {
            id: 1,
            invoice_id: 1,
            order_line_id: 1,
            quantity: 1,
            amount_e4,
        };
        assert_eq!(invoice_total_e4(&[invoice(5), invoice(7)]), Some(12));
        assert_eq!(invoice_total_e4(&[invoice(i64::MAX), invoice(1)]), None);
        let mut partly = line(1, 10, 15_000, 4, false);
        partly.invoiced_quantity = 3;
        assert_eq!(
            (units_left_to_ship(&partly), units_left_to_invoice(&partly)),
            (6, 7)
        );
        assert_eq!(line_amount_e4(&partly, 3), Some(45_000));
    }

    #[test]
    fn an_orders_facts_come_from_its_open_lines() {
        let hardware = ProductFacts {
            kind: ProductKind::Hardware,
            method: DeliveryMethod::Physical,
            vendor_software_after_hardware: false,
        };
        let software = ProductFacts {
            kind: ProductKind::Software,
            method: DeliveryMethod::Electronic,
            vendor_software_after_hardware: true,
        };
        let shipped = line(1, 2, 0, 2, false);
        let open = line(2, 2, 0, 0, false);
        let mut licence = line(3, 1, 0, 0, false);
        licence.eta = Some(day(5));
        let order = order(true, false);
        let facts = OrderFacts::derive(
            &order,
            &[
                (&shipped, hardware),
                (&open, hardware),
                (&licence, software),
            ],
        );
        assert_eq!(
            facts.eta_range(),
            EtaRange {
                earliest: Some(day(5)),
                latest: Some(day(10)),
                pending: false,
            }
        );
        assert_eq!(facts.line_status(0), Some(Status::PartiallyFulfilled));
        assert_eq!(facts.expected_delivery_date(1), Some(day(12)));
        assert!(facts.awaiting_hardware(2));
        assert!(!facts.line_at_risk(1, day(10)));
        assert!(facts.line_at_risk(1, day(11)));
        assert!(facts.at_risk(day(6)));

        let cancelled = order::Model {
            cancelled_at: Some(now()),
            ..order
        };
        let facts = OrderFacts::derive(&cancelled, &[(&open, hardware)]);
        assert_eq!(facts.line_status(0), Some(Status::Cancelled));
        assert_eq!(facts.expected_delivery_date(0), None);
        assert!(!facts.at_risk(day(30)));
    }
}
