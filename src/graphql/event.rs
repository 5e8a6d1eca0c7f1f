//! Order events: the change feed a dashboard replays from its last cursor, and the live
//! subscription that continues it without a gap or a duplicate.

use std::{
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_graphql::{Context, Enum, Object, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use entities::order_event;
use futures_util::{Stream, stream};
use tokio::sync::{broadcast, mpsc, watch};

use super::{
    ContextExt, Services, ids::cursor_of, order::Order, order::PageInfo, order_line::OrderLine,
    promised,
};
use crate::{
    auth::Lapse,
    error::{AppError, AppResult},
    loaders::{OrderById, StreamLoader},
    store::{
        self,
        events::{EventKind, Feed},
    },
};

/// What happened to an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum OrderEventKind {
    /// The order's status changed (see `order.status`); also when the back office approves
    /// it and it becomes visible.
    StatusChanged,
    /// A line's ETA changed (see `orderLine.etaHistory`).
    EtaChanged,
    /// Units left the warehouse on a shipment, or were delivered by e-mail.
    Shipped,
    /// A shipment reached the customer.
    Delivered,
    /// An invoice was recorded.
    Invoiced,
}

impl From<EventKind> for OrderEventKind {
    fn from(kind: EventKind) -> Self {
        match kind {
            EventKind::StatusChanged => Self::StatusChanged,
            EventKind::EtaChanged => Self::EtaChanged,
            EventKind::Shipped => Self::Shipped,
            EventKind::Delivered => Self::Delivered,
            EventKind::Invoiced => Self::Invoiced,
        }
    }
}

impl From<OrderEventKind> for EventKind {
    fn from(kind: OrderEventKind) -> Self {
        match kind {
            OrderEventKind::StatusChanged => Self::StatusChanged,
            OrderEventKind::EtaChanged => Self::EtaChanged,
            OrderEventKind::Shipped => Self::Shipped,
            OrderEventKind::Delivered => Self::Delivered,
            OrderEventKind::Invoiced => Self::Invoiced,
        }
    }
}

fn position_of(cursor: &str, argument: &str) -> AppResult<i64> {
    cursor
        .parse::<i64>()
        .ok()
        .filter(|position| *position >= 0 && cursor.len() == 20)
        .ok_or_else(|| {
            AppError::bad_input(
                argument,
                format!("{cursor:?} is not a cursor of orderEvents"),
            )
        })
}

/// One fact that changed an order, as the change feed and the subscription deliver it.
pub struct OrderEvent(pub order_event::Model);

/// One fact that changed an order, as the change feed and the subscription deliver it.
#[Object]
impl OrderEvent {
    /// Stable and increasing: a client resumes its feed after the last cursor it saw.
    async fn cursor(&self) -> String {
        cursor_of(self.0.id)
    }

    /// What happened.
    async fn kind(&self) -> Result<OrderEventKind> {
        EventKind::parse(&self.0.kind)
            .map(Into::into)
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "event {} has kind {:?}",
                    self.0.id,
                    self.0.kind
                ))
                .into()
            })
    }

    /// The order as it is now (its status, ETA range and lines), not as it was then.
    async fn order(&self, ctx: &Context<'_>) -> Result<Order> {
        let order = ctx.loader()?.load_one(OrderById(self.0.order_id)).await?;
        Ok(Order(promised(order, "order", self.0.order_id)?))
    }

    /// The line concerned, where one is.
    async fn order_line(&self, ctx: &Context<'_>) -> Result<Option<OrderLine>> {
        let Some(line_id) = self.0.order_line_id else {
            return Ok(None);
        };
        let line = OrderLine::load(&*ctx.loader()?, Some(self.0.order_id), line_id).await?;
        Ok(Some(promised(line, "order line", line_id)?))
    }

    /// When the service recorded it.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
}

/// An event and its position.
#[derive(SimpleObject)]
pub struct OrderEventEdge {
    /// The event's position in the feed, the same as `node.cursor`.
    pub cursor: String,
    /// The event.
    pub node: OrderEvent,
}

/// A page of the feed, oldest first.
pub struct OrderEventConnection {
    events: Vec<order_event::Model>,
    has_next: bool,
    has_previous: bool,
}

/// A page of the change feed, oldest first.
#[Object]
impl OrderEventConnection {
    /// The page's events with their cursors.
    async fn edges(&self) -> Vec<OrderEventEdge> {
        self.events
            .iter()
            .map(|event| OrderEventEdge {
                cursor: cursor_of(event.id),
                node: OrderEvent(event.clone()),
            })
            .collect()
    }

