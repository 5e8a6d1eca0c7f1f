//! The read model: companies, users, catalogue, orders and everything that happens to them.
use sea_orm_migration::{prelude::*, schema::*};

use crate::shape::{create, drop, foreign_key, index, unique_index};

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

/// Tables in dependency order: each refers only to tables before it.
fn tables() -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table(Companies::Table)
            .col(big_pk_auto(Companies::Id))
            .col(string(Companies::Name))
            .col(string_uniq(Companies::CustomerNumber))
            .col(timestamp_with_time_zone(Companies::CreatedAt))
            .to_owned(),
        Table::create()
            .table(Users::Table)
            .col(big_pk_auto(Users::Id))
            .col(big_integer_null(Users::CompanyId))
            .col(string_uniq(Users::Email))
            .col(string_null(Users::Name))
            .col(string_len(Users::Role, 20))
            .col(string_len(Users::Status, 20))
            .col(string_null(Users::PasswordHash))
            .col(integer(Users::TokenVersion).default(0))
            .col(timestamp_with_time_zone(Users::CreatedAt))
            .foreign_key(&mut foreign_key(
                (Users::Table, Users::CompanyId),
                (Companies::Table, Companies::Id),
            ))
            .to_owned(),
        Table::create()
            .table(RefreshTokens::Table)
            .col(big_pk_auto(RefreshTokens::Id))
            .col(big_integer(RefreshTokens::UserId))
            .col(string(RefreshTokens::Family))
            .col(string_uniq(RefreshTokens::TokenHash))
            .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
            .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
            .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
            .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
            .foreign_key(&mut foreign_key(
                (RefreshTokens::Table, RefreshTokens::UserId),
                (Users::Table, Users::Id),
            ))
            .to_owned(),
        Table::create()
            .table(Vendors::Table)
            .col(big_pk_auto(Vendors::Id))
            .col(string_uniq(Vendors::Name))
            .col(boolean(Vendors::SoftwareAfterHardware))
            .to_owned(),
        Table::create()
            .table(Products::Table)
            .col(big_pk_auto(Products::Id))
            .col(string_uniq(Products::Sku))
            .col(string(Products::Description))
            .col(string_len(Products::Kind, 20))
            .col(string_len(Products::DeliveryMethod, 20))
            .col(big_integer(Products::VendorId))
            .foreign_key(&mut foreign_key(
                (Products::Table, Products::VendorId),
                (Vendors::Table, Vendors::Id),
            ))
            .to_owned(),
        Table::create()
            .table(Orders::Table)
            .col(big_pk_auto(Orders::Id))
            .col(string_uniq(Orders::OrderNumber))
            .col(big_integer(Orders::CompanyId))
            .col(string_null(Orders::CustomerReference))
            .col(date(Orders::OrderDate))
            .col(date_null(Orders::RequestedDeliveryDate))
            .col(string_len(Orders::Currency, 3))
            .col(string_len(Orders::Status, 20))
            .col(timestamp_with_time_zone(Orders::ReceivedAt))
            .col(timestamp_with_time_zone_null(Orders::ConfirmedAt))
            .col(timestamp_with_time_zone_null(Orders::CancelledAt))
            .col(timestamp_with_time_zone(Orders::UpdatedAt))
            .foreign_key(&mut foreign_key(
                (Orders::Table, Orders::CompanyId),
                (Companies::Table, Companies::Id),
            ))
            .to_owned(),
        Table::create()
            .table(OrderLines::Table)
            .col(big_pk_auto(OrderLines::Id))
            .col(big_integer(OrderLines::OrderId))
            .col(integer(OrderLines::LineNumber))
            .col(big_integer(OrderLines::ProductId))
            .col(integer(OrderLines::Quantity))
            .col(big_integer(OrderLines::UnitPriceE4))
            .col(string_len(OrderLines::Currency, 3))
            .col(date_null(OrderLines::Eta))
            .col(timestamp_with_time_zone_null(OrderLines::CancelledAt))
            .col(integer(OrderLines::ShippedQuantity).default(0))
            .col(integer(OrderLines::DeliveredQuantity).default(0))
            .col(integer(OrderLines::InvoicedQuantity).default(0))
            .foreign_key(&mut foreign_key(
                (OrderLines::Table, OrderLines::OrderId),
                (Orders::Table, Orders::Id),
            ))
            .foreign_key(&mut foreign_key(
                (OrderLines::Table, OrderLines::ProductId),
                (Products::Table, Products::Id),
            ))
            .to_owned(),
        Table::create()
            .table(EtaChanges::Table)
            .col(big_pk_auto(EtaChanges::Id))
            .col(big_integer(EtaChanges::OrderLineId))
            .col(date_null(EtaChanges::PreviousEta))
            .col(date_null(EtaChanges::NewEta))
            .col(timestamp_with_time_zone(EtaChanges::ChangedAt))
            .col(string_null(EtaChanges::Reason))
            .foreign_key(&mut foreign_key(
                (EtaChanges::Table, EtaChanges::OrderLineId),
                (OrderLines::Table, OrderLines::Id),
            ))
            .to_owned(),
        Table::create()
            .table(Shipments::Table)
            .col(big_pk_auto(Shipments::Id))
            .col(string_uniq(Shipments::ShipmentNumber))
            .col(big_integer(Shipments::OrderId))
            .col(date(Shipments::ShipDate))
            .col(string_null(Shipments::Carrier))
            .col(string_null(Shipments::TrackingNumber))
            .col(string_null(Shipments::TrackingUrl))
            .col(timestamp_with_time_zone_null(Shipments::DeliveredAt))
            .foreign_key(&mut foreign_key(
                (Shipments::Table, Shipments::OrderId),
                (Orders::Table, Orders::Id),
            ))
            .to_owned(),
        Table::create()
            .table(ShipmentLines::Table)
            .col(big_pk_auto(ShipmentLines::Id))
            .col(big_integer(ShipmentLines::ShipmentId))
            .col(big_integer(ShipmentLines::OrderLineId))
            .col(integer(ShipmentLines::Quantity))
            .foreign_key(&mut foreign_key(
                (ShipmentLines::Table, ShipmentLines::ShipmentId),
                (Shipments::Table, Shipments::Id),
            ))
            .foreign_key(&mut foreign_key(
                (ShipmentLines::Table, ShipmentLines::OrderLineId),
                (OrderLines::Table, OrderLines::Id),
            ))
            .to_owned(),
        Table::create()
            .table(SerialNumbers::Table)
            .col(big_pk_auto(SerialNumbers::Id))
            .col(string_uniq(SerialNumbers::Serial))
            .col(big_integer(SerialNumbers::ShipmentLineId))
            .foreign_key(&mut foreign_key(
                (SerialNumbers::Table, SerialNumbers::ShipmentLineId),
                (ShipmentLines::Table, ShipmentLines::Id),
            ))
            .to_owned(),
        Table::create()
            .table(ElectronicDeliveries::Table)
            .col(big_pk_auto(ElectronicDeliveries::Id))
            .col(big_integer(ElectronicDeliveries::OrderLineId))
            .col(timestamp_with_time_zone(ElectronicDeliveries::DeliveredAt))
            .col(string(ElectronicDeliveries::RecipientEmail))
            .col(integer(ElectronicDeliveries::Quantity))
            .foreign_key(&mut foreign_key(
                (
                    ElectronicDeliveries::Table,
                    ElectronicDeliveries::OrderLineId,
                ),
                (OrderLines::Table, OrderLines::Id),
            ))
            .to_owned(),
        Table::create()
            .table(Invoices::Table)
            .col(big_pk_auto(Invoices::Id))
            .col(string_uniq(Invoices::InvoiceNumber))
            .col(big_integer(Invoices::OrderId))
            .col(date(Invoices::InvoiceDate))
            .col(string_len(Invoices::Currency, 3))
            .foreign_key(&mut foreign_key(
                (Invoices::Table, Invoices::OrderId),
                (Orders::Table, Orders::Id),
            ))
            .to_owned(),
        Table::create()
            .table(InvoiceLines::Table)
            .col(big_pk_auto(InvoiceLines::Id))
            .col(big_integer(InvoiceLines::InvoiceId))
            .col(big_integer(InvoiceLines::OrderLineId))
            .col(integer(InvoiceLines::Quantity))
            .col(big_integer(InvoiceLines::AmountE4))
            .foreign_key(&mut foreign_key(
                (InvoiceLines::Table, InvoiceLines::InvoiceId),
                (Invoices::Table, Invoices::Id),
            ))
            .foreign_key(&mut foreign_key(
                (InvoiceLines::Table, InvoiceLines::OrderLineId),
                (OrderLines::Table, OrderLines::Id),
            ))
            .to_owned(),
    ]
}

