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
    /// `PORTAL_CORS_ORIGINS`: the origins (`https://host[:port]`, lower case) whose pages may
    /// call `/graphql` from a browser; empty: none.
    pub cors_origins: Vec<String>,
    /// `PORTAL_HOME_URL`: where the activation page sends a person once their password is
    /// set; default `PUBLIC_URL`.
    pub home_url: String,
    /// `PORTAL_DRAIN_SECONDS`: how long a stopping process lets open requests finish before
    /// it exits anyway.
    pub drain: std::time::Duration,
    /// `PORTAL_TRUSTED_PROXIES`: reverse proxies (addresses or CIDR ranges, comma-separated)
    /// whose `X-Forwarded-For` names the client; nobody's by default.
    pub trusted_proxies: crate::proxies::TrustedProxies,
    /// `PORTAL_RESPONSE_CACHE_MB`: memory for answers to polled order queries, kept until
    /// their orders change; `0` turns the cache off (every request executes). Default 64.
    pub response_cache_bytes: usize,
    /// `PORTAL_ONE_PASS`: answer the listed orders of an order page in one pass over their
    /// loaded rows rather than a resolver per field; `0`, `false` or `off` turn it off (every
    /// field through async-graphql's resolvers). Default on.
    pub one_pass: bool,
    /// Request and query limits.
    pub limits: Limits,
    /// Webhook delivery.
    pub webhooks: WebhookSettings,
}

/// How webhooks are delivered, and what they may reach.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// `WEBHOOK_ALLOW_LOOPBACK=true`: also accept `http://` URLs on this host (127.0.0.1,
    /// `localhost`), for tests and local development. Private and link-local addresses stay
    /// refused either way.
    pub allow_loopback: bool,
    /// Endpoints one company may have.
    pub max_per_company: usize,
    /// How long a receiver has to answer one delivery.
    pub timeout: std::time::Duration,
    /// How long one event is retried before its endpoint is disabled.
    pub retry_for: chrono::Duration,
    /// How long the record of a delivered attempt is kept; failed ones stay.
    pub delivered_retention: chrono::Duration,
    /// Deliveries in flight at once in one process, whatever the receivers.
    pub max_connections: usize,
    /// Bytes of a receiver's answer read at most; the rest is ignored.
    pub max_response_bytes: usize,
    /// `WEBHOOK_CA_FILE`: certificates (PEM) trusted as roots besides the public web's, for
    /// receivers whose certificates a company CA signs.
    pub extra_roots: Vec<rustls::pki_types::TrustAnchor<'static>>,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_loopback: false,
            max_per_company: 10,
            timeout: std::time::Duration::from_secs(5),
            retry_for: chrono::Duration::hours(24),
            delivered_retention: chrono::Duration::days(30),
            max_connections: 16,
            max_response_bytes: 16 * 1024,
            extra_roots: Vec::new(),
        }
    }
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
    /// `DATABASE_STATEMENT_TIMEOUT_SECONDS`: the longest a statement of `serve` may run
    /// (PostgreSQL cancels it; the batch commands wait as long as it takes), and with the acquire timeout the longest a request waits for the
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
    /// How long a request trusts a credential this instance checked, without a statement, in
    /// case the announcement of its end was lost unnoticed (it is forgotten at once when
    /// announced).
    pub credential_recheck: std::time::Duration,
    /// GraphQL requests executed at once; the rest wait their turn. Past the point where the
    /// cores are busy, more at once only adds memory (each holds its page's rows and answer)
    /// and takes the cores from PostgreSQL.
    pub concurrent_requests: usize,
    /// Documents remembered for automatic persisted queries (sent once, then by hash); the
    /// least recently used is forgotten first, and its client simply sends it again.
    pub persisted_queries: usize,
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

