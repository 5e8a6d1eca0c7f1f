//! The demo data set of `serve --demo`: three resellers, two vendors and sixty orders whose
//! histories are replayed through `store::writes`, the path the API's mutations take, so the
//! demo can never show a state that real data could not reach.

use std::cmp::Reverse;

use anyhow::Context;
use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use rust_decimal::Decimal;
use sea_orm::DatabaseConnection;

use crate::{
    auth::password::hash_password,
    domain::account::Role,
    domain::{
        business_days::add_business_days,
        eta::{DeliveryMethod, ProductKind},
        language::Language,
    },
    store::{
        Scope,
        accounts::{self, NewUser},
        orders::{self, OrderFilter},
        writes::{
            self, ElectronicDeliveryInput, EtaUpdate, InvoiceInput, LineInput, OrderInput,
            ProductInput, ShipmentInput, ShipmentLineInput, VendorInput,
        },
    },
};
use cast::{BASKETS, CARRIERS, CATALOGUE, PLAN, RESELLERS, SLIP_REASONS, VENDORS};

/// Shared by every demo account, so whoever gives the demo can switch roles without a list.
const DEMO_PASSWORD: &str = "demo-portal-2026";

/// One demo account, printed by `serve --demo`.
#[derive(Clone, Debug)]
pub struct DemoSignIn {
    /// The sign-in e-mail address.
    pub email: String,
    /// The password in clear text: these accounts exist only to be shown.
    pub password: String,
    /// What the account may do.
    pub role: Role,
    /// The company's name; `None` for back-office staff.
    pub company: Option<String>,
}

struct Reseller {
    number: &'static str,
    name: &'static str,
    domain: &'static str,
    admin: &'static str,
    user: &'static str,
}

struct Vendor {
    name: &'static str,
    software_after_hardware: bool,
}

struct Product {
    sku: &'static str,
    description: &'static str,
    kind: ProductKind,
    vendor: &'static Vendor,
    price_cents: i64,
}

/// How far an order's history has got by today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Pending,
    Cancelled,
    Confirmed,
    Partial,
    Fulfilled,
}

/// `count` orders that reach `stage`, placed evenly from `oldest` to `youngest` calendar days
/// ago, optionally with their last line cancelled.
struct PlanRow(Stage, u64, u64, u64, bool);

/// The fixed cast of the demo, kept as one-line rows so that it reads as a table.
#[rustfmt::skip]
mod cast {
    use super::{PlanRow, Product, Reseller, Stage, Vendor};
    use crate::domain::eta::ProductKind::{Hardware, Service, Software};

    pub(super) const RESELLERS: [Reseller; 3] = [
        Reseller { number: "C-10001", name: "Van Dijk ICT Solutions B.V.", domain: "vandijk-ict.example", admin: "Sanne van Dijk", user: "Joris Bakker" },
        Reseller { number: "C-10002", name: "De Smet Netwerken NV", domain: "desmet-netwerken.example", admin: "Lies De Smet", user: "Pieter Claes" },
        Reseller { number: "C-10003", name: "Oranje Digitaal B.V.", domain: "oranjedigitaal.example", admin: "Mark Jansen", user: "Eva Visser" },
    ];

    /// A firewall maker that releases subscriptions only once the appliances have shipped.
    const BASTION: Vendor = Vendor { name: "Bastion Networks", software_after_hardware: true };
    const ORION: Vendor = Vendor { name: "Orion Systems", software_after_hardware: false };
    pub(super) const VENDORS: [&Vendor; 2] = [&BASTION, &ORION];

