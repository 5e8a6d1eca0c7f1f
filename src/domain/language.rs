//! The languages the portal writes to people in, and the words its customers know for an
//! order's status (Dutch from the portal's own terminology list).

use super::status::Status;

/// The language of a user's mail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Language {
    /// Dutch: most of the portal's customers.
    #[default]
    Nl,
    /// English.
    En,
}

impl Language {
    /// The code stored with a user: `nl` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nl => "nl",
            Self::En => "en",
        }
    }

    /// The language of a stored code; anything unknown reads as the default, so that a letter
    /// is always written.
    pub fn of_code(code: &str) -> Self {
        match code {
            "en" => Self::En,
            _ => Self::Nl,
        }
    }

    /// What a customer calls an order in `status`.
    pub fn status_name(self, status: Status) -> &'static str {
        match (self, status) {
            (Self::Nl, Status::PendingApproval) => "In behandeling",
            (Self::Nl, Status::Confirmed) => "Bevestigd",
            (Self::Nl, Status::PartiallyFulfilled) => "Gedeeltelijk Vervuld",
            (Self::Nl, Status::Fulfilled) => "Vervuld",
            (Self::Nl, Status::Cancelled) => "Geannuleerd",
            (Self::En, Status::PendingApproval) => "Pending approval",
            (Self::En, Status::Confirmed) => "Confirmed",
            (Self::En, Status::PartiallyFulfilled) => "Partially fulfilled",
            (Self::En, Status::Fulfilled) => "Fulfilled",
            (Self::En, Status::Cancelled) => "Cancelled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_as_their_language() {
        for language in [Language::Nl, Language::En] {
            assert_eq!(Language::of_code(language.as_str()), language);
        }
        assert_eq!(Language::of_code("fr"), Language::Nl);
    }

    #[test]
    fn dutch_status_names_are_the_portal_terminology() {
        let cases = [
            (Status::Confirmed, "Bevestigd"),
            (Status::PartiallyFulfilled, "Gedeeltelijk Vervuld"),
            (Status::Fulfilled, "Vervuld"),
        ];
        for (status, name) in cases {
            assert_eq!(Language::Nl.status_name(status), name);
        }
    }
}
