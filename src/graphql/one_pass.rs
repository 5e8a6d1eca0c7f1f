//! One pass over an order page: the listed objects' answers built straight from their rows.
//!
//! async-graphql resolves every field of every object as a boxed future of its own, with a
//! context and a map that grows from empty, and an order page holds some 7,000 values. Once
//! an order's rows are loaded (by the same loaders, so one batched statement per level for
//! the whole page), nothing is left to wait for: [`OnePassOrder`] loads what its selection
//! asks for, then walks the selection once and writes the answer, each map sized up front.
//!
//! The types keep their async-graphql definitions, and each type's field list is written once,
//! in [`one_pass_object!`], which emits both the `#[Object]` impl and the writer. A field
//! declared without a one-pass body (one that needs more than the page's rows, such as
//! `Order.company`) makes the walk give up on the order field that holds it, which then
//! resolves the ordinary way; so does a missing row, an unknown fragment or a directive, so
//! that async-graphql reports every error, with its `path`. `@skip` and `@include` are gone
//! by then: async-graphql removes what they exclude before executing.

use std::{borrow::Cow, collections::HashMap, pin::Pin, sync::Arc};

use async_graphql::{
    ContainerType, ContextSelectionSet, ID, Name, OutputType, Positioned, ScalarType, ServerResult,
    Value,
    indexmap::{IndexMap, IndexSet},
    parser::types::{Field, FragmentDefinition, Selection, SelectionSet},
    registry::Registry,
    resolver_utils::enum_value,
};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{
    eta_change, invoice, invoice_line, order, order_line, serial_number, shipment, shipment_line,
};
use futures_util::future::join_all;
use rust_decimal::Decimal;

use super::{
    ContextExt, Services,
    catalogue::{DeliveryMethod, ProductKind},
    order::{Order, OrderStatus},
    scalars::Date,
};
use tokio::sync::OnceCell;

use crate::loaders::{
    EtaChangesOfLine, InvoicesOfOrder, LinesOfInvoice, LinesOfShipment, OrderDeliveries,
    PortalLoader, SerialsOfShipmentLine, ShipmentsOfOrder, page_facts, page_lines,
};

