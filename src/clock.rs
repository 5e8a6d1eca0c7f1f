//! The service's idea of "now", fixed in tests so that at-risk and overdue rules are repeatable.

use chrono::{DateTime, NaiveDate, Utc};

/// Where the current time comes from.
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    /// The system clock.
    System,
    /// A fixed instant.
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Fixed(instant) => *instant,
        }
    }

    /// Today's date in UTC, the calendar every ETA and business-day rule uses.
    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}