/// One index per foreign key, and the orderings and filters the list queries use.
fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index(
            "idx_users_company",
            Users::Table,
            vec![Users::CompanyId.into_iden()],
        ),
        index(
            "idx_refresh_tokens_user",
            RefreshTokens::Table,
            vec![RefreshTokens::UserId.into_iden()],
        ),
        index(
            "idx_refresh_tokens_family",
            RefreshTokens::Table,
            vec![RefreshTokens::Family.into_iden()],
        ),
        index(
            "idx_products_vendor",
            Products::Table,
            vec![Products::VendorId.into_iden()],
        ),
        index(
            "idx_orders_company_date",
            Orders::Table,
            vec![
                Orders::CompanyId.into_iden(),
                Orders::OrderDate.into_iden(),
                Orders::Id.into_iden(),
            ],
        ),
        index(
            "idx_orders_company_status",
            Orders::Table,
            vec![Orders::CompanyId.into_iden(), Orders::Status.into_iden()],
        ),
        index(
            "idx_orders_company_updated",
            Orders::Table,
            vec![
                Orders::CompanyId.into_iden(),
                Orders::UpdatedAt.into_iden(),
                Orders::Id.into_iden(),
            ],
        ),
        index(
            "idx_orders_date",
            Orders::Table,
            vec![Orders::OrderDate.into_iden(), Orders::Id.into_iden()],
        ),
        index(
            "idx_orders_updated",
            Orders::Table,
            vec![Orders::UpdatedAt.into_iden(), Orders::Id.into_iden()],
        ),
        index(
            "idx_orders_status_received",
            Orders::Table,
            vec![Orders::Status.into_iden(), Orders::ReceivedAt.into_iden()],
        ),
        index(
            "idx_orders_customer_reference",
            Orders::Table,
            vec![Orders::CustomerReference.into_iden()],
        ),
        unique_index(
            "uq_order_lines_number",
            OrderLines::Table,
            vec![
                OrderLines::OrderId.into_iden(),
                OrderLines::LineNumber.into_iden(),
            ],
        ),
        index(
            "idx_order_lines_product",
            OrderLines::Table,
            vec![OrderLines::ProductId.into_iden()],
        ),
        index(
            "idx_order_lines_eta",
            OrderLines::Table,
            vec![OrderLines::Eta.into_iden()],
        ),
        index(
            "idx_eta_changes_line",
            EtaChanges::Table,
            vec![EtaChanges::OrderLineId.into_iden()],
        ),
        index(
            "idx_shipments_order",
            Shipments::Table,
            vec![Shipments::OrderId.into_iden()],
        ),
        index(
            "idx_shipments_tracking",
            Shipments::Table,
            vec![Shipments::TrackingNumber.into_iden()],
        ),
        unique_index(
            "uq_shipment_lines_line",
            ShipmentLines::Table,
            vec![
                ShipmentLines::ShipmentId.into_iden(),
                ShipmentLines::OrderLineId.into_iden(),
            ],
        ),
        index(
            "idx_shipment_lines_order_line",
            ShipmentLines::Table,
            vec![ShipmentLines::OrderLineId.into_iden()],
        ),
        index(
            "idx_serial_numbers_shipment_line",
            SerialNumbers::Table,
            vec![SerialNumbers::ShipmentLineId.into_iden()],
        ),
        index(
            "idx_electronic_deliveries_line",
            ElectronicDeliveries::Table,
            vec![ElectronicDeliveries::OrderLineId.into_iden()],
        ),
        index(
            "idx_invoices_order",
            Invoices::Table,
            vec![Invoices::OrderId.into_iden()],
        ),
        index(
            "idx_invoice_lines_invoice",
            InvoiceLines::Table,
            vec![InvoiceLines::InvoiceId.into_iden()],
        ),
        index(
            "idx_invoice_lines_order_line",
            InvoiceLines::Table,
            vec![InvoiceLines::OrderLineId.into_iden()],
        ),
    ]
}

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
    Name,
    CustomerNumber,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    CompanyId,
    Email,
    Name,
    Role,
    Status,
    PasswordHash,
    TokenVersion,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    Family,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Vendors {
    Table,
    Id,
    Name,
    SoftwareAfterHardware,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Sku,
    Description,
    Kind,
    DeliveryMethod,
    VendorId,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    OrderNumber,
    CompanyId,
    CustomerReference,
    OrderDate,
    RequestedDeliveryDate,
    Currency,
    Status,
    ReceivedAt,
    ConfirmedAt,
    CancelledAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    Id,
    OrderId,
    LineNumber,
    ProductId,
    Quantity,
    UnitPriceE4,
    Currency,
    Eta,
    CancelledAt,
    ShippedQuantity,
    DeliveredQuantity,
    InvoicedQuantity,
}

#[derive(DeriveIden)]
enum EtaChanges {
    Table,
    Id,
    OrderLineId,
    PreviousEta,
    NewEta,
    ChangedAt,
    Reason,
}

#[derive(DeriveIden)]
enum Shipments {
    Table,
    Id,
    ShipmentNumber,
    OrderId,
    ShipDate,
    Carrier,
    TrackingNumber,
    TrackingUrl,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum ShipmentLines {
    Table,
    Id,
    ShipmentId,
    OrderLineId,
    Quantity,
}

#[derive(DeriveIden)]
enum SerialNumbers {
    Table,
    Id,
    Serial,
    ShipmentLineId,
}

#[derive(DeriveIden)]
enum ElectronicDeliveries {
    Table,
    Id,
    OrderLineId,
    DeliveredAt,
    RecipientEmail,
    Quantity,
}

#[derive(DeriveIden)]
enum Invoices {
    Table,
    Id,
    InvoiceNumber,
    OrderId,
    InvoiceDate,
    Currency,
}

#[derive(DeriveIden)]
enum InvoiceLines {
    Table,
    Id,
    InvoiceId,
    OrderLineId,
    Quantity,
    AmountE4,
}
