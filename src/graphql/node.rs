//! The Relay `Node` interface: any object by its global ID, within the caller's scope.

use async_graphql::{ID, Interface};

use super::{
    account::{Company, User},
    api_token::ApiToken,
    catalogue::{Product, Vendor},
    ids::{self, NodeKind},
    invoice::Invoice,
    order::Order,
    order_line::OrderLine,
    shipment::Shipment,
    support::SupportRequest,
    webhook::Webhook,
};
use crate::{
    auth::{Action, Viewer, permits},
    loaders::PortalLoader,
    store::{self, lookups},
};
use sea_orm::DatabaseConnection;

/// An object with a global ID.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "Opaque and stable: keep it to fetch the object again with `node(id:)`."
))]
pub enum Node {
    Order(Order),
    OrderLine(OrderLine),
    Shipment(Shipment),
    Invoice(Invoice),
    Product(Product),
    Vendor(Vendor),
    Company(Company),
    User(User),
    ApiToken(ApiToken),
    SupportRequest(SupportRequest),
    Webhook(Webhook),
}

impl Node {
    /// The object behind `id`, or `None` when it does not exist or the viewer may not see it.
    pub async fn fetch(
        db: &DatabaseConnection,
        loader: &PortalLoader,
        viewer: &Viewer,
        id: &ID,
    ) -> async_graphql::Result<Option<Self>> {
        let scope = viewer.scope();
        let (kind, key) = ids::decode(id, "id")?;
        Ok(match kind {
            NodeKind::Order => lookups::order(db, scope, key)
                .await?
                .map(|row| Self::Order(Order(row))),
            NodeKind::OrderLine => match lookups::order_line(db, scope, key).await? {
                Some(row) => OrderLine::load(loader, Some(row.order_id), row.id)
                    .await?
                    .map(Self::OrderLine),
                None => None,
            },
            NodeKind::Shipment => lookups::shipment(db, scope, key)
                .await?
                .map(|row| Self::Shipment(Shipment(row))),
            NodeKind::Invoice => lookups::invoice(db, scope, key)
                .await?
                .map(|row| Self::Invoice(Invoice(row))),
            NodeKind::Product => lookups::product(db, key)
                .await?
                .map(|row| Self::Product(Product(row))),
            NodeKind::Vendor => lookups::vendor(db, key)
                .await?
                .map(|row| Self::Vendor(Vendor(row))),
            NodeKind::Company => lookups::company(db, scope, key)
                .await?
                .map(|row| Self::Company(Company(row))),
            NodeKind::User => lookups::user(db, scope, key)
                .await?
                .map(|row| Self::User(User(row))),
            NodeKind::ApiToken if permits(viewer.role, Action::ManageApiTokens) => {
                store::api_tokens::by_id(db, scope, key)
                    .await?
                    .map(|row| Self::ApiToken(ApiToken(row)))
            }
            NodeKind::ApiToken => None,
            NodeKind::SupportRequest => store::support::by_id(db, scope, key)
                .await?
                .map(|row| Self::SupportRequest(SupportRequest(row))),
            NodeKind::Webhook if permits(viewer.role, Action::ManageWebhooks) => {
                store::webhooks::by_id(db, scope, key)
                    .await?
                    .map(|row| Self::Webhook(Webhook(row)))
            }
            NodeKind::Webhook => None,
        })
    }
}