    const FW60F: Product = Product { sku: "BN-FW60F", description: "Bastion FW-60F next-generation firewall appliance", kind: Hardware, vendor: &BASTION, price_cents: 48_900 };
    const FW100F: Product = Product { sku: "BN-FW100F", description: "Bastion FW-100F next-generation firewall appliance", kind: Hardware, vendor: &BASTION, price_cents: 234_900 };
    const UTP60F: Product = Product { sku: "BN-UTP60F-1Y", description: "Unified threat protection for FW-60F, 1 year", kind: Software, vendor: &BASTION, price_cents: 31_250 };
    const UTP100F: Product = Product { sku: "BN-UTP100F-1Y", description: "Unified threat protection for FW-100F, 1 year", kind: Software, vendor: &BASTION, price_cents: 118_700 };
    const SUPPORT: Product = Product { sku: "BN-SUP-8X5-1Y", description: "Bastion 8x5 support contract, 1 year", kind: Service, vendor: &BASTION, price_cents: 9_500 };
    const NOTEBOOK: Product = Product { sku: "OR-NB14-G5", description: "Orion ProBook 14 G5 notebook, 16 GB RAM, 512 GB SSD", kind: Hardware, vendor: &ORION, price_cents: 104_900 };
    const DOCK: Product = Product { sku: "OR-DOCK-C2", description: "Orion USB-C docking station, 100 W", kind: Hardware, vendor: &ORION, price_cents: 18_995 };
    const MONITOR: Product = Product { sku: "OR-MON27Q", description: "Orion 27-inch QHD monitor, height-adjustable", kind: Hardware, vendor: &ORION, price_cents: 27_900 };
    const DEVICE_MANAGEMENT: Product = Product { sku: "OR-MDM-1Y", description: "Orion device management, per device, 1 year", kind: Software, vendor: &ORION, price_cents: 3_600 };
    const CARE_PACK: Product = Product { sku: "OR-CARE-3Y", description: "Orion next-business-day on-site care, 3 years", kind: Service, vendor: &ORION, price_cents: 11_900 };
    pub(super) const CATALOGUE: [&Product; 10] = [&FW60F, &FW100F, &UTP60F, &UTP100F, &SUPPORT, &NOTEBOOK, &DOCK, &MONITOR, &DEVICE_MANAGEMENT, &CARE_PACK];

    /// What resellers order together: each product with its units per step of order size.
    pub(super) const BASKETS: [&[(&Product, i32)]; 5] = [
        &[(&FW60F, 1), (&UTP60F, 1), (&SUPPORT, 1)],
        &[(&NOTEBOOK, 2), (&DOCK, 2), (&DEVICE_MANAGEMENT, 2), (&CARE_PACK, 2)],
        &[(&FW100F, 1), (&UTP100F, 1), (&SUPPORT, 1)],
        &[(&MONITOR, 3), (&DOCK, 1)],
        &[(&UTP60F, 2), (&DEVICE_MANAGEMENT, 5)],
    ];

    pub(super) const SLIP_REASONS: [&str; 3] = ["Vendor lead time extended", "Component shortage at the vendor", "Vendor production backlog"];
    /// Carrier and tracking-number prefix.
    pub(super) const CARRIERS: [(&str, &str); 4] = [("PostNL", "3SDIST"), ("DHL Express", "JJD00"), ("DPD", "0534"), ("UPS", "1Z9A7")];

    /// The ages leave each history room to happen before today: hardware ships at most ~24
    /// days after the order, and a fulfilled order is delivered and invoiced within ~35.
    pub(super) const PLAN: [PlanRow; 7] = [
        PlanRow(Stage::Fulfilled, 20, 92, 38, false),
        PlanRow(Stage::Fulfilled, 1, 64, 64, true),
        PlanRow(Stage::Cancelled, 4, 80, 10, false),
        PlanRow(Stage::Partial, 13, 48, 28, false),
        PlanRow(Stage::Partial, 1, 36, 36, true),
        // Five days and more leave room for the two days an approval may take.
        PlanRow(Stage::Confirmed, 14, 30, 5, false),
        // Seven calendar days are five business days: the oldest four are always overdue.
        PlanRow(Stage::Pending, 7, 14, 1, false),
    ];
}

