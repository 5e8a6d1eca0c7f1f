//! The operation of a document that a request chooses, by the rule async-graphql executes it
//! by, for the extensions and the response cache that look at it before it runs.

use async_graphql::{
    Positioned,
    parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition},
};

/// The operation named `name`, or the only one when no name is given; `None` where execution
/// refuses the request (an unknown name, a name for an anonymous operation, no name among
/// several).
pub fn chosen<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match (&document.operations, name) {
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Single(operation), None) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::{parse_query, types::OperationType};

    use super::chosen;

    #[test]
    fn the_operation_chosen_is_the_one_async_graphql_runs() {
        for (document, name, expected) in [
            ("{ me { id } }", None, Some(OperationType::Query)),
            ("{ me { id } }", Some("Me"), None),
            ("query Me { me { id } }", None, Some(OperationType::Query)),
            (
                "query Me { me { id } }",
                Some("Me"),
                Some(OperationType::Query),
            ),
            ("query Me { me { id } }", Some("Other"), None),
            ("query A { me { id } } mutation B { logout }", None, None),
            (
                "query A { me { id } } mutation B { logout }",
                Some("B"),
                Some(OperationType::Mutation),
            ),
        ] {
            let parsed = parse_query(document).expect("the table's documents parse");
            let chosen = chosen(&parsed, name).map(|operation| operation.node.ty);
            assert_eq!(chosen, expected, "{document} {name:?}");
        }
    }
}
