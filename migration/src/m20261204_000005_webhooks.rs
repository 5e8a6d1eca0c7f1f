//! Webhooks: a company's endpoints that receive its order events, and every attempt to deliver
//! one. Each endpoint keeps its own position in the event feed, so that it gets the events in
//! order, each until a 2xx answer.
use sea_orm_migration::{prelude::*, schema::*};

use crate::shape::{create, drop, foreign_key, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(manager, tables(), indexes()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, tables()).await
    }
}

fn tables() -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table(Webhooks::Table)
            .col(big_pk_auto(Webhooks::Id))
            .col(big_integer(Webhooks::CompanyId))
            .col(big_integer(Webhooks::CreatedBy))
            .col(string_len(Webhooks::Url, 2048))
            .col(string_len_null(Webhooks::Kinds, 200))
            .col(string_len(Webhooks::SecretSalt, 64))
            .col(timestamp_with_time_zone(Webhooks::CreatedAt))
            .col(big_integer(Webhooks::DeliveredThrough))
            .col(integer(Webhooks::Attempts))
            .col(timestamp_with_time_zone_null(Webhooks::FailingSince))
            .col(timestamp_with_time_zone(Webhooks::NextAttemptAt))
            .col(timestamp_with_time_zone_null(Webhooks::ClaimedUntil))
            .col(timestamp_with_time_zone_null(Webhooks::DisabledAt))
            .foreign_key(&mut foreign_key(
                (Webhooks::Table, Webhooks::CompanyId),
                (Companies::Table, Companies::Id),
            ))
            .foreign_key(&mut foreign_key(
                (Webhooks::Table, Webhooks::CreatedBy),
                (Users::Table, Users::Id),
            ))
            .to_owned(),
        Table::create()
            .table(WebhookDeliveries::Table)
            .col(big_pk_auto(WebhookDeliveries::Id))
            .col(big_integer(WebhookDeliveries::WebhookId))
            .col(big_integer(WebhookDeliveries::EventId))
            .col(integer(WebhookDeliveries::Attempt))
            .col(integer_null(WebhookDeliveries::HttpStatus))
            .col(string_len_null(WebhookDeliveries::Error, 500))
            .col(timestamp_with_time_zone(WebhookDeliveries::StartedAt))
            .col(timestamp_with_time_zone(WebhookDeliveries::FinishedAt))
            .col(timestamp_with_time_zone_null(
                WebhookDeliveries::NextAttemptAt,
            ))
            .foreign_key(&mut foreign_key(
                (WebhookDeliveries::Table, WebhookDeliveries::WebhookId),
                (Webhooks::Table, Webhooks::Id),
            ))
            .foreign_key(&mut foreign_key(
                (WebhookDeliveries::Table, WebhookDeliveries::EventId),
                (OrderEvents::Table, OrderEvents::Id),
            ))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index(
            "idx_webhooks_company",
            Webhooks::Table,
            vec![Webhooks::CompanyId.into_iden()],
        ),
        // What the deliverer claims: endpoints whose next attempt is due.
        index(
            "idx_webhooks_due",
            Webhooks::Table,
            vec![Webhooks::NextAttemptAt.into_iden()],
        ),
        // An endpoint's attempts, newest first.
        index(
            "idx_webhook_deliveries_webhook",
            WebhookDeliveries::Table,
            vec![
                WebhookDeliveries::WebhookId.into_iden(),
                WebhookDeliveries::Id.into_iden(),
            ],
        ),
        index(
            "idx_webhook_deliveries_event",
            WebhookDeliveries::Table,
            vec![WebhookDeliveries::EventId.into_iden()],
        ),
    ]
}

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OrderEvents {
    Table,
    Id,
}

/// An endpoint: where its company's events go, which kinds, the secret that signs them
/// (sealed with the service's key), and how far delivery has got.
#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    CompanyId,
    CreatedBy,
    Url,
    Kinds,
    SecretSalt,
    CreatedAt,
    DeliveredThrough,
    Attempts,
    FailingSince,
    NextAttemptAt,
    ClaimedUntil,
    DisabledAt,
}

/// One attempt to deliver one event to one endpoint.
#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    WebhookId,
    EventId,
    Attempt,
    HttpStatus,
    Error,
    StartedAt,
    FinishedAt,
    NextAttemptAt,
}