/// One order of the plan; `k`, its rank by age, drives every variation deterministically.
struct Plan {
    k: usize,
    today: NaiveDate,
    order_date: NaiveDate,
    stage: Stage,
    cancel_line: bool,
}

impl Plan {
    fn seq(&self) -> usize {
        700_001 + self.k
    }

    fn number(&self) -> String {
        format!("SO-{}", self.seq())
    }

    fn reseller(&self) -> &'static Reseller {
        &RESELLERS[self.k % RESELLERS.len()]
    }

    /// The vendor has not given a date for the first line when the order comes in.
    fn eta_unknown(&self) -> bool {
        self.k % 5 == 2
    }

    /// The vendor moves the first line's ETA a week out after confirmation.
    fn slips(&self) -> bool {
        self.k % 4 == 1
    }

    /// The vendor lets its date pass without a word, which puts the order at risk.
    fn stale(&self) -> bool {
        self.k.is_multiple_of(4)
    }

    /// The vendor's first date for the whole order. Orders still waiting for goods mostly
    /// have one ahead of today, as a quoted lead time would give.
    fn promised(&self) -> NaiveDate {
        let quoted = add_business_days(self.order_date, 4 + 2 * (self.k % 4) as u32);
        let waiting = matches!(self.stage, Stage::Pending | Stage::Confirmed);
        if waiting && !self.stale() {
            quoted.max(add_business_days(self.today, 1 + (self.k % 8) as u32))
        } else {
            quoted
        }
    }
}

struct DemoLine {
    number: i32,
    product: &'static Product,
    quantity: i32,
    /// After any slip: when the goods really reach the warehouse.
    eta: NaiveDate,
}

impl DemoLine {
    fn is_hardware(&self) -> bool {
        self.product.kind == ProductKind::Hardware
    }

    /// Software that its vendor releases only once the order's hardware has shipped.
    fn held(&self) -> bool {
        self.product.kind == ProductKind::Software && self.product.vendor.software_after_hardware
    }
}

struct Step {
    at: DateTime<Utc>,
    order: String,
    action: Action,
}

enum Action {
    Place(OrderInput),
    Confirm,
    Cancel,
    CancelLine(i32),
    Etas(Vec<EtaUpdate>),
    Ship(ShipmentInput),
    Deliver(String),
    Email(ElectronicDeliveryInput),
    Invoice(InvoiceInput),
}

/// The steps of one order's history, in the order they happened.
struct Life {
    order: String,
    steps: Vec<Step>,
}

impl Life {
    fn push(&mut self, at: DateTime<Utc>, action: Action) {
        let order = self.order.clone();
        self.steps.push(Step { at, order, action });
    }
}

/// Fills an EMPTY database (no companies, no orders) and returns the sign-ins; on a database
/// that already has data it does nothing and returns `Ok(None)`. Every date is relative to
/// `today`, and the same `today` always gives the same data. Not one transaction: should a
/// write fail half-way, start again from an empty database.
pub async fn seed(
    db: &DatabaseConnection,
    today: NaiveDate,
) -> anyhow::Result<Option<Vec<DemoSignIn>>> {
    let companies = accounts::companies(db).await.context("listing companies")?;
    let orders = orders::count(db, Scope::Everything, &OrderFilter::default())
        .await
        .context("counting orders")?;
    if !companies.is_empty() || orders > 0 {
        return Ok(None);
    }
    let sign_ins = create_accounts(db, at(today - Days::new(120), 9, 0)).await?;
    create_catalogue(db).await?;
    for step in timeline(today) {
        apply(db, step).await?;
    }
    Ok(Some(sign_ins))
}

