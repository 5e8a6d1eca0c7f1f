//! Business days are Monday to Friday; public holidays are deliberately not modelled.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Number of business days after its order date an order may wait for approval before it is
/// overdue.
pub const APPROVAL_SLA_BUSINESS_DAYS: u32 = 3;

/// Returns the date that is `days` business days after `start`.
///
/// Only the weekdays *following* `start` are counted, so `start` itself never counts and a
/// weekend start behaves like the Friday before it: Friday + 2 and Saturday + 2 are both
/// Tuesday, Monday + 2 is Wednesday. Adding zero days returns `start` unchanged, even on a
/// weekend. Saturates at [`NaiveDate::MAX`] instead of panicking.
pub fn add_business_days(start: NaiveDate, days: u32) -> NaiveDate {
    if days == 0 {
        return start;
    }
    // Counting from a weekend is the same as counting from the preceding Friday, which lets
    // the rest of the arithmetic assume a weekday start.
    let back_to_friday: u64 = match start.weekday() {
        Weekday::Sat => 1,
        Weekday::Sun => 2,
        _ => 0,
    };
    let weekday_index = u64::from(start.weekday().num_days_from_monday()).min(4);
    let whole_weeks = u64::from(days / 5);
    let remainder = u64::from(days % 5);
    // The remainder is under a week, so it crosses at most one weekend.
    let weekend_gap = if weekday_index + remainder > 4 { 2 } else { 0 };
    let calendar_days = whole_weeks * 7 + remainder + weekend_gap - back_to_friday;
    start
        .checked_add_days(Days::new(calendar_days))
        .unwrap_or(NaiveDate::MAX)
}

/// Whether an order dated `ordered` and still not approved is overdue on `today`.
///
/// The days count from the order date, the day the customer counts from, however late the
/// order reached the portal. The approver has the whole of the third business day after it,
/// so the order only becomes overdue the day after that deadline.
pub fn is_approval_overdue(ordered: NaiveDate, today: NaiveDate) -> bool {
    add_business_days(ordered, APPROVAL_SLA_BUSINESS_DAYS) < today
}

/// The latest order date that makes an unapproved order overdue on `today`.
///
/// Lets SQL filter with `order_date <= latest_overdue_order_date(today)` instead of
/// evaluating business days per row: for every date `d`,
/// `d <= latest_overdue_order_date(today)` exactly when `is_approval_overdue(d, today)`.
/// Saturates at [`NaiveDate::MIN`] instead of panicking.
pub fn latest_overdue_order_date(today: NaiveDate) -> NaiveDate {
    // The deadline never moves backwards as the order date moves forwards, so the overdue
    // dates form a prefix of the calendar and walking back from `today` finds its end. The
    // walk is short: the deadline lies at most a week after the order date.
    let mut candidate = today;
    while !is_approval_overdue(candidate, today) {
        match candidate.pred_opt() {
            Some(previous) => candidate = previous,
            None => return NaiveDate::MIN,
        }
    }
    candidate
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "test fixtures are fixed valid dates; a failed unwrap is a failed test"
)]
mod tests {
    use super::*;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    /// June 2024 starts on a Saturday, so June 3 is a Monday.
    fn june(day: u32) -> NaiveDate {
        date(2024, 6, day)
    }

