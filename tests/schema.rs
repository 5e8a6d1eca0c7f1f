//! The committed `schema.graphql` is exactly what the code serves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn committed_schema_matches_the_served_schema() {
    let served = customer_portal::graphql::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &served).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == served,
        "schema.graphql is out of date: run `UPDATE_SCHEMA=1 cargo test --test schema` and commit it"
    );
}

/// Every element of the served schema a client can see, by its path (`Order.lines(first:)`),
/// and whether it has a description.
fn schema_elements() -> Vec<(String, bool)> {
    use async_graphql::parser::{
        parse_schema,
        types::{TypeKind, TypeSystemDefinition},
    };
    let document = parse_schema(customer_portal::graphql::sdl()).unwrap();
    let mut elements = Vec::new();
    let mut add = |path: String, description: &Option<async_graphql::Positioned<String>>| {
        let described = description
            .as_ref()
            .is_some_and(|text| !text.node.trim().is_empty());
        elements.push((path, described));
    };
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(definition) = definition else {
            continue;
        };
        let definition = &definition.node;
        let name = definition.name.node.as_str();
        add(name.to_owned(), &definition.description);
        let fields = match &definition.kind {
            TypeKind::Object(object) => &object.fields,
            TypeKind::Interface(interface) => &interface.fields,
            TypeKind::Enum(enumeration) => {
                for value in &enumeration.values {
                    add(
                        format!("{name}.{}", value.node.value.node),
                        &value.node.description,
                    );
                }
                continue;
            }
            TypeKind::InputObject(input) => {
                for field in &input.fields {
                    add(
                        format!("{name}.{}", field.node.name.node),
                        &field.node.description,
                    );
                }
                continue;
            }
            TypeKind::Scalar | TypeKind::Union(_) => continue,
        };
        for field in fields {
            let field_name = format!("{name}.{}", field.node.name.node);
            add(field_name.clone(), &field.node.description);
            for argument in &field.node.arguments {
                add(
                    format!("{field_name}({}:)", argument.node.name.node),
                    &argument.node.description,
                );
            }
        }
    }
    elements
}

#[test]
fn every_schema_element_has_a_description() {
    let elements = schema_elements();
    let missing: Vec<&str> = elements
        .iter()
        .filter(|(_, described)| !described)
        .map(|(path, _)| path.as_str())
        .collect();
    println!(
        "described: {} / {}",
        elements.len() - missing.len(),
        elements.len()
    );
    assert!(
        missing.is_empty(),
        "{} of {} schema elements have no description:\n{}",
        missing.len(),
        elements.len(),
        missing.join("\n")
    );
}