/// Declares an object type's fields once, for async-graphql and for the one-pass writer.
///
/// `impl Type(self) { "graphqlName": async fn name(&self[, ctx]) -> T { … } … }` emits the
/// `#[Object]` impl (the attributes and doc comments go through as written) and
/// [`Fields`]. A field whose body reads only `self` is written in one pass by the same body. A
/// field that takes `ctx` adds `one_pass |walk| { … }`, its answer from the loaded rows
/// (`None` when they lack it); without that clause it always resolves the ordinary way.
macro_rules! one_pass_object {
    (
        $(#[$attr:meta])*
        impl $ty:ident($this:ident) {
            $(
                $(#[$field_attr:meta])*
                $gql:literal: $vis:vis async fn $name:ident(&self $(, $ctx:ident)?) -> $ret:ty $body:block
                $(one_pass |$walk:ident| $one_pass:block)?
            )*
        }
    ) => {
        $(#[$attr])*
        impl $ty {
            $(
                $(#[$field_attr])*
                #[graphql(name = $gql)]
                $vis async fn $name(&$this $(, $ctx: &async_graphql::Context<'_>)?) -> $ret $body
            )*
        }

        impl $crate::graphql::one_pass::Fields for $ty {
            fn field(
                &$this,
                walk: &$crate::graphql::one_pass::Walk<'_>,
                field: &async_graphql::parser::types::Field,
            ) -> Option<async_graphql::Value> {
                match field.name.node.as_str() {
                    $($gql => one_pass_object!(@field walk, field, [$($ctx)?] [$ret] $body [$($walk $one_pass)?]),)*
                    _ => None,
                }
            }
        }

        impl $crate::graphql::one_pass::Write for $ty {
            fn write(
                &self,
                walk: &$crate::graphql::one_pass::Walk<'_>,
                field: &async_graphql::parser::types::Field,
            ) -> Option<async_graphql::Value> {
                walk.object(self, &field.selection_set.node)
            }
        }
    };
    (@field $w:ident, $f:ident, [] [$ret:ty] $body:block []) => {{
        #[allow(clippy::redundant_closure_call)]
        let value: $ret = (|| $body)();
        $crate::graphql::one_pass::Write::write(&value, $w, $f)
    }};
    (@field $w:ident, $f:ident, [$($ctx:ident)?] [$ret:ty] $body:block [$walk:ident $one_pass:block]) => {{
        let answer = |$walk: &$crate::graphql::one_pass::Walk<'_>| $one_pass;
        $crate::graphql::one_pass::Write::write(&answer($w)?, $w, $f)
    }};
    (@field $w:ident, $f:ident, [$ctx:ident] [$ret:ty] $body:block []) => {
        None
    };
}

pub(crate) use one_pass_object;

/// An object type whose selected fields the walk can answer from loaded rows.
pub trait Fields: OutputType {
    /// The answer to `field`, or `None` when it must resolve the ordinary way.
    fn field(&self, walk: &Walk<'_>, field: &Field) -> Option<Value>;
}

/// A field's value as the response holds it, for the selection under `field`.
pub trait Write {
    fn write(&self, walk: &Walk<'_>, field: &Field) -> Option<Value>;
}

macro_rules! write_scalars {
    ($($ty:ty),*) => {$(
        impl Write for $ty {
            fn write(&self, _: &Walk<'_>, _: &Field) -> Option<Value> {
                Some(ScalarType::to_value(self))
            }
        }
    )*};
}

write_scalars!(i32, bool, String, ID, Date, DateTime<Utc>, Decimal);

macro_rules! write_enums {
    ($($ty:ty),*) => {$(
        impl Write for $ty {
            fn write(&self, _: &Walk<'_>, _: &Field) -> Option<Value> {
                Some(enum_value(*self))
            }
        }
    )*};
}

write_enums!(OrderStatus, ProductKind, DeliveryMethod);

impl Write for &str {
    fn write(&self, _: &Walk<'_>, _: &Field) -> Option<Value> {
        Some(Value::String((*self).to_owned()))
    }
}

impl<T: Write> Write for Option<T> {
    fn write(&self, walk: &Walk<'_>, field: &Field) -> Option<Value> {
        match self {
            Some(value) => value.write(walk, field),
            None => Some(Value::Null),
        }
    }
}

/// A failed field resolves the ordinary way, which reports the error where it happened.
impl<T: Write, E> Write for Result<T, E> {
    fn write(&self, walk: &Walk<'_>, field: &Field) -> Option<Value> {
        self.as_ref().ok()?.write(walk, field)
    }
}

impl<T: Write> Write for Vec<T> {
    fn write(&self, walk: &Walk<'_>, field: &Field) -> Option<Value> {
        let mut items = Vec::with_capacity(self.len());
        for item in self {
            items.push(item.write(walk, field)?);
        }
        Some(Value::List(items))
    }
}

/// What the page loaded for its orders, as far as their selection asked.
#[derive(Default)]
pub struct Loaded {
    facts: HashMap<i64, Arc<OrderDeliveries>>,
    lines: HashMap<i64, Arc<Vec<order_line::Model>>>,
    eta_changes: HashMap<EtaChangesOfLine, Vec<eta_change::Model>>,
    shipments: HashMap<ShipmentsOfOrder, Vec<shipment::Model>>,
    shipment_lines: HashMap<LinesOfShipment, Vec<shipment_line::Model>>,
    serials: HashMap<SerialsOfShipmentLine, Vec<serial_number::Model>>,
    invoices: HashMap<InvoicesOfOrder, Vec<invoice::Model>>,
    invoice_lines: HashMap<LinesOfInvoice, Vec<invoice_line::Model>>,
}

/// The walk over one order's selection: the document's fragments, the schema's interfaces,
/// the order's rows and the business date.
pub struct Walk<'a> {
    order_id: i64,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    implements: &'a HashMap<String, IndexSet<String>>,
    loaded: &'a Loaded,
    today: NaiveDate,
}

impl<'a> Walk<'a> {
    /// The answer for `value` to `set`, or `None` when any part of it must resolve the
    /// ordinary way.
    pub fn object<T: Fields>(&self, value: &T, set: &SelectionSet) -> Option<Value> {
        let mut map = IndexMap::with_capacity(set.items.len());
        let name = T::type_name();
        self.write_set(value, &name, set, &mut map)?;
        // As async-graphql answers an object none of whose fields applied.
        Some(if map.is_empty() {
            Value::Null
        } else {
            Value::Object(map)
        })
    }

    fn write_set<T: Fields>(
        &self,
        value: &T,
        name: &str,
        set: &SelectionSet,
        map: &mut IndexMap<Name, Value>,
    ) -> Option<()> {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if !field.directives.is_empty() {
                        return None;
                    }
                    let answer = if field.name.node == "__typename" {
                        Value::String(name.to_owned())
                    } else {
                        value.field(self, field)?
                    };
                    insert_value(map, field.response_key().node.clone(), answer);
                }
                _ => {
                    if let Some(set) = self.fragment(name, &selection.node)? {
                        self.write_set(value, name, set, map)?;
                    }
                }
            }
        }
        Some(())
    }

    /// The selection set of a fragment (spread or inline) in a set of type `name`: `None`
    /// when the walk cannot follow it, `Some(None)` when it does not apply to `name`.
    fn fragment<'s>(&self, name: &str, selection: &'s Selection) -> Option<Option<&'s SelectionSet>>
    where
        'a: 's,
    {
        let (condition, set) = match selection {
            Selection::Field(_) => return None,
            Selection::FragmentSpread(spread) => {
                if !spread.node.directives.is_empty() {
                    return None;
                }
                let fragment = &self.fragments.get(&spread.node.fragment_name.node)?.node;
                (
                    Some(&fragment.type_condition.node.on.node),
                    &fragment.selection_set.node,
                )
            }
            Selection::InlineFragment(inline) => {
                if !inline.node.directives.is_empty() {
                    return None;
                }
                let inline = &inline.node;
                (
                    inline
                        .type_condition
                        .as_ref()
                        .map(|condition| &condition.node.on.node),
                    &inline.selection_set.node,
                )
            }
        };
        // As async-graphql's `Fields::add_set` decides it for an object type.
        let applies = condition.is_none_or(|condition| {
            condition.as_str() == name
                || self
                    .implements
                    .get(name)
                    .is_some_and(|interfaces| interfaces.contains(condition.as_str()))
        });
        Some(applies.then_some(set))
    }

    /// The fields of `set` for an object of type `name`, fragments expanded, in order; `None`
    /// when the walk cannot follow a fragment or a directive.
    fn fields<'s>(&self, name: &str, set: &'s SelectionSet) -> Option<Vec<&'s Positioned<Field>>>
    where
        'a: 's,
    {
        let mut fields = Vec::with_capacity(set.items.len());
        self.collect_fields(name, set, &mut fields)?;
        Some(fields)
    }

    fn collect_fields<'s>(
        &self,
        name: &str,
        set: &'s SelectionSet,
        fields: &mut Vec<&'s Positioned<Field>>,
    ) -> Option<()>
    where
        'a: 's,
    {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    if !field.node.directives.is_empty() {
                        return None;
                    }
                    fields.push(field);
                }
                _ => {
                    if let Some(set) = self.fragment(name, &selection.node)? {
                        self.collect_fields(name, set, fields)?;
                    }
                }
            }
        }
        Some(())
    }

    /// The walk itself when `order_id` is its order's: an order reached again under its own
    /// (a line's `order`) shares its rows, any other does not.
    pub fn of_order(&self, order_id: i64) -> Option<&Self> {
        (order_id == self.order_id).then_some(self)
    }

    /// The business date, for the at-risk fields.
    pub fn today(&self) -> NaiveDate {
        self.today
    }

    /// The order's lines with their products and facts.
    pub fn facts(&self) -> Option<&'a Arc<OrderDeliveries>> {
        self.loaded.facts.get(&self.order_id)
    }

    /// The order's lines, by line number.
    pub fn lines(&self) -> Option<&'a [order_line::Model]> {
        self.loaded
            .lines
            .get(&self.order_id)
            .map(|lines| lines.as_slice())
    }

    /// The ETA changes of one of the order's lines.
    pub fn eta_changes(&self, line_id: i64) -> Option<&'a [eta_change::Model]> {
        self.loaded
            .eta_changes
            .get(&EtaChangesOfLine(line_id))
            .map(Vec::as_slice)
    }

    /// The order's shipments.
    pub fn shipments(&self) -> Option<&'a [shipment::Model]> {
        self.loaded
            .shipments
            .get(&ShipmentsOfOrder(self.order_id))
            .map(Vec::as_slice)
    }

    /// The lines of one of the order's shipments.
    pub fn shipment_lines(&self, shipment_id: i64) -> Option<&'a [shipment_line::Model]> {
        self.loaded
            .shipment_lines
            .get(&LinesOfShipment(shipment_id))
            .map(Vec::as_slice)
    }

    /// The serial numbers of one of the order's shipment lines.
    pub fn serials(&self, shipment_line_id: i64) -> Option<&'a [serial_number::Model]> {
        self.loaded
            .serials
            .get(&SerialsOfShipmentLine(shipment_line_id))
            .map(Vec::as_slice)
    }

    /// The order's invoices.
    pub fn invoices(&self) -> Option<&'a [invoice::Model]> {
        self.loaded
            .invoices
            .get(&InvoicesOfOrder(self.order_id))
            .map(Vec::as_slice)
    }

    /// The lines of one of the order's invoices.
    pub fn invoice_lines(&self, invoice_id: i64) -> Option<&'a [invoice_line::Model]> {
        self.loaded
            .invoice_lines
            .get(&LinesOfInvoice(invoice_id))
            .map(Vec::as_slice)
    }
}

