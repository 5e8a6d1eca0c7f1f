//! Failed sign-ins counted in the database, so that every instance of the service counts
//! (and refuses) together. A row per e-mail address or client address; rows whose window and
//! refusal are over no longer count and are deleted now and then.
use sea_orm_migration::{prelude::*, schema::*};

use crate::shape::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BY_SINCE: &str = "idx_login_failures_since";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(string(LoginFailures::Key).primary_key())
                    .col(integer(LoginFailures::Failures))
                    .col(timestamp_with_time_zone(LoginFailures::Since))
                    .col(timestamp_with_time_zone_null(LoginFailures::RefusedUntil))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    BY_SINCE,
                    LoginFailures::Table,
                    vec![LoginFailures::Since.into_iden()],
                )
                .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginFailures::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Key,
    Failures,
    Since,
    RefusedUntil,
}