    /// The page's events.
    async fn nodes(&self) -> Vec<OrderEvent> {
        self.events.iter().cloned().map(OrderEvent).collect()
    }

    /// `endCursor` is what to pass as `after` next time; it is null on an empty page, so
    /// keep the cursor you had then. `hasNextPage`: more events are already waiting.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next,
            has_previous_page: self.has_previous,
            start_cursor: self.events.first().map(|event| cursor_of(event.id)),
            end_cursor: self.events.last().map(|event| cursor_of(event.id)),
        }
    }
}

/// The change feed.
#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// The change feed of the caller's visible orders, oldest first: what a dashboard replays
    /// to stay in sync. Pages hold 20 events unless `first` asks for up to 100.
    async fn order_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Events per page: 0 to 100, 20 when not given; more is \
                          BAD_USER_INPUT.")]
        first: Option<i32>,
        #[graphql(
            desc = "The last cursor you processed (`pageInfo.endCursor`); null: from \
                          the first event."
        )]
        after: Option<String>,
    ) -> Result<OrderEventConnection> {
        let viewer = ctx.viewer()?;
        let services = ctx.services()?;
        let limits = &services.limits;
        let size = match first {
            None => u64::from(limits.default_page_size),
            Some(first) if first >= 0 && first as u32 <= limits.max_page_size => first as u64,
            Some(_) => {
                return Err(AppError::bad_input(
                    "first",
                    format!("`first` must be between 0 and {}", limits.max_page_size),
                )
                .into());
            }
        };
        let after = after
            .as_deref()
            .map(|cursor| position_of(cursor, "after"))
            .transpose()?;
        let feed = Feed {
            scope: viewer.scope(),
            order_id: None,
        };
        let mut events =
            store::events::after(&services.db, feed, after.unwrap_or(0), size + 1).await?;
        let has_next = events.len() as u64 > size;
        events.truncate(size as usize);
        Ok(OrderEventConnection {
            events,
            has_next,
            has_previous: after.is_some_and(|position| position > 0),
        })
    }
}

/// The subscriptions one WebSocket connection holds, against its cap.
#[derive(Clone, Default)]
pub struct SubscriptionSlots(Arc<AtomicUsize>);

/// A taken subscription slot, given back when the subscription ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl SubscriptionSlots {
    fn take(&self, cap: usize) -> Option<Slot> {
        if self.0.fetch_add(1, Ordering::SeqCst) >= cap {
            self.0.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Slot(self.0.clone()))
    }
}

/// Tells a connection's subscriptions that its credential has lapsed: they end with the
/// reason.
#[derive(Clone)]
pub struct CredentialLapse(pub tokio::sync::watch::Receiver<Option<Lapse>>);

/// Events read from the database per statement while catching up.
const BACKLOG_PAGE: u64 = 100;
/// Events held between the pump and a slow client.
const HANDOVER: usize = 16;

/// Live events.
#[derive(Default)]
pub struct EventSubscription;

/// Live events over WebSocket at `/graphql/ws` (`graphql-transport-ws`); the token goes in
/// `connection_init` as `{"authorization": "Bearer …"}`.
#[Subscription(name = "Subscription")]
impl EventSubscription {
    /// Events on the caller's visible orders as they happen; one order when `orderNumber` is
    /// given; after a cursor, the missed ones first, then live ones, without a gap or a
    /// duplicate. At most 10 subscriptions per connection.
    async fn order_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this order's events (`SO-…`); null: every visible order.")]
        order_number: Option<String>,
        #[graphql(
            desc = "Resume after this cursor (from the feed or an earlier event); \
                          null: live events only."
        )]
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<OrderEvent>> + use<>> {
        let viewer = ctx.viewer()?;
        let services = ctx.services()?.clone();
        let slot = ctx
            .data::<SubscriptionSlots>()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("subscription slots missing")))?
            .take(services.limits.max_subscriptions_per_connection)
            .ok_or_else(|| {
                AppError::bad_input(
                    "orderEvents",
                    format!(
                        "a connection holds at most {} subscriptions",
                        services.limits.max_subscriptions_per_connection
                    ),
                )
            })?;
        let CredentialLapse(lapse) = ctx
            .data::<CredentialLapse>()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("credential watch missing")))?
            .clone();
        let loader = ctx
            .data::<Arc<StreamLoader>>()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("stream loader missing")))?
            .clone();
        let order_id = match order_number {
            Some(number) => Some(
                store::orders::by_number(&services.db, viewer.scope(), number.trim())
                    .await?
                    .ok_or_else(|| AppError::NotFound(format!("order {number}")))?
                    .id,
            ),
            None => None,
        };
        let feed = Feed {
            scope: viewer.scope(),
            order_id,
        };
        let after = after
            .as_deref()
            .map(|cursor| position_of(cursor, "after"))
            .transpose()?;
        // Subscribe before reading where to start: nothing committed in between is lost.
        let live = services.events.subscribe().await?;
        let start = match after {
            Some(position) => position,
            None => store::events::head(&services.db).await?,
        };
        let (sender, receiver) = mpsc::channel(HANDOVER);
        let verdict = Verdict::default();
        let handover = Handover {
            sender,
            verdict: verdict.clone(),
            patience: services.limits.subscriber_patience,
            delivered: start,
        };
        tokio::spawn(pump(services, feed, live, handover, lapse, slot));
        Ok(stream::unfold(
            (receiver, Some(verdict)),
            move |(mut receiver, verdict)| {
                let loader = loader.clone();
                async move {
                    match receiver.recv().await {
                        Some(event) => {
                            loader.renew();
                            Some((Ok(event), (receiver, verdict)))
                        }
                        // The pump has stopped: say why, if it was not the client leaving.
                        None => verdict?.take().map(|error| (Err(error), (receiver, None))),
                    }
                }
            },
        ))
    }
}