/// async-graphql's merge of a response key given twice (`resolver_utils::container`): the
/// later answer's keys join the earlier object's, item by item in lists.
fn insert_value(target: &mut IndexMap<Name, Value>, name: Name, value: Value) {
    let Some(previous) = target.get_mut(&name) else {
        target.insert(name, value);
        return;
    };
    match (previous, value) {
        (Value::Object(previous), Value::Object(object)) => {
            for (key, value) in object {
                insert_value(previous, key, value);
            }
        }
        (Value::List(previous), Value::List(list)) => {
            for (item, value) in previous.iter_mut().zip(list) {
                if let (Value::Object(item), Value::Object(object)) = (item, value) {
                    for (key, value) in object {
                        insert_value(item, key, value);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Which of an order's relations its selection reaches.
#[derive(Default)]
struct Needs {
    facts: bool,
    lines: bool,
    eta_changes: bool,
    shipments: bool,
    shipment_lines: bool,
    serials: bool,
    invoices: bool,
    invoice_lines: bool,
}

impl Needs {
    /// What `fields` of an order reach. A field it misses finds nothing loaded and resolves
    /// the ordinary way; one it adds costs a load the ordinary way would not make.
    fn of(walk: &Walk<'_>, fields: &[&Positioned<Field>]) -> Option<Self> {
        let mut needs = Self::default();
        for field in fields {
            match field.node.name.node.as_str() {
                "eta" | "atRisk" => needs.facts = true,
                "progress" | "total" => needs.lines = true,
                "lines" => {
                    needs.facts = true;
                    for line in nested(walk, field, "OrderLine")? {
                        needs.eta_changes |= line.node.name.node == "etaHistory";
                    }
                }
                "shipments" => {
                    needs.shipments = true;
                    for shipment in nested(walk, field, "Shipment")? {
                        if shipment.node.name.node != "lines" {
                            continue;
                        }
                        needs.shipment_lines = true;
                        for line in nested(walk, shipment, "ShipmentLine")? {
                            match line.node.name.node.as_str() {
                                "serialNumbers" => needs.serials = true,
                                "orderLine" => needs.facts = true,
                                _ => {}
                            }
                        }
                    }
                }
                "invoices" => {
                    needs.invoices = true;
                    for invoice in nested(walk, field, "Invoice")? {
                        if !matches!(invoice.node.name.node.as_str(), "total" | "lines") {
                            continue;
                        }
                        needs.invoice_lines = true;
                        for line in nested(walk, invoice, "InvoiceLine")? {
                            needs.facts |= line.node.name.node == "orderLine";
                        }
                    }
                }
                _ => {}
            }
        }
        Some(needs)
    }

    /// Loads what the page's orders need through the request's loaders, one `load_many`
    /// per relation for the whole page, so each is one batched statement.
    async fn load(
        &self,
        loader: &PortalLoader,
        orders: &[order::Model],
    ) -> Result<Loaded, async_graphql::Error> {
        let lines = async {
            let (facts, lines) = if self.facts {
                let facts = page_facts(loader, orders).await?;
                let lines = if self.lines {
                    page_lines(loader, orders).await?
                } else {
                    HashMap::new()
                };
                (facts, lines)
            } else if self.lines {
                (HashMap::new(), page_lines(loader, orders).await?)
            } else {
                (HashMap::new(), HashMap::new())
            };
            let eta_changes = if self.eta_changes {
                let lines = facts.values().flat_map(|of| of.lines.iter());
                loader
                    .load_many(lines.map(|line| EtaChangesOfLine(line.row.id)))
                    .await?
            } else {
                HashMap::new()
            };
            Ok::<_, async_graphql::Error>((facts, lines, eta_changes))
        };
        let shipments = async {
            if !self.shipments {
                return Ok((HashMap::new(), HashMap::new(), HashMap::new()));
            }
            let shipments = loader
                .load_many(orders.iter().map(|order| ShipmentsOfOrder(order.id)))
                .await?;
            let lines = if self.shipment_lines {
                let all = shipments.values().flatten();
                loader
                    .load_many(all.map(|shipment| LinesOfShipment(shipment.id)))
                    .await?
            } else {
                HashMap::new()
            };
            let serials = if self.serials {
                let all = lines.values().flatten();
                loader
                    .load_many(all.map(|line| SerialsOfShipmentLine(line.id)))
                    .await?
            } else {
                HashMap::new()
            };
            Ok::<_, async_graphql::Error>((shipments, lines, serials))
        };
        let invoices = async {
            if !self.invoices {
                return Ok((HashMap::new(), HashMap::new()));
            }
            let invoices = loader
                .load_many(orders.iter().map(|order| InvoicesOfOrder(order.id)))
                .await?;
            let lines = if self.invoice_lines {
                let all = invoices.values().flatten();
                loader
                    .load_many(all.map(|invoice| LinesOfInvoice(invoice.id)))
                    .await?
            } else {
                HashMap::new()
            };
            Ok::<_, async_graphql::Error>((invoices, lines))
        };
        let (
            (facts, lines, eta_changes),
            (shipments, shipment_lines, serials),
            (invoices, invoice_lines),
        ) = futures_util::try_join!(lines, shipments, invoices)?;
        Ok(Loaded {
            facts,
            lines,
            eta_changes,
            shipments,
            shipment_lines,
            serials,
            invoices,
            invoice_lines,
        })
    }
}

/// The fields selected under `field` of an object of type `name`.
fn nested<'w: 's, 's>(
    walk: &Walk<'w>,
    field: &'s Positioned<Field>,
    name: &str,
) -> Option<Vec<&'s Positioned<Field>>> {
    walk.fields(name, &field.node.selection_set.node)
}

/// The orders of one list field (`nodes`, or `edges` and their `node`), which share one
/// selection and so one load: the first order to get there loads for them all.
pub struct Page {
    orders: Vec<order::Model>,
    /// `None` when the load failed: every order then resolves the ordinary way, which
    /// reports the error where it happened.
    loaded: OnceCell<Option<Loaded>>,
}

impl Page {
    /// The orders of a page, each ready to be answered in one pass.
    pub fn orders(rows: &[order::Model]) -> Vec<OnePassOrder> {
        let page = Arc::new(Self {
            orders: rows.to_vec(),
            loaded: OnceCell::new(),
        });
        rows.iter()
            .map(|row| OnePassOrder {
                order: Order(row.clone()),
                page: page.clone(),
            })
            .collect()
    }
}

/// An order of a listed page, answered in one pass when the service is configured so.
pub struct OnePassOrder {
    order: Order,
    page: Arc<Page>,
}

/// The ordinary resolver of one field, boxed: an order reaches orders again through its
/// fields, so the future must not hold itself.
fn resolve_field<'a>(
    order: &'a Order,
    ctx: &'a async_graphql::Context<'a>,
) -> Pin<Box<dyn Future<Output = ServerResult<Option<Value>>> + Send + 'a>> {
    Box::pin(order.resolve_field(ctx))
}

impl OnePassOrder {
    /// The answer built in one pass where it can be, each field the walk gives up on
    /// resolved by `Order`'s own resolver; `None` when the selection cannot be followed.
    async fn answer(&self, ctx: &ContextSelectionSet<'_>) -> Option<Value> {
        let services = ctx.data_opt::<Arc<Services>>()?;
        if !services.one_pass {
            return None;
        }
        let loader = ctx.loader().ok()?;
        let name = Order::type_name();
        let today = services.clock.today();
        let walk = |loaded| Walk {
            order_id: self.order.0.id,
            fragments: &ctx.query_env.fragments,
            implements: &ctx.schema_env.registry.implements,
            loaded,
            today,
        };
        let nothing = Loaded::default();
        let planning = walk(&nothing);
        let fields = planning.fields(&name, &ctx.item.node)?;
        let needs = Needs::of(&planning, &fields)?;
        let loaded = self
            .page
            .loaded
            .get_or_init(|| async { needs.load(&loader, &self.page.orders).await.ok() })
            .await
            .as_ref()?;
        let walk = walk(loaded);
        let mut answers = Vec::with_capacity(fields.len());
        let mut pending = Vec::new();
        for (index, field) in fields.iter().enumerate() {
            let answer = if field.node.name.node == "__typename" {
                Some(Value::String(name.clone().into_owned()))
            } else {
                self.order.field(&walk, &field.node)
            };
            if answer.is_none() {
                pending.push((index, ctx.with_field(field)));
            }
            answers.push(Ok(answer.unwrap_or_default()));
        }
        let resolved = join_all(
            pending
                .iter()
                .map(|(_, field_ctx)| resolve_field(&self.order, field_ctx)),
        )
        .await;
        for ((index, _), result) in pending.iter().zip(resolved) {
            answers[*index] = result.map(Option::unwrap_or_default);
        }
        let mut map = IndexMap::with_capacity(fields.len());
        for (field, answer) in fields.iter().zip(answers) {
            match answer {
                Ok(answer) => {
                    insert_value(&mut map, field.node.response_key().node.clone(), answer)
                }
                // As async-graphql does: a failed field is reported and left out.
                Err(error) => ctx.add_error(error),
            }
        }
        Some(if map.is_empty() {
            Value::Null
        } else {
            Value::Object(map)
        })
    }
}

impl OutputType for OnePassOrder {
    fn type_name() -> Cow<'static, str> {
        Order::type_name()
    }

    fn qualified_type_name() -> String {
        Order::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.order.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Order::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        match self.answer(ctx).await {
            Some(answer) => Ok(answer),
            None => self.order.resolve(ctx, field).await,
        }
    }
}