async fn create_accounts(
    db: &DatabaseConnection,
    since: DateTime<Utc>,
) -> anyhow::Result<Vec<DemoSignIn>> {
    let staff = "backoffice@distributor.example".to_owned();
    let staff = create_user(db, staff, "Order management", Role::BackOffice, None, since).await?;
    let mut sign_ins = vec![staff];
    for reseller in &RESELLERS {
        let company = accounts::upsert_company(db, reseller.name, reseller.number, since)
            .await
            .with_context(|| format!("creating demo company {}", reseller.number))?;
        let people = [
            ("admin", reseller.admin, Role::CustomerAdmin),
            ("purchasing", reseller.user, Role::CustomerUser),
        ];
        for (mailbox, name, role) in people {
            let email = format!("{mailbox}@{}", reseller.domain);
            let company = Some((company.id, reseller.name));
            sign_ins.push(create_user(db, email, name, role, company, since).await?);
        }
    }
    Ok(sign_ins)
}

async fn create_user(
    db: &DatabaseConnection,
    email: String,
    name: &str,
    role: Role,
    company: Option<(i64, &str)>,
    since: DateTime<Utc>,
) -> anyhow::Result<DemoSignIn> {
    // Argon2 is deliberately slow: keep it off the async workers.
    let hash = tokio::task::spawn_blocking(|| hash_password(DEMO_PASSWORD))
        .await
        .context("the password hashing task failed")?
        .context("hashing the demo password")?;
    let new = NewUser {
        email: &email,
        name: Some(name),
        role,
        company_id: company.map(|(id, _)| id),
        password_hash: Some(hash),
        language: Language::default(),
    };
    accounts::upsert_user(db, new, since)
        .await
        .with_context(|| format!("creating demo user {email}"))?;
    let company = company.map(|(_, name)| name.to_owned());
    Ok(DemoSignIn {
        email,
        password: DEMO_PASSWORD.to_owned(),
        role,
        company,
    })
}

async fn create_catalogue(db: &DatabaseConnection) -> anyhow::Result<()> {
    for vendor in VENDORS {
        let input = VendorInput {
            name: vendor.name.to_owned(),
            software_after_hardware: vendor.software_after_hardware,
        };
        writes::upsert_vendor(db, input)
            .await
            .with_context(|| format!("creating demo vendor {}", vendor.name))?;
    }
    for product in CATALOGUE {
        let input = ProductInput {
            sku: product.sku.to_owned(),
            description: product.description.to_owned(),
            kind: product.kind,
            // Only hardware travels by carrier; licences and contracts arrive by e-mail.
            delivery_method: match product.kind {
                ProductKind::Hardware => DeliveryMethod::Physical,
                ProductKind::Software | ProductKind::Service => DeliveryMethod::Electronic,
            },
            vendor_name: product.vendor.name.to_owned(),
        };
        writes::upsert_product(db, input)
            .await
            .with_context(|| format!("creating demo product {}", product.sku))?;
    }
    Ok(())
}

/// Every order's history, merged into one chronological sequence (so that whatever follows
/// write order, such as an event feed, reads as it would have happened) and cut off at the
/// start of `today`, so that nothing lies in the future.
fn timeline(today: NaiveDate) -> Vec<Step> {
    let mut orders: Vec<(u64, &PlanRow)> = PLAN
        .iter()
        .flat_map(|row| {
            let PlanRow(_, count, oldest, youngest, _) = *row;
            let age = move |index| oldest - (oldest - youngest) * index / (count - 1).max(1);
            (0..count).map(move |index| (age(index), row))
        })
        .collect();
    // Order numbers then grow with order dates, as in an ERP.
    orders.sort_by_key(|(age, _)| Reverse(*age));
    let mut serials = 0;
    let mut steps = Vec::new();
    for (k, (age, &PlanRow(stage, _, _, _, cancel_line))) in orders.into_iter().enumerate() {
        let order_date = working_day_on_or_before(today - Days::new(age));
        let plan = Plan {
            k,
            today,
            order_date,
            stage,
            cancel_line,
        };
        steps.extend(life(&plan, &mut serials));
    }
    let cutoff = at(today, 0, 0);
    steps.retain(|step| step.at < cutoff);
    // Stable, so steps at the same instant keep their causal order.
    steps.sort_by_key(|step| step.at);
    // Invoice numbers run through the whole business, so they are given in date order.
    let invoices = steps.iter_mut().filter_map(|step| match &mut step.action {
        Action::Invoice(input) => Some(input),
        _ => None,
    });
    for (input, n) in invoices.zip(1..) {
        input.invoice_number = format!("INV-{}", 260_000 + n);
    }
    steps
}

