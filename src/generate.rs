//! `customer-portal generate --scale N`: a distributor-sized data set for benchmarks, the same
//! on every run, loaded through the data layer's bulk path.
//!
//! At scale 1: 200 companies of about 500 orders each over three years, 100 vendors, 5,000
//! products, 100,000 orders of 1 to 8 lines, about 60% of lines shipped (in one or two
//! shipments) or delivered by e-mail, a serial number per shipped hardware unit, ETA
//! histories, invoices, and the order events of all of it. Every figure grows with the scale,
//! so each company holds as much at scale 5 as at scale 1 while the tables hold five times
//! more.
//!
//! Row ids are derived from the order's (a line is `order × 8 + index`, and so on), so that
//! orders can be built and loaded in parallel chunks with no id handed back by the database.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeDelta, Utc};
use entities::{
    company, electronic_delivery, eta_change, invoice, invoice_line, order, order_event,
    order_line, product, serial_number, shipment, shipment_line, user, vendor,
};
use futures_util::{StreamExt, TryStreamExt, stream};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, Statement, TransactionTrait,
};

use crate::{
    auth::password::hash_password,
    domain::{
        account::{Role, UserStatus},
        eta::{DeliveryMethod, ProductKind},
        language::Language,
        order::{LineProgress, amount_e4},
        status::{LineFacts, OrderState, order_status},
    },
    error::{AppError, AppResult},
    store::{bulk, events::EventKind},
};

/// The day the generated history ends: fixed, so that every run builds the same rows.
pub const REFERENCE_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2026, 12, 1) {
    Some(day) => day,
    None => panic!("the reference day is a date"),
};
/// The password of every generated customer user.
pub const PASSWORD: &str = "generated-portal-password";
/// Orders per transaction; two transactions are in flight at a time.
const CHUNK: u64 = 1_000;
const LOADERS: usize = 2;
const HISTORY_DAYS: u64 = 3 * 365;

/// How much a scale holds.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub companies: u64,
    pub vendors: u64,
    pub products: u64,
    pub orders: u64,
}

impl Sizes {
    pub fn at_scale(scale: u64) -> Self {
        Self {
            companies: 200 * scale,
            vendors: 100 * scale,
            products: 5_000 * scale,
            orders: 100_000 * scale,
        }
    }
}

/// What was loaded, for the summary.
#[derive(Debug, Default)]
pub struct Loaded {
    pub companies: u64,
    pub users: u64,
    pub products: u64,
    pub orders: u64,
    pub lines: u64,
    pub eta_changes: u64,
    pub shipments: u64,
    pub serials: u64,
    pub electronic_deliveries: u64,
    pub invoices: u64,
    pub events: u64,
}

impl std::ops::AddAssign for Loaded {
    fn add_assign(&mut self, other: Self) {
        self.companies += other.companies;
        self.users += other.users;
        self.products += other.products;
        self.orders += other.orders;
        self.lines += other.lines;
        self.eta_changes += other.eta_changes;
        self.shipments += other.shipments;
        self.serials += other.serials;
        self.electronic_deliveries += other.electronic_deliveries;
        self.invoices += other.invoices;
        self.events += other.events;
    }
}

/// The e-mail address of company `company_id`'s generated administrator.
pub fn admin_email(company_id: i64) -> String {
    format!(
        "admin@{}.example",
        customer_number(company_id).to_lowercase()
    )
}

fn customer_number(company_id: i64) -> String {
    format!("C{company_id:06}")
}

