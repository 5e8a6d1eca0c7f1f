//! Making and removing endpoints: the rules a URL must meet, the cap per company, and the
//! signing secret shown once.

use chrono::{DateTime, Utc};
use entities::webhook;
use sea_orm::ConnectionTrait;

use super::{Deliverer, client, signing};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    store::{
        events::{self, EventKind},
        lookups,
        webhooks::{self, NewWebhook},
    },
};

/// An endpoint just made, with the secret the caller sees this once.
pub struct CreatedWebhook {
    pub webhook: webhook::Model,
    pub secret: String,
}

/// What a new endpoint should be.
pub struct WebhookRequest<'a> {
    pub url: &'a str,
    /// `None`: every kind.
    pub kinds: Option<Vec<EventKind>>,
    /// The company whose events it gets: the viewer's own, or any for the back office.
    pub company_id: Option<i64>,
}

/// Creates an endpoint for `viewer`'s company (or the given one, for the back office). The
/// URL must be `https://` and its host must resolve to public addresses only.
pub async fn create(
    db: &impl ConnectionTrait,
    deliverer: &Deliverer,
    viewer: &Viewer,
    request: WebhookRequest<'_>,
    now: DateTime<Utc>,
) -> AppResult<CreatedWebhook> {
    let company_id = match (viewer.company_id, request.company_id) {
        (Some(own), None) => own,
        (Some(own), Some(asked)) if own == asked => own,
        (Some(_), Some(_)) => return Err(AppError::NotFound("company".into())),
        (None, Some(asked)) => {
            lookups::company(db, viewer.scope(), asked)
                .await?
                .ok_or_else(|| AppError::NotFound("company".into()))?
                .id
        }
        (None, None) => {
            return Err(AppError::bad_input(
                "companyId",
                "say which company's events the webhook receives",
            ));
        }
    };
    let settings = deliverer.settings();
    let url = client::parse_url(request.url.trim(), settings.allow_loopback)
        .map_err(|refusal| AppError::bad_input("url", refusal))?;
    client::resolve(&url, settings.allow_loopback)
        .await
        .map_err(|refusal| AppError::bad_input("url", refusal))?;
    let kinds = match request.kinds {
        Some(kinds) if kinds.is_empty() => {
            return Err(AppError::bad_input(
                "kinds",
                "name at least one kind, or leave `kinds` out for every kind",
            ));
        }
        Some(mut kinds) => {
            kinds.sort_by_key(|kind| kind.as_str());
            kinds.dedup();
            Some(webhooks::stored_kinds(&kinds))
        }
        None => None,
    };
    if webhooks::count(db, company_id).await? >= settings.max_per_company as u64 {
        return Err(AppError::bad_input(
            "url",
            format!(
                "a company has at most {} webhooks: delete one first",
                settings.max_per_company
            ),
        ));
    }
    let salt = signing::new_salt();
    let head = events::head(db).await?;
    let created = webhooks::insert(
        db,
        NewWebhook {
            company_id,
            created_by: viewer.user_id,
            url: url.as_str(),
            kinds,
            secret_salt: &salt,
            head,
        },
        now,
    )
    .await?;
    Ok(CreatedWebhook {
        secret: deliverer.key().secret(&salt),
        webhook: created,
    })
}