    fn is_weekday(day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// Step-by-step definition the closed-form arithmetic must agree with.
    fn add_business_days_one_by_one(start: NaiveDate, days: u32) -> NaiveDate {
        let mut current = start;
        let mut counted = 0;
        while counted < days {
            current = current.succ_opt().unwrap();
            if is_weekday(current) {
                counted += 1;
            }
        }
        current
    }

    fn all_days(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
        from.iter_days().take_while(move |day| *day <= to)
    }

    #[test]
    fn friday_plus_two_business_days_is_tuesday() {
        assert_eq!(add_business_days(june(7), 2), june(11));
    }

    #[test]
    fn saturday_plus_two_business_days_is_tuesday() {
        assert_eq!(add_business_days(june(8), 2), june(11));
    }

    #[test]
    fn monday_plus_two_business_days_is_wednesday() {
        assert_eq!(add_business_days(june(3), 2), june(5));
    }

    #[test]
    fn adding_business_days_follows_the_weekday_table() {
        let cases = [
            ("monday + 0 stays monday", june(3), 0, june(3)),
            ("saturday + 0 stays saturday", june(8), 0, june(8)),
            ("thursday + 1 is friday", june(6), 1, june(7)),
            ("friday + 1 is monday", june(7), 1, june(10)),
            ("saturday + 1 is monday", june(8), 1, june(10)),
            ("sunday + 1 is monday", june(9), 1, june(10)),
            ("sunday + 2 is tuesday", june(9), 2, june(11)),
            ("wednesday + 3 is monday", june(5), 3, june(10)),
            ("thursday + 3 is tuesday", june(6), 3, june(11)),
            ("monday + 5 is next monday", june(3), 5, june(10)),
            ("friday + 5 is next friday", june(7), 5, june(14)),
            ("saturday + 5 is next friday", june(8), 5, june(14)),
            (
                "wednesday + 10 is wednesday two weeks on",
                june(5),
                10,
                june(19),
            ),
            (
                "across the year end",
                date(2024, 12, 27),
                3,
                date(2025, 1, 1),
            ),
        ];
        for (name, start, days, expected) in cases {
            assert_eq!(add_business_days(start, days), expected, "{name}");
        }
    }

    #[test]
    fn adding_business_days_matches_counting_weekdays_one_by_one() {
        for start in all_days(date(2024, 1, 1), date(2024, 4, 30)) {
            for days in 0..=23 {
                assert_eq!(
                    add_business_days(start, days),
                    add_business_days_one_by_one(start, days),
                    "{start} + {days}"
                );
            }
        }
    }

    #[test]
    fn adding_business_days_saturates_at_the_end_of_the_calendar() {
        assert_eq!(add_business_days(NaiveDate::MAX, 1), NaiveDate::MAX);
    }

    #[test]
    fn approval_becomes_overdue_the_day_after_the_third_business_day() {
        let cases = [
            (
                "monday order date, thursday deadline",
                june(3),
                june(6),
                false,
            ),
            ("monday order date, friday", june(3), june(7), true),
            (
                "friday order date, wednesday deadline",
                june(7),
                june(12),
                false,
            ),
            ("friday order date, thursday", june(7), june(13), true),
            (
                "saturday order date counts like friday",
                june(8),
                june(12),
                false,
            ),
            ("saturday order date, thursday", june(8), june(13), true),
            (
                "wednesday order date, deadline monday",
                june(5),
                june(10),
                false,
            ),
            ("wednesday order date, tuesday", june(5), june(11), true),
            (
                "tuesday order date, weekend after friday deadline",
                june(4),
                june(8),
                true,
            ),
            ("same day order date", june(10), june(10), false),
        ];
        for (name, ordered, today, overdue) in cases {
            assert_eq!(is_approval_overdue(ordered, today), overdue, "{name}");
        }
    }

    #[test]
    fn latest_overdue_order_date_follows_the_weekday_table() {
        let cases = [
            ("monday", june(10), june(4)),
            ("tuesday", june(11), june(5)),
            ("wednesday", june(12), june(6)),
            ("thursday", june(13), june(9)),
            ("friday", june(14), june(10)),
            ("saturday", june(15), june(11)),
            ("sunday", june(16), june(11)),
        ];
        for (name, today, latest) in cases {
            assert_eq!(latest_overdue_order_date(today), latest, "{name}");
        }
    }

    #[test]
    fn an_order_date_on_or_before_the_latest_overdue_date_is_exactly_overdue() {
        for today in all_days(date(2024, 1, 1), date(2024, 4, 30)) {
            let latest = latest_overdue_order_date(today);
            let window = all_days(today - Days::new(21), today + Days::new(7));
            for ordered in window {
                assert_eq!(
                    ordered <= latest,
                    is_approval_overdue(ordered, today),
                    "ordered {ordered}, today {today}, latest {latest}"
                );
            }
        }
    }

    #[test]
    fn latest_overdue_order_date_saturates_at_the_start_of_the_calendar() {
        assert_eq!(latest_overdue_order_date(NaiveDate::MIN), NaiveDate::MIN);
    }
}
