//! Mail through a real SMTP conversation on loopback: the activation link arrives, a relay
//! that is down loses nothing, and support requests reach the back office.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestApp, decode_quoted_printable, smtp::SmtpSink};
use customer_portal::domain::account::Role;
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
    assert_eq!(mail.len(), 2, "the back office's copy and the confirmation");
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
    assert!(mail[1].contains("To: piet@alpha.example"), "{}", mail[1]);
    assert!(
        mail[1].contains("Subject: Uw verzoek om ondersteuning: Firewall setup"),
        "{}",
        mail[1]
    );
    assert!(
        mail[1].contains("Wij hebben uw verzoek om ondersteuning ontvangen: \"Firewall setup\"."),
        "{}",
        mail[1]
    );

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

const SET_LANGUAGE: &str =
    "mutation($language: Language!) { setLanguage(language: $language) { email language } }";

/// The one message sent to `to`.
fn letter_to<'a>(mail: &'a [String], to: &str) -> &'a str {
    let mut found = mail.iter().filter(|m| m.contains(&format!("To: {to}")));
    let letter = found.next().unwrap_or_else(|| panic!("no mail to {to}"));
    assert!(found.next().is_none(), "more than one mail to {to}");
    letter
}

#[tokio::test]
async fn activation_links_are_mailed_in_the_language_the_invitation_names() {
    let app = TestApp::new().await;
    let staff = staff(&app).await;
    let create = "mutation($language: Language) {
      createCustomer(companyName: \"Gamma IT BV\", customerNumber: \"C-3\",
                     adminEmail: \"anna@gamma.example\", adminName: \"Anna\",
                     adminLanguage: $language) { user { language } } }";
    let created = app.data(&staff, create, json!({})).await;
    assert_eq!(
        created["createCustomer"]["user"]["language"], "NL",
        "Dutch unless asked"
    );
    let english = create.replace("C-3", "C-4").replace("anna@", "john@");
    let created = app.data(&staff, &english, json!({"language": "EN"})).await;
    assert_eq!(created["createCustomer"]["user"]["language"], "EN");

    let mail = app.mail().await;
    let anna = letter_to(&mail, "anna@gamma.example");
    assert!(
        anna.contains("Subject: Uw toegang tot de Customer Portal"),
        "{anna}"
    );
    assert!(anna.contains("Beste Anna,"), "{anna}");
    assert!(
        anna.contains("Open deze link om uw eigen wachtwoord te kiezen en in te loggen:"),
        "{anna}"
    );
    let john = letter_to(&mail, "john@gamma.example");
    assert!(
        john.contains("Subject: Your access to the Customer Portal"),
        "{john}"
    );
    assert!(john.contains("Hello Anna,"), "{john}");
    assert!(
        john.contains("To choose your password and sign in, open this link:"),
        "{john}"
    );
}

#[tokio::test]
async fn invited_colleagues_get_the_inviters_language_unless_another_is_named() {
    let app = TestApp::new().await;
    let company = app.company("Alpha Systems BV", "C-1").await;
    let admin = app
        .user("admin@alpha.example", Role::CustomerAdmin, Some(company))
        .await;
    let invite = "mutation($email: String!, $language: Language) {
      inviteUser(email: $email, role: CUSTOMER_USER, language: $language) { user { language } } }";
    let dutch = app
        .data(&admin, invite, json!({"email": "kees@alpha.example"}))
        .await;
    assert_eq!(dutch["inviteUser"]["user"]["language"], "NL");
    let english = app
        .data(
            &admin,
            invite,
            json!({"email": "jane@alpha.example", "language": "EN"}),
        )
        .await;
    assert_eq!(english["inviteUser"]["user"]["language"], "EN");
    app.data(&admin, SET_LANGUAGE, json!({"language": "EN"}))
        .await;
    let follows = app
        .data(&admin, invite, json!({"email": "sam@alpha.example"}))
        .await;
    assert_eq!(
        follows["inviteUser"]["user"]["language"], "EN",
        "the inviter's, now English"
    );

    let mail = app.mail().await;
    let kees = letter_to(&mail, "kees@alpha.example");
    assert!(
        kees.contains(
            "Er is een account op de Customer Portal voor u aangemaakt (Alpha Systems BV)."
        ),
        "{kees}"
    );
    assert!(
        kees.contains("De link werkt eenmaal en verloopt op 2026-11-30 12:00 UTC."),
        "{kees}"
    );
    for to in ["jane@alpha.example", "sam@alpha.example"] {
        let letter = letter_to(&mail, to);
        assert!(
            letter.contains(
                "An account on the Customer Portal has been made for you (Alpha Systems BV)."
            ),
            "{letter}"
        );
    }
}

