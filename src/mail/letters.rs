//! The texts the service sends. Plain text: it reads in every mail client and cannot hide a
//! link behind other words.

use chrono::{DateTime, Utc};
use entities::order;

use crate::store::outbox::Letter;

/// An activation link for a new account.
pub fn invitation(
    to: &str,
    name: Option<&str>,
    company: Option<&str>,
    activation_url: &str,
    expires_at: DateTime<Utc>,
) -> Letter {
    let greeting = name.map_or_else(|| "Hello,".to_owned(), |name| format!("Hello {name},"));
    let company = company.map_or_else(|| "the distributor's back office".to_owned(), str::to_owned);
    Letter {
        to: to.to_owned(),
        subject: "Your access to the Customer Portal".to_owned(),
        body: format!(
            "{greeting}\n\n\
             An account on the Customer Portal has been made for you ({company}).\n\
             There you look up your orders, their ETAs, shipments, serial numbers and invoices.\n\n\
             To choose your password and sign in, open this link:\n\n{activation_url}\n\n\
             The link works once and expires on {} UTC.\n\
             If it has expired, ask your administrator or the back office for a new one.\n",
            expires_at.format("%Y-%m-%d %H:%M")
        ),
    }
}

/// What the back office needs to plan an appointment.
pub struct SupportLetter<'a> {
    pub to: &'a str,
    pub company: &'a str,
    pub customer_number: &'a str,
    pub requested_by: &'a str,
    pub subject: &'a str,
    pub message: &'a str,
    pub preferred_times: Option<&'a str>,
}

/// A customer's support request, for the back office.
pub fn support_request(request: SupportLetter<'_>) -> Letter {
    Letter {
        to: request.to.to_owned(),
        subject: format!(
            "Support request from {} ({}): {}",
            request.company, request.customer_number, request.subject
        ),
        body: format!(
            "{} of {} ({}) asks for guidance.\n\n\
             Subject: {}\nPreferred times: {}\n\n{}\n",
            request.requested_by,
            request.company,
            request.customer_number,
            request.subject,
            request.preferred_times.unwrap_or("not given"),
            request.message,
        ),
    }
}

/// What changed about one order since the last digest.
pub fn change_digest(to: &str, order: &order::Model, items: &[String], link: &str) -> Letter {
    let reference = order
        .customer_reference
        .as_deref()
        .map_or(String::new(), |reference| {
            format!(" (your reference {reference})")
        });
    let mut body = format!("Order {}{reference} has changed:\n\n", order.order_number);
    for item in items {
        body.push_str("- ");
        body.push_str(item);
        body.push('\n');
    }
    body.push_str(&format!(
        "\nSee the order: {link}\n\nYou get at most one such mail per order an hour. \
         Turn these mails off with setMailOnChange(enabled: false).\n"
    ));
    Letter {
        to: to.to_owned(),
        subject: format!("Order {} changed", order.order_number),
        body,
    }
}
