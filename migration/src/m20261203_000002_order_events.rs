//! Order events: every fact that changed what a customer sees, in commit order; and the
//! change mail: each user's choice, and each order's last digest.
use sea_orm_migration::{prelude::*, schema::*};

use crate::shape::{create, drop, foreign_key, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(manager, tables(), indexes()).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(boolean_null(Users::MailOnChange))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::MailOnChange)
                    .to_owned(),
            )
            .await?;
        drop(manager, tables()).await
    }
}

fn tables() -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table(OrderEvents::Table)
            .col(big_pk_auto(OrderEvents::Id))
            .col(big_integer(OrderEvents::OrderId))
            .col(big_integer(OrderEvents::CompanyId))
            .col(big_integer_null(OrderEvents::OrderLineId))
            .col(string_len(OrderEvents::Kind, 20))
            .col(timestamp_with_time_zone(OrderEvents::OccurredAt))
            .col(boolean(OrderEvents::CustomerVisible))
            .foreign_key(&mut foreign_key(
                (OrderEvents::Table, OrderEvents::OrderId),
                (Orders::Table, Orders::Id),
            ))
            .foreign_key(&mut foreign_key(
                (OrderEvents::Table, OrderEvents::CompanyId),
                (Companies::Table, Companies::Id),
            ))
            .foreign_key(&mut foreign_key(
                (OrderEvents::Table, OrderEvents::OrderLineId),
                (OrderLines::Table, OrderLines::Id),
            ))
            .to_owned(),
        Table::create()
            .table(OrderDigests::Table)
            .col(big_integer(OrderDigests::OrderId).primary_key())
            .col(big_integer(OrderDigests::DigestedThrough))
            .col(timestamp_with_time_zone_null(OrderDigests::SentAt))
            .foreign_key(&mut foreign_key(
                (OrderDigests::Table, OrderDigests::OrderId),
                (Orders::Table, Orders::Id),
            ))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        // A customer's feed: its events in order.
        index(
            "idx_order_events_company",
            OrderEvents::Table,
            vec![
                OrderEvents::CompanyId.into_iden(),
                OrderEvents::Id.into_iden(),
            ],
        ),
        // One order's subscription.
        index(
            "idx_order_events_order",
            OrderEvents::Table,
            vec![
                OrderEvents::OrderId.into_iden(),
                OrderEvents::Id.into_iden(),
            ],
        ),
        // What the change digest looks at: the latest events.
        index(
            "idx_order_events_occurred",
            OrderEvents::Table,
            vec![OrderEvents::OccurredAt.into_iden()],
        ),
        index(
            "idx_order_events_line",
            OrderEvents::Table,
            vec![OrderEvents::OrderLineId.into_iden()],
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
    MailOnChange,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    Id,
}

/// Per order: how far its events were considered for the change mail, and when it was last
/// sent, so that customers get at most one digest per order an hour.
#[derive(DeriveIden)]
enum OrderDigests {
    Table,
    OrderId,
    DigestedThrough,
    SentAt,
}

#[derive(DeriveIden)]
enum OrderEvents {
    Table,
    Id,
    OrderId,
    CompanyId,
    OrderLineId,
    Kind,
    OccurredAt,
    CustomerVisible,
}
