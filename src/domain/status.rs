//! Status is never stored as an input: it is derived from approval, cancellation and the
//! shipped/delivered/invoiced quantities, so it cannot drift from the figures shown beside it.

use std::iter::Sum;
use std::ops::AddAssign;

/// Fulfilment status shared by orders and order lines; typed in the entities so that a stored
/// order's status is decoded once, when its row is read.
pub use entities::enums::Status;

/// Quantities of one line, or summed over several lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Units ordered (the line's quantity).
    pub ordered: i32,
    /// Units that left the warehouse plus electronically delivered units.
    pub shipped: i32,
    /// Shipped units marked delivered plus electronic deliveries.
    pub delivered: i32,
    /// Units invoiced.
    pub invoiced: i32,
}

impl Progress {
    /// Whether at least the ordered quantity has been delivered.
    pub fn is_fully_delivered(&self) -> bool {
        self.delivered >= self.ordered
    }

    /// Whether at least the ordered quantity has shipped; such a line is no longer open.
    pub fn is_fully_shipped(&self) -> bool {
        self.shipped >= self.ordered
    }

    /// Whether anything has moved at all. Deliveries count too, because an electronic
    /// delivery may be recorded without a separate shipment.
    pub fn has_shipped(&self) -> bool {
        self.shipped > 0 || self.delivered > 0
    }

    /// Whether the line carries facts of the ERP: something moved or was invoiced. Such a line
    /// can no longer be replaced by a resent order.
    pub fn is_under_way(&self) -> bool {
        self.has_shipped() || self.invoiced > 0
    }

    /// Whether the whole ordered quantity is both delivered and invoiced.
    pub fn is_fulfilled(&self) -> bool {
        self.is_fully_delivered() && self.invoiced >= self.ordered
    }
}

impl AddAssign for Progress {
    /// Saturates rather than overflowing: the figures come from stored data, and a corrupt
    /// row must not bring a request down.
    fn add_assign(&mut self, other: Self) {
        self.ordered = self.ordered.saturating_add(other.ordered);
        self.shipped = self.shipped.saturating_add(other.shipped);
        self.delivered = self.delivered.saturating_add(other.delivered);
        self.invoiced = self.invoiced.saturating_add(other.invoiced);
    }
}

impl Sum for Progress {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), |mut total, progress| {
            total += progress;
            total
        })
    }
}

/// The order-level flags every line rule depends on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderState {
    /// The order has been approved.
    pub confirmed: bool,
    /// The whole order has been cancelled.
    pub cancelled: bool,
}

/// What the status rules need to know about one order line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineFacts {
    /// The line itself has been cancelled.
    pub cancelled: bool,
    /// The line's quantities.
    pub progress: Progress,
}

impl LineFacts {
    /// Whether the line still has units to ship: neither it nor its order is cancelled and
    /// less than the ordered quantity has shipped.
    pub fn is_open(&self, order: OrderState) -> bool {
        !self.cancelled && !order.cancelled && !self.progress.is_fully_shipped()
    }
}

/// Status of one line of an order.
///
/// Cancellation wins over approval, and approval over quantities, so a line never looks
/// shipped while its order still awaits approval.
pub fn line_status(order: OrderState, line: &LineFacts) -> Status {
    if order.cancelled || line.cancelled {
        Status::Cancelled
    } else if !order.confirmed {
        Status::PendingApproval
    } else if line.progress.is_fulfilled() {
        Status::Fulfilled
    } else if line.progress.has_shipped() {
        Status::PartiallyFulfilled
    } else {
        Status::Confirmed
    }
}

/// Status of an order from its own flags and its lines.
///
/// Cancelled lines count for nothing; an order whose every line is cancelled is cancelled.
/// An approved order without any line is [`Status::Confirmed`], since nothing about it has
/// been cancelled or fulfilled yet.
pub fn order_status(order: OrderState, lines: &[LineFacts]) -> Status {
    if order.cancelled {
        return Status::Cancelled;
    }
    if !order.confirmed {
        return Status::PendingApproval;
    }
    let remaining = || lines.iter().filter(|line| !line.cancelled);
    if remaining().next().is_none() {
        return if lines.is_empty() {
            Status::Confirmed
        } else {
            Status::Cancelled
        };
    }
    if remaining().all(|line| line_status(order, line) == Status::Fulfilled) {
        Status::Fulfilled
    } else if remaining().any(|line| line.progress.has_shipped()) {
        Status::PartiallyFulfilled
    } else {
        Status::Confirmed
    }
}

