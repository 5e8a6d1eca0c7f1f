//! Test harness: a fresh database per test, the real app on top, and a small fixture builder
//! that writes through the same data-layer functions as the back-office mutations.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

pub mod instance;
pub mod receiver;
pub mod smtp;
pub mod webdriver;
pub mod ws;

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use customer_portal::{
    app::App,
    auth::password::hash_password,
    clock::Clock,
    config::Config,
    domain::account::Role,
    domain::{
        eta::{DeliveryMethod, ProductKind},
        language::Language,
    },
    store::{self, accounts, writes},
};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

/// Monday 23 November 2026, noon UTC: the fixed "now" of every test.
/// Every order status, in lifecycle order.
pub const STATUSES: [&str; 5] = [
    "PENDING_APPROVAL",
    "CONFIRMED",
    "PARTIALLY_FULFILLED",
    "FULFILLED",
    "CANCELLED",
];

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

pub fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

pub const PASSWORD: &str = "correct horse battery";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A database of its own: a temporary SQLite file, or a new PostgreSQL database when
/// `TEST_DATABASE_URL` names a server. Removed when dropped.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn create() -> Self {
        let unique = format!(
            "{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) => {
                let name = format!("cp_test_{unique}");
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("TEST_DATABASE_URL must reach PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(base, _)| base);
                Self {
                    url: format!("{base}/{name}"),
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            Err(_) => {
                let path = std::env::temp_dir().join(format!("customer-portal-test-{unique}.db"));
                let _ = std::fs::remove_file(&path);
                Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    cleanup: Cleanup::File(path),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: do the async clean-up on a thread of its own.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    runtime.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// The app on a fresh, migrated database, with a statement counter, a clock that moves only
/// when told, and a mail directory of its own.
pub struct TestApp {
    pub app: App,
    pub db: DatabaseConnection,
    pub clock: Clock,
    pub mail_dir: std::path::PathBuf,
    _database: TestDb,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.mail_dir);
    }
}

/// The configuration of every test app: a fixed secret, mail into `mail_dir` (or to
/// `smtp_url`), and sign-in throttling that waits milliseconds instead of seconds; `settings`
/// adds or replaces variables.
pub fn test_config(
    mail_dir: &std::path::Path,
    smtp_url: Option<&str>,
    settings: &[(&str, &str)],
) -> Config {
    let mail_dir = mail_dir.display().to_string();
    let mut config = Config::from_lookup(|name| {
        if let Some((_, value)) = settings.iter().find(|(key, _)| *key == name) {
            return Some((*value).to_owned());
        }
        match name {
            "JWT_SECRET" => Some("a-test-secret-that-is-long-enough-for-hs256".into()),
            "MAIL_DIR" => Some(mail_dir.clone()),
            "SMTP_URL" => smtp_url.map(str::to_owned),
            "PUBLIC_URL" => Some("https://portal.distributor.example".into()),
            _ => None,
        }
    })
    .unwrap();
    config.limits.login_throttle.delay = std::time::Duration::from_millis(20);
    config.limits.login_throttle.max_delay = std::time::Duration::from_millis(100);
    config.limits.login_throttle.lock_client_after = 20;
    config.limits.subscriber_patience = std::time::Duration::from_millis(300);
    config.limits.subscription_recheck = std::time::Duration::from_millis(100);
    // Webhook tests' receivers listen on this host.
    config.webhooks.allow_loopback = true;
    config
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_smtp(None).await
    }

    /// A test app whose mail goes to the SMTP server at `smtp_url`.
    pub async fn with_smtp(smtp_url: Option<&str>) -> Self {
        Self::with_settings(smtp_url, &[]).await
    }

    /// A test app configured with `settings` besides the test defaults.
    pub async fn with_settings(smtp_url: Option<&str>, settings: &[(&str, &str)]) -> Self {
        Self::build(smtp_url, settings, |_| {}, Clock::fixed(now())).await
    }

    /// A test app whose configuration `adjust` changes, on `clock`.
    pub async fn configured(
        smtp_url: Option<&str>,
        adjust: impl FnOnce(&mut Config),
        clock: Clock,
    ) -> Self {
        Self::build(smtp_url, &[], adjust, clock).await
    }

    async fn build(
        smtp_url: Option<&str>,
        settings: &[(&str, &str)],
        adjust: impl FnOnce(&mut Config),
        clock: Clock,
    ) -> Self {
        let database = TestDb::create().await;
        let db = store::connect(&database.url).await.unwrap();
        store::migrate(&db).await.unwrap();
        let mail_dir = std::env::temp_dir().join(format!(
            "customer-portal-mail-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let mut config = test_config(&mail_dir, smtp_url, settings);
        adjust(&mut config);
        let app = App::new(&config, db.clone(), clock.clone());
        Self {
            app,
            db,
            clock,
            mail_dir,
            _database: database,
        }
    }

    /// A second app on this test's database and clock, configured as test apps are with
    /// `settings` besides, so that two configurations answer from the same data.
    pub fn twin(&self, settings: &[(&str, &str)]) -> App {
        let config = test_config(&self.mail_dir, None, settings);
        App::new(&config, self.db.clone(), self.clock.clone())
    }

    /// Sends the mail that is due and returns every message written to the mail directory so
    /// far, oldest first.
    pub async fn mail(&self) -> Vec<String> {
        self.app.deliver_mail().await.unwrap();
        let Ok(entries) = std::fs::read_dir(&self.mail_dir) else {
            return Vec::new();
        };
        let mut paths: Vec<_> = entries
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| decode_quoted_printable(&std::fs::read_to_string(path).unwrap()))
            .collect()
    }

    /// Runs a document that must fail; returns its first error's code.
    pub async fn code(&self, token: Option<&str>, query: &str, variables: Value) -> String {
        let response = self.run(token, query, variables).await;
        error_code(&response).to_owned()
    }

    /// Runs a document as the holder of `token`; returns `{data, errors}` as JSON.
    pub async fn run(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let header = token.map(|token| format!("Bearer {token}"));
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        let response = self.app.execute(header.as_deref(), request).await;
        serde_json::to_value(&response).unwrap()
    }

    /// Runs a document that must succeed; returns its `data`.
    pub async fn data(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self.run(Some(token), query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response:#}"
        );
        response["data"].clone()
    }

    /// Runs a document without a token that must succeed; returns its `data`.
    pub async fn data_anonymous(&self, query: &str, variables: Value) -> Value {
        let response = self.run(None, query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response:#}"
        );
        response["data"].clone()
    }

    /// The URL of this test's database, for the binary.
    pub fn database_url(&self) -> &str {
        &self._database.url
    }

    /// Statements the app has run so far on its database.
    pub fn statements(&self) -> usize {
        usize::try_from(self.app.statements()).unwrap()
    }

    pub async fn company(&self, name: &str, customer_number: &str) -> i64 {
        accounts::upsert_company(&self.db, name, customer_number, now())
            .await
            .unwrap()
            .id
    }

    /// Creates an active user and signs in through the API; returns the access token.
    pub async fn user(&self, email: &str, role: Role, company_id: Option<i64>) -> String {
        let user = accounts::NewUser {
            email,
            name: None,
            role,
            company_id,
            password_hash: Some(hash_password(PASSWORD).unwrap()),
            language: Language::default(),
        };
        accounts::upsert_user(&self.db, user, now()).await.unwrap();
        self.login(email, PASSWORD).await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let data = self
            .run(
                None,
                "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }",
                json!({"email": email, "password": password}),
            )
            .await;
        data["data"]["login"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {data:#}"))
            .to_owned()
    }

    /// Two vendors and three products: `HW-1` hardware (physical) and `SW-1` software
    /// (electronic) of a vendor that delivers software after hardware, `SVC-1` a service.
    pub async fn catalogue(&self) {
        for (name, software_after_hardware) in [("Fortiwall", true), ("Acme Networks", false)] {
            writes::upsert_vendor(
                &self.db,
                writes::VendorInput {
                    name: name.into(),
                    software_after_hardware,
                },
            )
            .await
            .unwrap();
        }
        for (sku, kind, delivery_method, vendor) in [
            (
                "HW-1",
                ProductKind::Hardware,
                DeliveryMethod::Physical,
                "Fortiwall",
            ),
            (
                "SW-1",
                ProductKind::Software,
                DeliveryMethod::Electronic,
                "Fortiwall",
            ),
            (
                "SVC-1",
                ProductKind::Service,
                DeliveryMethod::Electronic,
                "Acme Networks",
            ),
            (
                "HW-2",
                ProductKind::Hardware,
                DeliveryMethod::Physical,
                "Acme Networks",
            ),
        ] {
            writes::upsert_product(
                &self.db,
                writes::ProductInput {
                    sku: sku.into(),
                    description: format!("{sku} description"),
                    kind,
                    delivery_method,
                    vendor_name: vendor.into(),
                },
            )
            .await
            .unwrap();
        }
    }

    /// An order of `customer_number` with lines `(sku, quantity, unit price, eta)`, numbered 1….
    pub async fn order(
        &self,
        order_number: &str,
        customer_number: &str,
        lines: &[(&str, i32, &str, Option<&str>)],
    ) {
        self.order_with(order_number, customer_number, None, lines)
            .await;
    }

    pub async fn order_with(
        &self,
        order_number: &str,
        customer_number: &str,
        requested: Option<&str>,
        lines: &[(&str, i32, &str, Option<&str>)],
    ) {
        let input = writes::OrderInput {
            order_number: order_number.into(),
            customer_number: customer_number.into(),
            customer_reference: Some(format!("PO-{order_number}")),
            order_date: date("2026-11-02"),
            requested_delivery_date: requested.map(date),
            currency: "EUR".into(),
            lines: lines
                .iter()
                .enumerate()
                .map(|(index, (sku, quantity, price, eta))| writes::LineInput {
                    line_number: index as i32 + 1,
                    sku: (*sku).into(),
                    quantity: *quantity,
                    unit_price: price.parse::<Decimal>().unwrap(),
                    eta: eta.map(date),
                })
                .collect(),
        };
        writes::upsert_order(&self.db, input, now()).await.unwrap();
    }

    pub async fn confirm(&self, order_number: &str) {
        writes::confirm_order(&self.db, order_number, now())
            .await
            .unwrap();
    }

    /// Ships `(line number, quantity, serials)`.
    pub async fn ship(
        &self,
        shipment_number: &str,
        order_number: &str,
        lines: &[(i32, i32, &[&str])],
    ) {
        let input = writes::ShipmentInput {
            shipment_number: shipment_number.into(),
            order_number: order_number.into(),
            ship_date: date("2026-11-20"),
            carrier: Some("DHL".into()),
            tracking_number: Some(format!("TRK-{shipment_number}")),
            tracking_url: None,
            lines: lines
                .iter()
                .map(
                    |(line_number, quantity, serials)| writes::ShipmentLineInput {
                        line_number: *line_number,
                        quantity: *quantity,
                        serial_numbers: serials.iter().map(|serial| (*serial).to_owned()).collect(),
                    },
                )
                .collect(),
        };
        writes::record_shipment(&self.db, input, now())
            .await
            .unwrap();
    }

    pub async fn deliver(&self, shipment_number: &str) {
        writes::mark_shipment_delivered(&self.db, shipment_number, now(), now())
            .await
            .unwrap();
    }

    pub async fn email(&self, order_number: &str, line_number: i32, quantity: i32) {
        let input = writes::ElectronicDeliveryInput {
            order_number: order_number.into(),
            line_number,
            quantity,
            recipient_email: "it@reseller.example".into(),
            delivered_at: now(),
        };
        writes::record_electronic_delivery(&self.db, input, now())
            .await
            .unwrap();
    }

    pub async fn invoice(&self, invoice_number: &str, order_number: &str, lines: &[(i32, i32)]) {
        let input = writes::InvoiceInput {
            invoice_number: invoice_number.into(),
            order_number: order_number.into(),
            invoice_date: date("2026-11-21"),
            lines: lines.to_vec(),
        };
        writes::record_invoice(&self.db, input, now())
            .await
            .unwrap();
    }

    pub async fn set_eta(
        &self,
        order_number: &str,
        line_number: i32,
        eta: Option<&str>,
        reason: &str,
    ) {
        let update = writes::EtaUpdate {
            order_number: order_number.into(),
            line_number,
            eta: eta.map(date),
            reason: Some(reason.into()),
        };
        writes::update_etas(&self.db, vec![update], now())
            .await
            .unwrap();
    }
}

/// Two companies with an admin each and a back-office user, and the catalogue.
pub struct World {
    pub app: TestApp,
    pub staff: String,
    pub alpha: String,
    pub beta: String,
    pub alpha_id: i64,
    pub beta_id: i64,
}

impl World {
    pub async fn new() -> Self {
        Self::on(TestApp::new().await).await
    }

    /// The world on an app of the test's own.
    pub async fn on(app: TestApp) -> Self {
        let alpha_id = app.company("Alpha Systems BV", "C-1").await;
        let beta_id = app.company("Beta Networks NV", "C-2").await;
        let staff = app
            .user("staff@distributor.example", Role::BackOffice, None)
            .await;
        let alpha = app
            .user("admin@alpha.example", Role::CustomerAdmin, Some(alpha_id))
            .await;
        let beta = app
            .user("admin@beta.example", Role::CustomerAdmin, Some(beta_id))
            .await;
        app.catalogue().await;
        Self {
            app,
            staff,
            alpha,
            beta,
            alpha_id,
            beta_id,
        }
    }
}

impl World {
    /// A colleague of Alpha's administrator with `role`, invited and activated through the
    /// API; returns their access token and user ID.
    pub async fn colleague(&self, email: &str, role: &str) -> (String, Value) {
        let invite = "mutation($email: String!, $role: Role!) { inviteUser(email: $email, role: $role) { activationUrl user { id } } }";
        let invitation = self
            .app
            .data(&self.alpha, invite, json!({"email": email, "role": role}))
            .await;
        let url = invitation["inviteUser"]["activationUrl"].as_str().unwrap();
        let token = url.split_once("token=").unwrap().1;
        let activate = "mutation($token: String!) { activateAccount(token: $token, newPassword: \"a colleague's password\") { accessToken } }";
        let session = self
            .app
            .data_anonymous(activate, json!({"token": token}))
            .await;
        (
            session["activateAccount"]["accessToken"]
                .as_str()
                .unwrap()
                .to_owned(),
            invitation["inviteUser"]["user"]["id"].clone(),
        )
    }
}

/// The `extensions.code` of the first error of a response.
pub fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {response:#}"))
}

/// A message as a person reads it: quoted-printable soft breaks and escapes undone (headers
/// pass through unchanged).
pub fn decode_quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[index], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}
