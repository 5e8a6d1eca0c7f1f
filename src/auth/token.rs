//! Access tokens (short-lived signed JWTs) and opaque secrets (refresh, activation and API
//! tokens).
//!
//! Access tokens are self-contained so that most requests need no token lookup; they carry the
//! user's token version so that the API can still revoke them early by bumping the version.
//! Opaque secrets are random strings that the database only knows by their SHA-256 hash: a
//! leaked table then yields nothing that can be presented to the API. A plain (unsalted,
//! fast) hash is enough here, unlike for passwords, because the secrets carry 256 bits of
//! entropy and cannot be guessed.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Clock skew tolerated between the servers that issue and verify tokens, in seconds; kept
/// small because every extra second is extra life for a token that should already be dead.
const LEEWAY_SECONDS: i64 = 5;

/// Number of random bytes in an opaque secret: 256 bits, far beyond brute force.
const OPAQUE_SECRET_BYTES: usize = 32;

/// Why an access token was not accepted (or could not be made).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token was genuine but its lifetime is over; the client should refresh it rather
    /// than log in again, so this is kept apart from [`TokenError::Invalid`].
    #[error("access token expired")]
    Expired,
    /// Any other reason for rejection: bad signature, wrong issuer or audience, malformed token
    /// or claims. Deliberately carries no detail, so that none can leak to the client.
    #[error("invalid access token")]
    Invalid,
    /// Signing failed or the expiry is out of range; a server fault, not the client's.
    #[error("could not issue access token: {0}")]
    Issue(String),
}

/// The JWT payload of an access token.
///
/// Field names follow RFC 7519 where a registered claim exists, so that standard JWT tooling
/// understands them; the rest are kept short because the token travels with every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id as a decimal string, because RFC 7519 defines `sub` as a string.
    pub sub: String,
    /// The user's role, so that authorisation needs no database round trip.
    pub role: String,
    /// The customer company the user belongs to; `None` for the distributor's own staff.
    pub company: Option<i64>,
    /// The user's token version when the token was issued; a token whose version no longer
    /// matches the user's is rejected, which revokes all outstanding tokens at once.
    pub ver: i32,
    /// The session (refresh-token family) the token was issued for, so that signing out ends
    /// the session's access tokens at once, not after their 15 minutes.
    pub sid: String,
    /// Issued-at time, seconds since the Unix epoch.
    pub iat: i64,
    /// Expiry time, seconds since the Unix epoch.
    pub exp: i64,
    /// Issuer, so that tokens from another deployment sharing a secret are refused.
    pub iss: String,
    /// Audience, so that tokens minted for another service are refused.
    pub aud: String,
}

/// Who an access token speaks for: the part of the claims the API acts upon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSubject {
    /// Database id of the user.
    pub user_id: i64,
    /// The user's role at issue time.
    pub role: String,
    /// The user's company, if the user belongs to a customer.
    pub company_id: Option<i64>,
    /// The user's token version at issue time; compare with the current one to honour
    /// revocation.
    pub token_version: i32,
    /// The session (refresh-token family) it belongs to.
    pub session: String,
}

/// Issues and verifies HS256 access tokens for one issuer, audience and lifetime.
///
/// Built once at start-up and shared, because the keys and validation rules never change while
/// the service runs.
pub struct AccessTokens {
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: chrono::Duration,
}

impl fmt::Debug for AccessTokens {
    /// Leaves the keys out so that the signing secret can never end up in a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokens")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl AccessTokens {
    /// Sets up signing and verification with `secret`, which should be at least 32 random
    /// bytes: HS256 is only as strong as its key, and a short key can be brute-forced offline
    /// from any token.
    #[must_use]
    pub fn new(secret: &[u8], issuer: &str, audience: &str, ttl: chrono::Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // The library only checks `iss`/`aud` when present; requiring them closes the gap of
        // a token that simply omits them.
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        // Expiry is checked in `verify` against the caller's clock, so that the service's
        // notion of "now" (fixed in tests) is the only one.
        validation.validate_exp = false;

        Self {
            encoding_key: EncodingKey::from_secret(secret),
            decoding_key: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl,
        }
    }