/// Progress of an order: the sum of its non-cancelled lines, so cancelled quantities do not
/// count as outstanding.
pub fn order_progress(lines: &[LineFacts]) -> Progress {
    lines
        .iter()
        .filter(|line| !line.cancelled)
        .map(|line| line.progress)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPROVED: OrderState = OrderState {
        confirmed: true,
        cancelled: false,
    };
    const UNAPPROVED: OrderState = OrderState {
        confirmed: false,
        cancelled: false,
    };
    const CANCELLED_ORDER: OrderState = OrderState {
        confirmed: true,
        cancelled: true,
    };

    fn progress(ordered: i32, shipped: i32, delivered: i32, invoiced: i32) -> Progress {
        Progress {
            ordered,
            shipped,
            delivered,
            invoiced,
        }
    }

    fn line(ordered: i32, shipped: i32, delivered: i32, invoiced: i32) -> LineFacts {
        LineFacts {
            cancelled: false,
            progress: progress(ordered, shipped, delivered, invoiced),
        }
    }

    fn cancelled_line(ordered: i32, shipped: i32, delivered: i32, invoiced: i32) -> LineFacts {
        LineFacts {
            cancelled: true,
            ..line(ordered, shipped, delivered, invoiced)
        }
    }

    #[test]
    fn line_status_of_an_approved_order_follows_the_quantities() {
        let cases = [
            ("nothing shipped", line(10, 0, 0, 0), Status::Confirmed),
            (
                "shipments of 3 and 4 out of 10",
                line(10, 7, 3, 0),
                Status::PartiallyFulfilled,
            ),
            (
                "shipped but not delivered",
                line(10, 10, 0, 0),
                Status::PartiallyFulfilled,
            ),
            (
                "everything delivered but not invoiced",
                line(10, 10, 10, 0),
                Status::PartiallyFulfilled,
            ),
            (
                "everything delivered, partly invoiced",
                line(10, 10, 10, 9),
                Status::PartiallyFulfilled,
            ),
            (
                "invoiced but not fully delivered",
                line(10, 10, 6, 10),
                Status::PartiallyFulfilled,
            ),
            (
                "invoiced in advance, nothing shipped",
                line(10, 0, 0, 10),
                Status::Confirmed,
            ),
            (
                "electronic delivery recorded without a shipment",
                line(10, 0, 4, 0),
                Status::PartiallyFulfilled,
            ),
            (
                "delivered and invoiced",
                line(10, 10, 10, 10),
                Status::Fulfilled,
            ),
            (
                "over-delivered and over-invoiced",
                line(10, 12, 12, 11),
                Status::Fulfilled,
            ),
            (
                "cancelled before shipping",
                cancelled_line(10, 0, 0, 0),
                Status::Cancelled,
            ),
            (
                "cancelled after fulfilment",
                cancelled_line(10, 10, 10, 10),
                Status::Cancelled,
            ),
        ];
        for (name, facts, expected) in cases {
            assert_eq!(line_status(APPROVED, &facts), expected, "{name}");
        }
    }

    #[test]
    fn line_of_an_unapproved_order_is_pending_approval_whatever_its_quantities() {
        for facts in [line(10, 0, 0, 0), line(10, 5, 5, 0), line(10, 10, 10, 10)] {
            assert_eq!(line_status(UNAPPROVED, &facts), Status::PendingApproval);
        }
    }

    #[test]
    fn cancellation_wins_over_pending_approval() {
        let unapproved_and_cancelled = OrderState {
            confirmed: false,
            cancelled: true,
        };
        assert_eq!(
            line_status(unapproved_and_cancelled, &line(10, 0, 0, 0)),
            Status::Cancelled
        );
        assert_eq!(
            line_status(UNAPPROVED, &cancelled_line(10, 0, 0, 0)),
            Status::Cancelled
        );
        assert_eq!(
            order_status(unapproved_and_cancelled, &[line(10, 0, 0, 0)]),
            Status::Cancelled
        );
    }

    #[test]
    fn every_line_of_a_cancelled_order_is_cancelled() {
        for facts in [line(10, 0, 0, 0), line(10, 10, 10, 10)] {
            assert_eq!(line_status(CANCELLED_ORDER, &facts), Status::Cancelled);
        }
    }

    #[test]
    fn order_status_follows_its_remaining_lines() {
        let cases = [
            (
                "nothing shipped",
                APPROVED,
                vec![line(10, 0, 0, 0), line(5, 0, 0, 0)],
                Status::Confirmed,
            ),
            (
                "one line partly shipped",
                APPROVED,
                vec![line(10, 4, 0, 0), line(5, 0, 0, 0)],
                Status::PartiallyFulfilled,
            ),
            (
                "one line fulfilled, one untouched",
                APPROVED,
                vec![line(10, 10, 10, 10), line(5, 0, 0, 0)],
                Status::PartiallyFulfilled,
            ),
            (
                "everything shipped but not invoiced",
                APPROVED,
                vec![line(10, 10, 10, 0), line(5, 5, 5, 0)],
                Status::PartiallyFulfilled,
            ),
            (
                "everything invoiced but not delivered",
                APPROVED,
                vec![line(10, 10, 2, 10), line(5, 5, 5, 5)],
                Status::PartiallyFulfilled,
            ),
            (
                "every line delivered and invoiced",
                APPROVED,
                vec![line(10, 10, 10, 10), line(5, 5, 5, 5)],
                Status::Fulfilled,
            ),
            (
                "cancelled untouched line does not hold fulfilment back",
                APPROVED,
                vec![line(10, 10, 10, 10), cancelled_line(5, 0, 0, 0)],
                Status::Fulfilled,
            ),
            (
                "cancelled shipped line does not make the order partial",
                APPROVED,
                vec![line(10, 0, 0, 0), cancelled_line(5, 5, 5, 0)],
                Status::Confirmed,
            ),
            (
                "every line cancelled",
                APPROVED,
                vec![cancelled_line(10, 0, 0, 0), cancelled_line(5, 5, 0, 0)],
                Status::Cancelled,
            ),
            (
                "approved without lines",
                APPROVED,
                vec![],
                Status::Confirmed,
            ),
            (
                "not yet approved",
                UNAPPROVED,
                vec![line(10, 10, 10, 10)],
                Status::PendingApproval,
            ),
            (
                "not yet approved, every line cancelled",
                UNAPPROVED,
                vec![cancelled_line(10, 0, 0, 0)],
                Status::PendingApproval,
            ),
            (
                "order cancelled after fulfilment",
                CANCELLED_ORDER,
                vec![line(10, 10, 10, 10)],
                Status::Cancelled,
            ),
        ];
        for (name, order, lines, expected) in cases {
            assert_eq!(order_status(order, &lines), expected, "{name}");
        }
    }

    #[test]
    fn order_progress_sums_only_the_non_cancelled_lines() {
        let lines = [
            line(10, 7, 3, 2),
            line(5, 5, 5, 5),
            cancelled_line(100, 50, 40, 30),
        ];
        assert_eq!(order_progress(&lines), progress(15, 12, 8, 7));
    }

    #[test]
    fn order_progress_is_zero_without_lines_or_when_all_are_cancelled() {
        assert_eq!(order_progress(&[]), Progress::default());
        assert_eq!(
            order_progress(&[cancelled_line(10, 10, 10, 10)]),
            Progress::default()
        );
    }

    #[test]
    fn progress_addition_saturates_instead_of_overflowing() {
        let total: Progress = [progress(i32::MAX, 1, 2, 3), progress(1, 1, 1, 1)]
            .into_iter()
            .sum();
        assert_eq!(total, progress(i32::MAX, 2, 3, 4));
    }

    #[test]
    fn a_line_is_under_way_once_anything_moved_or_was_invoiced() {
        let cases = [
            ("untouched", progress(10, 0, 0, 0), false),
            ("shipped", progress(10, 1, 0, 0), true),
            ("delivered electronically", progress(10, 0, 1, 0), true),
            ("invoiced in advance", progress(10, 0, 0, 1), true),
        ];
        for (name, quantities, under_way) in cases {
            assert_eq!(quantities.is_under_way(), under_way, "{name}");
        }
    }

    #[test]
    fn progress_predicates_follow_the_quantities() {
        let cases = [
            // Columns: name, quantities, fully delivered, fully shipped, has shipped, fulfilled.
            (
                "untouched",
                progress(10, 0, 0, 0),
                false,
                false,
                false,
                false,
            ),
            (
                "partly shipped",
                progress(10, 4, 0, 0),
                false,
                false,
                true,
                false,
            ),
            (
                "delivered only",
                progress(10, 0, 10, 0),
                true,
                false,
                true,
                false,
            ),
            (
                "shipped in full",
                progress(10, 10, 3, 0),
                false,
                true,
                true,
                false,
            ),
            (
                "delivered and invoiced",
                progress(10, 10, 10, 10),
                true,
                true,
                true,
                true,
            ),
        ];
        for (name, quantities, delivered, shipped, moved, fulfilled) in cases {
            assert_eq!(quantities.is_fully_delivered(), delivered, "{name}");
            assert_eq!(quantities.is_fully_shipped(), shipped, "{name}");
            assert_eq!(quantities.has_shipped(), moved, "{name}");
            assert_eq!(quantities.is_fulfilled(), fulfilled, "{name}");
        }
    }

    #[test]
    fn line_is_open_while_uncancelled_and_not_fully_shipped() {
        let cases = [
            ("nothing shipped", APPROVED, line(10, 0, 0, 0), true),
            ("partly shipped", APPROVED, line(10, 9, 0, 0), true),
            ("awaiting approval", UNAPPROVED, line(10, 0, 0, 0), true),
            (
                "fully shipped, not delivered",
                APPROVED,
                line(10, 10, 0, 0),
                false,
            ),
            ("over-shipped", APPROVED, line(10, 11, 0, 0), false),
            (
                "line cancelled",
                APPROVED,
                cancelled_line(10, 0, 0, 0),
                false,
            ),
            ("order cancelled", CANCELLED_ORDER, line(10, 0, 0, 0), false),
        ];
        for (name, order, facts, open) in cases {
            assert_eq!(facts.is_open(order), open, "{name}");
        }
    }
}
