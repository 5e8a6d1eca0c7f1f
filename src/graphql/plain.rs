//! A shorter way through async-graphql for the objects a page lists by the hundred.
//!
//! async-graphql resolves every field of every object as a boxed future of its own, sized for
//! the largest resolver of the type, and collects the answers into a map that grows from
//! empty. Most fields of a listed order, line, shipment or serial number are a column or a
//! figure already in memory, and a dashboard page holds about 7,000 of them. [`Plain`] answers
//! those in place and sends only the remaining fields (the ones that load something) through
//! the type's own resolver, at once or one after another as the type's `#[Object]` does.
//!
//! The schema does not change: `Plain<T>` registers and names itself as `T`. A selection it
//! does not take apart plainly (a fragment, a response key given twice) goes to `T`'s own
//! resolution, so the answer is always async-graphql's. The schema's one extension (response
//! keys in the query's order) watches no field; one that did would not see the plain ones.

use std::{borrow::Cow, pin::Pin};

use futures_util::future::join_all;

use async_graphql::{
    ContainerType, Context, ContextSelectionSet, EnumType, Name, OutputType, Positioned,
    ScalarType, ServerResult, Value,
    indexmap::IndexMap,
    parser::types::{Field, Selection, SelectionSet},
    registry::Registry,
    resolver_utils::enum_value,
};

/// A type whose leaf fields answer without waiting for anything.
pub trait PlainFields {
    /// The value of `field`, when it needs no I/O; `None` resolves it the usual way. A field
    /// with a selection set of its own answers here only through [`object`].
    fn plain(&self, field: &Field) -> Option<Value>;

    /// Whether the remaining fields resolve at once, as `#[Object]` does, rather than one
    /// after another, as `#[Object(serial)]` does. Each of an order's loads waits for its
    /// loader's batch: one after another, they would add a batch round each to the page.
    const CONCURRENT: bool = false;
}

/// An object resolved through [`PlainFields`] first.
pub struct Plain<T>(pub T);

impl<T> Plain<T> {
    pub fn all(items: impl IntoIterator<Item = T>) -> Vec<Self> {
        items.into_iter().map(Plain).collect()
    }
}

/// The fields of `set`, when it holds fields only, each response key once: then a map
/// built field by field in order is exactly what async-graphql's merging would build.
fn plain_fields(set: &SelectionSet) -> Option<Vec<&Positioned<Field>>> {
    let mut fields = Vec::with_capacity(set.items.len());
    for selection in &set.items {
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let key = &field.node.response_key().node;
        let repeated = fields
            .iter()
            .any(|seen: &&Positioned<Field>| seen.node.response_key().node == *key);
        if repeated || !field.node.directives.is_empty() {
            return None;
        }
        fields.push(field);
    }
    Some(fields)
}

fn typename<T: OutputType>(object: &T, field: &Field) -> Option<Value> {
    (field.name.node == "__typename")
        .then(|| Value::String(object.introspection_type_name().into_owned()))
}

/// A nested object (a money amount, a progress) answered in place, or `None` when any of its
/// selected fields needs the usual way.
pub fn object<T: PlainFields + OutputType>(value: &T, field: &Field) -> Option<Value> {
    let fields = plain_fields(&field.selection_set.node)?;
    let mut map = IndexMap::with_capacity(fields.len());
    for selected in fields {
        let answer = typename(value, &selected.node).or_else(|| value.plain(&selected.node))?;
        map.insert(selected.node.response_key().node.clone(), answer);
    }
    Some(Value::Object(map))
}

/// A scalar's value.
pub fn scalar<S: ScalarType>(value: S) -> Value {
    value.to_value()
}

/// A nullable scalar's value.
pub fn optional<S: ScalarType>(value: Option<S>) -> Value {
    value.map_or(Value::Null, |value| value.to_value())
}

/// An enum's value.
pub fn enumeration<E: EnumType>(value: E) -> Value {
    enum_value(value)
}

/// A nullable string's value.
pub fn text(value: Option<&str>) -> Value {
    value.map_or(Value::Null, Value::from)
}

/// `T`'s own resolver of one field, boxed: types reach each other through their fields (a
/// line's shipment lines, a shipment line's order line), so the future must not hold itself.
fn resolve_field<'a, T: ContainerType>(
    object: &'a T,
    ctx: &'a Context<'a>,
) -> Pin<Box<dyn Future<Output = ServerResult<Option<Value>>> + Send + 'a>> {
    Box::pin(object.resolve_field(ctx))
}

impl<T> OutputType for Plain<T>
where
    T: PlainFields + ContainerType + OutputType,
{
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let Some(fields) = plain_fields(&ctx.item.node) else {
            return self.0.resolve(ctx, field).await;
        };
        let mut answers = Vec::with_capacity(fields.len());
        let mut pending = Vec::new();
        for (index, selected) in fields.iter().enumerate() {
            let answer = typename(&self.0, &selected.node).or_else(|| self.0.plain(&selected.node));
            if answer.is_none() {
                pending.push((index, ctx.with_field(selected)));
            }
            answers.push(Ok(answer.unwrap_or_default()));
        }
        if T::CONCURRENT {
            let resolved = join_all(
                pending
                    .iter()
                    .map(|(_, field_ctx)| resolve_field(&self.0, field_ctx)),
            )
            .await;
            for ((index, _), result) in pending.iter().zip(resolved) {
                answers[*index] = result.map(Option::unwrap_or_default);
            }
        } else {
            for (index, field_ctx) in &pending {
                let result = resolve_field(&self.0, field_ctx).await;
                answers[*index] = result.map(Option::unwrap_or_default);
            }
        }
        let mut map: IndexMap<Name, Value> = IndexMap::with_capacity(fields.len());
        for (selected, answer) in fields.iter().zip(answers) {
            match answer {
                Ok(answer) => {
                    map.insert(selected.node.response_key().node.clone(), answer);
                }
                // As async-graphql does: a failed field is reported and left out.
                Err(error) => ctx.add_error(error),
            }
        }
        Ok(if map.is_empty() {
            Value::Null
        } else {
            Value::Object(map)
        })
    }
}