    /// Issues a token for `subject`, valid from `now` for the configured lifetime, and returns
    /// it with its expiry so that the client can be told when to refresh.
    ///
    /// `now` is a parameter so that callers (and tests) control the clock.
    ///
    /// # Errors
    /// [`TokenError::Issue`] if the expiry overflows or signing fails.
    pub fn issue(
        &self,
        subject: &AccessSubject,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), TokenError> {
        let expires_at = now
            .checked_add_signed(self.ttl)
            .ok_or_else(|| TokenError::Issue("expiry out of range".to_owned()))?;
        let claims = AccessClaims {
            sub: subject.user_id.to_string(),
            role: subject.role.clone(),
            company: subject.company_id,
            ver: subject.token_version,
            sid: subject.session.clone(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding_key)
                .map_err(|error| TokenError::Issue(error.to_string()))?;
        Ok((token, expires_at))
    }

    /// Checks the signature, expiry (against `now`, with a few seconds of leeway), issuer and
    /// audience of `token` and returns whom it was issued for.
    ///
    /// The token version is returned, not checked: that needs the user's current version from
    /// the database, which this module does not know.
    ///
    /// # Errors
    /// [`TokenError::Expired`] for a genuine token past its expiry, [`TokenError::Invalid`] for
    /// anything else.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessSubject, TokenError> {
        self.verify_until(token, now).map(|(subject, _)| subject)
    }

    /// [`AccessTokens::verify`], and the instant the token expires: a connection opened with
    /// it ends then.
    pub fn verify_until(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(AccessSubject, DateTime<Utc>), TokenError> {
        // The signature is checked before the expiry, so a forged token is reported as invalid
        // even when its claims say it has expired.
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, &self.decoding_key, &self.validation)
                .map_err(|error| match error.kind() {
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    _ => TokenError::Invalid,
                })?;
        let claims = data.claims;
        if claims.exp.saturating_add(LEEWAY_SECONDS) < now.timestamp() {
            return Err(TokenError::Expired);
        }
        let user_id = claims.sub.parse().map_err(|_| TokenError::Invalid)?;
        let expires_at = DateTime::from_timestamp(claims.exp, 0).ok_or(TokenError::Invalid)?;
        let subject = AccessSubject {
            user_id,
            role: claims.role,
            company_id: claims.company,
            token_version: claims.ver,
            session: claims.sid,
        };
        Ok((subject, expires_at))
    }
}

/// A freshly generated opaque secret: `secret` goes to the client once, `hash` to the database.
#[derive(Clone, PartialEq, Eq)]
pub struct OpaqueSecret {
    /// The prefix followed by 32 random bytes from a CSPRNG, base64url without padding. The
    /// prefix lets people and secret scanners tell what kind of token a string is.
    pub secret: String,
    /// Lowercase hex SHA-256 of the whole `secret`, the only form that is ever stored.
    pub hash: String,
}

impl fmt::Debug for OpaqueSecret {
    /// Redacts the secret so that it cannot leak through logs or error reports.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpaqueSecret")
            .field("secret", &"<redacted>")
            .field("hash", &self.hash)
            .finish()
    }
}

/// Generates a new opaque secret that starts with `prefix` (for example `"cprt_"`), together
/// with the hash to store.
#[must_use]
pub fn new_opaque_secret(prefix: &str) -> OpaqueSecret {
    let mut bytes = [0_u8; OPAQUE_SECRET_BYTES];
    // `rand::rng()` is a ChaCha-based CSPRNG seeded and periodically reseeded from the OS.
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_opaque_secret(&secret);
    OpaqueSecret { secret, hash }
}