/// Why a subscription's pump stopped, read by the stream once it has handed over the rest.
#[derive(Clone, Default)]
struct Verdict(Arc<Mutex<Option<async_graphql::Error>>>);

impl Verdict {
    fn set(&self, error: async_graphql::Error) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
    }

    fn take(&self) -> Option<async_graphql::Error> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// The pump's end of a subscription.
struct Handover {
    sender: mpsc::Sender<OrderEvent>,
    verdict: Verdict,
    /// How long a client may leave a full handover unread.
    patience: Duration,
    /// The position of the last event handed over.
    delivered: i64,
}

impl Handover {
    /// Hands an event over; false when the subscription is over (client gone or too slow).
    async fn deliver(&mut self, event: order_event::Model) -> bool {
        let id = event.id;
        match tokio::time::timeout(self.patience, self.sender.send(OrderEvent(event))).await {
            Ok(Ok(())) => {
                self.delivered = id;
                true
            }
            Ok(Err(_)) => false,
            Err(_) => {
                self.verdict.set(fell_behind(self.delivered));
                false
            }
        }
    }

    /// Hands over every stored event after the last one delivered; false when over.
    async fn catch_up(&mut self, db: &sea_orm::DatabaseConnection, feed: Feed) -> bool {
        loop {
            let batch = match store::events::after(db, feed, self.delivered, BACKLOG_PAGE).await {
                Ok(batch) => batch,
                Err(error) => {
                    self.verdict.set(error.into());
                    return false;
                }
            };
            let full = batch.len() as u64 == BACKLOG_PAGE;
            for event in batch {
                if !self.deliver(event).await {
                    return false;
                }
            }
            if !full {
                return true;
            }
        }
    }
}

/// Feeds one subscription: the backlog from the database, then the live tail. When the tail
/// outran this pump, the database fills the hole; when the client does not read, it is told.
async fn pump(
    services: Arc<Services>,
    feed: Feed,
    mut live: broadcast::Receiver<Arc<order_event::Model>>,
    mut handover: Handover,
    mut lapse: watch::Receiver<Option<Lapse>>,
    _slot: Slot,
) {
    if !handover.catch_up(&services.db, feed).await {
        return;
    }
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(event) if event.id > handover.delivered && feed.admits(&event) => {
                    if !handover.deliver((*event).clone()).await {
                        return;
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if !handover.catch_up(&services.db, feed).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            // The connection's credential lapsed (or the connection is gone).
            _ = lapse.changed() => {
                if let Some(lapse) = *lapse.borrow() {
                    let error = match lapse {
                        Lapse::Ended(reason) => AppError::Unauthenticated(reason),
                        Lapse::Disabled => AppError::Forbidden("the account has been disabled"),
                    };
                    handover.verdict.set(error.into());
                }
                return;
            }
            () = handover.sender.closed() => return,
        }
    }
}

fn fell_behind(cursor: i64) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    let resume = cursor_of(cursor);
    async_graphql::Error::new(format!(
        "this subscription was not read for too long and was ended: read the rest with orderEvents(after: \"{resume}\") and subscribe again from there"
    ))
    .extend_with(|_, extensions| {
        extensions.set("code", "RATE_LIMITED");
        extensions.set("resumeAfter", resume.clone());
    })
}