/// Fills an empty database. Refuses one that already holds companies or orders, since the
/// generated ids and numbers would collide with what is there.
pub async fn run(db: &DatabaseConnection, sizes: Sizes) -> AppResult<Loaded> {
    let existing =
        company::Entity::find().count(db).await? + order::Entity::find().count(db).await?;
    if existing > 0 {
        return Err(AppError::Conflict(
            "generate fills an empty database; this one already holds companies or orders".into(),
        ));
    }
    let catalogue = Catalogue::new(sizes);
    let mut loaded = load_customers(db, sizes).await?;
    loaded.products = sizes.products;
    bulk::insert_all(db, catalogue.vendor_rows()).await?;
    bulk::insert_all(db, catalogue.product_rows()).await?;

    let progress = ProgressBar::with_draw_target(Some(sizes.orders), ProgressDrawTarget::stderr());
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} orders {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let chunks = (0..sizes.orders.div_ceil(CHUNK)).map(|chunk| {
        let first = chunk * CHUNK + 1;
        first..=(first + CHUNK - 1).min(sizes.orders)
    });
    let catalogue = &catalogue;
    let progress_ref = &progress;
    let orders: Vec<Loaded> = stream::iter(chunks)
        .map(|ids| async move {
            let count = ids.end() - ids.start() + 1;
            let rows = Rows::build(catalogue, sizes, ids);
            let loaded = rows.load(db).await?;
            progress_ref.inc(count);
            AppResult::Ok(loaded)
        })
        .buffer_unordered(LOADERS)
        .try_collect()
        .await?;
    progress.finish_and_clear();
    for chunk in orders {
        loaded += chunk;
    }
    restart_sequences(db).await?;
    Ok(loaded)
}

async fn load_customers(db: &DatabaseConnection, sizes: Sizes) -> AppResult<Loaded> {
    let hash = hash_password(PASSWORD).map_err(|error| AppError::Internal(error.into()))?;
    let created_at = at(REFERENCE_DAY - Days::new(HISTORY_DAYS + 90), 9, 0);
    let mut companies = Vec::new();
    let mut users = Vec::new();
    for id in 1..=ids(sizes.companies) {
        companies.push(company::ActiveModel {
            id: Set(id),
            name: Set(company_name(id)),
            customer_number: Set(customer_number(id)),
            created_at: Set(created_at),
        });
        for (offset, role, email) in [
            (0, Role::CustomerAdmin, admin_email(id)),
            (
                1,
                Role::CustomerUser,
                format!("buyer@{}.example", customer_number(id).to_lowercase()),
            ),
        ] {
            users.push(user::ActiveModel {
                id: Set(id * 2 - 1 + offset),
                company_id: Set(Some(id)),
                email: Set(email),
                name: Set(Some(format!("{} of {}", role.to_value(), company_name(id)))),
                role: Set(role),
                status: Set(UserStatus::Active),
                password_hash: Set(Some(hash.clone())),
                token_version: Set(0),
                created_at: Set(created_at),
                mail_on_change: Set(None),
                language: Set(Language::default().as_str().to_owned()),
            });
        }
    }
    let loaded = Loaded {
        companies: companies.len() as u64,
        users: users.len() as u64,
        ..Default::default()
    };
    bulk::insert_all(db, companies).await?;
    bulk::insert_all(db, users).await?;
    Ok(loaded)
}

/// Ids were given, not drawn from the sequences: move each past the highest id so that the
/// write paths keep inserting after the generated rows.
async fn restart_sequences(db: &DatabaseConnection) -> AppResult<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in [
        "companies",
        "users",
        "vendors",
        "products",
        "orders",
        "order_lines",
        "eta_changes",
        "shipments",
        "shipment_lines",
        "serial_numbers",
        "electronic_deliveries",
        "invoices",
        "invoice_lines",
        "order_events",
    ] {
        db.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 (SELECT coalesce(max(id), 1) FROM {table}))"
            ),
        ))
        .await?;
    }
    // The planner's statistics are still those of empty tables, and no page is marked
    // all-visible yet, which index-only scans need.
    db.execute_unprepared("VACUUM ANALYZE").await?;
    Ok(())
}

