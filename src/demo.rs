//! The demo data set.

/// One demo account, printed by `serve --demo`.
pub struct DemoSignIn {
    pub email: String,
    pub password: String,
    pub role: crate::auth::Role,
    pub company: Option<String>,
}

/// Fills an empty database; `None` when it already holds data.
pub async fn seed(
    _db: &sea_orm::DatabaseConnection,
    _today: chrono::NaiveDate,
) -> anyhow::Result<Option<Vec<DemoSignIn>>> {
    Ok(None)
}
