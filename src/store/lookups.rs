//! Single rows by id or business key, each checked against the caller's scope: what `node`,
//! `serialNumber` and the mutations start from. Not visible and not existing look the same.

use entities::{
    company, invoice, order, order_line, product, serial_number, shipment, shipment_line, user,
    vendor,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationTrait,
};

use super::{Scope, orders::visible};
use crate::error::AppResult;

/// An order line whose order the scope sees.
pub async fn order_line(
    db: &impl ConnectionTrait,
    scope: Scope,
    id: i64,
) -> AppResult<Option<order_line::Model>> {
    Ok(order_line::Entity::find_by_id(id)
        .join(JoinType::InnerJoin, order_line::Relation::Order.def())
        .filter(visible(scope))
        .one(db)
        .await?)
}

/// A shipment whose order the scope sees.
pub async fn shipment(
    db: &impl ConnectionTrait,
    scope: Scope,
    id: i64,
) -> AppResult<Option<shipment::Model>> {
    Ok(shipment::Entity::find_by_id(id)
        .join(JoinType::InnerJoin, shipment::Relation::Order.def())
        .filter(visible(scope))
        .one(db)
        .await?)
}

/// An invoice whose order the scope sees.
pub async fn invoice(
    db: &impl ConnectionTrait,
    scope: Scope,
    id: i64,
) -> AppResult<Option<invoice::Model>> {
    Ok(invoice::Entity::find_by_id(id)
        .join(JoinType::InnerJoin, invoice::Relation::Order.def())
        .filter(visible(scope))
        .one(db)
        .await?)
}

/// A serial number whose order the scope sees, with the shipment line that carried it.
pub async fn serial(
    db: &impl ConnectionTrait,
    scope: Scope,
    serial: &str,
) -> AppResult<Option<(serial_number::Model, shipment_line::Model)>> {
    let found = serial_number::Entity::find()
        .filter(serial_number::Column::Serial.eq(serial.trim()))
        .find_also_related(shipment_line::Entity)
        .join(JoinType::InnerJoin, shipment_line::Relation::Shipment.def())
        .join(JoinType::InnerJoin, shipment::Relation::Order.def())
        .filter(visible(scope))
        .one(db)
        .await?;
    Ok(found.and_then(|(serial, line)| Some((serial, line?))))
}

/// A company, if it is the scope's own (or the scope is the back office's).
pub async fn company(
    db: &impl ConnectionTrait,
    scope: Scope,
    id: i64,
) -> AppResult<Option<company::Model>> {
    let allowed = match scope {
        Scope::Everything => true,
        Scope::Company(own) => own == id,
        Scope::Nothing => false,
    };
    if !allowed {
        return Ok(None);
    }
    Ok(company::Entity::find_by_id(id).one(db).await?)
}

/// A user of the scope's company (any user for the back office).
pub async fn user(
    db: &impl ConnectionTrait,
    scope: Scope,
    id: i64,
) -> AppResult<Option<user::Model>> {
    let found = user::Entity::find_by_id(id).one(db).await?;
    Ok(found.filter(|user| match scope {
        Scope::Everything => true,
        Scope::Company(own) => user.company_id == Some(own),
        Scope::Nothing => false,
    }))
}

/// A product of the catalogue, which every signed-in user may read.
pub async fn product(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<product::Model>> {
    Ok(product::Entity::find_by_id(id).one(db).await?)
}

/// A vendor, which every signed-in user may read.
pub async fn vendor(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<vendor::Model>> {
    Ok(vendor::Entity::find_by_id(id).one(db).await?)
}

/// An order by id, if the scope sees it.
pub async fn order(
    db: &impl ConnectionTrait,
    scope: Scope,
    id: i64,
) -> AppResult<Option<order::Model>> {
    super::orders::by_id(db, scope, id).await
}