fn ids(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn at(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(hour % 24, minute % 60, 0).unwrap_or(NaiveTime::MIN);
    day.and_time(time).and_utc()
}

fn days(count: u64) -> Days {
    Days::new(count)
}

const COMPANY_WORDS: [&str; 16] = [
    "Noord", "Delta", "Polder", "Kust", "Rivier", "Brug", "Haven", "Duin", "Veld", "Berg", "Stad",
    "Molen", "Sluis", "Dijk", "Lande", "Oost",
];
const COMPANY_TRADES: [&str; 8] = [
    "IT",
    "Systems",
    "Networks",
    "Solutions",
    "Computers",
    "Automatisering",
    "ICT",
    "Digital",
];

fn company_name(id: i64) -> String {
    let index = usize::try_from(id).unwrap_or_default();
    format!(
        "{}{} {} {}",
        COMPANY_WORDS[index % COMPANY_WORDS.len()],
        COMPANY_WORDS[(index / COMPANY_WORDS.len()) % COMPANY_WORDS.len()].to_lowercase(),
        COMPANY_TRADES[index % COMPANY_TRADES.len()],
        if id % 3 == 0 { "B.V." } else { "Group" }
    )
}

const VENDORS: [&str; 20] = [
    "Lenovo",
    "HP",
    "Dell",
    "Cisco",
    "Microsoft",
    "Adobe",
    "Fortinet",
    "Logitech",
    "Samsung",
    "APC",
    "Ubiquiti",
    "VMware",
    "Sophos",
    "Synology",
    "Zebra",
    "Eaton",
    "Veeam",
    "Aruba",
    "Kaspersky",
    "Brother",
];
const CARRIERS: [(&str, &str); 4] = [
    ("DHL", "https://www.dhl.com/track?id="),
    ("UPS", "https://www.ups.com/track?tracknum="),
    ("DPD", "https://tracking.dpd.de/status/"),
    ("PostNL", "https://jouw.postnl.nl/track-and-trace/"),
];
const ETA_REASONS: [&str; 5] = [
    "Vendor lead time extended",
    "Allocation from the vendor",
    "Stock arrived early",
    "Customs delay",
    "Backorder at the vendor",
];

/// What a product is, as the order generator needs it.
#[derive(Clone, Copy)]
struct Item {
    kind: ProductKind,
    electronic: bool,
    unit_price_e4: i64,
    vendor: i64,
    software_after_hardware: bool,
}

struct Catalogue {
    vendors: u64,
    items: Vec<Item>,
}

impl Catalogue {
    fn new(sizes: Sizes) -> Self {
        let mut random = Random::new(0x00c0_ffee);
        let items = (1..=ids(sizes.products))
            .map(|id| {
                let vendor = (id - 1) % ids(sizes.vendors) + 1;
                let (kind, electronic, price_range) = match id % 20 {
                    0..=11 => (ProductKind::Hardware, false, (40, 3_000)),
                    12..=16 => (ProductKind::Software, id % 5 != 0, (10, 800)),
                    _ => (ProductKind::Service, true, (25, 500)),
                };
                Item {
                    kind,
                    electronic,
                    unit_price_e4: random.between(price_range.0, price_range.1) * 10_000
                        + random.between(0, 99) * 100,
                    vendor,
                    software_after_hardware: vendor % 5 == 0,
                }
            })
            .collect();
        Self {
            vendors: sizes.vendors,
            items,
        }
    }

    fn item(&self, product_id: i64) -> Item {
        self.items[usize::try_from(product_id - 1).unwrap_or_default()]
    }

    fn vendor_name(vendor: i64) -> String {
        let index = usize::try_from(vendor - 1).unwrap_or_default();
        let base = VENDORS[index % VENDORS.len()];
        match index / VENDORS.len() {
            0 => base.to_owned(),
            series => format!("{base} Distribution {series}"),
        }
    }

    fn vendor_rows(&self) -> Vec<vendor::ActiveModel> {
        (1..=ids(self.vendors))
            .map(|id| vendor::ActiveModel {
                id: Set(id),
                name: Set(Self::vendor_name(id)),
                software_after_hardware: Set(id % 5 == 0),
            })
            .collect()
    }

    fn product_rows(&self) -> Vec<product::ActiveModel> {
        (1_i64..)
            .zip(&self.items)
            .map(|(id, item)| {
                let (prefix, noun) = match item.kind {
                    ProductKind::Hardware => {
                        ("HW", ["Notebook", "Switch", "Monitor", "Dock", "UPS"])
                    }
                    ProductKind::Software => (
                        "SW",
                        ["Licence", "Subscription", "Suite", "Backup", "Antivirus"],
                    ),
                    ProductKind::Service => (
                        "SV",
                        [
                            "Care Pack",
                            "Installation",
                            "Support",
                            "Warranty",
                            "Training",
                        ],
                    ),
                };
                let noun = noun[usize::try_from(id).unwrap_or_default() % noun.len()];
                product::ActiveModel {
                    id: Set(id),
                    sku: Set(format!("{prefix}-{id:07}")),
                    description: Set(format!(
                        "{} {noun} {}",
                        Self::vendor_name(item.vendor),
                        100 + id % 900
                    )),
                    kind: Set(item.kind),
                    delivery_method: Set(if item.electronic {
                        DeliveryMethod::Electronic
                    } else {
                        DeliveryMethod::Physical
                    }),
                    vendor_id: Set(item.vendor),
                }
            })
            .collect()
    }
}

/// SplitMix64: small, fast and the same on every platform, which is all a data set needs.
struct Random(u64);

impl Random {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5851_f42d_4c95_7f2d)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A whole number in `low..=high`.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        let span = u64::try_from(high - low + 1).unwrap_or(1).max(1);
        low + ids(self.next() % span)
    }

    fn chance(&mut self, probability: f64) -> bool {
        // 53 random bits as a fraction in [0, 1).
        ((self.next() >> 11) as f64) / ((1_u64 << 53) as f64) < probability
    }
}

