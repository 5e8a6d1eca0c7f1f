//! Failed sign-ins of one e-mail address or client address within a window, shared by every
//! instance of the service.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_failures")]
pub struct Model {
    /// `email:` and the normalised address, or `client:` and the IP address.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub failures: i32,
    /// The first failure of the current window.
    pub since: DateTimeUtc,
    /// Refused until then, once the failures reached the limit.
    pub refused_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
