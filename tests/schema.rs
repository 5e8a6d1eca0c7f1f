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
