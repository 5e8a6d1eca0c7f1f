//! The one-pass order page against the ordinary path: documents generated from the schema,
//! with random selections, aliases, fragments and directives over every field of the types an
//! order page holds, run against the demo data set by two apps on one database (one resolving
//! in one pass, one the ordinary way) as a reseller and as the back office. The answers must
//! be the same text, data and errors and the order of their keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::parser::{
    parse_schema,
    types::{BaseType, Type, TypeKind, TypeSystemDefinition},
};
use common::{TestApp, now};
use customer_portal::{app::App, demo, domain::account::Role};
use serde_json::{Value, json};

/// How many documents each run generates, and from which seed: a failure names the index of
/// its document, which the same seed generates again.
const DOCUMENTS: u64 = 500;
const SEED: u64 = 0x0023_0001_d1ff_5eed;

/// The deepest selection generated mostly; a few documents go past the schema's limit of 12,
/// where both paths must refuse alike.
const USUAL_DEPTH: usize = 8;
const EXCESSIVE_DEPTH: usize = 14;

/// Fields a document holds at most, give or take the leaves that close its last selections.
const USUAL_FIELDS: usize = 120;

#[tokio::test]
async fn one_pass_answers_every_generated_order_document_as_the_ordinary_path_does() {
    let one_pass = TestApp::with_settings(None, &[("PORTAL_ONE_PASS", "true")]).await;
    let sign_ins = demo::seed(&one_pass.db, now().date_naive())
        .await
        .unwrap()
        .expect("an empty database is seeded");
    let ordinary = one_pass.twin(&[("PORTAL_ONE_PASS", "false")]);
    let mut callers = Vec::new();
    for role in [Role::CustomerAdmin, Role::BackOffice] {
        let sign_in = sign_ins
            .iter()
            .find(|sign_in| sign_in.role == role)
            .unwrap();
        let token = one_pass.login(&sign_in.email, &sign_in.password).await;
        callers.push((role, format!("Bearer {token}")));
    }
    let schema = Schema::parse(&customer_portal::graphql::sdl());
    let pools = Pools::collect(&one_pass.app, &callers[0].1, &callers[1].1).await;

    let mut covered = BTreeSet::new();
    let mut mismatches = Vec::new();
    let mut answers = 0;
    let mut failed = 0;
    for index in 0..DOCUMENTS {
        let document = Generator::new(&schema, &pools, index).document(&mut covered);
        for (role, authorization) in &callers {
            let (first, second) = tokio::join!(
                answer(&one_pass.app, authorization, &document),
                answer(&ordinary, authorization, &document)
            );
            answers += 1;
            let parsed: Value = serde_json::from_str(&first).unwrap();
            failed += usize::from(parsed.get("errors").is_some());
            if first != second {
                mismatches.push(format!(
                    "document {index} as {role:?}:\n{}\nvariables: {}\none pass: {first}\nordinary: {second}\n",
                    document.text, document.variables
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {answers} answers differ; the first ones:\n{}",
        mismatches.len(),
        mismatches.iter().take(3).cloned().collect::<String>()
    );
    // Identical refusals prove nothing about resolution: most answers must carry data.
    assert!(
        failed * 3 < answers,
        "{failed} of {answers} answers have errors: the generator mostly writes documents that fail"
    );
    let missing: Vec<_> = schema
        .fields_to_cover()
        .into_iter()
        .filter(|field| !covered.contains(field))
        .collect();
    assert!(
        missing.is_empty(),
        "fields no generated document selects: {missing:?}"
    );
}

/// The answer as the service writes it: the same bytes mean the same data, errors and order.
async fn answer(app: &App, authorization: &str, document: &Document) -> String {
    let request = async_graphql::Request::new(document.text.as_str()).variables(
        async_graphql::Variables::from_json(document.variables.clone()),
    );
    let response = app.execute(Some(authorization), request).await;
    serde_json::to_string(&response).unwrap()
}

/// A generated document and its variables.
struct Document {
    text: String,
    variables: Value,
}

/// What the generator needs of the schema: each type's fields (with their arguments) or
/// values, and which objects implement each interface.
struct Schema {
    types: BTreeMap<String, Kind>,
    implementers: BTreeMap<String, Vec<String>>,
    query: Vec<Field>,
}

enum Kind {
    Object(Vec<Field>),
    Interface(Vec<Field>),
    Enum(Vec<String>),
    Input(Vec<Argument>),
    Scalar,
}

#[derive(Clone)]
struct Field {
    name: String,
    arguments: Vec<Argument>,
    ty: Type,
}

#[derive(Clone)]
struct Argument {
    name: String,
    ty: Type,
}

impl Schema {
    fn parse(sdl: &str) -> Self {
        let document = parse_schema(sdl).unwrap();
        let mut types = BTreeMap::new();
        let mut implementers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let arguments = |list: &[async_graphql::Positioned<
            async_graphql::parser::types::InputValueDefinition,
        >]| {
            list.iter()
                .map(|argument| Argument {
                    name: argument.node.name.node.to_string(),
                    ty: argument.node.ty.node.clone(),
                })
                .collect::<Vec<_>>()
        };
        let fields = |list: &[async_graphql::Positioned<
            async_graphql::parser::types::FieldDefinition,
        >]| {
            list.iter()
                .map(|field| Field {
                    name: field.node.name.node.to_string(),
                    arguments: arguments(&field.node.arguments),
                    ty: field.node.ty.node.clone(),
                })
                .collect::<Vec<_>>()
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let name = definition.node.name.node.to_string();
            let kind = match &definition.node.kind {
                TypeKind::Object(object) => {
                    for interface in &object.implements {
                        implementers
                            .entry(interface.node.to_string())
                            .or_default()
                            .push(name.clone());
                    }
                    Kind::Object(fields(&object.fields))
                }
                TypeKind::Interface(interface) => Kind::Interface(fields(&interface.fields)),
                TypeKind::Enum(values) => Kind::Enum(
                    values
                        .values
                        .iter()
                        .map(|value| value.node.value.node.to_string())
                        .collect(),
                ),
                TypeKind::InputObject(input) => Kind::Input(arguments(&input.fields)),
                TypeKind::Scalar | TypeKind::Union(_) => Kind::Scalar,
            };
            types.insert(name, kind);
        }
        let Some(Kind::Object(query)) = types.get("Query") else {
            panic!("the schema has no Query type");
        };
        let query = query.clone();
        let mut schema = Self {
            types,
            implementers,
            query: Vec::new(),
        };
        // The roots of the order page: every query field whose answer leads to an order.
        schema.query = query
            .into_iter()
            .filter(|field| schema.reaches(named(&field.ty), "Order", &mut BTreeSet::new()))
            .collect();
        schema
    }

    fn fields(&self, name: &str) -> &[Field] {
        match self.types.get(name) {
            Some(Kind::Object(fields) | Kind::Interface(fields)) => fields,
            _ => &[],
        }
    }

    fn is_composite(&self, name: &str) -> bool {
        matches!(
            self.types.get(name),
            Some(Kind::Object(_) | Kind::Interface(_))
        )
    }

    fn is_interface(&self, name: &str) -> bool {
        matches!(self.types.get(name), Some(Kind::Interface(_)))
    }

    fn reaches(&self, from: &str, target: &str, seen: &mut BTreeSet<String>) -> bool {
        if from == target {
            return true;
        }
        if !seen.insert(from.to_owned()) {
            return false;
        }
        let next: Vec<&str> = match self.types.get(from) {
            Some(Kind::Object(fields)) => fields.iter().map(|field| named(&field.ty)).collect(),
            Some(Kind::Interface(_)) => self
                .implementers
                .get(from)
                .map(|names| names.iter().map(String::as_str).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        next.into_iter()
            .any(|name| self.reaches(name, target, seen))
    }

    /// The objects an order page holds: those the roots' answers reach through fields. An
    /// interface root (`node`) reaches the same objects, and no others, through fragments.
    fn page_types(&self) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut pending: Vec<&str> = self
            .query
            .iter()
            .map(|field| named(&field.ty))
            .filter(|name| !self.is_interface(name))
            .collect();
        while let Some(name) = pending.pop() {
            if !self.is_composite(name) || !found.insert(name.to_owned()) {
                continue;
            }
            pending.extend(self.fields(name).iter().map(|field| named(&field.ty)));
        }
        found
    }

    /// Every field of every page type, and every root: what the documents must select.
    fn fields_to_cover(&self) -> Vec<(String, String)> {
        let mut wanted: Vec<_> = self
            .page_types()
            .into_iter()
            .flat_map(|name| {
                self.fields(&name)
                    .iter()
                    .map(|field| (name.clone(), field.name.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        wanted.extend(
            self.query
                .iter()
                .map(|field| ("Query".to_owned(), field.name.clone())),
        );
        wanted
    }
}

/// The name a type wraps, lists and non-null taken off.
fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

fn is_list(ty: &Type) -> bool {
    matches!(ty.base, BaseType::List(_))
}

fn type_text(ty: &Type) -> String {
    let base = match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => format!("[{}]", type_text(inner)),
    };
    if ty.nullable { base } else { base + "!" }
}

/// Real values of the demo data set for arguments, with a few that name nothing.
struct Pools {
    /// What the reseller sees, and what the back office sees: documents name the former
    /// mostly, so that most answers hold data for both callers.
    reseller: Known,
    everyone: Known,
    company_ids: Vec<String>,
    dates: Vec<String>,
    words: Vec<String>,
    /// Cursors by the connection type that gives them.
    cursors: BTreeMap<String, Vec<String>>,
}

/// The keys of what one caller sees.
#[derive(Default)]
struct Known {
    ids: Vec<String>,
    order_numbers: Vec<String>,
    serials: Vec<String>,
}

impl Pools {
    async fn collect(app: &App, reseller: &str, back_office: &str) -> Self {
        let mut pools = Self {
            reseller: Known::default(),
            everyone: Known::default(),
            company_ids: Vec::new(),
            dates: vec![
                "2026-11-23".into(),
                "2026-12-01".into(),
                "2025-01-01".into(),
            ],
            words: vec!["PO".into(), "zz-nothing".into(), String::new()],
            cursors: BTreeMap::new(),
        };
        pools.reseller = pools.view(app, reseller).await;
        pools.everyone = pools.view(app, back_office).await;
        pools.everyone.ids.extend(pools.company_ids.clone());
        pools
            .everyone
            .ids
            .extend(["T3JkZXI6OTk5OTk5".into(), "not an id".into()]);
        pools.everyone.order_numbers.push("NO-SUCH-ORDER".into());
        pools.everyone.serials.push("NO-SUCH-SERIAL".into());
        for pool in [
            &mut pools.company_ids,
            &mut pools.dates,
            &mut pools.words,
            &mut pools.everyone.ids,
            &mut pools.reseller.ids,
        ]
        .into_iter()
        .chain(pools.cursors.values_mut())
        {
            pool.sort();
            pool.dedup();
        }
        assert!(pools.reseller.serials.len() > 1 && pools.reseller.order_numbers.len() > 5);
        assert!(pools.everyone.order_numbers.len() > pools.reseller.order_numbers.len());
        pools
    }

    /// What the holder of `authorization` sees; the dates, words and cursors of it join the
    /// shared pools.
    async fn view(&mut self, app: &App, authorization: &str) -> Known {
        let query = "{ orders(first: 100) { edges { cursor } nodes { id orderNumber orderDate
                requestedDeliveryDate customerReference company { id }
                lines { id eta product { id vendor { id } } serialNumbers { serial } }
                shipments { id } invoices { id } } }
              orderEvents(first: 100) { edges { cursor } } }";
        let response = app
            .execute(Some(authorization), async_graphql::Request::new(query))
            .await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.into_json().unwrap();
        let strings = |value: &Value, pointer: &str| -> Vec<String> {
            match value.pointer(pointer) {
                Some(Value::String(text)) => vec![text.clone()],
                _ => Vec::new(),
            }
        };
        let mut known = Known::default();
        for order in data["orders"]["nodes"].as_array().unwrap() {
            known.ids.extend(strings(order, "/id"));
            known.ids.extend(strings(order, "/company/id"));
            known.order_numbers.extend(strings(order, "/orderNumber"));
            self.company_ids.extend(strings(order, "/company/id"));
            self.dates.extend(strings(order, "/orderDate"));
            self.dates.extend(strings(order, "/requestedDeliveryDate"));
            self.words.extend(strings(order, "/customerReference"));
            if let Some(Value::String(number)) = order.get("orderNumber") {
                self.words.push(number[number.len() / 2..].to_owned());
            }
            for line in order["lines"].as_array().unwrap() {
                known.ids.extend(strings(line, "/id"));
                known.ids.extend(strings(line, "/product/id"));
                known.ids.extend(strings(line, "/product/vendor/id"));
                self.dates.extend(strings(line, "/eta"));
                for serial in line["serialNumbers"].as_array().unwrap() {
                    known.serials.extend(strings(serial, "/serial"));
                }
            }
            for list in ["shipments", "invoices"] {
                for item in order[list].as_array().unwrap() {
                    known.ids.extend(strings(item, "/id"));
                }
            }
        }
        for (connection, kind) in [
            ("orders", "OrderConnection"),
            ("orderEvents", "OrderEventConnection"),
        ] {
            let cursors = self.cursors.entry(kind.to_owned()).or_default();
            cursors.push("bm90IGEgY3Vyc29y".to_owned());
            cursors.extend(
                data[connection]["edges"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|edge| strings(edge, "/cursor")),
            );
        }
        known
    }

    /// Mostly what the reseller sees, now and then what only the back office does (or
    /// nothing).
    fn known(&self, rng: &mut Rng) -> &Known {
        if rng.chance(0.7) {
            &self.reseller
        } else {
            &self.everyone
        }
    }
}

/// SplitMix64: small, fast and the same everywhere, so a document index is a reproduction.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn chance(&mut self, probability: f64) -> bool {
        ((self.next() >> 11) as f64) < probability * (1u64 << 53) as f64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// An argument value, written as a literal or sent as a variable.
enum Literal {
    Null,
    Int(i64),
    Text(String),
    Boolean(bool),
    Enum(String),
    List(Vec<Literal>),
    Object(Vec<(String, Literal)>),
}

impl Literal {
    fn graphql(&self) -> String {
        match self {
            Self::Null => "null".into(),
            Self::Int(number) => number.to_string(),
            Self::Text(text) => serde_json::to_string(text).unwrap(),
            Self::Boolean(flag) => flag.to_string(),
            Self::Enum(value) => value.clone(),
            Self::List(items) => {
                let items: Vec<_> = items.iter().map(Self::graphql).collect();
                format!("[{}]", items.join(", "))
            }
            Self::Object(fields) => {
                let fields: Vec<_> = fields
                    .iter()
                    .map(|(name, value)| format!("{name}: {}", value.graphql()))
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
        }
    }

    fn json(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Int(number) => json!(number),
            Self::Text(text) | Self::Enum(text) => json!(text),
            Self::Boolean(flag) => json!(flag),
            Self::List(items) => items.iter().map(Self::json).collect(),
            Self::Object(fields) => fields
                .iter()
                .map(|(name, value)| (name.clone(), value.json()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }
}

/// Writes one document: a root or a few, each with a random selection over the page types.
struct Generator<'a> {
    schema: &'a Schema,
    pools: &'a Pools,
    page_types: BTreeSet<String>,
    rng: Rng,
    /// Named fragments written so far: name, type condition, depth they were written for.
    fragments: Vec<(String, String, usize, String)>,
    variables: Vec<(String, String, Value)>,
    names: usize,
    /// Fields still to write; past them, selections only close (leaves, no nesting), so that
    /// the fragments and repeats, which each open a selection, cannot grow without end.
    budget: usize,
    covered: BTreeSet<(String, String)>,
}

impl<'a> Generator<'a> {
    fn new(schema: &'a Schema, pools: &'a Pools, index: u64) -> Self {
        Self {
            schema,
            pools,
            page_types: schema.page_types(),
            rng: Rng(SEED ^ index.wrapping_mul(0x2545_f491_4f6c_dd1d)),
            fragments: Vec::new(),
            variables: Vec::new(),
            names: 0,
            budget: 0,
            covered: BTreeSet::new(),
        }
    }

    fn document(mut self, covered: &mut BTreeSet<(String, String)>) -> Document {
        let depth = if self.rng.chance(0.04) {
            EXCESSIVE_DEPTH
        } else {
            3 + self.rng.below(USUAL_DEPTH - 2)
        };
        self.budget = 20 + self.rng.below(USUAL_FIELDS);
        let roots = if self.rng.chance(0.2) { 2 } else { 1 };
        let mut selections = Vec::new();
        for _ in 0..roots {
            let root = self.root();
            self.covered.insert(("Query".into(), root.name.clone()));
            let alias = if roots > 1 || self.rng.chance(0.1) {
                format!("{}: ", self.name("r"))
            } else {
                String::new()
            };
            let arguments = self.root_arguments(&root);
            let selection = self.selection_set(named(&root.ty), depth - 1);
            selections.push(format!("{alias}{}{arguments} {selection}", root.name));
        }
        let definitions: Vec<_> = self
            .variables
            .iter()
            .map(|(name, ty, _)| format!("${name}: {ty}"))
            .collect();
        let header = if definitions.is_empty() {
            "query".to_owned()
        } else {
            format!("query({})", definitions.join(", "))
        };
        let mut text = format!("{header} {{ {} }}", selections.join(" "));
        for (name, on, _, body) in &self.fragments {
            text.push_str(&format!("\nfragment {name} on {on} {body}"));
        }
        let variables = self
            .variables
            .iter()
            .map(|(name, _, value)| (name.clone(), value.clone()))
            .collect::<serde_json::Map<_, _>>();
        covered.append(&mut self.covered);
        Document {
            text,
            variables: variables.into(),
        }
    }

    /// A root, the pages (lists and connections) twice as often as single objects.
    fn root(&mut self) -> Field {
        let roots = &self.schema.query;
        let pages = roots.iter().filter(|root| {
            is_list(&root.ty)
                || root
                    .arguments
                    .iter()
                    .any(|argument| argument.name == "first")
        });
        let weighted: Vec<&Field> = roots.iter().chain(pages).collect();
        (*self.rng.pick(&weighted)).clone()
    }

    fn name(&mut self, prefix: &str) -> String {
        self.names += 1;
        format!("{prefix}{}", self.names)
    }

    /// The root's arguments: every required one, some optional ones, each written in place or
    /// as a variable.
    fn root_arguments(&mut self, root: &Field) -> String {
        let connection = named(&root.ty).to_owned();
        let mut written = Vec::new();
        for argument in &root.arguments {
            if argument.ty.nullable && !self.rng.chance(0.35) {
                continue;
            }
            let value = self.value(&argument.name, &argument.ty, &connection);
            if self.rng.chance(0.3) {
                let variable = self.name("v");
                self.variables
                    .push((variable.clone(), type_text(&argument.ty), value.json()));
                written.push(format!("{}: ${variable}", argument.name));
            } else {
                written.push(format!("{}: {}", argument.name, value.graphql()));
            }
        }
        if written.is_empty() {
            String::new()
        } else {
            format!("({})", written.join(", "))
        }
    }

    fn value(&mut self, name: &str, ty: &Type, connection: &str) -> Literal {
        if ty.nullable && self.rng.chance(0.03) {
            return Literal::Null;
        }
        if let BaseType::List(inner) = &ty.base {
            let count = 1 + self.rng.below(3);
            return Literal::List(
                (0..count)
                    .map(|_| self.value(name, inner, connection))
                    .collect(),
            );
        }
        let pools = self.pools;
        let text = |rng: &mut Rng, pool: &[String]| Literal::Text(rng.pick(pool).clone());
        match (named(ty), self.schema.types.get(named(ty))) {
            (_, Some(Kind::Enum(values))) => Literal::Enum(self.rng.pick(values).clone()),
            (_, Some(Kind::Input(fields))) => {
                let mut object = Vec::new();
                for field in fields {
                    if !field.ty.nullable || self.rng.chance(0.35) {
                        object.push((
                            field.name.clone(),
                            self.value(&field.name, &field.ty, connection),
                        ));
                    }
                }
                Literal::Object(object)
            }
            ("Int", _) if ["first", "last"].contains(&name) => {
                if self.rng.chance(0.03) {
                    Literal::Int(*self.rng.pick(&[-1, 101]))
                } else {
                    Literal::Int(*self.rng.pick(&[0, 1, 2, 3, 5, 8, 12, 20, 50]))
                }
            }
            ("Int", _) => Literal::Int(self.rng.below(6) as i64),
            ("Boolean", _) => Literal::Boolean(self.rng.chance(0.5)),
            ("ID", _) if name == "companyId" => text(&mut self.rng, &pools.company_ids),
            ("ID", _) => {
                let known = pools.known(&mut self.rng);
                text(&mut self.rng, &known.ids)
            }
            ("Date", _) => text(&mut self.rng, &pools.dates),
            ("String", _) if ["after", "before"].contains(&name) => {
                match pools.cursors.get(connection) {
                    Some(cursors) => text(&mut self.rng, cursors),
                    None => Literal::Text("bm90IGEgY3Vyc29y".into()),
                }
            }
            ("String", _) if name == "orderNumber" => {
                let known = pools.known(&mut self.rng);
                text(&mut self.rng, &known.order_numbers)
            }
            ("String", _) if name == "serial" => {
                let known = pools.known(&mut self.rng);
                text(&mut self.rng, &known.serials)
            }
            ("DateTime", _) => Literal::Text("2026-11-23T12:00:00+00:00".into()),
            ("Decimal", _) => Literal::Text("12.50".into()),
            _ => text(&mut self.rng, &pools.words),
        }
    }

    /// A selection set on `on`, nested at most `depth` levels further.
    fn selection_set(&mut self, on: &str, depth: usize) -> String {
        let mut items = Vec::new();
        if self.schema.is_interface(on) {
            self.interface_items(on, depth, &mut items);
        } else {
            self.object_items(on, depth, &mut items);
        }
        if items.is_empty() {
            items.push("__typename".to_owned());
        }
        format!("{{ {} }}", items.join(" "))
    }

    fn interface_items(&mut self, on: &str, depth: usize, items: &mut Vec<String>) {
        for field in self.schema.fields(on).to_vec() {
            let composite = self.schema.is_composite(named(&field.ty));
            if ((depth > 0 && self.budget > 0) || !composite) && self.rng.chance(0.5) {
                items.push(self.field(on, &field, depth, None).1);
            }
        }
        let implementers: Vec<String> = self
            .schema
            .implementers
            .get(on)
            .into_iter()
            .flatten()
            .filter(|name| self.page_types.contains(*name))
            .cloned()
            .collect();
        for implementer in implementers {
            if self.budget > 0 && self.rng.chance(0.5) {
                let body = self.selection_set(&implementer, depth);
                items.push(format!("... on {implementer} {body}"));
            }
        }
    }

    fn object_items(&mut self, on: &str, depth: usize, items: &mut Vec<String>) {
        let leaf_chance = *self.rng.pick(&[0.3, 0.5, 0.8, 1.0]);
        let mut fields = self.schema.fields(on).to_vec();
        // The answer's keys follow the query's order, whatever the schema's.
        for index in (1..fields.len()).rev() {
            fields.swap(index, self.rng.below(index + 1));
        }
        let mut written: Vec<(Field, String)> = Vec::new();
        for field in fields {
            let composite = self.schema.is_composite(named(&field.ty));
            let chance = match (composite, is_list(&field.ty)) {
                (false, _) => leaf_chance,
                (true, _) if depth == 0 || self.budget == 0 => 0.0,
                (true, false) => 0.5,
                (true, true) => 0.45,
            };
            if self.rng.chance(chance) {
                let (head, text) = self.field(on, &field, depth, None);
                items.push(text);
                written.push((field, head));
            }
        }
        if self.budget == 0 {
            return;
        }
        if !written.is_empty() && self.rng.chance(0.15) {
            // The same field twice, under two response keys.
            let (field, _) = self.rng.pick(&written).clone();
            let alias = self.name("k");
            items.push(self.field(on, &field, depth, Some(alias)).1);
        }
        if !written.is_empty() && self.rng.chance(0.15) {
            // The same response key twice for the same field: the two merge.
            let (field, head) = self.rng.pick(&written).clone();
            items.push(self.field_with_head(&field, head, depth));
        }
        if self.rng.chance(0.2) {
            let alias = if self.rng.chance(0.3) {
                format!("{}: ", self.name("t"))
            } else {
                String::new()
            };
            // async-graphql does not see a variable used only on `__typename` and refuses the
            // document as not using it, listing such variables in no fixed order.
            items.push(format!("{alias}__typename{}", self.literal_directive()));
        }
        if self.rng.chance(0.12) {
            let body = self.selection_set(on, depth);
            items.push(format!("...{} {body}", self.directive()));
        }
        if self.rng.chance(0.12) {
            let condition = self.condition(on);
            let body = self.selection_set(&condition, depth);
            items.push(format!("... on {condition}{} {body}", self.directive()));
        }
        if self.rng.chance(0.12) {
            let spread = self.fragment(on, depth);
            items.push(format!("...{spread}{}", self.directive()));
        }
    }

    /// A type condition that `on` satisfies: itself, or an interface it implements.
    fn condition(&mut self, on: &str) -> String {
        let interfaces: Vec<String> = self
            .schema
            .implementers
            .iter()
            .filter(|(_, objects)| objects.iter().any(|object| object == on))
            .map(|(interface, _)| interface.clone())
            .collect();
        if !interfaces.is_empty() && self.rng.chance(0.3) {
            self.rng.pick(&interfaces).clone()
        } else {
            on.to_owned()
        }
    }

    /// A named fragment on `on` (or an interface of it): one written earlier that fits in
    /// `depth`, or a new one.
    fn fragment(&mut self, on: &str, depth: usize) -> String {
        let fitting: Vec<String> = self
            .fragments
            .iter()
            .filter(|(_, condition, written_for, _)| condition == on && *written_for <= depth)
            .map(|(name, ..)| name.clone())
            .collect();
        if !fitting.is_empty() && self.rng.chance(0.5) {
            return self.rng.pick(&fitting).clone();
        }
        let condition = self.condition(on);
        let name = self.name("F");
        let body = self.selection_set(&condition, depth);
        self.fragments.push((name.clone(), condition, depth, body));
        name
    }

    /// A field of `on`: its head (alias, name, arguments), which a repeat of the same response
    /// key reuses, and its full text. `alias` forces one; otherwise there is one now and then.
    fn field(
        &mut self,
        on: &str,
        field: &Field,
        depth: usize,
        alias: Option<String>,
    ) -> (String, String) {
        self.covered.insert((on.to_owned(), field.name.clone()));
        self.budget = self.budget.saturating_sub(1);
        let alias = match alias {
            Some(alias) => format!("{alias}: "),
            None if self.rng.chance(0.15) => format!("{}: ", self.name("a")),
            None => String::new(),
        };
        let mut arguments = Vec::new();
        for argument in &field.arguments {
            if !argument.ty.nullable || self.rng.chance(0.5) {
                let value = self.value(&argument.name, &argument.ty, named(&field.ty));
                arguments.push(format!("{}: {}", argument.name, value.graphql()));
            }
        }
        let arguments = if arguments.is_empty() {
            String::new()
        } else {
            format!("({})", arguments.join(", "))
        };
        let head = format!("{alias}{}{arguments}", field.name);
        let text = self.field_with_head(field, head.clone(), depth);
        (head, text)
    }

    fn field_with_head(&mut self, field: &Field, head: String, depth: usize) -> String {
        let directive = self.directive();
        let target = named(&field.ty);
        if self.schema.is_composite(target) {
            let body = self.selection_set(target, depth.saturating_sub(1));
            format!("{head}{directive} {body}")
        } else {
            format!("{head}{directive}")
        }
    }

    /// Now and then `@skip` or `@include`, with a literal or a variable.
    fn directive(&mut self) -> String {
        if !self.rng.chance(0.1) {
            return String::new();
        }
        let name = self.directive_name();
        let flag = self.rng.chance(0.5);
        if self.rng.chance(0.5) {
            let variable = self.name("b");
            self.variables
                .push((variable.clone(), "Boolean!".into(), json!(flag)));
            format!(" @{name}(if: ${variable})")
        } else {
            format!(" @{name}(if: {flag})")
        }
    }

    /// Now and then `@skip` or `@include` with a literal.
    fn literal_directive(&mut self) -> String {
        if !self.rng.chance(0.1) {
            return String::new();
        }
        let name = self.directive_name();
        format!(" @{name}(if: {})", self.rng.chance(0.5))
    }

    fn directive_name(&mut self) -> &'static str {
        if self.rng.chance(0.5) {
            "skip"
        } else {
            "include"
        }
    }
}
