//! Answers to polled order queries, kept until their orders change.
//!
//! Every change of an order appends an order event in its transaction, and the process's tail
//! of the event table ([`EventBus`]) knows the last position of each company it has read. An
//! answer is stored under its document, variables, operation, caller's scope and role, the
//! business date and the schema, stamped with the scope's version when it started; it is
//! served while that version is still the scope's. The version (with the key's hash) is also
//! the answer's `ETag`, so that a client that already holds it gets `304 Not Modified`.
//!
//! Only documents whose every root field reads order data are kept; anything else (mutations,
//! accounts, API tokens, support requests, the event feed) always runs. Errors are never kept.

use std::{
    collections::{HashMap, VecDeque},
    fmt::Write as _,
    sync::{Arc, Mutex, PoisonError},
};

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use axum::body::Bytes;
use chrono::NaiveDate;
use sea_orm::ActiveEnum;
use sha2::{Digest, Sha256};

use crate::{
    auth::Authentication,
    error::AppResult,
    feed::{EventBus, Version},
    metrics::{CacheOutcome, Metrics},
    store::Scope,
};

/// Root fields that read nothing but orders and what hangs under them.
const ORDER_ROOT_FIELDS: [&str; 6] = [
    "orders",
    "order",
    "serialNumber",
    "orderSummary",
    "overdueApprovals",
    "__typename",
];
/// Fields under orders that read facts order events do not version (a company's users).
const UNVERSIONED_FIELDS: [&str; 1] = ["users"];
/// Fragments followed at the root at most this deep; validation refuses cycles later.
const MAX_FRAGMENT_DEPTH: usize = 8;
/// Documents whose kind is remembered, so that a poll is not parsed to be recognised; past
/// it, they are forgotten and parsed again.
const DOCUMENTS: usize = 1_000;

type Key = [u8; 32];

/// The process's stored answers, bounded by their total size.
pub struct ResponseCache {
    capacity_bytes: usize,
    schema: Key,
    entries: Mutex<Entries>,
    /// Whether each document (by [`document_key`]) reads only orders.
    documents: Mutex<HashMap<Key, bool>>,
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<Key, Entry>,
    /// Keys oldest first: the first evicted when the bytes run out.
    order: VecDeque<Key>,
    bytes: usize,
}

struct Entry {
    version: Version,
    body: Bytes,
}

/// Request data of a request over HTTP: the `If-None-Match` it sent, and what the cache made
/// of it, for the HTTP edge to answer with.
#[derive(Clone, Default)]
pub struct Revalidation {
    if_none_match: Option<String>,
    outcome: Arc<Mutex<Outcome>>,
}

/// What the cache made of one request.
#[derive(Clone, Default)]
pub enum Outcome {
    /// Not an order query, the cache is off, or the scope's version is not known now.
    #[default]
    Uncached,
    /// The client holds the current answer: `304` with this `ETag`.
    NotModified { etag: String },
    /// The stored answer, current.
    Stored { etag: String, body: Bytes },
    /// Executed: the body is to be stored (if it has no errors) under `key` at `version`.
    Executed {
        etag: String,
        key: Key,
        version: Version,
    },
}

impl Revalidation {
    /// For a request that sent `if_none_match`.
    pub fn new(if_none_match: Option<&str>) -> Self {
        Self {
            if_none_match: if_none_match.map(str::to_owned),
            outcome: Arc::default(),
        }
    }

    /// What the cache made of the request.
    pub fn outcome(&self) -> Outcome {
        self.outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, outcome: Outcome) {
        *self.outcome.lock().unwrap_or_else(PoisonError::into_inner) = outcome;
    }

    /// Whether `etag` is among the validators the client sent.
    fn matches(&self, etag: &str) -> bool {
        self.if_none_match.as_deref().is_some_and(|validators| {
            validators
                .split(',')
                .map(|validator| validator.trim().trim_start_matches("W/"))
                .any(|validator| validator == etag)
        })
    }
}

