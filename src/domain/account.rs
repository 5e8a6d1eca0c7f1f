//! Who a user is to the portal: the role that decides what they may do (the permission table is
//! `auth::permits`) and where their account stands. Typed in the entities so that a user's row
//! is decoded once, when it is read; owned here so that `auth`, `store` and `mail` share them
//! without importing one another.

pub use entities::enums::{Role, UserStatus};