fn life(plan: &Plan, serials: &mut u32) -> Vec<Step> {
    let mut lines = order_lines(plan);
    let mut life = Life {
        order: plan.number(),
        steps: Vec::new(),
    };
    let received = at(plan.order_date, 8, (plan.k as i64 * 37) % 480);
    life.push(received, Action::Place(order_input(plan, &lines)));
    // Order management approves within two business days, after the day's intake.
    let confirmed = add_business_days(plan.order_date, (plan.k % 3) as u32);
    match plan.stage {
        Stage::Pending => {}
        // Half are duplicates caught before approval; the customer withdrew the others.
        Stage::Cancelled if plan.k.is_multiple_of(2) => {
            life.push(
                at(add_business_days(plan.order_date, 1), 10, 0),
                Action::Cancel,
            );
        }
        Stage::Cancelled => {
            life.push(at(confirmed, 16, 30), Action::Confirm);
            life.push(at(add_business_days(confirmed, 2), 10, 0), Action::Cancel);
        }
        Stage::Confirmed | Stage::Partial | Stage::Fulfilled => {
            life.push(at(confirmed, 16, 30), Action::Confirm);
            if plan.cancel_line
                && let Some(line) = lines.pop()
            {
                let day = add_business_days(confirmed, 1);
                life.push(at(day, 11, 0), Action::CancelLine(line.number));
            }
            eta_history(&mut life, plan, &lines, confirmed);
            if plan.stage != Stage::Confirmed {
                fulfilment(&mut life, plan, &lines, serials);
            }
        }
    }
    life.steps
}

fn order_lines(plan: &Plan) -> Vec<DemoLine> {
    let size = 2 + (plan.k % 3) as i32;
    let promised = plan.promised();
    let basket = BASKETS[(plan.k + plan.k / 5) % BASKETS.len()];
    let lines = basket.iter().zip(1..).map(|(&(product, units), number)| {
        let slipped = number == 1 && plan.slips();
        let eta = if slipped {
            add_business_days(promised, 5)
        } else {
            promised
        };
        DemoLine {
            number,
            product,
            quantity: size * units,
            eta,
        }
    });
    lines.collect()
}

fn order_input(plan: &Plan, lines: &[DemoLine]) -> OrderInput {
    let (k, order_date) = (plan.k, plan.order_date);
    let lines = lines.iter().map(|line| LineInput {
        line_number: line.number,
        sku: line.product.sku.to_owned(),
        quantity: line.quantity,
        unit_price: Decimal::new(line.product.price_cents, 2),
        eta: (line.number != 1 || !plan.eta_unknown()).then(|| plan.promised()),
    });
    OrderInput {
        order_number: plan.number(),
        customer_number: plan.reseller().number.to_owned(),
        customer_reference: (k % 7 != 3)
            .then(|| format!("PO-{}-{:04}", order_date.year(), 400 + (k * 53) % 500)),
        order_date,
        requested_delivery_date: k
            .is_multiple_of(3)
            .then(|| add_business_days(order_date, 15)),
        currency: "EUR".to_owned(),
        lines: lines.collect(),
    }
}

fn eta_history(life: &mut Life, plan: &Plan, lines: &[DemoLine], confirmed: NaiveDate) {
    let Some(first) = lines.first() else { return };
    let update =
        |eta: NaiveDate, reason: &str| Action::Etas(vec![eta_update(plan, first, eta, reason)]);
    if plan.eta_unknown() {
        // A merely confirmed order keeps its unknown ETA: the vendor has not answered yet.
        if plan.stage == Stage::Confirmed {
            return;
        }
        let known = update(plan.promised(), "Vendor confirmed the delivery date");
        life.push(at(add_business_days(confirmed, 1), 14, 0), known);
    }
    if plan.slips() {
        let slip = update(first.eta, SLIP_REASONS[plan.k % SLIP_REASONS.len()]);
        life.push(at(add_business_days(confirmed, 2), 10, 0), slip);
    }
}

