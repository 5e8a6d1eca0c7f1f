//! Webhook secrets and signatures.
//!
//! A signing secret is never stored: each endpoint keeps a random salt, and its secret is
//! HMAC-SHA256 of that salt under a key derived from `JWT_SECRET`. A copy of the database
//! alone therefore cannot forge a delivery, and the service recomputes the secret for every
//! signature. Signatures follow Stripe's scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
//! "<t>.<body>" under the secret>`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// What a signing secret starts with, so that one found in a file is recognised.
const SECRET_PREFIX: &str = "whsec_";

/// The key that turns salts into signing secrets.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// The key for the service whose access tokens are signed with `jwt_secret`; the label
    /// keeps it apart from every other use of that secret.
    pub fn derive(jwt_secret: &[u8]) -> Self {
        Self(mac(
            jwt_secret,
            &[b"customer-portal webhook signing secrets"],
        ))
    }

    /// The signing secret of the endpoint with `salt`.
    pub fn secret(&self, salt: &str) -> String {
        format!(
            "{SECRET_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(mac(&self.0, &[salt.as_bytes()]))
        )
    }
}

/// A new random salt to store with an endpoint.
pub fn new_salt() -> String {
    let mut bytes = [0_u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The `Portal-Signature` header of `body` sent at `timestamp` (Unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(
        secret.as_bytes(),
        &[timestamp.to_string().as_bytes(), b".", body],
    );
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_an_independent_hmac() {
        // Reference value: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, br#"{"a":1}"#),
            format!(
                "t=1700000000,v1={}",
                "38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
            )
        );
    }

    #[test]
    fn a_salt_gives_the_same_secret_under_the_same_key_only() {
        let key = SecretKey::derive(b"a-test-secret-that-is-long-enough-for-hs256");
        let salt = new_salt();
        assert_eq!(key.secret(&salt), key.secret(&salt));
        assert!(key.secret(&salt).starts_with("whsec_"));
        assert_ne!(
            key.secret(&salt),
            SecretKey::derive(b"another-secret-that-is-long-enough-for-hs256").secret(&salt)
        );
        assert_ne!(key.secret(&salt), key.secret(&new_salt()));
    }
}
