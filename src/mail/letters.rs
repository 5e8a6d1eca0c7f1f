//! The texts the service sends, each in the recipient's language. Plain text: it reads in
//! every mail client and cannot hide a link behind other words.

use chrono::{DateTime, Utc};
use entities::order;

use crate::{
    domain::{language::Language, status::Status},
    store::outbox::Letter,
};

/// An activation link for a new account.
pub fn invitation(
    language: Language,
    to: &str,
    name: Option<&str>,
    company: Option<&str>,
    activation_url: &str,
    expires_at: DateTime<Utc>,
) -> Letter {
    let expires = expires_at.format("%Y-%m-%d %H:%M");
    let (subject, body) = match language {
        Language::Nl => {
            let company = company.unwrap_or("het backofficeteam van de distributeur");
            (
                "Uw toegang tot de Customer Portal",
                format!(
                    "{greeting}\n\n\
                     Er is een account op de Customer Portal voor u aangemaakt ({company}).\n\
                     Daar zoekt u zelf uw bestellingen op, met hun ETA's, zendingen, serienummers en facturen.\n\n\
                     Open deze link om uw eigen wachtwoord te kiezen en in te loggen:\n\n{activation_url}\n\n\
                     De link werkt eenmaal en verloopt op {expires} UTC.\n\
                     Is hij verlopen, vraag dan uw beheerder of het backofficeteam om een nieuwe.\n",
                    greeting = greeting(language, name),
                ),
            )
        }
        Language::En => {
            let company = company.unwrap_or("the distributor's back office");
            (
                "Your access to the Customer Portal",
                format!(
                    "{greeting}\n\n\
                     An account on the Customer Portal has been made for you ({company}).\n\
                     There you look up your orders, their ETAs, shipments, serial numbers and invoices.\n\n\
                     To choose your password and sign in, open this link:\n\n{activation_url}\n\n\
                     The link works once and expires on {expires} UTC.\n\
                     If it has expired, ask your administrator or the back office for a new one.\n",
                    greeting = greeting(language, name),
                ),
            )
        }
    };
    Letter {
        to: to.to_owned(),
        subject: subject.to_owned(),
        body,
    }
}

fn greeting(language: Language, name: Option<&str>) -> String {
    match (language, name) {
        (Language::Nl, Some(name)) => format!("Beste {name},"),
        (Language::Nl, None) => "Beste,".to_owned(),
        (Language::En, Some(name)) => format!("Hello {name},"),
        (Language::En, None) => "Hello,".to_owned(),
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

/// A customer's support request, for the back office (whose address is configuration, not a
/// user, so it has no language of its own).
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

/// Tells the person who asked for guidance that the back office has the request.
pub fn support_confirmation(
    language: Language,
    to: &str,
    name: Option<&str>,
    subject: &str,
    preferred_times: Option<&str>,
) -> Letter {
    let greeting = greeting(language, name);
    let (title, body) = match language {
        Language::Nl => (
            format!("Uw verzoek om ondersteuning: {subject}"),
            format!(
                "{greeting}\n\n\
                 Wij hebben uw verzoek om ondersteuning ontvangen: \"{subject}\".\n\
                 Het backofficeteam neemt contact met u op om een afspraak te plannen{}.\n",
                preferred_times.map_or(String::new(), |times| format!(" (uw voorkeur: {times})"))
            ),
        ),
        Language::En => (
            format!("Your support request: {subject}"),
            format!(
                "{greeting}\n\n\
                 We have received your request for guidance: \"{subject}\".\n\
                 The back office will contact you to plan an appointment{}.\n",
                preferred_times.map_or(String::new(), |times| format!(" (you prefer: {times})"))
            ),
        ),
    };
    Letter {
        to: to.to_owned(),
        subject: title,
        body,
    }
}

/// What changed about one order since the last digest, with the order's status now.
pub fn change_digest(
    language: Language,
    to: &str,
    order: &order::Model,
    status: Status,
    items: &[String],
    link: &str,
) -> Letter {
    let reference = order.customer_reference.as_deref();
    let status = language.status_name(status);
    let number = &order.order_number;
    let (subject, mut body, closing) = match language {
        Language::Nl => (
            format!("Bestelling {number} gewijzigd"),
            format!(
                "Bestelling {number}{} is gewijzigd (status: {status}):\n\n",
                reference.map_or(String::new(), |reference| format!(
                    " (uw referentie {reference})"
                ))
            ),
            format!(
                "\nBekijk de bestelling: {link}\n\nU krijgt hooguit eenmaal per uur zo'n mail per bestelling. \
                 Zet deze mails uit met setMailOnChange(enabled: false).\n"
            ),
        ),
        Language::En => (
            format!("Order {number} changed"),
            format!(
                "Order {number}{} has changed (status: {status}):\n\n",
                reference.map_or(String::new(), |reference| format!(
                    " (your reference {reference})"
                ))
            ),
            format!(
                "\nSee the order: {link}\n\nYou get at most one such mail per order an hour. \
                 Turn these mails off with setMailOnChange(enabled: false).\n"
            ),
        ),
    };
    for item in items {
        body.push_str("- ");
        body.push_str(item);
        body.push('\n');
    }
    body.push_str(&closing);
    Letter {
        to: to.to_owned(),
        subject,
        body,
    }
}

/// An endpoint's events could not be delivered for as long as they are retried, so it was
/// turned off.
pub fn webhook_disabled(
    language: Language,
    to: &str,
    name: Option<&str>,
    url: &str,
    failing_since: DateTime<Utc>,
    last_error: &str,
) -> Letter {
    let greeting = greeting(language, name);
    let since = failing_since.format("%Y-%m-%d %H:%M");
    let (subject, body) = match language {
        Language::Nl => (
            "Uw webhook is uitgeschakeld",
            format!(
                "{greeting}\n\n\
                 Sinds {since} UTC kon de Customer Portal geen ordergebeurtenissen meer afleveren bij\n\n{url}\n\n\
                 De laatste fout: {last_error}\n\n\
                 Daarom sturen we er niets meer heen. Gemiste gebeurtenissen leest u terug met orderEvents;\n\
                 maak de webhook opnieuw aan (createWebhook) zodra uw systeem weer bereikbaar is.\n"
            ),
        ),
        Language::En => (
            "Your webhook was turned off",
            format!(
                "{greeting}\n\n\
                 Since {since} UTC the Customer Portal could not deliver order events to\n\n{url}\n\n\
                 The last error: {last_error}\n\n\
                 So nothing more is sent there. Read the events you missed with orderEvents, and create\n\
                 the webhook again (createWebhook) once your system can be reached.\n"
            ),
        ),
    };
    Letter {
        to: to.to_owned(),
        subject: subject.to_owned(),
        body,
    }
}
