//! Mail through a real SMTP conversation on loopback: the activation link arrives, a relay
//! that is down loses nothing, and support requests reach the back office.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestApp, decode_quoted_printable, smtp::SmtpSink};
use customer_portal::auth::Role;
use serde_json::json;

const CREATE_CUSTOMER: &str = r#"mutation {
  createCustomer(companyName: "Gamma IT BV", customerNumber: "C-3", adminEmail: "anna@gamma.example", adminName: "Anna") { activationUrl }
}"#;

async fn staff(app: &TestApp) -> String {
    app.user("staff@distributor.example", Role::BackOffice, None)
        .await
}

#[tokio::test]
async fn the_activation_link_arrives_over_smtp_and_works() {
    let sink = SmtpSink::start().await;
    let app = TestApp::with_smtp(Some(&sink.url())).await;
    let staff = staff(&app).await;
    app.data(&staff, CREATE_CUSTOMER, json!({})).await;
    assert!(
        sink.messages().is_empty(),
        "nothing is sent inside the request"
    );

    let round = app.app.deliver_mail().await.unwrap();
    assert_eq!((round.sent, round.failed), (1, 0));
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].from, "orderportal@portal.distributor.example");
    assert_eq!(messages[0].to, ["anna@gamma.example"]);
    let text = decode_quoted_printable(&messages[0].data);
    let link = text
        .lines()
        .find(|line| line.starts_with("https://portal.distributor.example/activate?token="))
        .unwrap_or_else(|| panic!("no link in {text}"));
    let token = link.split_once("token=").unwrap().1.trim();
    let activate = "mutation($t: String!) { activateAccount(token: $t, newPassword: \"anna's own password\") { user { status } } }";
    let session = app.data_anonymous(activate, json!({"t": token})).await;
    assert_eq!(session["activateAccount"]["user"]["status"], "ACTIVE");

    let again = app.app.deliver_mail().await.unwrap();
    assert_eq!(
        (again.sent, again.failed),
        (0, 0),
        "a sent message is not sent twice"
    );
}

#[tokio::test]
async fn a_relay_that_is_down_loses_neither_the_message_nor_the_account() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let app = TestApp::with_smtp(Some(&format!("smtp://{address}"))).await;
    let staff = staff(&app).await;
    app.data(&staff, CREATE_CUSTOMER, json!({})).await;

    let down = app.app.deliver_mail().await.unwrap();
    assert_eq!((down.sent, down.failed), (0, 1));
    let users = app
        .data(
            &staff,
            "{ companies { users { email status } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        users["companies"][0]["users"],
        json!([{"email": "anna@gamma.example", "status": "INVITED"}])
    );
    let too_soon = app.app.deliver_mail().await.unwrap();
    assert_eq!(
        (too_soon.sent, too_soon.failed),
        (0, 0),
        "the retry waits for its back-off"
    );

    let sink = SmtpSink::on(tokio::net::TcpListener::bind(address).await.unwrap());
    app.clock.advance(chrono::Duration::minutes(1));
    let back = app.app.deliver_mail().await.unwrap();
    assert_eq!((back.sent, back.failed), (1, 0));
    assert_eq!(sink.messages()[0].to, ["anna@gamma.example"]);
}

#[tokio::test]
async fn a_support_request_is_stored_and_mailed_to_the_back_office() {
    let app = TestApp::new().await;
    let company = app.company("Alpha Systems BV", "C-1").await;
    let staff = staff(&app).await;
    let user = app
        .user("piet@alpha.example", Role::CustomerUser, Some(company))
        .await;
    let ask = "mutation { requestSupport(subject: \"Firewall setup\", message: \"Can you help us\\nconfigure HA?\", preferredTimes: \"Tue/Thu mornings\") { id subject preferredTimes requestedBy { email } company { name } } }";
    let stored = app.data(&user, ask, json!({})).await;
    assert_eq!(
        stored["requestSupport"]["requestedBy"]["email"],
        "piet@alpha.example"
    );
    assert_eq!(
        stored["requestSupport"]["company"]["name"],
        "Alpha Systems BV"
    );

    let listed = app
        .data(
            &staff,
            "{ supportRequests { id subject message preferredTimes createdAt } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["supportRequests"],
        json!([{
            "id": stored["requestSupport"]["id"], "subject": "Firewall setup",
            "message": "Can you help us\nconfigure HA?", "preferredTimes": "Tue/Thu mornings",
            "createdAt": "2026-11-23T12:00:00+00:00"
        }])
    );
    let mail = app.mail().await;
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].contains("To: orderportal@portal.distributor.example"),
        "{}",
        mail[0]
    );
    assert!(
        mail[0].contains("Support request from Alpha Systems BV (C-1): Firewall setup"),
        "{}",
        mail[0]
    );
    assert!(mail[0].contains("Tue/Thu mornings"));

    let node = app
        .data(
            &user,
            "query($id: ID!) { node(id: $id) { ... on SupportRequest { subject } } }",
            json!({"id": stored["requestSupport"]["id"]}),
        )
        .await;
    assert_eq!(node["node"]["subject"], "Firewall setup");
}