impl Limits {
    /// These limits for a batch command (`migrate`, `import`, `generate`): a request must
    /// fail fast when the database stalls, but a batch runs statements over whole tables that
    /// may rightly take longer. PostgreSQL reads a `statement_timeout` of 0 as none.
    pub fn for_batch(&self) -> Self {
        Self {
            database_statement_timeout: std::time::Duration::ZERO,
            ..self.clone()
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
            credential_recheck: std::time::Duration::from_secs(5),
            persisted_queries: 1000,
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
        if !is_http_url(&public_url) {
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
        let cors_origins = lookup("PORTAL_CORS_ORIGINS")
            .map(|list| parse_origins(&list))
            .transpose()?
            .unwrap_or_default();
        let home_url = match lookup("PORTAL_HOME_URL") {
            Some(url) => url::Url::parse(&url)
                .ok()
                .filter(|parsed| is_http_url(&url) && parsed.has_host())
                .map(|_| url)
                .context("PORTAL_HOME_URL must be an http:// or https:// URL")?,
            None => public_url.trim_end_matches('/').to_owned(),
        };
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
        let response_cache_bytes = lookup("PORTAL_RESPONSE_CACHE_MB")
            .map_or(Ok(64), |megabytes| megabytes.parse::<usize>())
            .context("PORTAL_RESPONSE_CACHE_MB is not a whole number of megabytes")?
            .saturating_mul(1024 * 1024);
        let one_pass = match lookup("PORTAL_ONE_PASS").as_deref().map(str::trim) {
            None | Some("1" | "true" | "on") => true,
            Some("0" | "false" | "off") => false,
            Some(_) => bail!("PORTAL_ONE_PASS must be 1, true, on, 0, false or off"),
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
            cors_origins,
            home_url,
            drain,
            trusted_proxies,
            limits,
            webhooks: WebhookSettings {
                allow_loopback: match lookup("WEBHOOK_ALLOW_LOOPBACK").as_deref() {
                    None | Some("false") => false,
                    Some("true") => true,
                    Some(_) => bail!("WEBHOOK_ALLOW_LOOPBACK must be true or false"),
                },
                extra_roots: match lookup("WEBHOOK_CA_FILE") {
                    Some(path) => trust_anchors(&path)?,
                    None => Vec::new(),
                },
                ..WebhookSettings::default()
            },
            response_cache_bytes,
            one_pass,
        })
    }
}

fn is_http_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://"))
        && !url.contains(|c: char| c.is_whitespace() || c.is_control())
}

/// The origins of `PORTAL_CORS_ORIGINS`: exact `scheme://host[:port]`, written as a browser
/// sends them in `Origin` (lower case, no default port, no path, no wildcard).
fn parse_origins(list: &str) -> anyhow::Result<Vec<String>> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let origin = url::Url::parse(entry)
                .ok()
                .filter(|url| ["http", "https"].contains(&url.scheme()))
                .map(|url| url.origin().ascii_serialization())
                .filter(|origin| origin.eq_ignore_ascii_case(entry.trim_end_matches('/')));
            origin.with_context(|| {
                format!(
                    "PORTAL_CORS_ORIGINS must be a comma-separated list of origins such as https://portal.example.com (scheme, host and port only): {entry:?} is not one"
                )
            })
        })
        .collect()
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

