//! Password hashing for portal logins.
//!
//! Argon2id is what OWASP recommends first for password storage: it is memory-hard, so
//! guessing stolen hashes on GPUs is expensive. Hashes are stored as PHC strings
//! (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), which carry their own parameters, so raising
//! [`ARGON2_PARAMS`] later does not break verification of hashes made with the old ones.
//!
//! Both [`hash_password`] and [`verify_password`] deliberately burn tens of milliseconds of CPU
//! time and ~19 MiB of memory; async callers should run them on a blocking thread
//! (`tokio::task::spawn_blocking`) so that they do not stall the runtime.

use std::sync::LazyLock;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

/// Argon2id cost settings for every password hash this service creates.
///
/// m = 19 456 KiB (19 MiB), t = 2, p = 1 is the first of OWASP's equivalent recommended
/// Argon2id configurations (Password Storage Cheat Sheet) and also the argon2 crate's default.
/// It is one setting for production and tests alike: a cheaper test-only cost would mean the
/// test suite never exercises what production runs. Because it is a `const`, an invalid
/// combination is rejected at compile time rather than at the first login.
pub const ARGON2_PARAMS: Params = match Params::new(19 * 1024, 2, 1, None) {
    Ok(params) => params,
    Err(_) => panic!("ARGON2_PARAMS must be valid Argon2 parameters"),
};

/// A password hash could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Argon2 failed, e.g. because the OS random source for the salt was unavailable; callers
    /// should treat it as a server error, never as a problem with the user's input.
    #[error("password hashing failed: {0}")]
    Hash(#[from] argon2::password_hash::Error),
}

/// Input for the dummy hash; its value is irrelevant because nobody can log in with it: it is
/// only checked when there is no stored hash, and then the result is always `false`.
const DUMMY_PASSWORD: &str = "customer-portal dummy password for timing equalisation";

/// Hash that unknown accounts are "verified" against, so that a login for an e-mail address
/// that does not exist costs as much as one for an address that does. Computed lazily with the
/// current [`ARGON2_PARAMS`] so that it always costs the same as a real hash.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| hash_password(DUMMY_PASSWORD).ok());

/// The hasher; built on each use because it is a cheap value type and avoids a shared global.
fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, ARGON2_PARAMS)
}

/// Hashes `plain` with Argon2id and a fresh random salt, returning the PHC string to store.
///
/// # Errors
/// [`PasswordError::Hash`] if Argon2 or the system random source fails.
pub fn hash_password(plain: &str) -> Result<String, PasswordError> {
    Ok(hasher().hash_password(plain.as_bytes())?.to_string())
}

/// Tells whether `plain` matches the `stored` PHC hash.
///
/// `stored` is `None` for an unknown e-mail address or a user who has not set a password yet;
/// a full Argon2 verification against a dummy hash still runs then (and the answer is
/// `false`), so response times do not reveal which accounts exist. A stored hash that cannot
/// be parsed also yields `false` after the same amount of work.
#[must_use]
pub fn verify_password(plain: &str, stored: Option<&str>) -> bool {
    let parsed = stored.and_then(|hash| PasswordHash::new(hash).ok());
    match parsed {
        Some(hash) => hasher().verify_password(plain.as_bytes(), &hash).is_ok(),
        None => {
            burn_equivalent_time(plain);
            false
        }
    }
}

/// Spends the time of one verification without any chance of success.
fn burn_equivalent_time(plain: &str) {
    match DUMMY_HASH.as_deref() {
        Some(dummy) => {
            // The result is meaningless; only the work matters.
            let _ = hasher().verify_password(plain.as_bytes(), dummy);
        }
        None => {
            // Creating the dummy hash failed (no OS randomness); hashing once costs the same.
            let _ = hasher().hash_password(plain.as_bytes());
        }
    }
}

/// Fewest characters a chosen password may have.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Most characters accepted: enough for any passphrase, and a bound on the hashing work a
/// request can ask for.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Why a chosen password is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must have at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("the password must not be the e-mail address")]
    IsTheEmail,
}

/// Checks a password someone chooses for the account of `email`.
pub fn check_new_password(password: &str, email: &str) -> Result<(), WeakPassword> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(WeakPassword::TooShort);
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(WeakPassword::TooLong);
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Err(WeakPassword::IsTheEmail);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_are_checked_for_length_and_against_the_email() {
        let email = "Anna.de.Vries@alpha.example";
        for (password, expected) in [
            ("short", Err(WeakPassword::TooShort)),
            ("nine char", Err(WeakPassword::TooShort)),
            ("ten chars!", Ok(())),
            ("éééééééééé", Ok(())),
            ("anna.de.vries@alpha.example", Err(WeakPassword::IsTheEmail)),
            (
                " ANNA.DE.VRIES@ALPHA.EXAMPLE",
                Err(WeakPassword::IsTheEmail),
            ),
            (&"x".repeat(257), Err(WeakPassword::TooLong)),
            (&"x".repeat(256), Ok(())),
        ] {
            assert_eq!(
                check_new_password(password, email),
                expected,
                "{password:?}"
            );
        }
    }

    #[test]
    fn a_hashed_password_verifies_with_the_same_password() -> Result<(), PasswordError> {
        let hash = hash_password("correct horse battery staple")?;
        assert!(verify_password("correct horse battery staple", Some(&hash)));
        Ok(())
    }

    #[test]
    fn hashes_are_argon2id_phc_strings_with_the_configured_cost() -> Result<(), PasswordError> {
        let hash = hash_password("s3cret")?;
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "unexpected PHC string: {hash}"
        );
        Ok(())
    }

    #[test]
    fn a_wrong_password_does_not_verify() -> Result<(), PasswordError> {
        let hash = hash_password("right password")?;
        assert!(!verify_password("wrong password", Some(&hash)));
        assert!(!verify_password("", Some(&hash)));
        Ok(())
    }

    #[test]
    fn a_missing_hash_never_verifies() {
        assert!(!verify_password("anything", None));
        assert!(!verify_password(DUMMY_PASSWORD, None));
    }

    #[test]
    fn a_malformed_hash_never_verifies() {
        assert!(!verify_password("anything", Some("")));
        assert!(!verify_password("anything", Some("not a phc string")));
        assert!(!verify_password(
            "anything",
            Some("$argon2id$v=19$m=19456,t=2,p=1$")
        ));
        assert!(!verify_password(
            "anything",
            Some("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW")
        ));
    }

    #[test]
    fn hashing_the_same_password_twice_gives_different_salted_hashes() -> Result<(), PasswordError>
    {
        let first = hash_password("same password")?;
        let second = hash_password("same password")?;
        assert_ne!(first, second);
        assert!(verify_password("same password", Some(&first)));
        assert!(verify_password("same password", Some(&second)));
        Ok(())
    }

    #[test]
    fn hashes_made_with_other_argon2_parameters_still_verify()
    -> Result<(), Box<dyn std::error::Error>> {
        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 3, 1, None)?,
        );
        let hash = older
            .hash_password_with_salt(b"legacy", b"0123456789abcdef")?
            .to_string();
        assert!(verify_password("legacy", Some(&hash)));
        assert!(!verify_password("not legacy", Some(&hash)));
        Ok(())
    }
}
