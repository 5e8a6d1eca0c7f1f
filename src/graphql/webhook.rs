//! Webhooks: a reseller's own systems told of its order events.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entities::{webhook, webhook_delivery};

use super::{
    ContextExt,
    event::OrderEventKind,
    ids::cursor_of,
    ids::{NodeKind, decode_as, encode},
    order::PageInfo,
};
use crate::{
    auth::Action,
    error::{AppError, AppResult},
    store::{self, events::EventKind},
    webhooks::endpoints::{self, WebhookRequest},
};

/// An endpoint of a reseller's own systems that receives its order events.
pub struct Webhook(pub webhook::Model);

/// An endpoint of your systems that receives your order events as signed POSTs, in the order
/// of the change feed, each until it answers with a 2xx.
#[Object]
impl Webhook {
    /// Global ID, for `deleteWebhook`.
    pub async fn id(&self) -> ID {
        encode(NodeKind::Webhook, self.0.id)
    }

    /// Where events are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// The kinds of events it receives; null: every kind.
    async fn kinds(&self) -> Option<Vec<OrderEventKind>> {
        self.0.kinds.as_ref().map(|kinds| {
            kinds
                .split(',')
                .filter_map(EventKind::parse)
                .map(Into::into)
                .collect()
        })
    }

    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The cursor of the last event it received (or did not ask for): the next delivery is
    /// the first matching event after it in `orderEvents`.
    async fn delivered_through(&self) -> String {
        cursor_of(self.0.delivered_through)
    }

    /// Since when the next event fails; null while deliveries succeed.
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }

    /// When the failing event is tried again; null while nothing fails or once disabled.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.failing_since.is_some() && self.0.disabled_at.is_none())
            .then_some(self.0.next_attempt_at)
    }

    /// When it was turned off because one event failed for 24 hours (the administrators were
    /// mailed); null while it is on. A disabled webhook sends nothing more: create a new one.
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.0.disabled_at
    }

    /// Delivery attempts, newest first: the failed ones, and the delivered ones of the last 30
    /// days. Pages hold 20 unless `first` asks for up to 100.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Attempts per page: 0 to 100, 20 when not given.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page; null: from the newest.")]
        after: Option<String>,
    ) -> Result<WebhookDeliveryConnection> {
        let services = ctx.services()?;
        let limits = &services.limits;
        let size = match first {
            None => limits.default_page_size,
            Some(first) if first >= 0 && first as u32 <= limits.max_page_size => first as u32,
            Some(_) => {
                return Err(AppError::bad_input(
                    "first",
                    format!("`first` must be between 0 and {}", limits.max_page_size),
                )
                .into());
            }
        };
        let before = after
            .map(|cursor| {
                cursor.parse::<i64>().map_err(|_| {
                    AppError::bad_input("after", format!("{cursor:?} is not a delivery cursor"))
                })
            })
            .transpose()?;
        let mut rows =
            store::webhooks::deliveries(&services.db, self.0.id, before, u64::from(size) + 1)
                .await?;
        let has_next = rows.len() > size as usize;
        rows.truncate(size as usize);
        Ok(WebhookDeliveryConnection {
            rows,
            has_next,
            has_previous: before.is_some(),
        })
    }
}

/// One attempt to deliver one event.
pub struct WebhookDelivery(webhook_delivery::Model);

/// One attempt to deliver one event to a webhook.
#[Object]
impl WebhookDelivery {
    /// The event's cursor in `orderEvents`.
    async fn event_cursor(&self) -> String {
        cursor_of(self.0.event_id)
    }

    /// 1 for the first try of this event, 2 for the first retry, and so on.
    async fn attempt(&self) -> i32 {
        self.0.attempt
    }

    /// The status your endpoint answered; null when it did not answer (refused, timed out,
    /// or its address was not allowed).
    async fn http_status(&self) -> Option<i32> {
        self.0.http_status
    }

