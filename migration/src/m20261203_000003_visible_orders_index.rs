//! A company's visible orders from one index: the order count, the summary's counts by status
//! and its join to the lines read the index alone (an index-only scan), where the narrower
//! (company, status) index made PostgreSQL visit a heap page per order, or at 100,000 orders
//! scan the whole table in parallel instead.
use sea_orm_migration::prelude::*;

use crate::shape::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NARROW: &str = "idx_orders_company_status";
const VISIBLE: &str = "idx_orders_company_visible";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                VISIBLE,
                Orders::Table,
                vec![
                    Orders::CompanyId.into_iden(),
                    Orders::Status.into_iden(),
                    Orders::ConfirmedAt.into_iden(),
                    Orders::CancelledAt.into_iden(),
                    Orders::Id.into_iden(),
                ],
            ))
            .await?;
        manager
            .drop_index(Index::drop().name(NARROW).table(Orders::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                NARROW,
                Orders::Table,
                vec![Orders::CompanyId.into_iden(), Orders::Status.into_iden()],
            ))
            .await?;
        manager
            .drop_index(Index::drop().name(VISIBLE).table(Orders::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    CompanyId,
    Status,
    ConfirmedAt,
    CancelledAt,
}
