//! The contract's `Date` scalar (`DateTime` and `Decimal` come from async-graphql as named),
//! and `Money`, an exact amount with its currency.

use async_graphql::{InputValueError, InputValueResult, Object, Scalar, ScalarType, Value};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::one_pass::one_pass_object;
use crate::money;

/// A calendar date, ISO 8601: 2026-11-23.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
pub struct Date(pub NaiveDate);

/// A calendar date, ISO 8601: 2026-11-23.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| {
                    InputValueError::custom(format!("{text:?} is not a date: use YYYY-MM-DD"))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        // Display writes YYYY-MM-DD directly, without interpreting a format string per date.
        Value::String(self.0.to_string())
    }
}

impl From<NaiveDate> for Date {
    fn from(date: NaiveDate) -> Self {
        Self(date)
    }
}

/// An exact amount with its currency.
#[derive(Clone, Debug)]
pub struct Money {
    pub amount: Decimal,
    pub currency: String,
}

one_pass_object! {
    /// An exact amount with its currency.
    #[Object(serial)]
    impl Money(self) {
        /// The exact amount in `currency`, as a decimal string with up to 4 decimals (`"1499.95"`).
        "amount": async fn amount(&self) -> Decimal {
            self.amount
        }

        /// ISO 4217 code.
        "currency": async fn currency(&self) -> &str {
            &self.currency
        }
    }
}

impl Money {
    /// From a stored amount (× 10⁴).
    pub fn from_e4(amount_e4: i64, currency: &str) -> Self {
        Self {
            amount: money::from_e4(amount_e4),
            currency: currency.to_owned(),
        }
    }
}