/// Hashes a presented opaque secret the same way [`new_opaque_secret`] did.
///
/// The database is searched by this hash, never by the secret itself; besides keeping secrets
/// out of storage, that keeps the lookup's timing independent of the secret's characters.
#[must_use]
pub fn hash_opaque_secret(secret: &str) -> String {
    const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(secret.as_bytes());
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::Duration;

    use super::*;

    const SECRET: &[u8] = b"test-only signing secret, 32+ bytes long";
    const ISSUER: &str = "customer-portal";
    const AUDIENCE: &str = "customer-portal-api";

    fn tokens() -> AccessTokens {
        AccessTokens::new(SECRET, ISSUER, AUDIENCE, Duration::minutes(15))
    }

    fn subject() -> AccessSubject {
        AccessSubject {
            user_id: 42,
            role: "CUSTOMER_ADMIN".to_owned(),
            company_id: Some(7),
            token_version: 3,
            session: "family".to_owned(),
        }
    }

    /// Signs arbitrary claims with `SECRET`, to build tokens `issue` would never produce.
    fn sign(claims: &AccessClaims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(SECRET),
        )
    }

    fn valid_claims() -> AccessClaims {
        let now = Utc::now().timestamp();
        AccessClaims {
            sub: "42".to_owned(),
            role: "CUSTOMER_ADMIN".to_owned(),
            company: Some(7),
            ver: 3,
            sid: "family".to_owned(),
            iat: now,
            exp: now + 900,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        }
    }

    fn assert_invalid(result: Result<AccessSubject, TokenError>) {
        assert!(
            matches!(result, Err(TokenError::Invalid)),
            "expected TokenError::Invalid, got {result:?}"
        );
    }

    #[test]
    fn an_issued_token_verifies_back_to_its_subject() -> Result<(), TokenError> {
        let now = Utc::now();
        let (token, expires_at) = tokens().issue(&subject(), now)?;
        assert_eq!(expires_at, now + Duration::minutes(15));
        assert_eq!(tokens().verify(&token, Utc::now())?, subject());
        Ok(())
    }

    #[test]
    fn a_subject_without_company_round_trips() -> Result<(), TokenError> {
        let staff = AccessSubject {
            company_id: None,
            ..subject()
        };
        let (token, _) = tokens().issue(&staff, Utc::now())?;
        assert_eq!(tokens().verify(&token, Utc::now())?, staff);
        Ok(())
    }

    #[test]
    fn an_expired_token_is_reported_as_expired() -> Result<(), TokenError> {
        let (token, _) = tokens().issue(&subject(), Utc::now() - Duration::hours(1))?;
        assert!(matches!(
            tokens().verify(&token, Utc::now()),
            Err(TokenError::Expired)
        ));
        Ok(())
    }

    #[test]
    fn a_token_expired_ten_seconds_ago_is_expired_despite_the_clock_skew_leeway()
    -> Result<(), TokenError> {
        let (token, _) = tokens().issue(&subject(), Utc::now() - Duration::seconds(910))?;
        assert!(matches!(
            tokens().verify(&token, Utc::now()),
            Err(TokenError::Expired)
        ));
        Ok(())
    }

    #[test]
    fn a_token_just_inside_the_leeway_is_still_accepted() -> Result<(), TokenError> {
        let (token, _) = tokens().issue(&subject(), Utc::now() - Duration::seconds(901))?;
        assert_eq!(tokens().verify(&token, Utc::now())?, subject());
        Ok(())
    }

    #[test]
    fn a_token_signed_with_another_secret_is_invalid() -> Result<(), TokenError> {
        let other = AccessTokens::new(
            b"another secret of at least 32 bytes!!",
            ISSUER,
            AUDIENCE,
            Duration::minutes(15),
        );
        let (token, _) = other.issue(&subject(), Utc::now())?;
        assert_invalid(tokens().verify(&token, Utc::now()));
        Ok(())
    }

    #[test]
    fn an_expired_token_with_another_secret_is_invalid_not_expired() -> Result<(), TokenError> {
        let other = AccessTokens::new(
            b"another secret of at least 32 bytes!!",
            ISSUER,
            AUDIENCE,
            Duration::minutes(15),
        );
        let (token, _) = other.issue(&subject(), Utc::now() - Duration::hours(1))?;
        assert_invalid(tokens().verify(&token, Utc::now()));
        Ok(())
    }

    #[test]
    fn a_token_from_another_issuer_is_invalid() -> Result<(), TokenError> {
        let other = AccessTokens::new(SECRET, "someone-else", AUDIENCE, Duration::minutes(15));
        let (token, _) = other.issue(&subject(), Utc::now())?;
        assert_invalid(tokens().verify(&token, Utc::now()));
        Ok(())
    }

    #[test]
    fn a_token_for_another_audience_is_invalid() -> Result<(), TokenError> {
        let other = AccessTokens::new(SECRET, ISSUER, "another-api", Duration::minutes(15));
        let (token, _) = other.issue(&subject(), Utc::now())?;
        assert_invalid(tokens().verify(&token, Utc::now()));
        Ok(())
    }

    #[test]
    fn a_token_with_a_tampered_payload_is_invalid() -> Result<(), Box<dyn std::error::Error>> {
        let (token, _) = tokens().issue(&subject(), Utc::now())?;
        let parts: Vec<&str> = token.split('.').collect();
        let [header, payload, signature] = parts[..] else {
            return Err("a JWT has three parts".into());
        };
        let json = String::from_utf8(URL_SAFE_NO_PAD.decode(payload)?)?;
        let forged_json = json.replace("\"CUSTOMER_ADMIN\"", "\"BACK_OFFICE\"");
        assert_ne!(json, forged_json);
        let forged_payload = URL_SAFE_NO_PAD.encode(forged_json);
        assert_invalid(tokens().verify(
            &format!("{header}.{forged_payload}.{signature}"),
            Utc::now(),
        ));
        Ok(())
    }

    #[test]
    fn garbage_is_invalid() {
        for garbage in ["", "garbage", "a.b.c", "...", "eyJhbGciOiJIUzI1NiJ9.e30."] {
            assert_invalid(tokens().verify(garbage, Utc::now()));
        }
    }

    #[test]
    fn an_unsigned_token_is_invalid() -> Result<(), Box<dyn std::error::Error>> {
        let (token, _) = tokens().issue(&subject(), Utc::now())?;
        let payload = token.split('.').nth(1).ok_or("a JWT has a payload")?;
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert_invalid(tokens().verify(&format!("{header}.{payload}."), Utc::now()));
        Ok(())
    }

    #[test]
    fn a_correctly_signed_token_without_issuer_or_audience_is_invalid()
    -> Result<(), jsonwebtoken::errors::Error> {
        #[derive(Serialize)]
        struct Partial {
            sub: String,
            exp: i64,
        }
        let exp = Utc::now().timestamp() + 900;
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Partial {
                sub: "42".to_owned(),
                exp,
            },
            &EncodingKey::from_secret(SECRET),
        )?;
        assert_invalid(tokens().verify(&token, Utc::now()));
        Ok(())
    }

    #[test]
    fn a_correctly_signed_token_with_a_non_numeric_subject_is_invalid()
    -> Result<(), jsonwebtoken::errors::Error> {
        let token = sign(&AccessClaims {
            sub: "admin".to_owned(),
            ..valid_claims()
        })?;
        assert_invalid(tokens().verify(&token, Utc::now()));
        Ok(())
    }

    #[test]
    fn the_test_helper_signs_tokens_that_verify() -> Result<(), Box<dyn std::error::Error>> {
        // Guards the two tests above: they must fail for the reason they name, not the helper.
        assert_eq!(
            tokens().verify(&sign(&valid_claims())?, Utc::now())?,
            subject()
        );
        Ok(())
    }

    #[test]
    fn opaque_secrets_start_with_their_prefix_and_carry_32_random_bytes()
    -> Result<(), Box<dyn std::error::Error>> {
        let generated = new_opaque_secret("cprt_");
        let random_part = generated
            .secret
            .strip_prefix("cprt_")
            .ok_or("the secret lacks its prefix")?;
        assert_eq!(URL_SAFE_NO_PAD.decode(random_part)?.len(), 32);
        Ok(())
    }

    #[test]
    fn opaque_secrets_are_unique() {
        let secrets: HashSet<String> = (0..1000).map(|_| new_opaque_secret("t_").secret).collect();
        assert_eq!(secrets.len(), 1000);
    }

    #[test]
    fn opaque_secret_hashes_are_deterministic_lowercase_sha256_hex() {
        let generated = new_opaque_secret("cpat_");
        assert_eq!(generated.hash, hash_opaque_secret(&generated.secret));
        assert_eq!(generated.hash.len(), 64);
        assert!(
            generated
                .hash
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
        assert_eq!(
            hash_opaque_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(hash_opaque_secret("abc"), hash_opaque_secret("abd"));
    }

    #[test]
    fn opaque_secrets_do_not_show_in_debug_output() {
        let generated = new_opaque_secret("cprt_");
        assert!(!format!("{generated:?}").contains(&generated.secret));
    }

    #[test]
    fn access_tokens_do_not_show_their_key_in_debug_output() {
        let debug = format!("{:?}", tokens());
        assert!(!debug.contains("test-only signing secret"));
    }
}