    /// Why it failed; null when it succeeded (2xx).
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    /// When the request started.
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }

    /// When the answer came or the attempt gave up.
    async fn finished_at(&self) -> DateTime<Utc> {
        self.0.finished_at
    }

    /// When the event is tried again; null after a success, or when the webhook was disabled.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_attempt_at
    }
}

/// A page of attempts, newest first.
pub struct WebhookDeliveryConnection {
    rows: Vec<webhook_delivery::Model>,
    has_next: bool,
    has_previous: bool,
}

/// A page of a webhook's delivery attempts, newest first.
#[Object]
impl WebhookDeliveryConnection {
    /// The page's attempts.
    async fn nodes(&self) -> Vec<WebhookDelivery> {
        self.rows.iter().cloned().map(WebhookDelivery).collect()
    }

    /// `endCursor` is what to pass as `after` for older attempts.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next,
            has_previous_page: self.has_previous,
            start_cursor: self.rows.first().map(|row| row.id.to_string()),
            end_cursor: self.rows.last().map(|row| row.id.to_string()),
        }
    }
}

/// A webhook just made, with its signing secret: the only time the secret is shown.
pub struct CreatedWebhook(endpoints::CreatedWebhook);

/// A webhook just made, with its signing secret: the only time the secret is shown.
#[Object]
impl CreatedWebhook {
    /// The webhook, as `webhooks` lists it.
    async fn webhook(&self) -> Webhook {
        Webhook(self.0.webhook.clone())
    }

    /// The key (`whsec_…`) of the `Portal-Signature` header's HMAC-SHA256; see the README for
    /// how to check it. Shown once: store it now.
    async fn secret(&self) -> &str {
        &self.0.secret
    }
}

/// Reading webhooks.
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Your company's webhooks, newest first (every company's for the back office);
    /// administrators and their API tokens only.
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<Webhook>> {
        let viewer = ctx.viewer()?;
        viewer.require(Action::ManageWebhooks)?;
        let rows = store::webhooks::list(&ctx.services()?.db, viewer.scope()).await?;
        Ok(rows.into_iter().map(Webhook).collect())
    }
}

/// Making and deleting webhooks.
#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// A webhook that receives the order events of your visible orders from now on; the
    /// signing secret is in the answer only. At most 10 per company.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "An `https://` URL whose host resolves to public addresses only; \
                          BAD_USER_INPUT otherwise."
        )]
        url: String,
        #[graphql(desc = "The kinds of events to receive; null: every kind.")] kinds: Option<
            Vec<OrderEventKind>,
        >,
        #[graphql(
            desc = "Whose events: back office only (required there); customers get \
                          their own company's."
        )]
        company_id: Option<ID>,
    ) -> Result<CreatedWebhook> {
        let viewer = ctx.viewer()?;
        viewer.require_write(Action::ManageWebhooks)?;
        let company_id = company_id
            .map(|id| decode_as(&id, NodeKind::Company, "companyId"))
            .transpose()?;
        let services = ctx.services()?;
        let request = WebhookRequest {
            url: &url,
            kinds: kinds.map(|kinds| kinds.into_iter().map(EventKind::from).collect()),
            company_id,
        };
        let created = endpoints::create(
            &services.db,
            &services.webhooks,
            viewer,
            request,
            services.clock.now(),
        )
        .await?;
        Ok(CreatedWebhook(created))
    }

    /// Deletes a webhook and its attempts; nothing more is sent to it. Returns its ID.
    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `Webhook.id` to delete.")] id: ID,
    ) -> Result<ID> {
        let viewer = ctx.viewer()?;
        viewer.require_write(Action::ManageWebhooks)?;
        let key = decode_as(&id, NodeKind::Webhook, "id")?;
        let deleted: AppResult<bool> =
            store::webhooks::delete(&ctx.services()?.db, viewer.scope(), key).await;
        if deleted? {
            Ok(id)
        } else {
            Err(AppError::NotFound("webhook".into()).into())
        }
    }
}
