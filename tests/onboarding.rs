//! Onboarding as the seed tells it: the back office creates a customer, the administrator
//! gets a single-use activation link by mail, chooses a password and lands signed in; then
//! invites and disables colleagues.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, error_code};
use serde_json::{Value, json};

const CREATE_CUSTOMER: &str = "mutation($name: String!, $number: String!, $email: String!, $admin: String) {
  createCustomer(companyName: $name, customerNumber: $number, adminEmail: $email, adminName: $admin) {
    activationUrl expiresAt user { id email name role status company { name customerNumber } }
  }
}";

const ACTIVATE: &str = "mutation($token: String!, $password: String!) {
  activateAccount(token: $token, newPassword: $password) { accessToken refreshToken user { email status role } }
}";

const INVITE: &str = "mutation($email: String!, $name: String, $role: Role!) {
  inviteUser(email: $email, name: $name, role: $role) { activationUrl expiresAt user { id email role status company { name } } }
}";

const DISABLE: &str = "mutation($id: ID!) { disableUser(userId: $id) { email status } }";

fn token_of(activation_url: &str) -> String {
    activation_url.split_once("token=").unwrap().1.to_owned()
}

fn gamma() -> Value {
    json!({"name": "Gamma IT BV", "number": "C-3", "email": "Anna@Gamma.example", "admin": "Anna de Vries"})
}

async fn create_gamma(world: &World) -> Value {
    world.app.data(&world.staff, CREATE_CUSTOMER, gamma()).await["createCustomer"].clone()
}

#[tokio::test]
async fn the_back_office_creates_a_customer_whose_administrator_is_mailed_an_activation_link() {
    let world = World::new().await;
    let invitation = create_gamma(&world).await;
    assert_eq!(
        invitation["user"],
        json!({
            "id": invitation["user"]["id"], "email": "anna@gamma.example", "name": "Anna de Vries",
            "role": "CUSTOMER_ADMIN", "status": "INVITED",
            "company": {"name": "Gamma IT BV", "customerNumber": "C-3"}
        })
    );
    let url = invitation["activationUrl"].as_str().unwrap();
    assert!(
        url.starts_with("https://portal.distributor.example/activate?token=cpa_"),
        "{url}"
    );
    // 32 random bytes, base64url: 256 bits.
    assert_eq!(token_of(url).len(), "cpa_".len() + 43);
    assert_eq!(invitation["expiresAt"], "2026-11-30T12:00:00+00:00");

    let mail = world.app.mail().await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("To: anna@gamma.example"), "{}", mail[0]);
    assert!(
        mail[0].contains("From: orderportal@portal.distributor.example"),
        "{}",
        mail[0]
    );
    assert!(
        mail[0].contains(url),
        "the mail carries the link: {}",
        mail[0]
    );
}

