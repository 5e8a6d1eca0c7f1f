//! ETAs are the vendor's dates for goods to be ready; what the customer cares about is when
//! the goods arrive, and whether that will happen in time.

use chrono::NaiveDate;

use super::business_days::add_business_days;
use super::status::{LineFacts, OrderState};

/// Carrier transit time allowed between a physical line's ETA and its arrival.
const PHYSICAL_TRANSIT_BUSINESS_DAYS: u32 = 2;

/// How a line reaches the customer, and what kind of product it sells; typed in the entities
/// so that a product's row is decoded once, when it is read.
pub use entities::enums::{DeliveryMethod, ProductKind};

/// Everything the delivery rules need to know about one order line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineDelivery {
    /// Kind of the product on the line.
    pub kind: ProductKind,
    /// The product's vendor releases software only after the order's hardware has shipped.
    pub vendor_software_after_hardware: bool,
    /// How the line reaches the customer.
    pub method: DeliveryMethod,
    /// The vendor's ETA; `None` while the vendor has not given one.
    pub eta: Option<NaiveDate>,
    /// Cancellation and quantities of the line.
    pub facts: LineFacts,
}

/// Earliest and latest ETA over the open lines of an order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EtaRange {
    /// Earliest known ETA, `None` when no open line has one.
    pub earliest: Option<NaiveDate>,
    /// Latest known ETA, `None` when no open line has one.
    pub latest: Option<NaiveDate>,
    /// At least one open line has no ETA yet, so `latest` may still move.
    pub pending: bool,
}

/// ETA range of an order over its open lines (see [`LineFacts::is_open`]).
///
/// Lines that are cancelled or have fully shipped no longer wait for anything, so their
/// ETAs, known or not, would only mislead.
pub fn eta_range(order: OrderState, lines: &[LineDelivery]) -> EtaRange {
    lines.iter().filter(|line| line.facts.is_open(order)).fold(
        EtaRange::default(),
        |range, line| match line.eta {
            None => EtaRange {
                pending: true,
                ..range
            },
            Some(eta) => EtaRange {
                earliest: Some(range.earliest.map_or(eta, |earliest| earliest.min(eta))),
                latest: Some(range.latest.map_or(eta, |latest| latest.max(eta))),
                pending: range.pending,
            },
        },
    )
}

/// Date the customer can expect a line to arrive.
///
/// `None` when there is nothing meaningful to promise: the ETA is unknown, the line is
/// cancelled, or it has already been delivered in full.
pub fn expected_delivery_date(
    method: DeliveryMethod,
    eta: Option<NaiveDate>,
    line: &LineFacts,
) -> Option<NaiveDate> {
    if line.cancelled || line.progress.is_fully_delivered() {
        return None;
    }
    eta.map(|eta| match method {
        DeliveryMethod::Physical => add_business_days(eta, PHYSICAL_TRANSIT_BUSINESS_DAYS),
        DeliveryMethod::Electronic => eta,
    })
}

/// Whether all of an order's hardware has shipped, given all of the order's lines.
///
/// Cancelled hardware will never ship, so it must not hold software back; an order without
/// any hardware has trivially shipped all of it.
pub fn hardware_all_shipped(lines: &[LineDelivery]) -> bool {
    lines
        .iter()
        .filter(|line| line.kind == ProductKind::Hardware && !line.facts.cancelled)
        .all(|line| line.facts.progress.is_fully_shipped())
}

/// Whether a software line is held back until its order's hardware ships.
///
/// `order_hardware_shipped` comes from [`hardware_all_shipped`] over the same order, so it is
/// computed once per order rather than once per line.
pub fn awaiting_hardware(line: &LineDelivery, order_hardware_shipped: bool) -> bool {
    line.kind == ProductKind::Software
        && line.vendor_software_after_hardware
        && !line.facts.cancelled
        && !line.facts.progress.is_fully_delivered()
        && !order_hardware_shipped
}

/// Whether a line is at risk of arriving late, as seen on `today`.
///
/// An unknown ETA counts as a risk because nothing can be promised; an ETA of today is not
/// yet missed. With a requested delivery date, arriving on that date is still in time.
pub fn at_risk(
    order: OrderState,
    requested_delivery: Option<NaiveDate>,
    line: &LineDelivery,
    today: NaiveDate,
) -> bool {
    if order.cancelled || line.facts.cancelled || line.facts.progress.is_fully_delivered() {
        return false;
    }
    let Some(eta) = line.eta else {
        return true;
    };
    let expected = expected_delivery_date(line.method, Some(eta), &line.facts);
    let arrives_too_late = matches!(
        (expected, requested_delivery),
        (Some(expected), Some(requested)) if expected > requested
    );
    eta < today || arrives_too_late
}

