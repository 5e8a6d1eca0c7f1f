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
    pub smtp: Option<SmtpServer>,
    /// `MAIL_DIR`.
    pub mail_dir: PathBuf,
    /// `MAIL_FROM`: the sender of every message; default `orderportal@` the host of `PUBLIC_URL`.
    pub mail_from: lettre::message::Mailbox,
    /// `SUPPORT_EMAIL`: where support requests go; default `orderportal@` the host of `PUBLIC_URL`.
    pub support_email: String,
    /// `PORTAL_DRAIN_SECONDS`: how long a stopping process lets open requests finish before
    /// it exits anyway.
    pub drain: std::time::Duration,
    /// `PORTAL_TRUSTED_PROXIES`: reverse proxies (addresses or CIDR ranges, comma-separated)
    /// whose `X-Forwarded-For` names the client; nobody's by default.
    pub trusted_proxies: crate::proxies::TrustedProxies,
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
    /// Highest cost of a document accepted (QUERY_TOO_COMPLEX beyond), counted before it
    /// runs: every field and alias, times what the lists around it hold (a paged list its
    /// page, another list 5), plus 500 for each root field (a statement of its own). The
    /// dashboard at 100 orders costs about 50,000; 200 root fields reach the limit.
    pub max_complexity: usize,
    /// SQL statements one request may send; past them it ends with QUERY_TOO_COMPLEX. A
    /// dashboard page sends about 10 whatever its size.
    pub max_statements_per_request: u64,
    /// `DATABASE_STATEMENT_TIMEOUT_SECONDS`: the longest a statement may run (PostgreSQL
    /// cancels it), and with the acquire timeout the longest a request waits for the
    /// database; then it answers SERVICE_UNAVAILABLE.
    pub database_statement_timeout: std::time::Duration,
    /// `DATABASE_ACQUIRE_TIMEOUT_SECONDS`: the longest a request waits for a database
    /// connection, and `/readyz` for the database's answer.
    pub database_acquire_timeout: std::time::Duration,
    /// How long a connection may take to send a request head, whether it is new or kept
    /// alive between requests: a slow or idle client is disconnected after it.
    pub request_head_timeout: std::time::Duration,
    /// How long a request body may take to arrive in full.
    pub request_body_timeout: std::time::Duration,
    /// Largest HTTP request body in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// How long an access token lives.
    pub access_token_ttl: chrono::Duration,
    /// How long a refresh token lives; each refresh starts a new one.
    pub refresh_token_ttl: chrono::Duration,
    /// How long an activation link works.
    pub activation_ttl: chrono::Duration,
    /// An API token's `lastUsedAt` is written at most this often.
    pub api_token_touch_interval: chrono::Duration,
    /// How failed sign-ins are slowed and then refused.
    pub login_throttle: LoginThrottlePolicy,
    /// Subscriptions one WebSocket connection may hold at once.
    pub max_subscriptions_per_connection: usize,
    /// WebSocket connections one user (or API token's creator) may hold at once.
    pub max_connections_per_user: usize,
    /// Live events held in memory for the slowest subscriber; one further behind reads the
    /// rest from the database.
    pub event_buffer: usize,
    /// How long a subscriber may leave its events unread before it is told it fell behind
    /// (and can resume from its cursor); writers and other subscribers never wait for it.
    pub subscriber_patience: std::time::Duration,
    /// How often an open WebSocket connection checks that its credential still reads, in case
    /// the announcement of its end was lost (it is closed at once when announced).
    pub subscription_recheck: std::time::Duration,
    /// GraphQL requests executed at once; the rest wait their turn. Past the point where the
    /// cores are busy, more at once only adds memory (each holds its page's rows and answer)
    /// and takes the cores from PostgreSQL.
    pub concurrent_requests: usize,
}

/// Failed sign-ins counted per e-mail address and per client address within a window: past
/// a first threshold each attempt waits, past a second the key is refused for a while.
#[derive(Clone, Debug)]
pub struct LoginThrottlePolicy {
    /// Failures are counted over this window, from the first one.
    pub window: chrono::Duration,
    /// Failures per key after which every attempt waits `delay` times the failures beyond it.
    pub delay_after: u32,
    /// The wait added per failure beyond `delay_after`, up to `max_delay`.
    pub delay: std::time::Duration,
    pub max_delay: std::time::Duration,
    /// Failures of one e-mail address after which it is refused (RATE_LIMITED).
    pub lock_email_after: u32,
    /// Failures from one client address after which it is refused: higher, because an office
    /// behind one address has many people.
    pub lock_client_after: u32,
    /// How long a refused key stays refused.
    pub lockout: chrono::Duration,
}

