//! The query root: thin fields that check who asks and call the data layer.

use async_graphql::{Context, ID, MergedObject, Object, Result};

use super::{
    ContextExt,
    account::{Company, User},
    api_token::ApiTokenQuery,
    event::EventQuery,
    node::Node,
    order::{Order, OrderConnection, OrderFilter, OrderSort, OrderSummary, SortDirection},
    promised,
    shipment::SerialNumber,
    support::SupportQuery,
    webhook::WebhookQuery,
};
use crate::{
    auth::Action,
    config::Limits,
    domain::business_days::latest_overdue_order_date,
    error::{AppError, AppResult},
    loaders::OrderById,
    store::{
        self,
        orders::{Cursor, Sort, Window},
    },
};

/// Reads Relay paging arguments; sizes beyond the limit are refused, not silently cut.
fn window(
    limits: &Limits,
    sort: Sort,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> AppResult<Window> {
    let size = |argument: &str, value: i32| -> AppResult<u64> {
        if value < 0 || value as u32 > limits.max_page_size {
            return Err(AppError::bad_input(
                argument,
                format!(
                    "`{argument}` must be between 0 and {}",
                    limits.max_page_size
                ),
            ));
        }
        Ok(value as u64)
    };
    let (size, from_end) = match (first, last) {
        (Some(_), Some(_)) => {
            return Err(AppError::bad_input(
                "last",
                "give `first` or `last`, not both",
            ));
        }
        (Some(first), None) => (size("first", first)?, false),
        (None, Some(last)) => (size("last", last)?, true),
        (None, None) => (u64::from(limits.default_page_size), false),
    };
    Ok(Window {
        size,
        from_end,
        after: after
            .map(|cursor| Cursor::decode(&cursor, sort.field, "after"))
            .transpose()?,
        before: before
            .map(|cursor| Cursor::decode(&cursor, sort.field, "before"))
            .transpose()?,
    })
}

/// Every read of the API, merged from one object per area so that each area stays in its file.
#[derive(MergedObject, Default)]
pub struct Query(
    OrderQuery,
    EventQuery,
    ApiTokenQuery,
    SupportQuery,
    WebhookQuery,
);

/// Orders, their search and summary, and what the back office watches.
#[derive(Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    /// Any object by its global ID; null when it does not exist or is not yours to see.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `id` of any object, as the API gave it.")] id: ID,
    ) -> Result<Option<Node>> {
        let viewer = ctx.viewer()?;
        Node::fetch(&ctx.services()?.db, &*ctx.loader()?, viewer, &id).await
    }

    /// The signed-in user; UNAUTHENTICATED without a valid token.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let viewer = ctx.viewer()?;
        let user = store::accounts::user_by_id(&ctx.services()?.db, viewer.user_id).await?;
        Ok(User(promised(user, "user", viewer.user_id)?))
    }

    /// Your orders (every company's for the back office), newest order date first unless
    /// sorted otherwise. Pages hold 20 orders unless `first` or `last` asks for up to 100.
    /// Customers see only approved orders (never `PENDING_APPROVAL`).
    async fn orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Orders from the start (or from `after`): 0 to 100, 20 when neither \
                          `first` nor `last` is given; more is BAD_USER_INPUT."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "The orders after this cursor (`pageInfo.endCursor` of the page \
                          before); cursors are valid only with the same sort field."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Orders from the end (or up to `before`): 0 to 100; not together \
                          with `first`."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "The orders before this cursor (`pageInfo.startCursor` of the page \
                          after)."
        )]
        before: Option<String>,
        #[graphql(desc = "Which orders; null: all you may see.")] filter: Option<OrderFilter>,
        #[graphql(desc = "Null: newest order date first.")] sort: Option<OrderSort>,
    ) -> Result<OrderConnection> {
        let viewer = ctx.viewer()?;
        let services = ctx.services()?;
        let sort = sort.map_or_else(Sort::default, |sort| Sort {
            field: sort.field.into(),
            descending: sort.direction == SortDirection::Desc,
        });
        let window = window(&services.limits, sort, first, after, last, before)?;
        let filter = OrderFilter::parse(filter, viewer)?;
        let scope = viewer.scope();
        let page = store::orders::page(&services.db, scope, &filter, sort, &window).await?;
        ctx.loader()?
            .feed_many(page.rows.iter().map(|row| (OrderById(row.id), row.clone())))
            .await;
        Ok(OrderConnection {
            page,
            sort,
            scope,
            filter,
        })
    }

    /// One of your orders by its number; null when there is none you may see.
    async fn order(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The distributor's order number (`SO-…`), exactly; surrounding \
                          spaces are ignored."
        )]
        order_number: String,
    ) -> Result<Option<Order>> {
        let viewer = ctx.viewer()?;
        let order =
            store::orders::by_number(&ctx.services()?.db, viewer.scope(), order_number.trim())
                .await?;
        Ok(order.map(Order))
    }

    /// Where did this serial go: its order, line and shipment. Null when no shipment of an
    /// order you may see carried it.
    async fn serial_number(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The serial number exactly as on the device (case matters); \
                          surrounding spaces are ignored.")]
        serial: String,
    ) -> Result<Option<SerialNumber>> {
        let viewer = ctx.viewer()?;
        let found = store::lookups::serial(&ctx.services()?.db, viewer.scope(), &serial).await?;
        Ok(found.map(|(serial, line)| SerialNumber::new(serial, line, None)))
    }

    /// Figures for a dashboard over the orders the filter selects.
    async fn order_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The same filter as `orders`; null: all orders you may see.")]
        filter: Option<OrderFilter>,
    ) -> Result<OrderSummary> {
        let viewer = ctx.viewer()?;
        let services = ctx.services()?;
        let filter = OrderFilter::parse(filter, viewer)?;
        let summary = store::orders::summary(
            &services.db,
            viewer.scope(),
            &filter,
            services.clock.today(),
        )
        .await?;
        Ok(summary.into())
    }

    /// Back office only: orders not yet visible to their customer more than 3 business days
    /// after their order date, oldest first; cancelled orders are not listed.
    async fn overdue_approvals(&self, ctx: &Context<'_>) -> Result<Vec<Order>> {
        ctx.viewer()?.require(Action::BackOffice)?;
        let services = ctx.services()?;
        let ordered_by = latest_overdue_order_date(services.clock.today());
        let orders = store::orders::awaiting_approval_since(&services.db, ordered_by).await?;
        Ok(orders.into_iter().map(Order).collect())
    }

    /// Back office only: every customer company, by name.
    async fn companies(&self, ctx: &Context<'_>) -> Result<Vec<Company>> {
        ctx.viewer()?.require(Action::BackOffice)?;
        let companies = store::accounts::companies(&ctx.services()?.db).await?;
        Ok(companies.into_iter().map(Company).collect())
    }
}