impl ResponseCache {
    /// A cache holding up to `capacity_bytes` of answers (`0`: off) for the schema whose SDL
    /// is `sdl`, counting its hits, misses and 304s in `metrics`.
    pub fn new(capacity_bytes: usize, sdl: &str, metrics: Arc<Metrics>) -> Self {
        Self {
            capacity_bytes,
            schema: Sha256::digest(sdl.as_bytes()).into(),
            entries: Mutex::default(),
            documents: Mutex::default(),
            metrics,
        }
    }

    /// Looks `request` up for `authentication` and records the outcome in the request's
    /// [`Revalidation`] (requests without one, or not reading only orders, are left alone).
    /// True when the stored answer or a `304` answers it, so that it need not run.
    pub async fn look_up(
        &self,
        request: &async_graphql::Request,
        authentication: &Authentication,
        events: &Arc<EventBus>,
        today: NaiveDate,
    ) -> AppResult<bool> {
        let Some(revalidation) = request
            .data
            .get(&std::any::TypeId::of::<Revalidation>())
            .and_then(|data| data.downcast_ref::<Revalidation>())
        else {
            return Ok(false);
        };
        let Authentication::Signed(viewer) = authentication else {
            return Ok(false);
        };
        let scope = viewer.scope();
        if self.capacity_bytes == 0 {
            return Ok(false);
        }
        let document = document_key(request);
        if !self.reads_only_orders(&document, request) {
            return Ok(false);
        }
        let Some(version) = events.version(scope).await? else {
            return Ok(false);
        };
        let key = self.key(&document, request, scope, &viewer.role.to_value(), today);
        let etag = etag(scope, version, &key);
        if revalidation.matches(&etag) {
            self.metrics.cached(CacheOutcome::NotModified);
            revalidation.set(Outcome::NotModified { etag });
            return Ok(true);
        }
        let stored = {
            let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            entries
                .map
                .get(&key)
                .filter(|entry| entry.version == version)
                .map(|entry| entry.body.clone())
        };
        if let Some(body) = stored {
            self.metrics.cached(CacheOutcome::Hit);
            revalidation.set(Outcome::Stored { etag, body });
            return Ok(true);
        }
        self.metrics.cached(CacheOutcome::Miss);
        revalidation.set(Outcome::Executed { etag, key, version });
        Ok(false)
    }

    /// Keeps an executed answer without errors, evicting the oldest beyond the capacity.
    pub fn store(&self, key: Key, version: Version, body: Bytes) {
        if body.len() > self.capacity_bytes {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let added = body.len();
        if let Some(previous) = entries.map.insert(key, Entry { version, body }) {
            entries.bytes -= previous.body.len();
        } else {
            entries.order.push_back(key);
        }
        entries.bytes += added;
        while entries.bytes > self.capacity_bytes {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            if let Some(evicted) = entries.map.remove(&oldest) {
                entries.bytes -= evicted.body.len();
            }
        }
    }

    /// Whether the document `document` of `request` reads only orders, parsed the first time.
    fn reads_only_orders(&self, document: &Key, request: &async_graphql::Request) -> bool {
        let known = self
            .documents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(document)
            .copied();
        if let Some(kept) = known {
            return kept;
        }
        let kept = reads_only_orders(&request.query, request.operation_name.as_deref());
        let mut documents = self
            .documents
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if documents.len() >= DOCUMENTS {
            documents.clear();
        }
        documents.insert(*document, kept);
        kept
    }

    /// Everything the answer depends on besides the stored orders. Each part is prefixed
    /// with its length, so that no two different keys write the same bytes.
    fn key(
        &self,
        document: &Key,
        request: &async_graphql::Request,
        scope: Scope,
        role: &str,
        today: NaiveDate,
    ) -> Key {
        let variables = serde_json::to_vec(&request.variables).unwrap_or_default();
        let scope = scope_tag(scope);
        let today = today.to_string();
        let mut hash = Sha256::new();
        for part in [
            self.schema.as_slice(),
            scope.as_bytes(),
            role.as_bytes(),
            today.as_bytes(),
            document.as_slice(),
            &variables,
        ] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        hash.finalize().into()
    }
}

/// The request's document and the operation it chooses, length-prefixed (and no name apart
/// from an empty one, which execution refuses).
fn document_key(request: &async_graphql::Request) -> Key {
    let mut hash = Sha256::new();
    hash.update([u8::from(request.operation_name.is_some())]);
    for part in [
        request.operation_name.as_deref().unwrap_or("").as_bytes(),
        request.query.as_bytes(),
    ] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}

fn scope_tag(scope: Scope) -> String {
    match scope {
        Scope::Everything => "back-office".to_owned(),
        Scope::Company(company_id) => format!("company-{company_id}"),
        Scope::Nothing => "nothing".to_owned(),
    }
}

/// The answer's validator: whose, at which version, for which request.
fn etag(scope: Scope, version: Version, key: &Key) -> String {
    let mut tag = format!(
        "\"{}.{}.{}.",
        scope_tag(scope),
        version.position,
        version.local_writes
    );
    for byte in &key[..16] {
        let _ = write!(tag, "{byte:02x}");
    }
    tag.push('"');
    tag
}

/// Whether the operation `operation_name` of `query` is a query whose every root field reads
/// order data, and which asks for no unversioned field anywhere. Anything unclear is no.
fn reads_only_orders(query: &str, operation_name: Option<&str>) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    let Some(operation) = super::operation::chosen(&document, operation_name) else {
        return false;
    };
    operation.node.ty == OperationType::Query
        && roots_read_orders(&document, &operation.node.selection_set.node, 0)
        && !asks_unversioned(&operation.node.selection_set.node)
        && document
            .fragments
            .values()
            .all(|fragment| !asks_unversioned(&fragment.node.selection_set.node))
}

