//! Response keys come back in the order of the query, at every level, whatever finishes first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::World;

/// The response's `data` as the client reads it: JSON text, keys in the order sent.
async fn data_text(world: &World, token: &str, query: &str) -> String {
    let response = world
        .app
        .app
        .execute(
            Some(&format!("Bearer {token}")),
            async_graphql::Request::new(query),
        )
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    serde_json::to_string(&response.data).unwrap()
}

#[tokio::test]
async fn aliases_over_the_query_roots_areas_answer_in_the_querys_order() {
    let world = World::new().await;
    let data = data_text(
        &world,
        &world.alpha,
        "{b: me {email} a: me {id} c: __typename z: orderSummary {orderCount} y: me {name}}",
    )
    .await;
    let id = data
        .split("\"id\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert_eq!(
        data,
        format!(
            r#"{{"b":{{"email":"admin@alpha.example"}},"a":{{"id":"{id}"}},"c":"Query","z":{{"orderCount":0}},"y":{{"name":null}}}}"#
        )
    );

    let data = data_text(
        &world,
        &world.alpha,
        "{ t: apiTokens { id } e: orderEvents(first: 1) { totalCount: pageInfo { hasNextPage } } s: orderSummary { overdueLines orderCount } m: me { role email company { name } } }",
    )
    .await;
    assert_eq!(
        data,
        r#"{"t":[],"e":{"totalCount":{"hasNextPage":false}},"s":{"overdueLines":0,"orderCount":0},"m":{"role":"CUSTOMER_ADMIN","email":"admin@alpha.example","company":{"name":"Alpha Systems BV"}}}"#
    );
}

#[tokio::test]
async fn nested_objects_and_fragments_answer_in_the_querys_order() {
    let world = World::new().await;
    world
        .app
        .order("SO-1", "C-1", &[("HW-1", 1, "10", Some("2026-11-30"))])
        .await;
    world.app.confirm("SO-1").await;
    let data = data_text(
        &world,
        &world.staff,
        "query { x: supportRequests { id } o: order(orderNumber: \"SO-1\") { ...Late lines { product { vendor { name } sku } lineNumber } orderNumber company { customerNumber name } } n: __typename }
         fragment Late on Order { atRisk company { name } status }",
    )
    .await;
    assert_eq!(
        data,
        r#"{"x":[],"o":{"atRisk":false,"company":{"name":"Alpha Systems BV","customerNumber":"C-1"},"status":"CONFIRMED","lines":[{"product":{"vendor":{"name":"Fortiwall"},"sku":"HW-1"},"lineNumber":1}],"orderNumber":"SO-1"},"n":"Query"}"#
    );
}

#[tokio::test]
async fn subscription_events_answer_in_the_querys_order() {
    use futures_util::StreamExt;
    let world = World::new().await;
    world
        .app
        .order("SO-1", "C-1", &[("HW-1", 1, "10", Some("2026-11-30"))])
        .await;
    world.app.confirm("SO-1").await;
    // From the last event Alpha has seen, so that the change below cannot come before the
    // subscription starts.
    let seen = world
        .app
        .data(
            &world.alpha,
            "{ orderEvents(first: 100) { pageInfo { endCursor } } }",
            serde_json::json!({}),
        )
        .await;
    let after = seen["orderEvents"]["pageInfo"]["endCursor"].clone();
    let subscription = "subscription($after: String) { orderEvents(orderNumber: \"SO-1\", after: $after) { orderLine { eta lineNumber } order { status orderNumber } kind } }";
    let request = async_graphql::Request::new(subscription).variables(
        async_graphql::Variables::from_json(serde_json::json!({ "after": after })),
    );
    let events = world
        .app
        .app
        .subscribe(Some(&format!("Bearer {}", world.alpha)), request)
        .await
        .unwrap();
    futures_util::pin_mut!(events);
    world
        .app
        .set_eta("SO-1", 1, Some("2026-12-04"), "vendor")
        .await;
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), events.next())
        .await
        .unwrap()
        .unwrap();
    assert!(event.errors.is_empty(), "{:?}", event.errors);
    assert_eq!(
        serde_json::to_string(&event.data).unwrap(),
        r#"{"orderEvents":{"orderLine":{"eta":"2026-12-04","lineNumber":1},"order":{"status":"CONFIRMED","orderNumber":"SO-1"},"kind":"ETA_CHANGED"}}"#
    );
}
