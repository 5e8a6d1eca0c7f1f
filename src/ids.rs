//! What clients hold on to and hand back: Relay global IDs (the type name and the row id,
//! base64-encoded) and positions in the order-event feed. The GraphQL API and the webhook
//! payloads both speak them.

use async_graphql::ID;
use base64::{Engine, engine::general_purpose::STANDARD};

use crate::error::{AppError, AppResult};

/// The types that can be fetched through `node(id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Order,
    OrderLine,
    Shipment,
    Invoice,
    Product,
    Vendor,
    Company,
    User,
    ApiToken,
    SupportRequest,
    Webhook,
}

impl NodeKind {
    const ALL: [Self; 11] = [
        Self::Order,
        Self::OrderLine,
        Self::Shipment,
        Self::Invoice,
        Self::Product,
        Self::Vendor,
        Self::Company,
        Self::User,
        Self::ApiToken,
        Self::SupportRequest,
        Self::Webhook,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Order => "Order",
            Self::OrderLine => "OrderLine",
            Self::Shipment => "Shipment",
            Self::Invoice => "Invoice",
            Self::Product => "Product",
            Self::Vendor => "Vendor",
            Self::Company => "Company",
            Self::User => "User",
            Self::ApiToken => "ApiToken",
            Self::SupportRequest => "SupportRequest",
            Self::Webhook => "Webhook",
        }
    }
}

/// A position in the feed as clients see it: the event's position, zero-padded so that
/// cursors also sort as text.
pub fn cursor_of(position: i64) -> String {
    format!("{position:020}")
}

/// The global ID of row `id` of `kind`.
pub fn encode(kind: NodeKind, id: i64) -> ID {
    ID(STANDARD.encode(format!("{}:{id}", kind.name())))
}

/// Reads a global ID; `argument` names it in the error.
pub fn decode(id: &ID, argument: &str) -> AppResult<(NodeKind, i64)> {
    let invalid = || {
        AppError::bad_input(
            argument,
            format!("{:?} is not an ID of this API", id.as_str()),
        )
    };
    let text = STANDARD
        .decode(id.as_bytes())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(invalid)?;
    let (name, key) = text.split_once(':').ok_or_else(invalid)?;
    let kind = NodeKind::ALL
        .into_iter()
        .find(|kind| kind.name() == name)
        .ok_or_else(invalid)?;
    let key = key.parse().map_err(|_| invalid())?;
    Ok((kind, key))
}

/// Reads a global ID that must be of `kind`.
pub fn decode_as(id: &ID, kind: NodeKind, argument: &str) -> AppResult<i64> {
    match decode(id, argument)? {
        (found, key) if found == kind => Ok(key),
        _ => Err(AppError::bad_input(
            argument,
            format!("{:?} is not the ID of a {}", id.as_str(), kind.name()),
        )),
    }
}
