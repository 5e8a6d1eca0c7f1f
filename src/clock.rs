//! The service's idea of "now", set by hand in tests so that at-risk, overdue and expiry rules
//! are repeatable.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, NaiveDate, Utc};

/// Where the current time comes from.
#[derive(Clone, Debug)]
pub enum Clock {
    /// The system clock.
    System,
    /// An instant that moves only when told to; shared by every clone.
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// A clock standing still at `instant`.
    pub fn fixed(instant: DateTime<Utc>) -> Self {
        Self::Manual(Arc::new(Mutex::new(instant)))
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Manual(instant) => *instant.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Today's date in UTC, the calendar every ETA and business-day rule uses.
    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    /// Moves a manual clock forward; the system clock moves by itself.
    pub fn advance(&self, by: chrono::Duration) {
        if let Self::Manual(instant) = self {
            *instant.lock().unwrap_or_else(PoisonError::into_inner) += by;
        }
    }
}
