//! Every mutation and guarded query, for every kind of caller: who is refused, and how.
//! Role escalation (a customer calling back-office writes, a user managing accounts, a
//! dashboard token writing) must always end in FORBIDDEN, a missing token in UNAUTHENTICATED.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::World;
use customer_portal::domain::account::Role;
use serde_json::{Value, json};

/// Who may call an operation.
#[derive(Clone, Copy, Debug)]
enum Who {
    /// Anyone, with or without a session; never an API token (it does not write).
    Public,
    /// Every signed-in person.
    People,
    /// Customer administrators and the back office.
    Admins,
    /// Customer people, who have a company to be contacted about.
    Customers,
    /// The back office only.
    BackOffice,
    /// Reads of administrators and the back office, API tokens of administrators included.
    AdminReads,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    ApiToken,
    CustomerUser,
    CustomerAdmin,
    BackOffice,
}

const OPERATIONS: &[(Who, &str)] = &[
    (
        Who::Public,
        r#"mutation { login(email: "nobody@x.example", password: "wrong password") { accessToken } }"#,
    ),
    (
        Who::Public,
        r#"mutation { refreshSession(refreshToken: "cpr_unknown") { accessToken } }"#,
    ),
    (
        Who::Public,
        r#"mutation { logout(refreshToken: "cpr_unknown") }"#,
    ),
    (
        Who::Public,
        r#"mutation { activateAccount(token: "cpa_unknown", newPassword: "long enough password") { accessToken } }"#,
    ),
    (
        Who::People,
        r#"mutation { changePassword(currentPassword: "not the password", newPassword: "long enough password") }"#,
    ),
    (
        Who::People,
        r#"mutation { setLanguage(language: EN) { language } }"#,
    ),
    (
        Who::Admins,
        r#"mutation { inviteUser(email: "new@alpha.example", role: CUSTOMER_USER) { activationUrl } }"#,
    ),
    (
        Who::Admins,
        r#"mutation { disableUser(userId: "VXNlcjo5OTk5") { status } }"#,
    ),
    (
        Who::Admins,
        r#"mutation { createApiToken(name: "matrix") { secret } }"#,
    ),
    (
        Who::Admins,
        r#"mutation { revokeApiToken(id: "QXBpVG9rZW46OTk5OQ==") { id } }"#,
    ),
    (
        Who::Admins,
        r#"mutation { createWebhook(url: "https://10.0.0.1/hook") { secret } }"#,
    ),
    (
        Who::Admins,
        r#"mutation { deleteWebhook(id: "V2ViaG9vazo5OTk5") }"#,
    ),
    (Who::AdminReads, r#"{ webhooks { url } }"#),
    (
        Who::Customers,
        r#"mutation { requestSupport(subject: "Help", message: "Please call") { id } }"#,
    ),
    (
        Who::BackOffice,
        r#"mutation { createCustomer(companyName: "Matrix BV", customerNumber: "C-9", adminEmail: "m@matrix.example") { activationUrl } }"#,
    ),
    (
        Who::BackOffice,
        r#"mutation { upsertVendor(input: {name: "Matrix", softwareAfterHardware: false}) { name } }"#,
    ),
    (
        Who::BackOffice,
        r#"mutation { upsertProduct(input: {sku: "M-1", description: "m", kind: HARDWARE, deliveryMethod: PHYSICAL, vendorName: "Fortiwall"}) { sku } }"#,
    ),
    (
        Who::BackOffice,
        r#"mutation { upsertOrder(input: {orderNumber: "SO-M", customerNumber: "C-1", orderDate: "2026-11-20", currency: "EUR", lines: [{lineNumber: 1, sku: "HW-1", quantity: 1, unitPrice: "1.00"}]}) { orderNumber } }"#,
    ),
    (
        Who::BackOffice,
        r#"mutation { confirmOrder(orderNumber: "SO-NONE") { orderNumber } }"#,
    ),
    (
        Who::BackOffice,
        r#"mutation { cancelOrder(orderNumber: "SO-NONE") { orderNumber } }"#,
    ),
    (
        Who::BackOffice,
        r#"mutation { cancelOrderLine(orderNumber: "SO-NONE", lineNumber: 1) { lineNumber } }"#,
    ),
    (
        Who::BackOffice,
        r#"mutation { updateEtas(updates: [{orderNumber: "SO-NONE", lineNumber: 1, eta: "2026-12-01"}]) { lineNumber } }"#,
    ),
    (
        Who::BackOffice,
        r#"mutation { recordShipment(input: {shipmentNumber: "SH-M", orderNumber: "SO-NONE", shipDate: "2026-11-20", lines: [{lineNumber: 1, quantity: 1}]}) { shipmentNumber } }"#,
    ),
    (
        Who::BackOffice,
        r#"mutation { markShipmentDelivered(shipmentNumber: "SH-NONE", deliveredAt: "2026-11-21T10:00:00Z") { shipmentNumber } }"#,
    ),
    (
        Who::BackOffice,
        r#"mutation { recordElectronicDelivery(orderNumber: "SO-NONE", lineNumber: 1, quantity: 1, recipientEmail: "a@b.example", deliveredAt: "2026-11-21T10:00:00Z") { lineNumber } }"#,
    ),
    (
        Who::BackOffice,
        r#"mutation { recordInvoice(input: {invoiceNumber: "INV-M", orderNumber: "SO-NONE", invoiceDate: "2026-11-21", lines: [{lineNumber: 1, quantity: 1}]}) { invoiceNumber } }"#,
    ),
    (Who::AdminReads, "{ apiTokens { id } }"),
    (Who::AdminReads, "{ me { company { users { email } } } }"),
    (Who::BackOffice, "{ companies { id } }"),
    (Who::BackOffice, "{ supportRequests { id } }"),
    (Who::BackOffice, "{ overdueApprovals { orderNumber } }"),
];

/// What the caller must get: the refusal code, or `None` for "let through" (the operation
/// may still fail for its own reasons, never FORBIDDEN or UNAUTHENTICATED).
fn expected(who: Who, caller: Caller) -> Option<&'static str> {
    use Caller::*;
    let refused = match (who, caller) {
        (Who::Public, ApiToken) => true,
        (Who::Public, _) => return None,
        (_, Anonymous) => return Some("UNAUTHENTICATED"),
        (Who::AdminReads, ApiToken | CustomerAdmin | BackOffice) => false,
        (_, ApiToken) => true,
        (Who::People, _) => false,
        (Who::Admins, CustomerAdmin | BackOffice) => false,
        (Who::Customers, CustomerUser | CustomerAdmin) => false,
        (Who::BackOffice, BackOffice) => false,
        _ => true,
    };
    refused.then_some("FORBIDDEN")
}