fn eta_update(plan: &Plan, line: &DemoLine, eta: NaiveDate, reason: &str) -> EtaUpdate {
    EtaUpdate {
        order_number: plan.number(),
        line_number: line.number,
        eta: Some(eta),
        reason: Some(reason.to_owned()),
    }
}

/// Shipments, e-mail deliveries and invoices of a partially or wholly fulfilled order.
fn fulfilment(life: &mut Life, plan: &Plan, lines: &[DemoLine], serials: &mut u32) {
    let hardware: Vec<&DemoLine> = lines.iter().filter(|line| line.is_hardware()).collect();
    // Without hardware in the order, nothing holds the software back.
    let release = if hardware.is_empty() {
        Some(DateTime::<Utc>::MIN_UTC)
    } else {
        ship_hardware(life, plan, lines, &hardware, serials)
    };
    let mut emailed = Vec::new();
    let mut last = None;
    for line in lines.iter().filter(|line| !line.is_hardware()) {
        let mut when = at(line.eta, 10, 0);
        if line.held() {
            let Some(release) = release else { continue };
            when = when.max(release + TimeDelta::hours(1));
        }
        life.push(
            when,
            Action::Email(ElectronicDeliveryInput {
                order_number: plan.number(),
                line_number: line.number,
                quantity: line.quantity,
                recipient_email: format!("admin@{}", plan.reseller().domain),
                delivered_at: when,
            }),
        );
        emailed.push((line.number, line.quantity));
        last = last.max(Some(when.date_naive()));
    }
    if plan.stage == Stage::Fulfilled
        && let Some(day) = last
    {
        invoice(life, add_business_days(day, 1), emailed);
    }
}

/// Ships the order's hardware; returns when the last of it left the warehouse, or `None`
/// while a backorder is still outstanding.
fn ship_hardware(
    life: &mut Life,
    plan: &Plan,
    lines: &[DemoLine],
    hardware: &[&DemoLine],
    serials: &mut u32,
) -> Option<DateTime<Utc>> {
    // Goods leave the warehouse the business day after the vendor delivers them.
    let ready = add_business_days(hardware.iter().map(|line| line.eta).max()?, 1);
    let all = hardware.iter().map(|line| (*line, line.quantity));
    if plan.stage == Stage::Fulfilled && !plan.k.is_multiple_of(3) {
        shipment(life, plan, ready, all, serials);
        return Some(at(ready, 16, 0));
    }
    // Otherwise the vendor delivers half of every line first.
    let first = if plan.stage == Stage::Partial && plan.k % 3 == 1 {
        // It came late: this half left on the last working day and is still on its way.
        working_day_on_or_before(plan.today - Days::new(1))
    } else {
        ready
    };
    let half = hardware.iter().map(|line| (*line, line.quantity / 2));
    shipment(life, plan, first, half, serials);
    if plan.stage == Stage::Partial {
        if !plan.stale() {
            let backorder = add_business_days(plan.today, 2 + (plan.k % 6) as u32);
            let reason = "Vendor delivered part of the quantity; the rest follows";
            let waiting = lines
                .iter()
                .filter(|line| line.is_hardware() || line.held());
            let updates = waiting.map(|line| eta_update(plan, line, backorder, reason));
            life.push(at(first, 16, 30), Action::Etas(updates.collect()));
        }
        return None;
    }
    let rest = add_business_days(first, 5);
    let remainder = hardware
        .iter()
        .map(|line| (*line, line.quantity - line.quantity / 2));
    shipment(life, plan, rest, remainder, serials);
    Some(at(rest, 16, 0))
}