/// Whether any line of an order is at risk (see [`at_risk`]).
pub fn order_at_risk(
    order: OrderState,
    requested_delivery: Option<NaiveDate>,
    lines: &[LineDelivery],
    today: NaiveDate,
) -> bool {
    lines
        .iter()
        .any(|line| at_risk(order, requested_delivery, line, today))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "test fixtures are fixed valid dates; a failed unwrap is a failed test"
)]
mod tests {
    use super::*;
    use crate::domain::status::Progress;

    const APPROVED: OrderState = OrderState {
        confirmed: true,
        cancelled: false,
    };
    const CANCELLED_ORDER: OrderState = OrderState {
        confirmed: true,
        cancelled: true,
    };

    /// June 2024 starts on a Saturday, so June 3 is a Monday.
    fn june(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 6, day).unwrap()
    }

    fn progress(ordered: i32, shipped: i32, delivered: i32) -> Progress {
        Progress {
            ordered,
            shipped,
            delivered,
            invoiced: 0,
        }
    }

    fn facts(ordered: i32, shipped: i32, delivered: i32) -> LineFacts {
        LineFacts {
            cancelled: false,
            progress: progress(ordered, shipped, delivered),
        }
    }

    fn cancelled(ordered: i32, shipped: i32, delivered: i32) -> LineFacts {
        LineFacts {
            cancelled: true,
            progress: progress(ordered, shipped, delivered),
        }
    }

    /// A physical hardware line of 10 units with the given ETA and state.
    fn line(eta: Option<NaiveDate>, facts: LineFacts) -> LineDelivery {
        LineDelivery {
            kind: ProductKind::Hardware,
            vendor_software_after_hardware: false,
            method: DeliveryMethod::Physical,
            eta,
            facts,
        }
    }

    fn electronic(eta: Option<NaiveDate>, facts: LineFacts) -> LineDelivery {
        LineDelivery {
            method: DeliveryMethod::Electronic,
            ..line(eta, facts)
        }
    }

    fn of_kind(kind: ProductKind, facts: LineFacts) -> LineDelivery {
        LineDelivery {
            kind,
            ..line(None, facts)
        }
    }

    fn gated_software(facts: LineFacts) -> LineDelivery {
        LineDelivery {
            vendor_software_after_hardware: true,
            ..of_kind(ProductKind::Software, facts)
        }
    }

    fn range(earliest: Option<NaiveDate>, latest: Option<NaiveDate>, pending: bool) -> EtaRange {
        EtaRange {
            earliest,
            latest,
            pending,
        }
    }

    #[test]
    fn eta_range_covers_only_the_open_lines() {
        let cases = [
            ("no lines", APPROVED, vec![], range(None, None, false)),
            (
                "known ETAs",
                APPROVED,
                vec![
                    line(Some(june(14)), facts(10, 0, 0)),
                    line(Some(june(5)), facts(10, 4, 0)),
                    line(Some(june(20)), facts(10, 0, 0)),
                ],
                range(Some(june(5)), Some(june(20)), false),
            ),
            (
                "one open line",
                APPROVED,
                vec![line(Some(june(14)), facts(10, 0, 0))],
                range(Some(june(14)), Some(june(14)), false),
            ),
            (
                "unknown ETA makes the range pending",
                APPROVED,
                vec![
                    line(Some(june(14)), facts(10, 0, 0)),
                    line(None, facts(10, 0, 0)),
                ],
                range(Some(june(14)), Some(june(14)), true),
            ),
            (
                "only unknown ETAs",
                APPROVED,
                vec![line(None, facts(10, 0, 0))],
                range(None, None, true),
            ),
            (
                "cancelled lines drop out",
                APPROVED,
                vec![
                    line(Some(june(14)), facts(10, 0, 0)),
                    line(Some(june(3)), cancelled(10, 0, 0)),
                    line(Some(june(28)), cancelled(10, 0, 0)),
                    line(None, cancelled(10, 0, 0)),
                ],
                range(Some(june(14)), Some(june(14)), false),
            ),
            (
                "fully shipped lines drop out even when undelivered",
                APPROVED,
                vec![
                    line(Some(june(14)), facts(10, 0, 0)),
                    line(Some(june(3)), facts(10, 10, 0)),
                    line(None, facts(10, 10, 0)),
                ],
                range(Some(june(14)), Some(june(14)), false),
            ),
            (
                "every line cancelled",
                APPROVED,
                vec![line(Some(june(14)), cancelled(10, 0, 0))],
                range(None, None, false),
            ),
            (
                "cancelled order",
                CANCELLED_ORDER,
                vec![
                    line(Some(june(14)), facts(10, 0, 0)),
                    line(None, facts(10, 0, 0)),
                ],
                range(None, None, false),
            ),
        ];
        for (name, order, lines, expected) in cases {
            assert_eq!(eta_range(order, &lines), expected, "{name}");
        }
    }

    #[test]
    fn expected_delivery_date_adds_transit_only_to_physical_lines() {
        use DeliveryMethod::{Electronic, Physical};
        let cases = [
            (
                "physical, friday ETA",
                Physical,
                Some(june(7)),
                facts(10, 0, 0),
                Some(june(11)),
            ),
            (
                "physical, saturday ETA",
                Physical,
                Some(june(8)),
                facts(10, 0, 0),
                Some(june(11)),
            ),
            (
                "physical, monday ETA",
                Physical,
                Some(june(10)),
                facts(10, 0, 0),
                Some(june(12)),
            ),
            (
                "physical, wednesday ETA",
                Physical,
                Some(june(12)),
                facts(10, 0, 0),
                Some(june(14)),
            ),
            (
                "electronic, friday ETA",
                Electronic,
                Some(june(7)),
                facts(10, 0, 0),
                Some(june(7)),
            ),
            (
                "electronic, sunday ETA",
                Electronic,
                Some(june(9)),
                facts(10, 0, 0),
                Some(june(9)),
            ),
            (
                "partly delivered",
                Physical,
                Some(june(7)),
                facts(10, 10, 9),
                Some(june(11)),
            ),
            ("unknown ETA", Physical, None, facts(10, 0, 0), None),
            (
                "unknown electronic ETA",
                Electronic,
                None,
                facts(10, 0, 0),
                None,
            ),
            (
                "cancelled line",
                Physical,
                Some(june(7)),
                cancelled(10, 0, 0),
                None,
            ),
            (
                "fully delivered",
                Physical,
                Some(june(7)),
                facts(10, 10, 10),
                None,
            ),
            (
                "electronic, fully delivered",
                Electronic,
                Some(june(7)),
                facts(10, 10, 10),
                None,
            ),
        ];
        for (name, method, eta, line_facts, expected) in cases {
            assert_eq!(
                expected_delivery_date(method, eta, &line_facts),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn hardware_has_all_shipped_once_every_uncancelled_hardware_line_has() {
        use ProductKind::{Hardware, Service, Software};
        let cases = [
            ("no lines", vec![], true),
            (
                "software only",
                vec![of_kind(Software, facts(10, 0, 0))],
                true,
            ),
            (
                "hardware partly shipped",
                vec![
                    of_kind(Hardware, facts(10, 9, 0)),
                    of_kind(Hardware, facts(5, 5, 0)),
                ],
                false,
            ),
            (
                "hardware fully shipped",
                vec![of_kind(Hardware, facts(10, 10, 0))],
                true,
            ),
            (
                "cancelled unshipped hardware does not count",
                vec![
                    of_kind(Hardware, facts(10, 10, 0)),
                    of_kind(Hardware, cancelled(5, 0, 0)),
                ],
                true,
            ),
            (
                "unshipped services and software do not count",
                vec![
                    of_kind(Hardware, facts(10, 10, 0)),
                    of_kind(Service, facts(1, 0, 0)),
                    of_kind(Software, facts(1, 0, 0)),
                ],
                true,
            ),
        ];
        for (name, lines, expected) in cases {
            assert_eq!(hardware_all_shipped(&lines), expected, "{name}");
        }
    }

    #[test]
    fn software_of_a_gated_vendor_awaits_unshipped_hardware() {
        let ungated_software = of_kind(ProductKind::Software, facts(10, 0, 0));
        let cases = [
            (
                "gated software, hardware pending",
                gated_software(facts(10, 0, 0)),
                false,
                true,
            ),
            (
                "gated software, hardware shipped",
                gated_software(facts(10, 0, 0)),
                true,
                false,
            ),
            ("vendor not gated", ungated_software, false, false),
            (
                "gated hardware line",
                LineDelivery {
                    kind: ProductKind::Hardware,
                    ..gated_software(facts(10, 0, 0))
                },
                false,
                false,
            ),
            (
                "gated service line",
                LineDelivery {
                    kind: ProductKind::Service,
                    ..gated_software(facts(10, 0, 0))
                },
                false,
                false,
            ),
            (
                "cancelled software line",
                gated_software(cancelled(10, 0, 0)),
                false,
                false,
            ),
            (
                "software fully delivered",
                gated_software(facts(10, 10, 10)),
                false,
                false,
            ),
            (
                "software partly delivered",
                gated_software(facts(10, 5, 5)),
                false,
                true,
            ),
        ];
        for (name, software, hardware_shipped, expected) in cases {
            assert_eq!(
                awaiting_hardware(&software, hardware_shipped),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn order_without_uncancelled_hardware_holds_no_software_back() {
        let lines = [
            gated_software(facts(10, 0, 0)),
            of_kind(ProductKind::Hardware, cancelled(1, 0, 0)),
        ];
        assert!(!awaiting_hardware(&lines[0], hardware_all_shipped(&lines)));
    }

    #[test]
    fn line_is_at_risk_when_its_eta_is_unknown_past_or_too_late() {
        let today = june(12);
        let cases = [
            (
                "unknown ETA",
                APPROVED,
                None,
                line(None, facts(10, 0, 0)),
                true,
            ),
            (
                "ETA yesterday",
                APPROVED,
                None,
                line(Some(june(11)), facts(10, 0, 0)),
                true,
            ),
            (
                "ETA today is not past",
                APPROVED,
                None,
                line(Some(today), facts(10, 0, 0)),
                false,
            ),
            (
                "ETA tomorrow",
                APPROVED,
                None,
                line(Some(june(13)), facts(10, 0, 0)),
                false,
            ),
            (
                "physical expected on the requested date",
                APPROVED,
                Some(june(18)),
                line(Some(june(14)), facts(10, 0, 0)),
                false,
            ),
            (
                "physical expected after the requested date",
                APPROVED,
                Some(june(17)),
                line(Some(june(14)), facts(10, 0, 0)),
                true,
            ),
            (
                "electronic expected on the requested date",
                APPROVED,
                Some(june(14)),
                electronic(Some(june(14)), facts(10, 0, 0)),
                false,
            ),
            (
                "electronic expected after the requested date",
                APPROVED,
                Some(june(13)),
                electronic(Some(june(14)), facts(10, 0, 0)),
                true,
            ),
            (
                "past ETA even though the requested date is far off",
                APPROVED,
                Some(june(28)),
                line(Some(june(10)), facts(10, 0, 0)),
                true,
            ),
            (
                "partly delivered with a past ETA",
                APPROVED,
                None,
                line(Some(june(10)), facts(10, 10, 4)),
                true,
            ),
            (
                "cancelled line, unknown ETA",
                APPROVED,
                None,
                line(None, cancelled(10, 0, 0)),
                false,
            ),
            (
                "cancelled order, past ETA",
                CANCELLED_ORDER,
                None,
                line(Some(june(3)), facts(10, 0, 0)),
                false,
            ),
            (
                "fully delivered, past ETA and late",
                APPROVED,
                Some(june(4)),
                line(Some(june(3)), facts(10, 10, 10)),
                false,
            ),
            (
                "fully delivered, unknown ETA",
                APPROVED,
                None,
                line(None, facts(10, 10, 10)),
                false,
            ),
        ];
        for (name, order, requested, delivery, expected) in cases {
            assert_eq!(
                at_risk(order, requested, &delivery, today),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn order_is_at_risk_when_any_line_is() {
        let today = june(12);
        let on_time = line(Some(june(20)), facts(10, 0, 0));
        let late = line(Some(june(3)), facts(10, 0, 0));
        let late_but_cancelled = line(Some(june(3)), cancelled(10, 0, 0));
        assert!(!order_at_risk(APPROVED, None, &[], today));
        assert!(!order_at_risk(
            APPROVED,
            None,
            &[on_time, late_but_cancelled],
            today
        ));
        assert!(order_at_risk(APPROVED, None, &[on_time, late], today));
        assert!(!order_at_risk(
            CANCELLED_ORDER,
            None,
            &[on_time, late],
            today
        ));
        assert!(order_at_risk(APPROVED, Some(june(21)), &[on_time], today));
    }
}