fn code(response: &Value) -> Option<String> {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test]
async fn every_operation_checks_who_calls_it() {
    let world = World::new().await;
    let user = world
        .app
        .user(
            "user@alpha.example",
            Role::CustomerUser,
            Some(world.alpha_id),
        )
        .await;
    let created = world
        .app
        .data(
            &world.alpha,
            "mutation { createApiToken(name: \"roles\") { secret } }",
            json!({}),
        )
        .await;
    let api_token = created["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let callers = [
        (Caller::Anonymous, None),
        (Caller::ApiToken, Some(api_token.as_str())),
        (Caller::CustomerUser, Some(user.as_str())),
        (Caller::CustomerAdmin, Some(world.alpha.as_str())),
        (Caller::BackOffice, Some(world.staff.as_str())),
    ];
    let mut wrong = Vec::new();
    for (who, document) in OPERATIONS {
        for (caller, token) in callers {
            let response = world.app.run(token, document, json!({})).await;
            let got = code(&response);
            let ok = match expected(*who, caller) {
                Some(refusal) => got.as_deref() == Some(refusal),
                None => {
                    !matches!(got.as_deref(), Some("FORBIDDEN"))
                        && (matches!(who, Who::Public) || got.as_deref() != Some("UNAUTHENTICATED"))
                }
            };
            if !ok {
                wrong.push(format!(
                    "{caller:?} on {document}: got {got:?}, expected {:?}",
                    expected(*who, caller)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
