//! Support requests: a customer asks for guidance, the back office gets it by mail and plans
//! an appointment.

use chrono::{DateTime, Utc};
use entities::support_request;
use sea_orm::DatabaseConnection;

use crate::{
    auth::Viewer,
    domain::language::Language,
    error::{AppError, AppResult},
    mail::letters::{self, SupportLetter},
    store::{
        self, Scope, accounts, lookups, outbox,
        support::{self, NewSupportRequest},
    },
};

/// What a customer writes.
pub struct SupportAsk<'a> {
    pub subject: &'a str,
    pub message: &'a str,
    pub preferred_times: Option<&'a str>,
}

fn text(field: &str, value: &str, max_chars: usize, single_line: bool) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max_chars {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must have 1 to {max_chars} characters"),
        ));
    }
    if single_line && value.contains(char::is_control) {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must be one line"),
        ));
    }
    Ok(value.to_owned())
}

/// Stores the request and queues its mail to `support_email`, and a confirmation to the
/// person who asked in their language, in one transaction.
pub async fn request(
    db: &DatabaseConnection,
    viewer: &Viewer,
    support_email: &str,
    ask: SupportAsk<'_>,
    now: DateTime<Utc>,
) -> AppResult<support_request::Model> {
    let subject = text("subject", ask.subject, 200, true)?;
    let message = text("message", ask.message, 10_000, false)?;
    let preferred_times = ask
        .preferred_times
        .map(str::trim)
        .filter(|times| !times.is_empty())
        .map(|times| text("preferredTimes", times, 500, true))
        .transpose()?;
    let company_id = viewer.company_id.ok_or(AppError::Forbidden(
        "support requests come from a customer's people",
    ))?;
    let txn = store::begin_write(db).await?;
    let company = lookups::company(&txn, Scope::Everything, company_id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("company {company_id} missing")))?;
    let user = accounts::user_by_id(&txn, viewer.user_id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("user {} missing", viewer.user_id)))?;
    let new = NewSupportRequest {
        company_id,
        user_id: user.id,
        subject: &subject,
        message: &message,
        preferred_times: preferred_times.as_deref(),
    };
    let stored = support::insert(&txn, new, now).await?;
    let requested_by = match &user.name {
        Some(name) => format!("{name} <{}>", user.email),
        None => user.email.clone(),
    };
    let letter = letters::support_request(SupportLetter {
        to: support_email,
        company: &company.name,
        customer_number: &company.customer_number,
        requested_by: &requested_by,
        subject: &subject,
        message: &message,
        preferred_times: preferred_times.as_deref(),
    });
    outbox::enqueue(&txn, letter, now).await?;
    let confirmation = letters::support_confirmation(
        Language::of_code(&user.language),
        &user.email,
        user.name.as_deref(),
        &subject,
        preferred_times.as_deref(),
    );
    outbox::enqueue(&txn, confirmation, now).await?;
    txn.commit().await?;
    Ok(stored)
}