#[tokio::test]
async fn a_support_request_with_a_two_line_subject_is_refused_and_nothing_is_sent() {
    let app = TestApp::new().await;
    let company = app.company("Alpha Systems BV", "C-1").await;
    let user = app
        .user("piet@alpha.example", Role::CustomerUser, Some(company))
        .await;
    let ask = "mutation { requestSupport(subject: \"Hi\\nBcc: everyone@x.example\", message: \"m\") { id } }";
    assert_eq!(
        app.code(Some(&user), ask, json!({})).await,
        "BAD_USER_INPUT"
    );
    assert!(app.mail().await.is_empty());
}

const SET_MAIL: &str =
    "mutation($on: Boolean!) { setMailOnChange(enabled: $on) { email mailOnChange } }";

#[tokio::test]
async fn a_later_eta_or_a_shipment_is_mailed_at_most_hourly_per_order_to_those_who_want_it() {
    let world = common::World::new().await;
    let app = &world.app;
    let (watcher, _) = world
        .colleague("watcher@alpha.example", "CUSTOMER_USER")
        .await;
    let (_quiet_user, _) = world
        .colleague("quiet@alpha.example", "CUSTOMER_USER")
        .await;
    let on = app.data(&watcher, SET_MAIL, json!({"on": true})).await;
    assert_eq!(
        on["setMailOnChange"],
        json!({"email": "watcher@alpha.example", "mailOnChange": true})
    );
    app.order(
        "SO-1",
        "C-1",
        &[
            ("HW-1", 2, "10.00", Some("2026-11-25")),
            ("HW-2", 1, "10.00", Some("2026-11-25")),
        ],
    )
    .await;
    app.set_eta("SO-1", 1, Some("2026-11-27"), "not approved yet")
        .await;
    app.confirm("SO-1").await;
    let invitations = app.mail().await.len();

    app.set_eta("SO-1", 1, Some("2026-11-30"), "vendor delay")
        .await;
    let mail = app.mail().await;
    let digests: Vec<_> = mail[invitations..].to_vec();
    assert_eq!(
        digests.len(),
        2,
        "the administrator by default, the watcher by choice"
    );
    assert!(
        digests
            .iter()
            .any(|m| m.contains("To: admin@alpha.example"))
    );
    assert!(
        digests
            .iter()
            .any(|m| m.contains("To: watcher@alpha.example"))
    );
    assert!(
        digests[0].contains("Subject: Order SO-1 changed"),
        "{}",
        digests[0]
    );
    assert!(
        digests[0]
            .contains("Line 1 (HW-1): ETA moved from 2026-11-27 to 2026-11-30 (vendor delay)"),
        "{}",
        digests[0]
    );
    assert!(digests[0].contains("https://portal.distributor.example/orders/SO-1"));

    // Within the hour: kept for the next digest; an earlier ETA is not worth a mail.
    app.ship("SH-1", "SO-1", &[(1, 2, &["S1", "S2"])]).await;
    app.set_eta("SO-1", 2, Some("2026-11-24"), "earlier").await;
    assert_eq!(app.mail().await.len(), invitations + 2);
    app.clock.advance(chrono::Duration::minutes(61));
    let mail = app.mail().await;
    assert_eq!(mail.len(), invitations + 4);
    let second = &mail[invitations + 2];
    assert!(
        second.contains("Line 1 (HW-1): 2 of 2 shipped; SH-1 on 2026-11-20 with DHL, TRK-SH-1"),
        "{second}"
    );
    assert!(!second.contains("earlier"), "{second}");
    assert_eq!(
        app.mail().await.len(),
        invitations + 4,
        "nothing new, nothing sent"
    );
}