#[tokio::test]
async fn following_the_link_sets_the_password_and_signs_in_once() {
    let world = World::new().await;
    let token = token_of(
        create_gamma(&world).await["activationUrl"]
            .as_str()
            .unwrap(),
    );
    let variables = json!({"token": token, "password": "a password of my own"});
    let session = world.app.run(None, ACTIVATE, variables.clone()).await;
    assert_eq!(
        session["data"]["activateAccount"]["user"],
        json!({"email": "anna@gamma.example", "status": "ACTIVE", "role": "CUSTOMER_ADMIN"})
    );
    let access = session["data"]["activateAccount"]["accessToken"]
        .as_str()
        .unwrap();
    let me = world
        .app
        .data(
            access,
            "{ me { email company { customerNumber } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["me"]["company"]["customerNumber"], "C-3");
    world
        .app
        .login("anna@gamma.example", "a password of my own")
        .await;

    let again = world
        .app
        .run(
            None,
            ACTIVATE,
            json!({"token": token, "password": "another password entirely"}),
        )
        .await;
    assert_eq!(error_code(&again), "BAD_USER_INPUT");
    assert_eq!(again["errors"][0]["extensions"]["field"], "token");
    // The used link changed nothing: the first password still holds.
    world
        .app
        .login("anna@gamma.example", "a password of my own")
        .await;
}

#[tokio::test]
async fn an_expired_unknown_or_replaced_link_changes_nothing() {
    let world = World::new().await;
    let first = token_of(
        create_gamma(&world).await["activationUrl"]
            .as_str()
            .unwrap(),
    );
    // Sent again while Anna has not activated: a fresh link, and the first one stops working.
    let second = token_of(
        create_gamma(&world).await["activationUrl"]
            .as_str()
            .unwrap(),
    );
    assert_ne!(first, second);
    for token in [first.as_str(), "cpa_not-a-token", ""] {
        let response = world
            .app
            .run(
                None,
                ACTIVATE,
                json!({"token": token, "password": "a password of my own"}),
            )
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{token}");
    }
    world
        .app
        .clock
        .advance(chrono::Duration::days(7) + chrono::Duration::seconds(1));
    let expired = world
        .app
        .run(
            None,
            ACTIVATE,
            json!({"token": second, "password": "a password of my own"}),
        )
        .await;
    assert_eq!(error_code(&expired), "BAD_USER_INPUT");
    assert!(
        expired["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let staff = world
        .app
        .login("staff@distributor.example", common::PASSWORD)
        .await;
    let users = world
        .app
        .data(
            &staff,
            "{ companies { customerNumber users { email status } } }",
            json!({}),
        )
        .await;
    let gamma = users["companies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customerNumber"] == "C-3")
        .unwrap()
        .clone();
    assert_eq!(
        gamma["users"],
        json!([{"email": "anna@gamma.example", "status": "INVITED"}])
    );
}

#[tokio::test]
async fn a_weak_password_is_refused_and_the_link_still_works() {
    let world = World::new().await;
    let token = token_of(
        create_gamma(&world).await["activationUrl"]
            .as_str()
            .unwrap(),
    );
    for weak in ["short", "anna@gamma.example", "ANNA@GAMMA.EXAMPLE"] {
        let response = world
            .app
            .run(None, ACTIVATE, json!({"token": token, "password": weak}))
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{weak}");
        assert_eq!(response["errors"][0]["extensions"]["field"], "newPassword");
    }
    let response = world
        .app
        .run(
            None,
            ACTIVATE,
            json!({"token": token, "password": "long enough now"}),
        )
        .await;
    assert!(response.get("errors").is_none(), "{response:#}");
}

#[tokio::test]
async fn a_taken_customer_number_or_email_is_a_conflict_and_writes_nothing() {
    let world = World::new().await;
    let taken_number =
        json!({"name": "Someone Else BV", "number": "C-1", "email": "new@else.example"});
    let taken_email = json!({"name": "Delta BV", "number": "C-4", "email": "admin@alpha.example"});
    for variables in [taken_number, taken_email] {
        let response = world
            .app
            .run(Some(&world.staff), CREATE_CUSTOMER, variables.clone())
            .await;
        assert_eq!(error_code(&response), "CONFLICT", "{variables}");
    }
    let invalid = json!({"name": " ", "number": "C-5", "email": "x@y.example"});
    assert_eq!(
        world
            .app
            .code(Some(&world.staff), CREATE_CUSTOMER, invalid)
            .await,
        "BAD_USER_INPUT"
    );
    let not_an_email = json!({"name": "Epsilon", "number": "C-6", "email": "not an email"});
    let response = world
        .app
        .run(Some(&world.staff), CREATE_CUSTOMER, not_an_email)
        .await;
    assert_eq!(response["errors"][0]["extensions"]["field"], "adminEmail");
    let companies = world
        .app
        .data(&world.staff, "{ companies { customerNumber } }", json!({}))
        .await;
    assert_eq!(
        companies["companies"],
        json!([{"customerNumber": "C-1"}, {"customerNumber": "C-2"}])
    );
    assert!(
        world.app.mail().await.is_empty(),
        "nothing is mailed for a refused call"
    );
}

#[tokio::test]
async fn an_administrator_invites_a_colleague_who_then_sees_the_company_only() {
    let world = World::new().await;
    world
        .app
        .order("SO-A", "C-1", &[("HW-1", 1, "10.00", None)])
        .await;
    world.app.confirm("SO-A").await;
    world
        .app
        .order("SO-B", "C-2", &[("HW-1", 1, "10.00", None)])
        .await;
    world.app.confirm("SO-B").await;
    let variables = json!({"email": "piet@alpha.example", "name": "Piet", "role": "CUSTOMER_USER"});
    let invitation = world.app.data(&world.alpha, INVITE, variables).await["inviteUser"].clone();
    assert_eq!(invitation["user"]["company"]["name"], "Alpha Systems BV");
    assert_eq!(invitation["user"]["status"], "INVITED");
    let token = token_of(invitation["activationUrl"].as_str().unwrap());
    let session = world
        .app
        .run(
            None,
            ACTIVATE,
            json!({"token": token, "password": "piet's own password"}),
        )
        .await;
    let access = session["data"]["activateAccount"]["accessToken"]
        .as_str()
        .unwrap();
    let orders = world
        .app
        .data(access, "{ orders { nodes { orderNumber } } }", json!({}))
        .await;
    assert_eq!(orders["orders"]["nodes"], json!([{"orderNumber": "SO-A"}]));
    let mail = world.app.mail().await;
    assert!(mail.iter().any(|m| m.contains("To: piet@alpha.example")));
}

#[tokio::test]
async fn an_administrator_cannot_invite_staff_nor_take_someone_elses_address() {
    let world = World::new().await;
    let staff = json!({"email": "mole@alpha.example", "role": "BACK_OFFICE"});
    assert_eq!(
        world.app.code(Some(&world.alpha), INVITE, staff).await,
        "FORBIDDEN"
    );
    let taken = json!({"email": "admin@beta.example", "role": "CUSTOMER_USER"});
    assert_eq!(
        world.app.code(Some(&world.alpha), INVITE, taken).await,
        "CONFLICT"
    );
    let customer_by_staff = json!({"email": "x@alpha.example", "role": "CUSTOMER_USER"});
    assert_eq!(
        world
            .app
            .code(Some(&world.staff), INVITE, customer_by_staff)
            .await,
        "BAD_USER_INPUT"
    );
    let colleague = json!({"email": "second@distributor.example", "role": "BACK_OFFICE"});
    let invitation = world.app.data(&world.staff, INVITE, colleague).await;
    assert_eq!(invitation["inviteUser"]["user"]["company"], Value::Null);
}

#[tokio::test]
async fn a_disabled_user_is_locked_out_at_once() {
    let world = World::new().await;
    let (access, id) = world
        .colleague("leaver@alpha.example", "CUSTOMER_USER")
        .await;
    world.app.data(&access, "{ me { email } }", json!({})).await;

    let other_company = world
        .app
        .run(Some(&world.beta), DISABLE, json!({"id": id}))
        .await;
    assert_eq!(error_code(&other_company), "NOT_FOUND");
    let disabled = world
        .app
        .data(&world.alpha, DISABLE, json!({"id": id}))
        .await;
    assert_eq!(disabled["disableUser"]["status"], "DISABLED");

    let refused = world
        .app
        .run(Some(&access), "{ me { email } }", json!({}))
        .await;
    assert_eq!(error_code(&refused), "UNAUTHENTICATED");
    let login = world
        .app
        .run(
            None,
            "mutation { login(email: \"leaver@alpha.example\", password: \"a colleague's password\") { accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&login), "UNAUTHENTICATED");
    assert_eq!(
        login["errors"][0]["message"],
        "the e-mail address or password is wrong"
    );
}

#[tokio::test]
async fn an_administrator_cannot_disable_themselves() {
    let world = World::new().await;
    let me = world
        .app
        .data(&world.alpha, "{ me { id } }", json!({}))
        .await;
    let response = world
        .app
        .run(Some(&world.alpha), DISABLE, json!({"id": me["me"]["id"]}))
        .await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
}