/// The certificates of a PEM file as trust anchors; a file holding none, or one that is not
/// a certificate, stops the start-up rather than leaving receivers unreachable.
pub fn trust_anchors(path: &str) -> anyhow::Result<Vec<rustls::pki_types::TrustAnchor<'static>>> {
    use rustls::pki_types::{CertificateDer, pem::PemObject as _};
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(path)
        .with_context(|| format!("WEBHOOK_CA_FILE: reading {path}"))?
    {
        let certificate =
            certificate.with_context(|| format!("WEBHOOK_CA_FILE: reading {path}"))?;
        roots
            .add(certificate)
            .with_context(|| format!("WEBHOOK_CA_FILE: a certificate of {path}"))?;
    }
    if roots.is_empty() {
        bail!("WEBHOOK_CA_FILE: {path} holds no certificate");
    }
    Ok(roots.roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origins_are_exact_origins_as_browsers_send_them() {
        for (list, expected) in [
            ("", Some(vec![])),
            (
                "https://portal.example.com, http://localhost:3000",
                Some(vec!["https://portal.example.com", "http://localhost:3000"]),
            ),
            (
                "HTTPS://Portal.Example.com/",
                Some(vec!["https://portal.example.com"]),
            ),
            ("*", None),
            ("portal.example.com", None),
            ("https://portal.example.com/app", None),
            ("https://portal.example.com:443", None),
            ("https://portal.example.com?x=1", None),
            ("ftp://files.example.com", None),
            ("https://ok.example.com,null", None),
        ] {
            let parsed = parse_origins(list).ok();
            let expected =
                expected.map(|origins| origins.into_iter().map(str::to_owned).collect::<Vec<_>>());
            assert_eq!(parsed, expected, "{list:?}");
        }
    }

    #[test]
    fn the_home_url_defaults_to_the_public_url_and_must_be_a_web_address() {
        let config = |home: Option<&'static str>| {
            Config::from_lookup(|name| match name {
                "JWT_SECRET" => Some("a-test-secret-that-is-long-enough-for-hs256".into()),
                "PUBLIC_URL" => Some("https://portal.example.com/".into()),
                "PORTAL_HOME_URL" => home.map(str::to_owned),
                _ => None,
            })
            .map(|config| config.home_url)
            .map_err(|error| error.to_string())
        };
        assert_eq!(config(None), Ok("https://portal.example.com".to_owned()));
        assert_eq!(
            config(Some("https://app.example.com/start")),
            Ok("https://app.example.com/start".to_owned())
        );
        for bad in ["app.example.com", "https://", "javascript:alert(1)"] {
            assert_eq!(
                config(Some(bad)),
                Err("PORTAL_HOME_URL must be an http:// or https:// URL".to_owned()),
                "{bad}"
            );
        }
    }

    #[test]
    fn one_pass_is_on_unless_turned_off_and_a_bad_value_names_the_variable() {
        let config = |value: Option<&'static str>| {
            Config::from_lookup(|name| match name {
                "JWT_SECRET" => Some("a-test-secret-that-is-long-enough-for-hs256".into()),
                "PORTAL_ONE_PASS" => value.map(str::to_owned),
                _ => None,
            })
            .map(|config| config.one_pass)
            .map_err(|error| error.to_string())
        };
        for (value, expected) in [
            (None, true),
            (Some("true"), true),
            (Some("on"), true),
            (Some("1"), true),
            (Some("false"), false),
            (Some("off"), false),
            (Some("0"), false),
        ] {
            assert_eq!(config(value), Ok(expected), "{value:?}");
        }
        assert_eq!(
            config(Some("sometimes")),
            Err("PORTAL_ONE_PASS must be 1, true, on, 0, false or off".to_owned())
        );
    }

    #[test]
    fn webhook_ca_file_adds_its_certificates_and_refuses_a_file_without_one() {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/webhook-tls");
        let config = |file: String| {
            Config::from_lookup(|name| match name {
                "JWT_SECRET" => Some("a-test-secret-that-is-long-enough-for-hs256".into()),
                "WEBHOOK_CA_FILE" => Some(file.clone()),
                _ => None,
            })
            .map(|config| config.webhooks.extra_roots.len())
            .map_err(|error| error.to_string())
        };
        assert_eq!(config(format!("{fixtures}/ca.pem")), Ok(1));
        let key = format!("{fixtures}/localhost.key");
        assert_eq!(
            config(key.clone()),
            Err(format!("WEBHOOK_CA_FILE: {key} holds no certificate"))
        );
        let missing = format!("{fixtures}/missing.pem");
        assert_eq!(
            config(missing.clone()),
            Err(format!("WEBHOOK_CA_FILE: reading {missing}"))
        );
    }
}
