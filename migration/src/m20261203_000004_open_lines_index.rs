//! The open lines of an order, with their ETA, in an index of their own: the dashboard
//! summary's line figures and the ETA filter read only open lines, which this index holds
//! alone (a partial index, so shipped and cancelled lines cost nothing in it), and read their
//! ETA from it without visiting a line's heap page.
use sea_orm_migration::prelude::*;

use crate::shape::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OPEN_LINES: &str = "idx_order_lines_open_eta";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                index(
                    OPEN_LINES,
                    OrderLines::Table,
                    vec![OrderLines::OrderId.into_iden(), OrderLines::Eta.into_iden()],
                )
                .cond_where(
                    Condition::all()
                        .add(Expr::col(OrderLines::CancelledAt).is_null())
                        .add(
                            Expr::col(OrderLines::ShippedQuantity)
                                .lt(Expr::col(OrderLines::Quantity)),
                        ),
                )
                .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(OPEN_LINES)
                    .table(OrderLines::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    OrderId,
    Eta,
    Quantity,
    ShippedQuantity,
    CancelledAt,
}