fn roots_read_orders(document: &ExecutableDocument, set: &SelectionSet, depth: usize) -> bool {
    depth <= MAX_FRAGMENT_DEPTH
        && set.items.iter().all(|selection| match &selection.node {
            Selection::Field(field) => ORDER_ROOT_FIELDS.contains(&field.node.name.node.as_str()),
            Selection::InlineFragment(fragment) => {
                roots_read_orders(document, &fragment.node.selection_set.node, depth + 1)
            }
            Selection::FragmentSpread(spread) => document
                .fragments
                .get(&spread.node.fragment_name.node)
                .is_some_and(|fragment| {
                    roots_read_orders(document, &fragment.node.selection_set.node, depth + 1)
                }),
        })
}

fn asks_unversioned(set: &SelectionSet) -> bool {
    set.items.iter().any(|selection| match &selection.node {
        Selection::Field(field) => {
            UNVERSIONED_FIELDS.contains(&field.node.name.node.as_str())
                || asks_unversioned(&field.node.selection_set.node)
        }
        Selection::InlineFragment(fragment) => asks_unversioned(&fragment.node.selection_set.node),
        Selection::FragmentSpread(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::reads_only_orders;

    #[test]
    fn only_queries_of_order_data_are_kept() {
        for (document, operation, kept) in [
            ("{ orders { totalCount } }", None, true),
            ("query Dash { orderSummary { total } }", None, true),
            ("query Dash { orderSummary { total } }", Some("Dash"), true),
            (
                "query Dash { orderSummary { total } }",
                Some("Other"),
                false,
            ),
            (
                "{ ...Root } fragment Root on Query { order(orderNumber: \"1\") { id } }",
                None,
                true,
            ),
            (
                "{ ... on Query { serialNumber(serial: \"S\") { serial } } }",
                None,
                true,
            ),
            ("{ orders { totalCount } me { email } }", None, false),
            (
                "{ ...Root } fragment Root on Query { me { email } }",
                None,
                false,
            ),
            ("{ orderEvents { edges { cursor } } }", None, false),
            ("{ apiTokens { id } }", None, false),
            ("{ supportRequests { id } }", None, false),
            ("{ companies { id } }", None, false),
            ("{ node(id: \"x\") { id } }", None, false),
            (
                "{ order(orderNumber: \"1\") { company { users { email } } } }",
                None,
                false,
            ),
            ("mutation { logout }", None, false),
            ("subscription { orderEvents { id } }", None, false),
            (
                "query A { orders { totalCount } } mutation B { logout }",
                None,
                false,
            ),
            ("{ orders {", None, false),
        ] {
            assert_eq!(reads_only_orders(document, operation), kept, "{document}");
        }
    }
}