impl Default for LoginThrottlePolicy {
    fn default() -> Self {
        Self {
            window: chrono::Duration::minutes(15),
            delay_after: 3,
            delay: std::time::Duration::from_millis(500),
            max_delay: std::time::Duration::from_secs(4),
            lock_email_after: 10,
            lock_client_after: 50,
            lockout: chrono::Duration::minutes(15),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            default_page_size: 20,
            max_page_size: 100,
            max_depth: 12,
            concurrent_requests: std::thread::available_parallelism()
                .map_or(4, |cores| cores.get() * 2),
            max_complexity: 100_000,
            max_statements_per_request: 200,
            max_body_bytes: 256 * 1024,
            database_statement_timeout: std::time::Duration::from_secs(5),
            database_acquire_timeout: std::time::Duration::from_secs(2),
            request_head_timeout: std::time::Duration::from_secs(10),
            request_body_timeout: std::time::Duration::from_secs(10),
            access_token_ttl: chrono::Duration::minutes(15),
            refresh_token_ttl: chrono::Duration::days(30),
            activation_ttl: chrono::Duration::days(7),
            api_token_touch_interval: chrono::Duration::minutes(1),
            login_throttle: LoginThrottlePolicy::default(),
            max_subscriptions_per_connection: 10,
            max_connections_per_user: 5,
            event_buffer: 1024,
            subscriber_patience: std::time::Duration::from_secs(10),
            subscription_recheck: std::time::Duration::from_secs(5),
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

/// A mail relay, reached over plain SMTP (a relay on the host or in the cluster, which
/// handles onward TLS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
}

impl SmtpServer {
    fn parse(url: &str) -> anyhow::Result<Self> {
        let shape = "SMTP_URL must look like smtp://host:port";
        let address = url.strip_prefix("smtp://").context(shape)?;
        let address = address.trim_end_matches('/');
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().context(shape)?),
            None => (address, 25),
        };
        if host.is_empty() || host.contains(['/', '@', ' ']) {
            bail!(shape);
        }
        Ok(Self {
            host: host.to_owned(),
            port,
        })
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
        let smtp = lookup("SMTP_URL")
            .map(|url| SmtpServer::parse(&url))
            .transpose()?;
        let mail_domain = public_url
            .split_once("://")
            .map(|(_, rest)| rest)
            .and_then(|rest| rest.split(['/', ':']).next())
            .filter(|host| !host.is_empty())
            .context("PUBLIC_URL has no host")?
            .to_owned();
        let mailbox = |name: &str| -> anyhow::Result<String> {
            let address = lookup(name).unwrap_or_else(|| format!("orderportal@{mail_domain}"));
            if !is_plausible_email(&address) {
                bail!("{name} must be an e-mail address");
            }
            Ok(address)
        };
        let mail_from = mailbox("MAIL_FROM")?
            .parse()
            .context("MAIL_FROM must be an e-mail address")?;
        let support_email = mailbox("SUPPORT_EMAIL")?;
        let seconds = |name: &str, default: u64| -> anyhow::Result<std::time::Duration> {
            lookup(name)
                .map_or(Ok(default), |value| value.trim().parse::<u64>())
                .map(std::time::Duration::from_secs)
                .with_context(|| format!("{name} must be a whole number of seconds"))
        };
        let drain = seconds("PORTAL_DRAIN_SECONDS", 10)?;
        let trusted_proxies = crate::proxies::TrustedProxies::parse(
            &lookup("PORTAL_TRUSTED_PROXIES").unwrap_or_default(),
        )
        .context("PORTAL_TRUSTED_PROXIES must list IP addresses or CIDR ranges, comma-separated")?;
        let limits = Limits {
            database_statement_timeout: seconds("DATABASE_STATEMENT_TIMEOUT_SECONDS", 5)?,
            database_acquire_timeout: seconds("DATABASE_ACQUIRE_TIMEOUT_SECONDS", 2)?,
            ..Limits::default()
        };
        Ok(Self {
            database_url,
            bind,
            public_url: public_url.trim_end_matches('/').to_owned(),
            jwt_secret,
            smtp,
            mail_dir: lookup("MAIL_DIR")
                .unwrap_or_else(|| "./mail-outbox".into())
                .into(),
            mail_from,
            support_email,
            drain,
            trusted_proxies,
            limits,
        })
    }
}

/// Good enough to catch a typo in configuration or input: one `@` with text on both sides, a
/// dot in the domain, no spaces. Whether it is deliverable, only sending can tell.
pub fn is_plausible_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && (domain.contains('.') || domain == "localhost")
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && address.len() <= 254
        && !address.contains(|c: char| c.is_whitespace() || c.is_control())
}