/// A shipment with a serial number per unit, delivered one or two business days later and
/// invoiced the business day after it left.
fn shipment<'a>(
    life: &mut Life,
    plan: &Plan,
    day: NaiveDate,
    parts: impl Iterator<Item = (&'a DemoLine, i32)>,
    serials: &mut u32,
) {
    let n = 1 + life
        .steps
        .iter()
        .filter(|step| matches!(step.action, Action::Ship(_)))
        .count();
    let number = format!("DL-{}-{n}", plan.seq());
    let (carrier, prefix) = CARRIERS[(plan.k + n) % CARRIERS.len()];
    let tracking = format!("{prefix}{}", 41_000_000 + plan.k * 10 + n);
    let mut invoiced = Vec::new();
    let mut lines = Vec::new();
    for (line, quantity) in parts {
        let model = line.product.sku.replace('-', "");
        let serial_numbers = (0..quantity).map(|_| {
            *serials += 1;
            format!("{model}{:06}", *serials)
        });
        let serial_numbers = serial_numbers.collect();
        lines.push(ShipmentLineInput {
            line_number: line.number,
            quantity,
            serial_numbers,
        });
        invoiced.push((line.number, quantity));
    }
    let site = carrier.to_lowercase().replace(' ', "-");
    let input = ShipmentInput {
        shipment_number: number.clone(),
        order_number: plan.number(),
        ship_date: day,
        carrier: Some(carrier.to_owned()),
        tracking_url: Some(format!("https://track.example/{site}/{tracking}")),
        tracking_number: Some(tracking),
        lines,
    };
    life.push(at(day, 16, 0), Action::Ship(input));
    let delivered = add_business_days(day, 1 + (plan.k % 2) as u32);
    life.push(at(delivered, 11, 0), Action::Deliver(number));
    invoice(life, add_business_days(day, 1), invoiced);
}

/// The number is left blank: `timeline` numbers invoices once they are in date order.
fn invoice(life: &mut Life, day: NaiveDate, lines: Vec<(i32, i32)>) {
    let input = InvoiceInput {
        invoice_number: String::new(),
        order_number: life.order.clone(),
        invoice_date: day,
        lines,
    };
    life.push(at(day, 18, 0), Action::Invoice(input));
}

async fn apply(db: &DatabaseConnection, step: Step) -> anyhow::Result<()> {
    let Step { at, order, action } = step;
    let done = match action {
        Action::Place(input) => writes::upsert_order(db, input, at).await.map(drop),
        Action::Confirm => writes::confirm_order(db, &order, at).await.map(drop),
        Action::Cancel => writes::cancel_order(db, &order, at).await.map(drop),
        Action::CancelLine(line) => writes::cancel_order_line(db, &order, line, at)
            .await
            .map(drop),
        Action::Etas(updates) => writes::update_etas(db, updates, at).await.map(drop),
        Action::Ship(input) => writes::record_shipment(db, input, at).await.map(drop),
        Action::Deliver(number) => writes::mark_shipment_delivered(db, &number, at, at)
            .await
            .map(drop),
        Action::Email(input) => writes::record_electronic_delivery(db, input, at)
            .await
            .map(drop),
        Action::Invoice(input) => writes::record_invoice(db, input, at).await.map(drop),
    };
    done.with_context(|| format!("demo order {order} at {at}"))
}

/// `hour:minute` UTC on `day`; minutes beyond 59 roll over, which lets callers spread times.
fn at(day: NaiveDate, hour: i64, minute: i64) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc() + TimeDelta::minutes(hour * 60 + minute)
}

/// Orders come in on working days: a weekend date moves back to the Friday before.
fn working_day_on_or_before(day: NaiveDate) -> NaiveDate {
    match day.weekday() {
        Weekday::Sat => day - Days::new(1),
        Weekday::Sun => day - Days::new(2),
        _ => day,
    }
}
