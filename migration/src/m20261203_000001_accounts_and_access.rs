//! Accounts and access: activation links, API tokens, support requests, and the mail outbox
//! that carries what they send.
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
            .table(ActivationTokens::Table)
            .col(big_pk_auto(ActivationTokens::Id))
            .col(big_integer(ActivationTokens::UserId))
            .col(string_uniq(ActivationTokens::TokenHash))
            .col(timestamp_with_time_zone(ActivationTokens::CreatedAt))
            .col(timestamp_with_time_zone(ActivationTokens::ExpiresAt))
            .col(timestamp_with_time_zone_null(ActivationTokens::UsedAt))
            .foreign_key(&mut foreign_key(
                (ActivationTokens::Table, ActivationTokens::UserId),
                (Users::Table, Users::Id),
            ))
            .to_owned(),
        Table::create()
            .table(ApiTokens::Table)
            .col(big_pk_auto(ApiTokens::Id))
            .col(big_integer(ApiTokens::UserId))
            .col(big_integer_null(ApiTokens::CompanyId))
            .col(string(ApiTokens::Name))
            .col(string_uniq(ApiTokens::TokenHash))
            .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
            .col(timestamp_with_time_zone_null(ApiTokens::ExpiresAt))
            .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
            .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
            .foreign_key(&mut foreign_key(
                (ApiTokens::Table, ApiTokens::UserId),
                (Users::Table, Users::Id),
            ))
            .foreign_key(&mut foreign_key(
                (ApiTokens::Table, ApiTokens::CompanyId),
                (Companies::Table, Companies::Id),
            ))
            .to_owned(),
        Table::create()
            .table(SupportRequests::Table)
            .col(big_pk_auto(SupportRequests::Id))
            .col(big_integer(SupportRequests::CompanyId))
            .col(big_integer(SupportRequests::UserId))
            .col(string(SupportRequests::Subject))
            .col(text(SupportRequests::Message))
            .col(string_null(SupportRequests::PreferredTimes))
            .col(timestamp_with_time_zone(SupportRequests::CreatedAt))
            .foreign_key(&mut foreign_key(
                (SupportRequests::Table, SupportRequests::CompanyId),
                (Companies::Table, Companies::Id),
            ))
            .foreign_key(&mut foreign_key(
                (SupportRequests::Table, SupportRequests::UserId),
                (Users::Table, Users::Id),
            ))
            .to_owned(),
        Table::create()
            .table(MailOutbox::Table)
            .col(big_pk_auto(MailOutbox::Id))
            .col(string(MailOutbox::Recipient))
            .col(string(MailOutbox::Subject))
            .col(text(MailOutbox::Body))
            .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
            .col(integer(MailOutbox::Attempts).default(0))
            .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
            .col(timestamp_with_time_zone_null(MailOutbox::ClaimedUntil))
            .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
            .col(text_null(MailOutbox::LastError))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index(
            "idx_activation_tokens_user",
            ActivationTokens::Table,
            vec![ActivationTokens::UserId.into_iden()],
        ),
        index(
            "idx_api_tokens_user",
            ApiTokens::Table,
            vec![ApiTokens::UserId.into_iden()],
        ),
        index(
            "idx_api_tokens_company_created",
            ApiTokens::Table,
            vec![
                ApiTokens::CompanyId.into_iden(),
                ApiTokens::CreatedAt.into_iden(),
            ],
        ),
        index(
            "idx_support_requests_company",
            SupportRequests::Table,
            vec![SupportRequests::CompanyId.into_iden()],
        ),
        index(
            "idx_support_requests_user",
            SupportRequests::Table,
            vec![SupportRequests::UserId.into_iden()],
        ),
        index(
            "idx_support_requests_created",
            SupportRequests::Table,
            vec![SupportRequests::CreatedAt.into_iden()],
        ),
        // The dispatcher's question: what is unsent and due?
        index(
            "idx_mail_outbox_due",
            MailOutbox::Table,
            vec![
                MailOutbox::SentAt.into_iden(),
                MailOutbox::NextAttemptAt.into_iden(),
            ],
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
enum ActivationTokens {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    CompanyId,
    Name,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum SupportRequests {
    Table,
    Id,
    CompanyId,
    UserId,
    Subject,
    Message,
    PreferredTimes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    Recipient,
    Subject,
    Body,
    CreatedAt,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    SentAt,
    LastError,
}