/// The rows of one chunk of orders, built in memory and loaded in one transaction.
#[derive(Default)]
struct Rows {
    orders: Vec<order::ActiveModel>,
    lines: Vec<order_line::ActiveModel>,
    eta_changes: Vec<eta_change::ActiveModel>,
    shipments: Vec<shipment::ActiveModel>,
    shipment_lines: Vec<shipment_line::ActiveModel>,
    serials: Vec<serial_number::ActiveModel>,
    electronic_deliveries: Vec<electronic_delivery::ActiveModel>,
    invoices: Vec<invoice::ActiveModel>,
    invoice_lines: Vec<invoice_line::ActiveModel>,
    events: Vec<order_event::ActiveModel>,
}

/// A quantity of the order's line at this index, picked for a shipment.
type Picked = (usize, i32);

/// One line while its order is being built.
struct Draft {
    id: i64,
    product_id: i64,
    item: Item,
    quantity: i32,
    cancelled: bool,
    eta: Option<NaiveDate>,
    progress: LineProgress,
}

impl Rows {
    fn build(catalogue: &Catalogue, sizes: Sizes, ids: std::ops::RangeInclusive<u64>) -> Self {
        let mut rows = Self::default();
        for id in ids {
            rows.order(catalogue, sizes, self::ids(id));
        }
        rows
    }

    async fn load(self, db: &DatabaseConnection) -> AppResult<Loaded> {
        let loaded = Loaded {
            orders: self.orders.len() as u64,
            lines: self.lines.len() as u64,
            eta_changes: self.eta_changes.len() as u64,
            shipments: self.shipments.len() as u64,
            serials: self.serials.len() as u64,
            electronic_deliveries: self.electronic_deliveries.len() as u64,
            invoices: self.invoices.len() as u64,
            events: self.events.len() as u64,
            ..Default::default()
        };
        let txn = db.begin().await?;
        bulk::insert_all(&txn, self.orders).await?;
        bulk::insert_all(&txn, self.lines).await?;
        bulk::insert_all(&txn, self.eta_changes).await?;
        bulk::insert_all(&txn, self.shipments).await?;
        bulk::insert_all(&txn, self.shipment_lines).await?;
        bulk::insert_all(&txn, self.serials).await?;
        bulk::insert_all(&txn, self.electronic_deliveries).await?;
        bulk::insert_all(&txn, self.invoices).await?;
        bulk::insert_all(&txn, self.invoice_lines).await?;
        bulk::insert_all(&txn, self.events).await?;
        txn.commit().await?;
        Ok(loaded)
    }

