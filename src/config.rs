//! Configuration: read once from the environment at start-up; nothing else reads it.

use std::{fmt, net::SocketAddr, path::PathBuf};

use anyhow::{Context, bail};

/// Everything the service can be told by its operator.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`: SQLite (`sqlite://…`) or PostgreSQL (`postgres://…`).
    pub database_url: String,
    /// `PORTAL_BIND`: the listen address.
    pub bind: SocketAddr,
    /// `PUBLIC_URL`: the base of links in e-mails, without a trailing slash.
    pub public_url: String,
    /// `JWT_SECRET`: the HMAC key of access tokens.
    pub jwt_secret: Secret,
    /// `SMTP_URL`: where mail goes; `None` writes `.eml` files into `mail_dir`.
    pub smtp_url: Option<String>,
    /// `MAIL_DIR`.
    pub mail_dir: PathBuf,
    /// Request and query limits.
    pub limits: Limits,
}

/// Limits that protect the service from expensive requests. Each is a documented constant
/// today; they live here so that they are found in one place.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Page size when a connection gets neither `first` nor `last`.
    pub default_page_size: u32,
    /// Largest `first`/`last`; more is BAD_USER_INPUT rather than silently cut.
    pub max_page_size: u32,
    /// Deepest selection set accepted (QUERY_TOO_COMPLEX beyond).
    pub max_depth: usize,
    /// Highest complexity accepted; list fields multiply their children by the page size.
    pub max_complexity: usize,
    /// Largest HTTP request body in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// How long an access token lives.
    pub access_token_ttl: chrono::Duration,
    /// How long a refresh token lives.
    pub refresh_token_ttl: chrono::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            default_page_size: 20,
            max_page_size: 100,
            max_depth: 12,
            max_complexity: 25_000,
            max_body_bytes: 256 * 1024,
            access_token_ttl: chrono::Duration::minutes(15),
            refresh_token_ttl: chrono::Duration::days(30),
        }
    }
}

/// A secret value that never appears in logs or `Debug` output.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// The raw bytes, for the one place that needs them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Shortest `JWT_SECRET` accepted: HS256 wants at least as many key bytes as hash bytes.
const MIN_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so that tests can hand in their own variables.
    /// Each error names the variable at fault.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let database_url =
            lookup("DATABASE_URL").unwrap_or_else(|| "sqlite://customer-portal.db?mode=rwc".into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!("DATABASE_URL must start with sqlite:, postgres:// or postgresql://");
        }
        let bind = lookup("PORTAL_BIND")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .context("PORTAL_BIND is not a socket address such as 127.0.0.1:8080")?;
        let public_url = lookup("PUBLIC_URL").unwrap_or_else(|| "http://localhost:8080".into());
        if !(public_url.starts_with("http://") || public_url.starts_with("https://"))
            || public_url.contains(char::is_whitespace)
        {
            bail!("PUBLIC_URL must be an http:// or https:// URL");
        }
        let jwt_secret = match lookup("JWT_SECRET") {
            Some(secret) if secret.len() < MIN_SECRET_BYTES => {
                bail!("JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long")
            }
            Some(secret) => Secret(secret.into_bytes()),
            None => {
                tracing::warn!(
                    "JWT_SECRET is not set: using a random key, so sessions end when the process does"
                );
                Secret(rand::random::<[u8; 32]>().to_vec())
            }
        };
        let smtp_url = lookup("SMTP_URL");
        if let Some(url) = &smtp_url
            && !url.starts_with("smtp://")
        {
            bail!("SMTP_URL must look like smtp://host:port");
        }
        Ok(Self {
            database_url,
            bind,
            public_url: public_url.trim_end_matches('/').to_owned(),
            jwt_secret,
            smtp_url,
            mail_dir: lookup("MAIL_DIR")
                .unwrap_or_else(|| "./mail-outbox".into())
                .into(),
            limits: Limits::default(),
        })
    }
}
