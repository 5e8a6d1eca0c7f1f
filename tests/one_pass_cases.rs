//! The one-pass answer of an order page against async-graphql's own (`PORTAL_ONE_PASS=0`),
//! byte for byte, on the selections where the two could part: fragments, a response key given
//! twice, directives with variables, `__typename`, fields that only the ordinary way answers,
//! and a field that fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use customer_portal::{app::App, generate};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// A generated data set seen by one app answering in one pass and one answering field by
/// field, over the same database.
struct Pair {
    one_pass: common::TestApp,
    ordinary: App,
    token: String,
}

impl Pair {
    async fn new() -> Self {
        // Answers kept between requests would hide a row changed behind the service's back.
        let no_cache = ("PORTAL_RESPONSE_CACHE_MB", "0");
        let one_pass = common::TestApp::with_settings(None, &[no_cache]).await;
        let sizes = generate::Sizes {
            companies: 1,
            vendors: 10,
            products: 200,
            orders: 120,
        };
        generate::run(&one_pass.db, sizes).await.unwrap();
        let token = one_pass
            .login(&generate::admin_email(1), generate::PASSWORD)
            .await;
        let config = common::test_config(
            &one_pass.mail_dir,
            None,
            &[("PORTAL_ONE_PASS", "0"), no_cache],
        );
        let ordinary = App::new(&config, one_pass.db.clone(), one_pass.clock.clone());
        Self {
            one_pass,
            ordinary,
            token,
        }
    }

    /// Both answers to `query`, serialised as sent (keys in their order).
    async fn answers(&self, query: &str, variables: Value) -> (String, String) {
        let header = format!("Bearer {}", self.token);
        let request = || {
            async_graphql::Request::new(query)
                .variables(async_graphql::Variables::from_json(variables.clone()))
        };
        let one_pass = self.one_pass.app.execute(Some(&header), request()).await;
        let ordinary = self.ordinary.execute(Some(&header), request()).await;
        (
            serde_json::to_string(&one_pass).unwrap(),
            serde_json::to_string(&ordinary).unwrap(),
        )
    }

    /// Asserts that both ways give the same answer, and returns it.
    async fn same(&self, query: &str, variables: Value) -> Value {
        let (one_pass, ordinary) = self.answers(query, variables).await;
        assert_eq!(one_pass, ordinary, "{query}");
        serde_json::from_str(&one_pass).unwrap()
    }
}

fn nodes(answer: &Value) -> &Vec<Value> {
    answer["data"]["orders"]["nodes"].as_array().unwrap()
}

#[tokio::test]
async fn fragments_named_and_inline_with_type_conditions() {
    let pair = Pair::new().await;
    let answer = pair
        .same(
            r#"query {
              orders(first: 40) {
                nodes {
                  ...OrderHead
                  ... on Node { id }
                  ... on Order { status lines { ...Line } }
                  ... { eta { ... on EtaRange { earliest } pending } }
                  shipments { ... on Shipment { shipmentNumber lines { ...ShipmentLine } } }
                  invoices { ... on Invoice { invoiceNumber total { amount } } }
                }
              }
            }
            fragment OrderHead on Order { orderNumber orderDate total { ...Amount } }
            fragment Amount on Money { amount currency }
            fragment Line on OrderLine {
              lineNumber unitPrice { ...Amount }
              product { ... on Node { id } ... on Product { sku vendor { name } } }
              etaHistory { newEta reason }
            }
            fragment ShipmentLine on ShipmentLine {
              quantity serialNumbers { serial } orderLine { ...Line }
            }"#,
            json!({}),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer:#}");
    assert_eq!(nodes(&answer).len(), 40);
    assert!(nodes(&answer)[0]["lines"][0]["product"]["vendor"]["name"].is_string());
}

#[tokio::test]
async fn one_field_under_two_aliases_and_one_key_given_twice() {
    let pair = Pair::new().await;
    let answer = pair
        .same(
            r#"{
              orders(first: 30) {
                nodes {
                  a: orderNumber b: orderNumber
                  first: lines { lineNumber } second: lines { quantity status }
                  lines { lineNumber product { sku } }
                  lines { quantity product { description } }
                  total { amount } total { currency }
                  shipments { lines { quantity } } shipments { shipmentNumber lines { serialNumbers { serial } } }
                }
              }
            }"#,
            json!({}),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer:#}");
    let order = &nodes(&answer)[0];
    assert_eq!(order["a"], order["b"]);
    let line = &order["lines"][0];
    assert!(line["product"]["sku"].is_string() && line["product"]["description"].is_string());
}

#[tokio::test]
async fn skip_and_include_with_variables() {
    let pair = Pair::new().await;
    let query = r#"query($lines: Boolean!, $serials: Boolean!) {
      orders(first: 30) {
        nodes {
          orderNumber @skip(if: $lines)
          lines @include(if: $lines) { lineNumber eta @skip(if: $serials) }
          shipments { lines { quantity serialNumbers @include(if: $serials) { serial } } }
          ... on Order @include(if: $serials) { atRisk }
          ...Head @skip(if: $serials)
        }
      }
    }
    fragment Head on Order { customerReference updatedAt }"#;
    for (lines, serials) in [(true, true), (true, false), (false, true), (false, false)] {
        let variables = json!({"lines": lines, "serials": serials});
        let answer = pair.same(query, variables).await;
        assert!(answer.get("errors").is_none(), "{answer:#}");
        let order = &nodes(&answer)[0];
        assert_eq!(order.get("lines").is_some(), lines);
        assert_eq!(order.get("atRisk").is_some(), serials);
    }
}