    /// Order `id` with everything that has happened to it by the reference day.
    fn order(&mut self, catalogue: &Catalogue, sizes: Sizes, id: i64) {
        let mut random = Random::new(u64::try_from(id).unwrap_or_default());
        let company_id = (id - 1) % ids(sizes.companies) + 1;
        let age = random.between(0, ids(HISTORY_DAYS)) as u64;
        let order_date = REFERENCE_DAY - days(age);
        let received_at = at(
            order_date,
            8 + random.between(0, 9) as u32,
            random.between(0, 59) as u32,
        );
        let cancelled_at = (age > 3 && random.chance(0.02))
            .then(|| received_at + TimeDelta::hours(random.between(4, 72)));
        let pending = cancelled_at.is_none()
            && ((age <= 3 && random.chance(0.4)) || (age <= 30 && random.chance(0.01)));
        let confirmed_at = (!pending)
            .then(|| received_at + TimeDelta::hours(random.between(1, 40)))
            .filter(|confirmed| confirmed.date_naive() <= REFERENCE_DAY);
        let confirmed_day = confirmed_at.map(|time| time.date_naive());
        // How far the order has come: older orders further, and a share of every age waits
        // on backorders, so that about 60% of all lines have shipped.
        let (all_done, some_done) = match age {
            61.. => (0.55, 0.15),
            15..=60 => (0.35, 0.35),
            _ => (0.05, 0.15),
        };
        let share_done = if random.chance(all_done) {
            1.0
        } else if random.chance(some_done / (1.0 - all_done)) {
            0.5
        } else {
            0.0
        };
        let mut events: Vec<(EventKind, Option<i64>, DateTime<Utc>)> = Vec::new();
        let mut touched = confirmed_at.or(cancelled_at).unwrap_or(received_at);

        let line_count = if random.chance(0.05) {
            8
        } else {
            random.between(1, 7)
        };
        let mut drafts: Vec<Draft> = (0..line_count)
            .map(|index| {
                let product_id = random.between(1, ids(sizes.products));
                let item = catalogue.item(product_id);
                let quantity = match item.kind {
                    ProductKind::Hardware => random.between(1, 13),
                    ProductKind::Software => random.between(1, 50),
                    ProductKind::Service => random.between(1, 3),
                } as i32;
                Draft {
                    id: id * 8 + index,
                    product_id,
                    item,
                    quantity,
                    cancelled: confirmed_at.is_some() && random.chance(0.02),
                    eta: None,
                    progress: LineProgress::ordered(quantity),
                }
            })
            .collect();

        // ETAs and their history: set at confirmation, moved now and then.
        for draft in &mut drafts {
            let Some(confirmed_day) = confirmed_day else {
                continue;
            };
            if draft.cancelled || cancelled_at.is_some() {
                continue;
            }
            let mut eta =
                (!random.chance(0.1)).then(|| confirmed_day + days(random.between(5, 30) as u64));
            let mut change_index = 0;
            let mut changed_at = confirmed_at.unwrap_or(received_at);
            while change_index < 3 && random.chance(if change_index == 0 { 0.25 } else { 0.3 }) {
                changed_at += TimeDelta::hours(random.between(12, 24 * 10));
                if changed_at.date_naive() > REFERENCE_DAY {
                    break;
                }
                let moved = match eta {
                    None => Some(changed_at.date_naive() + days(random.between(3, 25) as u64)),
                    Some(_) if random.chance(0.05) => None,
                    Some(current) if random.chance(0.2) => {
                        Some(current - days(random.between(1, 4) as u64))
                    }
                    Some(current) => Some(current + days(random.between(3, 20) as u64)),
                };
                self.eta_change(draft.id, change_index, eta, moved, changed_at, &mut random);
                events.push((EventKind::EtaChanged, Some(draft.id), changed_at));
                touched = touched.max(changed_at);
                eta = moved;
                change_index += 1;
            }
            draft.eta = eta;
        }

        // Physical lines ship in one shipment, some in two.
        let mut shipped_lines: Vec<Picked> = Vec::new();
        for (index, draft) in drafts.iter().enumerate() {
            if confirmed_at.is_none() || draft.cancelled || draft.item.electronic {
                continue;
            }
            if random.chance(share_done) {
                let quantity = if draft.quantity > 1 && random.chance(0.08) {
                    draft.quantity - random.between(1, i64::from(draft.quantity) - 1) as i32
                } else {
                    draft.quantity
                };
                shipped_lines.push((index, quantity));
            }
        }
        let first_ship = confirmed_day.map(|day| day + days(random.between(1, 25) as u64));
        let mut shipments: Vec<(i64, NaiveDate, Vec<Picked>)> = Vec::new();
        if let Some(first_ship) = first_ship.filter(|day| *day <= REFERENCE_DAY) {
            let second_ship = first_ship + days(random.between(2, 10) as u64);
            let split = second_ship <= REFERENCE_DAY
                && random.chance(0.35)
                && (shipped_lines.len() > 1 || shipped_lines.iter().any(|(_, q)| *q > 1));
            let mut first = Vec::new();
            let mut second = Vec::new();
            for (position, (index, quantity)) in shipped_lines.iter().copied().enumerate() {
                if !split {
                    first.push((index, quantity));
                } else if quantity > 1 && position == 0 {
                    let early = random.between(1, i64::from(quantity) - 1) as i32;
                    first.push((index, early));
                    second.push((index, quantity - early));
                } else if position % 2 == 0 {
                    first.push((index, quantity));
                } else {
                    second.push((index, quantity));
                }
            }
            for (number, (day, lines)) in [(first_ship, first), (second_ship, second)]
                .into_iter()
                .enumerate()
            {
                if !lines.is_empty() {
                    shipments.push((id * 2 + number as i64, day, lines));
                }
            }
        }
        for (shipment_id, ship_day, lines) in shipments {
            let delivered_day = ship_day + days(random.between(1, 3) as u64);
            let delivered_at = (delivered_day < REFERENCE_DAY || random.chance(0.3))
                .then(|| at(delivered_day, 14, random.between(0, 59) as u32))
                .filter(|time| time.date_naive() <= REFERENCE_DAY);
            let (carrier, tracking_url) = CARRIERS[(shipment_id % 4) as usize];
            let tracking = format!("{}{:012}", &carrier[..2].to_uppercase(), shipment_id);
            self.shipments.push(shipment::ActiveModel {
                id: Set(shipment_id),
                shipment_number: Set(format!("SH{shipment_id:09}")),
                order_id: Set(id),
                ship_date: Set(ship_day),
                carrier: Set(Some(carrier.to_owned())),
                tracking_number: Set(Some(tracking.clone())),
                tracking_url: Set(Some(format!("{tracking_url}{tracking}"))),
                delivered_at: Set(delivered_at),
            });
            let shipped_at = at(ship_day, 17, 0);
            events.push((EventKind::Shipped, None, shipped_at));
            touched = touched.max(shipped_at);
            if let Some(delivered_at) = delivered_at {
                events.push((EventKind::Delivered, None, delivered_at));
                touched = touched.max(delivered_at);
            }
            for (position, (index, quantity)) in lines.into_iter().enumerate() {
                let draft = &mut drafts[index];
                let shipment_line_id = shipment_id * 8 + position as i64;
                self.shipment_lines.push(shipment_line::ActiveModel {
                    id: Set(shipment_line_id),
                    shipment_id: Set(shipment_id),
                    order_line_id: Set(draft.id),
                    quantity: Set(quantity),
                });
                if draft.item.kind == ProductKind::Hardware {
                    for unit in 0..i64::from(quantity) {
                        let serial_id = shipment_line_id * 16 + unit;
                        self.serials.push(serial_number::ActiveModel {
                            id: Set(serial_id),
                            serial: Set(format!(
                                "S{:03}X{serial_id:011}",
                                draft.item.vendor % 1000
                            )),
                            shipment_line_id: Set(shipment_line_id),
                        });
                    }
                }
                draft.progress.shipped(quantity, delivered_at.is_some());
            }
        }

        // E-mailed lines, after the hardware where the vendor says so.
        let hardware_shipped = drafts
            .iter()
            .filter(|draft| draft.item.kind == ProductKind::Hardware && !draft.cancelled)
            .all(|draft| draft.progress.0.is_fully_shipped());
        let company_domain = customer_number(company_id).to_lowercase();
        for draft in &mut drafts {
            let Some(confirmed_at) = confirmed_at else {
                continue;
            };
            if draft.cancelled || !draft.item.electronic || !random.chance(share_done) {
                continue;
            }
            if draft.item.kind == ProductKind::Software
                && draft.item.software_after_hardware
                && !hardware_shipped
            {
                continue;
            }
            let delivered_at = confirmed_at + TimeDelta::hours(random.between(2, 24 * 5));
            if delivered_at.date_naive() > REFERENCE_DAY {
                continue;
            }
            self.electronic_deliveries
                .push(electronic_delivery::ActiveModel {
                    id: Set(draft.id),
                    order_line_id: Set(draft.id),
                    delivered_at: Set(delivered_at),
                    recipient_email: Set(format!("licences@{company_domain}.example")),
                    quantity: Set(draft.quantity),
                });
            draft.progress.emailed(draft.quantity);
            events.push((EventKind::Delivered, Some(draft.id), delivered_at));
            touched = touched.max(delivered_at);
        }

        // One invoice for what was delivered, a few days after the last delivery.
        let delivered_any = drafts.iter().any(|draft| draft.progress.0.delivered > 0);
        let invoice_day = touched.date_naive() + days(random.between(1, 5) as u64);
        if delivered_any && invoice_day <= REFERENCE_DAY && random.chance(0.85) {
            self.invoices.push(invoice::ActiveModel {
                id: Set(id),
                invoice_number: Set(format!("INV{id:09}")),
                order_id: Set(id),
                invoice_date: Set(invoice_day),
                currency: Set("EUR".to_owned()),
            });
            for draft in drafts
                .iter_mut()
                .filter(|draft| draft.progress.0.delivered > 0)
            {
                let quantity = draft.progress.0.delivered;
                self.invoice_lines.push(invoice_line::ActiveModel {
                    id: Set(draft.id),
                    invoice_id: Set(id),
                    order_line_id: Set(draft.id),
                    quantity: Set(quantity),
                    amount_e4: Set(
                        amount_e4(draft.item.unit_price_e4, quantity).unwrap_or_default()
                    ),
                });
                draft.progress.invoiced(quantity);
            }
            let invoiced_at = at(invoice_day, 7, 30);
            events.push((EventKind::Invoiced, None, invoiced_at));
            touched = touched.max(invoiced_at);
        }

        let state = OrderState {
            confirmed: confirmed_at.is_some(),
            cancelled: cancelled_at.is_some(),
        };
        let facts: Vec<LineFacts> = drafts
            .iter()
            .map(|draft| LineFacts {
                cancelled: draft.cancelled,
                progress: draft.progress.0,
            })
            .collect();
        if let Some(changed_at) = confirmed_at.or(cancelled_at) {
            events.insert(0, (EventKind::StatusChanged, None, changed_at));
        }
        self.orders.push(order::ActiveModel {
            id: Set(id),
            order_number: Set(format!("SO{id:09}")),
            company_id: Set(company_id),
            customer_reference: (random.chance(0.7))
                .then(|| format!("PO-{company_id}-{}", random.between(10_000, 99_999)))
                .map_or(Set(None), |reference| Set(Some(reference))),
            order_date: Set(order_date),
            requested_delivery_date: Set(random
                .chance(0.3)
                .then(|| order_date + days(random.between(7, 30) as u64))),
            currency: Set("EUR".to_owned()),
            status: Set(order_status(state, &facts)),
            received_at: Set(received_at),
            confirmed_at: Set(confirmed_at),
            cancelled_at: Set(cancelled_at),
            updated_at: Set(touched),
        });
        for (line_number, draft) in (1..).zip(&drafts) {
            self.lines.push(order_line::ActiveModel {
                id: Set(draft.id),
                order_id: Set(id),
                line_number: Set(line_number),
                product_id: Set(draft.product_id),
                quantity: Set(draft.quantity),
                unit_price_e4: Set(draft.item.unit_price_e4),
                currency: Set("EUR".to_owned()),
                eta: Set(draft.eta),
                cancelled_at: Set(draft
                    .cancelled
                    .then(|| confirmed_at.unwrap_or(received_at) + TimeDelta::hours(6))),
                shipped_quantity: Set(draft.progress.0.shipped),
                delivered_quantity: Set(draft.progress.0.delivered),
                invoiced_quantity: Set(draft.progress.0.invoiced),
            });
        }
        for (position, (kind, line, occurred_at)) in (0..).zip(events) {
            self.events.push(order_event::ActiveModel {
                id: Set(id * 64 + position),
                order_id: Set(id),
                company_id: Set(company_id),
                order_line_id: Set(line),
                kind: Set(kind.as_str().to_owned()),
                occurred_at: Set(occurred_at),
                customer_visible: Set(
                    confirmed_at.is_some_and(|confirmed| occurred_at >= confirmed)
                ),
            });
        }
    }

    fn eta_change(
        &mut self,
        line_id: i64,
        index: i64,
        previous: Option<NaiveDate>,
        new: Option<NaiveDate>,
        changed_at: DateTime<Utc>,
        random: &mut Random,
    ) {
        let reason = ETA_REASONS[random.between(0, ETA_REASONS.len() as i64 - 1) as usize];
        self.eta_changes.push(eta_change::ActiveModel {
            id: Set(line_id * 4 + index),
            order_line_id: Set(line_id),
            previous_eta: Set(previous),
            new_eta: Set(new),
            changed_at: Set(changed_at),
            reason: Set(Some(reason.to_owned())),
        });
    }
}
