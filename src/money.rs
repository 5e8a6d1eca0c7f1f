//! Exact amounts: stored as integers of 10⁻⁴, shown as decimals with at least two places.

use rust_decimal::Decimal;

/// Decimal places kept in storage: enough for unit prices, exact on every database.
const SCALE: u32 = 4;

/// The stored integer for a non-negative amount with at most four decimals.
pub fn to_e4(amount: Decimal) -> Option<i64> {
    if amount.is_sign_negative() && !amount.is_zero() {
        return None;
    }
    let scaled = amount.normalize();
    if scaled.scale() > SCALE {
        return None;
    }
    let mut scaled = scaled;
    scaled.rescale(SCALE);
    i64::try_from(scaled.mantissa()).ok()
}

/// The decimal for a stored integer: `12345000` is `1234.50`, `123456` is `12.3456`.
pub fn from_e4(stored: i64) -> Decimal {
    let mut amount = Decimal::new(stored, SCALE).normalize();
    if amount.scale() < 2 {
        amount.rescale(2);
    }
    amount
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_trip_exactly_with_two_to_four_decimals() {
        for (text, stored, shown) in [
            ("1234.5", 12_345_000, "1234.50"),
            ("12.3456", 123_456, "12.3456"),
            ("0", 0, "0.00"),
            ("7", 70_000, "7.00"),
        ] {
            let amount: Decimal = text.parse().unwrap_or_default();
            assert_eq!(to_e4(amount), Some(stored), "{text}");
            assert_eq!(from_e4(stored).to_string(), shown, "{text}");
        }
    }

    #[test]
    fn negative_amounts_and_more_than_four_decimals_are_refused() {
        for text in ["-1", "0.00001"] {
            let amount: Decimal = text.parse().unwrap_or_default();
            assert_eq!(to_e4(amount), None, "{text}");
        }
    }
}
