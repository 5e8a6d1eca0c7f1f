//! What a document costs, counted before anything runs: every field, aliases included, as
//! many times as the lists around it can hold values, plus a statement for every root field.
//! A document over the limit is refused with `QUERY_TOO_COMPLEX`, naming both numbers.
//!
//! Paged fields (`first`/`last`) hold what they ask for (the default page when they do not
//! say); other lists are assumed to hold [`LIST_FANOUT`] values. Nested fields load through
//! the per-request loaders, one statement per level whatever the page, so only root fields
//! add [`STATEMENT_COST`].

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use async_graphql::{
    ErrorExtensions, Name, ServerError, ServerResult, Value, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery},
    parser::{
        Positioned,
        types::{
            ExecutableDocument, Field, OperationDefinition, OperationType, Selection, SelectionSet,
        },
    },
    registry::{MetaType, MetaTypeName, Registry},
};

use crate::{config::Limits, error::ErrorCode};

/// Values assumed per item of a list that is not paged (an order's lines, a shipment's
/// serial numbers).
pub const LIST_FANOUT: u64 = 5;
/// The cost of a root field: it runs at least one statement of its own.
pub const STATEMENT_COST: u64 = 500;
/// Selections nested deeper than this are not followed: validation refuses such documents
/// anyway (the depth limit).
const MAX_WALK_DEPTH: usize = 64;
/// The arguments that make a field paged.
const PAGE_ARGUMENTS: [&str; 2] = ["first", "last"];

/// The extension that refuses documents over `Limits::max_complexity`.
pub struct QueryCost {
    limits: Limits,
}

impl QueryCost {
    pub fn new(limits: &Limits) -> Self {
        Self {
            limits: limits.clone(),
        }
    }
}

impl ExtensionFactory for QueryCost {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CostCheck {
            limits: self.limits.clone(),
        })
    }
}

struct CostCheck {
    limits: Limits,
}

#[async_graphql::async_trait::async_trait]
impl Extension for CostCheck {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let limit = self.limits.max_complexity as u64;
        let cost = document_cost(&ctx.schema_env.registry, &document, variables, &self.limits);
        if cost > limit {
            return Err(too_costly(cost, limit));
        }
        Ok(document)
    }
}

fn too_costly(cost: u64, limit: u64) -> ServerError {
    let message = format!(
        "the query costs {cost}, more than the limit of {limit}: ask for fewer fields, aliases or smaller pages"
    );
    async_graphql::Error::new(message)
        .extend_with(|_, extensions| extensions.set("code", ErrorCode::QueryTooComplex.as_str()))
        .into_server_error(Default::default())
}

/// The cost of the costliest operation of `document`. Each fragment is counted once per
/// place it can stand for, so a document of nested fragments costs no more to count than
/// its size.
pub fn document_cost(
    registry: &Registry,
    document: &ExecutableDocument,
    variables: &Variables,
    limits: &Limits,
) -> u64 {
    document
        .operations
        .iter()
        .map(|(_, operation)| {
            let root = match operation.node.ty {
                OperationType::Query => Some(&registry.query_type),
                OperationType::Mutation => registry.mutation_type.as_ref(),
                OperationType::Subscription => registry.subscription_type.as_ref(),
            };
            let mut walk = Walk {
                registry,
                document,
                operation: &operation.node,
                variables,
                limits,
                spreading: HashSet::new(),
                fragments: HashMap::new(),
            };
            let root = root.and_then(|name| registry.types.get(name));
            walk.selection_set(&operation.node.selection_set, root, None, 0, true)
        })
        .max()
        .unwrap_or(0)
}

/// Where a fragment is spread: its cost depends on nothing else.
type Place = (Name, Option<String>, Option<u64>, bool);

struct Walk<'a> {
    registry: &'a Registry,
    document: &'a ExecutableDocument,
    operation: &'a OperationDefinition,
    variables: &'a Variables,
    limits: &'a Limits,
    /// Fragments being spread on the current path, so that a cycle is not followed.
    spreading: HashSet<Name>,
    /// Fragments counted so far, by place.
    fragments: HashMap<Place, u64>,
}