#[tokio::test]
async fn typename_at_every_level() {
    let pair = Pair::new().await;
    let answer = pair
        .same(
            r#"{
              orders(first: 30) {
                nodes {
                  __typename kind: __typename
                  eta { __typename } progress { __typename ordered } total { __typename }
                  lines {
                    __typename unitPrice { __typename } progress { __typename }
                    product { __typename vendor { __typename } }
                    etaHistory { __typename }
                  }
                  shipments { __typename lines { __typename serialNumbers { __typename } } }
                  invoices { __typename lines { __typename amount { __typename } } }
                }
              }
            }"#,
            json!({}),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer:#}");
    assert_eq!(nodes(&answer)[0]["kind"], "Order");
    assert_eq!(
        nodes(&answer)[0]["lines"][0]["product"]["vendor"]["__typename"],
        "Vendor"
    );
}

/// Fields that need more than the page's rows (a company, electronic deliveries, an order's
/// other relations reached again from below) resolve the ordinary way among one-pass ones.
#[tokio::test]
async fn fields_that_fall_back_to_the_ordinary_way() {
    let pair = Pair::new().await;
    let answer = pair
        .same(
            r#"{
              orders(first: 30) {
                nodes {
                  orderNumber company { name }
                  lines {
                    lineNumber electronicDeliveries { quantity recipientEmail }
                    order { orderNumber status lines { lineNumber } shipments { shipmentNumber } }
                    serialNumbers { serial shipment { shipmentNumber } }
                    shipmentLines { quantity }
                  }
                  shipments { order { orderNumber atRisk } lines { shipment { shipDate } } }
                  invoices { order { orderNumber } lines { orderLine { lineNumber product { sku } } } }
                }
              }
            }"#,
            json!({}),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer:#}");
    assert!(nodes(&answer)[0]["company"]["name"].is_string());
}

/// A field that fails reports the same error at the same path either way, and the rest of the
/// page still answers.
#[tokio::test]
async fn a_failing_field_keeps_its_error_path() {
    let pair = Pair::new().await;
    let query = r#"{
      orders(first: 20) {
        nodes { orderNumber status total { amount } lines { lineNumber unitPrice { currency } } }
      }
    }"#;
    let before = pair.same(query, json!({})).await;
    let number = nodes(&before)[3]["orderNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    // A total past what an amount can hold: the order's `total` fails, nothing else.
    pair.one_pass
        .db
        .execute_unprepared(&format!(
            "UPDATE order_lines SET unit_price_e4 = {} WHERE order_id = \
             (SELECT id FROM orders WHERE order_number = '{number}')",
            i64::MAX
        ))
        .await
        .unwrap();
    let answer = pair.same(query, json!({})).await;
    let errors = answer["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{answer:#}");
    assert_eq!(errors[0]["path"], json!(["orders", "nodes", 3, "total"]));
    assert!(nodes(&answer)[3].get("total").is_none());
    assert_eq!(nodes(&answer)[4]["total"], nodes(&before)[4]["total"]);
}

#[tokio::test]
async fn an_edge_given_twice_keeps_the_answer_of_the_one_whose_selection_was_skipped() {
    let pair = Pair::new().await;
    let document = r#"query($no: Boolean!) {
      orders(first: 20) {
        edges {
          e: node { orderNumber company { name } total { amount currency } }
          e: node { total { currency @include(if: $no) } }
        }
      }
    }"#;
    // async-graphql merges a key given twice in the order its answers finish; the second
    // `e` answers first (it loads nothing), with a `total` of null that must not swallow the
    // first's. Several rounds, since the order of finishing is what differed.
    for _ in 0..5 {
        let answer = pair.same(document, json!({ "no": false })).await;
        let edges = answer["data"]["orders"]["edges"].as_array().unwrap();
        assert!(!edges.is_empty(), "{answer:#}");
        for edge in edges {
            assert!(edge["e"]["total"]["amount"].is_string(), "{answer:#}");
        }
    }
}

#[tokio::test]
async fn a_line_looked_up_beside_the_page_does_not_hide_its_orders_lines() {
    let pair = Pair::new().await;
    let page = r#"{ orders(first: 30) { nodes { orderNumber atRisk progress { ordered } lines { id } } } }"#;
    let alone = pair.same(page, json!({})).await;
    // A line of every order on the page, looked up by `node` in the same request: each lookup
    // starts loading its order's lines while the page loads them for all.
    let lookups: String = nodes(&alone)
        .iter()
        .enumerate()
        .filter_map(|(index, order)| {
            let line = order["lines"][0]["id"].as_str()?;
            Some(format!("l{index}: node(id: \"{line}\") {{ id }} "))
        })
        .collect();
    assert!(!lookups.is_empty());
    let together = format!(
        "{{ orders(first: 30) {{ nodes {{ orderNumber atRisk progress {{ ordered }} lines {{ id }} }} }} {lookups}}}"
    );
    for _ in 0..5 {
        let answer = pair.same(&together, json!({})).await;
        assert_eq!(answer["data"]["orders"], alone["data"]["orders"]);
    }
}
