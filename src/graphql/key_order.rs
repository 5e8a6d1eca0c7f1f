//! Response keys in the order of the query, at every level.
//!
//! async-graphql resolves an object's fields at once and collects each answer as it finishes
//! (`resolver_utils::container`, a `FuturesUnordered`), so a field that waits for the database
//! lands after one that did not: `{b: me {email} a: me {id} c: __typename}` answered c, a, b.
//! Every `#[Object]` and merged object does this, the query root first; mutations resolve one
//! after another and the one-pass walk of an order page (`one_pass`) builds its maps in
//! selection order, so they were already right.
//! The specification orders an object's keys as its selection set collects them (fragments
//! expanded in place, a repeated key at its first place). [`KeyOrder`] puts them so once a
//! response (or a subscription's event) is complete. It is an extension so that it orders by
//! the document async-graphql executed, on every path (HTTP, WebSocket, a persisted query),
//! and it watches no field. The walk follows the response, so it costs what the response
//! costs, and leaves an object whose keys are already in order as it is.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_graphql::{
    Name, Response, ServerResult, Value, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery},
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

/// The extension that puts response keys in the query's order.
pub struct KeyOrder;

impl ExtensionFactory for KeyOrder {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(KeyOrderOfRequest::default())
    }
}

/// One request's document, kept from its parsing to its response, or to each event of a
/// subscription (each goes through `execute`).
#[derive(Default)]
struct KeyOrderOfRequest {
    document: Mutex<Option<ExecutableDocument>>,
}

impl KeyOrderOfRequest {
    fn document(&self) -> MutexGuard<'_, Option<ExecutableDocument>> {
        self.document.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for KeyOrderOfRequest {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        *self.document() = Some(document.clone());
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        if let Some(document) = self.document().as_ref() {
            order_response_keys(document, operation_name, &mut response.data);
        }
        response
    }
}

/// Puts the keys of `data`, the answer to `operation_name` of `document`, in the query's order.
fn order_response_keys(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    data: &mut Value,
) {
    let Some(operation) = super::operation::chosen(document, operation_name) else {
        return;
    };
    let keys = ResponseKeys::collect(document, &[&operation.node.selection_set.node]);
    keys.order(document, data);
}

/// The response keys of one or more selection sets merged, in order, each with the selection
/// sets that ask for its value's own keys.
struct ResponseKeys<'a> {
    keys: Vec<(&'a Name, Vec<&'a SelectionSet>)>,
}

impl<'a> ResponseKeys<'a> {
    fn collect(document: &'a ExecutableDocument, sets: &[&'a SelectionSet]) -> Self {
        let mut keys = Self { keys: Vec::new() };
        let mut spreading = Vec::new();
        for set in sets {
            keys.add(document, set, &mut spreading);
        }
        keys
    }

    /// `spreading` holds the fragments being expanded, so that a cycle (refused later by
    /// validation, but a response may still hold partial data) cannot recurse for ever.
    fn add(
        &mut self,
        document: &'a ExecutableDocument,
        set: &'a SelectionSet,
        spreading: &mut Vec<&'a Name>,
    ) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = &field.node.response_key().node;
                    let nested = &field.node.selection_set.node;
                    match self.keys.iter_mut().find(|(seen, _)| *seen == key) {
                        Some((_, sets)) => sets.push(nested),
                        None => self.keys.push((key, vec![nested])),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if spreading.contains(&name) {
                        continue;
                    }
                    if let Some(fragment) = document.fragments.get(name) {
                        spreading.push(name);
                        self.add(document, &fragment.node.selection_set.node, spreading);
                        spreading.pop();
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.add(document, &inline.node.selection_set.node, spreading);
                }
            }
        }
    }

    fn rank(&self, key: &Name) -> usize {
        self.keys
            .iter()
            .position(|(seen, _)| *seen == key)
            .unwrap_or(usize::MAX)
    }

    /// Orders `value` (an object, or a list of them at any depth) and what it holds.
    fn order(&self, document: &'a ExecutableDocument, value: &mut Value) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.order(document, item);
                }
            }
            Value::Object(map) => {
                if !map.keys().map(|key| self.rank(key)).is_sorted() {
                    map.sort_by_cached_key(|key, _| self.rank(key));
                }
                for (key, sets) in &self.keys {
                    let Some(child) = map.get_mut(*key) else {
                        continue;
                    };
                    if sets.iter().any(|set| !set.items.is_empty())
                        && matches!(child, Value::Object(_) | Value::List(_))
                    {
                        Self::collect(document, sets).order(document, child);
                    }
                }
            }
            _ => {}
        }
    }
}