impl Walk<'_> {
    /// The cost of one value of `on` with this selection; `page`: the page size when the set
    /// belongs to a paged field, whose lists (`nodes`, `edges`) hold that many.
    fn selection_set(
        &mut self,
        set: &Positioned<SelectionSet>,
        on: Option<&MetaType>,
        page: Option<u64>,
        depth: usize,
        root: bool,
    ) -> u64 {
        if depth > MAX_WALK_DEPTH {
            return 0;
        }
        let mut cost = 0u64;
        for item in &set.node.items {
            let item_cost = match &item.node {
                Selection::Field(field) => self.field(&field.node, on, page, depth, root),
                Selection::FragmentSpread(spread) => {
                    self.spread(&spread.node.fragment_name.node, on, page, depth, root)
                }
                Selection::InlineFragment(inline) => {
                    let on = inline
                        .node
                        .type_condition
                        .as_ref()
                        .and_then(|condition| {
                            self.registry.types.get(condition.node.on.node.as_str())
                        })
                        .or(on);
                    self.selection_set(&inline.node.selection_set, on, page, depth + 1, root)
                }
            };
            cost = cost.saturating_add(item_cost);
        }
        cost
    }

    fn field(
        &mut self,
        field: &Field,
        on: Option<&MetaType>,
        page: Option<u64>,
        depth: usize,
        root: bool,
    ) -> u64 {
        let Some(meta) = on.and_then(|on| on.field_by_name(field.name.node.as_str())) else {
            // Introspection, or an unknown field (which validation refuses).
            return 1u64.saturating_add(self.selection_set(
                &field.selection_set,
                None,
                None,
                depth + 1,
                false,
            ));
        };
        let is_list = meta.ty.starts_with('[');
        let paged = PAGE_ARGUMENTS
            .iter()
            .any(|name| meta.args.contains_key(*name));
        let own_page = paged.then(|| {
            PAGE_ARGUMENTS
                .iter()
                .find_map(|name| self.argument(field, name))
                .unwrap_or(u64::from(self.limits.default_page_size))
                .clamp(1, u64::from(self.limits.max_page_size).max(1))
        });
        let fanout = match (is_list, page.or(own_page)) {
            (true, Some(page)) => page,
            (true, None) => LIST_FANOUT,
            (false, _) => 1,
        };
        let child_type = self
            .registry
            .types
            .get(MetaTypeName::concrete_typename(&meta.ty));
        let child_page = if is_list { None } else { own_page };
        let children = self.selection_set(
            &field.selection_set,
            child_type,
            child_page,
            depth + 1,
            false,
        );
        let own = if root { 1 + STATEMENT_COST } else { 1 };
        own.saturating_add(fanout.saturating_mul(children))
    }

    fn spread(
        &mut self,
        name: &Name,
        on: Option<&MetaType>,
        page: Option<u64>,
        depth: usize,
        root: bool,
    ) -> u64 {
        let Some(fragment) = self.document.fragments.get(name) else {
            return 0;
        };
        let on = self
            .registry
            .types
            .get(fragment.node.type_condition.node.on.node.as_str())
            .or(on);
        let place = (name.clone(), on.map(|on| on.name().to_owned()), page, root);
        if let Some(cost) = self.fragments.get(&place) {
            return *cost;
        }
        if !self.spreading.insert(name.clone()) {
            return 0;
        }
        let cost = self.selection_set(&fragment.node.selection_set, on, page, depth + 1, root);
        self.spreading.remove(name);
        self.fragments.insert(place, cost);
        cost
    }

    /// An integer argument, literal or from a variable (or the variable's default).
    fn argument(&self, field: &Field, name: &str) -> Option<u64> {
        let (_, value) = field
            .arguments
            .iter()
            .find(|(argument, _)| argument.node.as_str() == name)?;
        let value = value
            .node
            .clone()
            .into_const_with(|variable| self.variable(&variable).ok_or(()))
            .ok()?;
        match value {
            Value::Number(number) => number.as_u64(),
            _ => None,
        }
    }

    fn variable(&self, name: &Name) -> Option<Value> {
        if let Some(value) = self.variables.get(name) {
            return Some(value.clone());
        }
        self.operation
            .variable_definitions
            .iter()
            .find(|definition| &definition.node.name.node == name)
            .and_then(|definition| definition.node.default_value.as_ref())
            .map(|value| value.node.clone())
    }
}
