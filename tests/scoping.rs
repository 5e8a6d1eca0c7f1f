//! No data leaks between companies: every entry point, as a customer of another company.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, error_code};
use serde_json::{Value, json};

/// Alpha has a confirmed, shipped and invoiced order and an unconfirmed one; Beta has its own.
async fn world() -> World {
    let world = World::new().await;
    let app = &world.app;
    app.order("ALPHA-1", "C-1", &[("HW-1", 1, "10", Some("2026-12-01"))])
        .await;
    app.confirm("ALPHA-1").await;
    app.ship("SH-ALPHA", "ALPHA-1", &[(1, 1, &["SN-ALPHA"])])
        .await;
    app.invoice("INV-ALPHA", "ALPHA-1", &[(1, 1)]).await;
    app.order("ALPHA-DRAFT", "C-1", &[("HW-1", 1, "10", None)])
        .await;
    app.order("BETA-1", "C-2", &[("HW-2", 1, "10", None)]).await;
    app.confirm("BETA-1").await;
    world
}

fn order_numbers(data: &Value) -> Vec<&str> {
    data["orders"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["orderNumber"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn orders_lists_only_the_callers_confirmed_orders() {
    let world = world().await;
    let query = "{ orders { totalCount nodes { orderNumber } } }";
    let beta = world.app.data(&world.beta, query, json!({})).await;
    assert_eq!(order_numbers(&beta), ["BETA-1"]);
    assert_eq!(beta["orders"]["totalCount"], 1);
    let alpha = world.app.data(&world.alpha, query, json!({})).await;
    assert_eq!(
        order_numbers(&alpha),
        ["ALPHA-1"],
        "the unconfirmed order stays with the back office"
    );
    let staff = world.app.data(&world.staff, query, json!({})).await;
    assert_eq!(staff["orders"]["totalCount"], 3);
}

#[tokio::test]
async fn order_by_number_of_another_company_looks_like_no_order() {
    let world = world().await;
    let query = "query($n: String!) { order(orderNumber: $n) { orderNumber } }";
    assert_eq!(
        world
            .app
            .data(&world.beta, query, json!({"n": "ALPHA-1"}))
            .await["order"],
        Value::Null
    );
    assert_eq!(
        world
            .app
            .data(&world.alpha, query, json!({"n": "ALPHA-DRAFT"}))
            .await["order"],
        Value::Null
    );
    assert_eq!(
        world
            .app
            .data(&world.alpha, query, json!({"n": "ALPHA-1"}))
            .await["order"]["orderNumber"],
        "ALPHA-1"
    );
}

#[tokio::test]
async fn node_hides_every_kind_of_object_of_another_company() {
    let world = world().await;
    let ids = world
        .app
        .data(
            &world.alpha,
            "{ order(orderNumber: \"ALPHA-1\") { id company { id } lines { id } shipments { id } invoices { id } } me { id } }",
            json!({}),
        )
        .await;
    let order = &ids["order"];
    let alpha_ids = [
        &order["id"],
        &order["company"]["id"],
        &order["lines"][0]["id"],
        &order["shipments"][0]["id"],
        &order["invoices"][0]["id"],
        &ids["me"]["id"],
    ];
    let query = "query($id: ID!) { node(id: $id) { id __typename } }";
    for id in alpha_ids {
        let own = world.app.data(&world.alpha, query, json!({"id": id})).await;
        assert_eq!(own["node"]["id"], *id, "alpha sees its own {id}");
        let foreign = world.app.data(&world.beta, query, json!({"id": id})).await;
        assert_eq!(foreign["node"], Value::Null, "beta must not see {id}");
        let staff = world.app.data(&world.staff, query, json!({"id": id})).await;
        assert_eq!(staff["node"]["id"], *id, "the back office sees {id}");
    }
    let malformed = world
        .app
        .run(Some(&world.beta), query, json!({"id": "bm90LWFuLWlk"}))
        .await;
    assert_eq!(error_code(&malformed), "BAD_USER_INPUT");
}

#[tokio::test]
async fn serial_numbers_of_another_company_are_not_found() {
    let world = world().await;
    let query = "query($s: String!) { serialNumber(serial: $s) { serial orderLine { order { orderNumber } } shipment { shipmentNumber } product { sku } } }";
    let own = world
        .app
        .data(&world.alpha, query, json!({"s": "SN-ALPHA"}))
        .await;
    assert_eq!(
        own["serialNumber"],
        json!({"serial": "SN-ALPHA", "orderLine": {"order": {"orderNumber": "ALPHA-1"}}, "shipment": {"shipmentNumber": "SH-ALPHA"}, "product": {"sku": "HW-1"}})
    );
    assert_eq!(
        world
            .app
            .data(&world.beta, query, json!({"s": "SN-ALPHA"}))
            .await["serialNumber"],
        Value::Null
    );
}

#[tokio::test]
async fn the_summary_and_search_count_only_the_callers_orders() {
    let world = world().await;
    let summary = world
        .app
        .data(
            &world.beta,
            "{ orderSummary { orderCount openLineCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        summary["orderSummary"],
        json!({"orderCount": 1, "openLineCount": 1})
    );
    for term in ["SN-ALPHA", "ALPHA-1", "PO-ALPHA-1", "TRK-SH-ALPHA", "HW-1"] {
        let found = world
            .app
            .data(
                &world.beta,
                "query($s: String) { orders(filter: {search: $s}) { totalCount } }",
                json!({"s": term}),
            )
            .await;
        assert_eq!(found["orders"]["totalCount"], 0, "beta searching {term}");
    }
    let own = world
        .app
        .data(
            &world.alpha,
            "{ orders(filter: {search: \"SN-ALPHA\"}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(own["orders"]["totalCount"], 1);
}

#[tokio::test]
async fn customers_cannot_filter_by_company_or_list_companies() {
    let world = world().await;
    let company = world
        .app
        .data(
            &world.staff,
            "{ companies { id customerNumber } }",
            json!({}),
        )
        .await;
    let alpha_company = company["companies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customerNumber"] == "C-1")
        .unwrap()["id"]
        .clone();
    let by_company = "query($c: ID) { orders(filter: {companyId: $c}) { totalCount } }";
    let refused = world
        .app
        .run(Some(&world.beta), by_company, json!({"c": alpha_company}))
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let staff = world
        .app
        .data(&world.staff, by_company, json!({"c": alpha_company}))
        .await;
    assert_eq!(staff["orders"]["totalCount"], 2);
    let companies = world
        .app
        .run(Some(&world.alpha), "{ companies { name } }", json!({}))
        .await;
    assert_eq!(error_code(&companies), "FORBIDDEN");
}

#[tokio::test]
async fn company_users_are_for_administrators_of_that_company_only() {
    let world = world().await;
    let user = world
        .app
        .user(
            "user@alpha.example",
            customer_portal::domain::account::Role::CustomerUser,
            Some(world.alpha_id),
        )
        .await;
    let query = "{ me { email role company { users { email } } } }";
    let admin = world.app.data(&world.alpha, query, json!({})).await;
    assert_eq!(
        admin["me"]["company"]["users"],
        json!([{"email": "admin@alpha.example"}, {"email": "user@alpha.example"}])
    );
    let refused = world.app.run(Some(&user), query, json!({})).await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
}