#[tokio::test]
async fn a_support_confirmation_follows_the_language_the_user_chose() {
    let app = TestApp::new().await;
    let company = app.company("Alpha Systems BV", "C-1").await;
    let user = app
        .user("piet@alpha.example", Role::CustomerUser, Some(company))
        .await;
    let me = app.data(&user, "{ me { language } }", json!({})).await;
    assert_eq!(me["me"]["language"], "NL", "existing users read Dutch");
    let chosen = app
        .data(&user, SET_LANGUAGE, json!({"language": "EN"}))
        .await;
    assert_eq!(
        chosen["setLanguage"],
        json!({"email": "piet@alpha.example", "language": "EN"})
    );
    let ask = "mutation { requestSupport(subject: \"Firewall setup\", message: \"HA?\") { id } }";
    app.data(&user, ask, json!({})).await;

    let mail = app.mail().await;
    let confirmation = letter_to(&mail, "piet@alpha.example");
    assert!(
        confirmation.contains("Subject: Your support request: Firewall setup"),
        "{confirmation}"
    );
    assert!(
        confirmation.contains("The back office will contact you to plan an appointment."),
        "{confirmation}"
    );
}

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
    let english = app
        .data(&watcher, SET_LANGUAGE, json!({"language": "EN"}))
        .await;
    assert_eq!(english["setLanguage"]["language"], "EN");
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
    let (dutch, english) = (&digests[0], &digests[1]);
    assert!(dutch.contains("To: admin@alpha.example"), "{dutch}");
    assert!(
        dutch.contains("Subject: Bestelling SO-1 gewijzigd"),
        "{dutch}"
    );
    assert!(
        dutch.contains("Bestelling SO-1 (uw referentie PO-SO-1) is gewijzigd (status: Bevestigd):"),
        "{dutch}"
    );
    assert!(
        dutch.contains(
            "Regel 1 (HW-1): ETA verschoven van 2026-11-27 naar 2026-11-30 (vendor delay)"
        ),
        "{dutch}"
    );
    assert!(english.contains("Subject: Order SO-1 changed"), "{english}");
    assert!(
        english.contains("Order SO-1 (your reference PO-SO-1) has changed (status: Confirmed):"),
        "{english}"
    );
    assert!(
        english.contains("Line 1 (HW-1): ETA moved from 2026-11-27 to 2026-11-30 (vendor delay)"),
        "{english}"
    );
    assert!(dutch.contains("https://portal.distributor.example/orders/SO-1"));

    // Within the hour: kept for the next digest; an earlier ETA is not worth a mail.
    app.ship("SH-1", "SO-1", &[(1, 2, &["S1", "S2"])]).await;
    app.set_eta("SO-1", 2, Some("2026-11-24"), "earlier").await;
    assert_eq!(app.mail().await.len(), invitations + 2);
    app.clock.advance(chrono::Duration::minutes(61));
    let mail = app.mail().await;
    assert_eq!(mail.len(), invitations + 4);
    let (second_dutch, second_english) = (&mail[invitations + 2], &mail[invitations + 3]);
    assert!(
        second_dutch.contains("(status: Gedeeltelijk Vervuld)"),
        "{second_dutch}"
    );
    assert!(
        second_dutch
            .contains("Regel 1 (HW-1): 2 van 2 verzonden; SH-1 op 2026-11-20 met DHL, TRK-SH-1"),
        "{second_dutch}"
    );
    assert!(
        second_english.contains("(status: Partially fulfilled)"),
        "{second_english}"
    );
    assert!(
        second_english
            .contains("Line 1 (HW-1): 2 of 2 shipped; SH-1 on 2026-11-20 with DHL, TRK-SH-1"),
        "{second_english}"
    );
    assert!(!second_english.contains("earlier"), "{second_english}");
    assert_eq!(
        app.mail().await.len(),
        invitations + 4,
        "nothing new, nothing sent"
    );
}
