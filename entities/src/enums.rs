//! The enumerated columns, typed: each is stored as its SCREAMING_CASE name in a string column
//! (the values the first migration wrote, so no data changes) and decoded once, when a row is
//! read. The service's `domain` module owns them as business values and re-exports them; they
//! are defined here only because the derive must sit beside the type and this crate cannot
//! depend on the service.
use sea_orm::entity::prelude::*;

/// Fulfilment status shared by orders and order lines (`orders.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum Status {
    /// Received but not yet approved and processed by the back office.
    #[sea_orm(string_value = "PENDING_APPROVAL")]
    PendingApproval,
    /// Approved, nothing has shipped or been delivered yet.
    #[sea_orm(string_value = "CONFIRMED")]
    Confirmed,
    /// Something has shipped or been delivered, but not everything is delivered and invoiced.
    #[sea_orm(string_value = "PARTIALLY_FULFILLED")]
    PartiallyFulfilled,
    /// Everything is delivered and invoiced.
    #[sea_orm(string_value = "FULFILLED")]
    Fulfilled,
    /// Cancelled, or every line of the order is cancelled.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// What kind of product a line sells (`products.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum ProductKind {
    /// Physical equipment.
    #[sea_orm(string_value = "HARDWARE")]
    Hardware,
    /// Licences and subscriptions; some vendors release them only once the hardware ships.
    #[sea_orm(string_value = "SOFTWARE")]
    Software,
    /// Installation, support and other services.
    #[sea_orm(string_value = "SERVICE")]
    Service,
}

/// How a line reaches the customer (`products.delivery_method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum DeliveryMethod {
    /// Shipped by carrier, so arrival lags the ETA by the transit time.
    #[sea_orm(string_value = "PHYSICAL")]
    Physical,
    /// Delivered electronically (licence keys, downloads) on the ETA itself.
    #[sea_orm(string_value = "ELECTRONIC")]
    Electronic,
}

/// What a user may do (`users.role`); the permission table is the service's `auth::permits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum Role {
    /// Manages the users and API tokens of its own company, and reads its data.
    #[sea_orm(string_value = "CUSTOMER_ADMIN")]
    CustomerAdmin,
    /// Reads its own company's data and asks for support.
    #[sea_orm(string_value = "CUSTOMER_USER")]
    CustomerUser,
    /// The distributor's staff: everything, for every company.
    #[sea_orm(string_value = "BACK_OFFICE")]
    BackOffice,
}

/// Where a user's account stands (`users.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum UserStatus {
    /// Invited, has not chosen a password yet.
    #[sea_orm(string_value = "INVITED")]
    Invited,
    /// May sign in.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// May no longer sign in; every token of the user is refused.
    #[sea_orm(string_value = "DISABLED")]
    Disabled,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names every existing row holds: changing one would need a data migration.
    fn stored<T: ActiveEnum<Value = String> + PartialEq + std::fmt::Debug>(cases: &[(T, &str)]) {
        for (value, name) in cases {
            assert_eq!(value.to_value(), *name);
            assert_eq!(
                T::try_from_value(&(*name).to_owned()).ok().as_ref(),
                Some(value)
            );
        }
        assert_eq!(cases.len(), T::iter().count(), "every variant has a case");
    }

    #[test]
    fn every_variant_keeps_its_stored_name() {
        stored(&[
            (Status::PendingApproval, "PENDING_APPROVAL"),
            (Status::Confirmed, "CONFIRMED"),
            (Status::PartiallyFulfilled, "PARTIALLY_FULFILLED"),
            (Status::Fulfilled, "FULFILLED"),
            (Status::Cancelled, "CANCELLED"),
        ]);
        stored(&[
            (ProductKind::Hardware, "HARDWARE"),
            (ProductKind::Software, "SOFTWARE"),
            (ProductKind::Service, "SERVICE"),
        ]);
        stored(&[
            (DeliveryMethod::Physical, "PHYSICAL"),
            (DeliveryMethod::Electronic, "ELECTRONIC"),
        ]);
        stored(&[
            (Role::CustomerAdmin, "CUSTOMER_ADMIN"),
            (Role::CustomerUser, "CUSTOMER_USER"),
            (Role::BackOffice, "BACK_OFFICE"),
        ]);
        stored(&[
            (UserStatus::Invited, "INVITED"),
            (UserStatus::Active, "ACTIVE"),
            (UserStatus::Disabled, "DISABLED"),
        ]);
    }

    #[test]
    fn an_unknown_or_differently_cased_name_is_refused_when_a_row_is_read() {
        for name in ["", "fulfilled", "Fulfilled", "SHIPPED", " CONFIRMED"] {
            assert!(
                Status::try_from_value(&name.to_owned()).is_err(),
                "{name:?}"
            );
        }
        assert!(ProductKind::try_from_value(&"LICENCE".to_owned()).is_err());
        assert!(DeliveryMethod::try_from_value(&"physical".to_owned()).is_err());
        assert!(Role::try_from_value(&"ADMIN".to_owned()).is_err());
        assert!(UserStatus::try_from_value(&"active".to_owned()).is_err());
    }
}
