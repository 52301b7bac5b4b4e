//! Passwords: Argon2id hashes, the rule a chosen password meets, and generated one-time
//! passwords.
//!
//! Parameters are OWASP's recommended minimum for Argon2id (19 MiB, 2 passes, 1 lane): a
//! sign-in costs tens of milliseconds on an office PC (the reporting bench measures it),
//! which is nothing for a person and a wall for a guesser with a stolen database. A hash is
//! stored as its PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`), so parameters can be raised
//! later and old hashes still verify.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::{OsRng, RngCore};
use secrecy::{ExposeSecret, SecretString};

/// A stored password hash (a PHC string). Not secret in itself, but never shown or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(…)")
    }
}

/// Why a password could not be hashed or a stored hash read.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("a stored password hash is not a valid PHC string: {0}")]
    StoredHash(argon2::password_hash::Error),
    #[error("the password could not be hashed: {0}")]
    Hashing(argon2::password_hash::Error),
}

/// Why a chosen password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRule {
    #[error("a password must be at least {min} characters long, got {got}")]
    TooShort { min: usize, got: usize },
    #[error("a password may be at most {max} characters long, got {got}")]
    TooLong { max: usize, got: usize },
    #[error("a password must not contain the login")]
    ContainsLogin,
    #[error("a password must not be one character repeated")]
    OneCharacter,
    #[error("the new password must differ from the current one")]
    Unchanged,
}

impl PasswordRule {
    /// The refusal in Vietnamese, for the person choosing the password.
    pub fn vietnamese(&self) -> String {
        match self {
            PasswordRule::TooShort { min, got } => {
                format!("Mật khẩu phải có ít nhất {min} ký tự (mới có {got}).")
            }
            PasswordRule::TooLong { max, got } => {
                format!("Mật khẩu dài tối đa {max} ký tự (đang có {got}).")
            }
            PasswordRule::ContainsLogin => "Mật khẩu không được chứa tên đăng nhập.".to_owned(),
            PasswordRule::OneCharacter => "Mật khẩu không được chỉ lặp lại một ký tự.".to_owned(),
            PasswordRule::Unchanged => "Mật khẩu mới phải khác mật khẩu hiện tại.".to_owned(),
        }
    }
}

/// The shortest password a person may choose; long passphrases are welcome.
pub const MIN_LENGTH: usize = 10;
/// Longer input is refused before hashing, so a request cannot make the server hash megabytes.
pub const MAX_LENGTH: usize = 128;

/// Checks a password a person chose for the account `login`.
pub fn check_rule(login: &str, password: &str) -> Result<(), PasswordRule> {
    let got = password.chars().count();
    if got < MIN_LENGTH {
        return Err(PasswordRule::TooShort {
            min: MIN_LENGTH,
            got,
        });
    }
    if got > MAX_LENGTH {
        return Err(PasswordRule::TooLong {
            max: MAX_LENGTH,
            got,
        });
    }
    if !login.is_empty() && password.to_lowercase().contains(&login.to_lowercase()) {
        return Err(PasswordRule::ContainsLogin);
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(PasswordRule::OneCharacter);
    }
    Ok(())
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP's Argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl PasswordHash {
    /// Hashes `password` with a fresh random salt.
    pub fn new(password: &SecretString) -> Result<Self, PasswordError> {
        let salt = SaltString::generate(&mut OsRng);
        let hash = argon2()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map_err(PasswordError::Hashing)?;
        Ok(Self(hash.to_string()))
    }

    /// A hash read back from storage; checked when verified.
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string to store.
    pub fn as_stored(&self) -> &str {
        &self.0
    }

    /// Whether `password` is the one this hash was made from. Refuses overlong input without
    /// hashing it.
    pub fn verify(&self, password: &str) -> Result<bool, PasswordError> {
        if password.chars().count() > MAX_LENGTH {
            return Ok(false);
        }
        let parsed =
            argon2::password_hash::PasswordHash::new(&self.0).map_err(PasswordError::StoredHash)?;
        match argon2().verify_password(password.as_bytes(), &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::Password) => Ok(false),
            Err(e) => Err(PasswordError::StoredHash(e)),
        }
    }
}

/// Spends the time of one verification on a login that does not exist, so that how long a
/// refusal takes does not tell a guesser which logins are real.
pub fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<Option<PasswordHash>> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        PasswordHash::new(&SecretString::from(
            "truyenthong-no-such-account".to_owned(),
        ))
        .ok()
    });
    if let Some(dummy) = dummy {
        let _ = dummy.verify(password);
    }
}

/// Letters and digits that cannot be mistaken for one another when read aloud or copied
/// from paper (no 0/o, 1/l/i).
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A one-time password for a new or reset account: three groups of four (`k7qm-p2xa-9fzt`,
/// about 59 bits), shown once to the person who created it, who hands it over; its owner must
/// change it at first sign-in.
pub fn generate() -> SecretString {
    let mut out = String::with_capacity(14);
    for group in 0..3 {
        if group > 0 {
            out.push('-');
        }
        for _ in 0..4 {
            out.push(char::from(ALPHABET[uniform_index(ALPHABET.len())]));
        }
    }
    SecretString::from(out)
}

/// A uniformly random index below `n` (rejection sampling: no modulo bias).
fn uniform_index(n: usize) -> usize {
    let n = u32::try_from(n).expect("a small alphabet");
    let zone = u32::MAX - (u32::MAX % n);
    loop {
        let v = OsRng.next_u32();
        if v < zone {
            return (v % n) as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_no_other() {
        let hash = PasswordHash::new(&SecretString::from("Hoa-sen-2017!".to_owned())).unwrap();
        assert!(
            hash.as_stored()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
        assert!(hash.verify("Hoa-sen-2017!").unwrap());
        assert!(!hash.verify("hoa-sen-2017!").unwrap());
        let again = PasswordHash::from_stored(hash.as_stored().to_owned());
        assert!(again.verify("Hoa-sen-2017!").unwrap());
        assert!(!format!("{hash:?}").contains("argon2id"));
    }

    #[test]
    fn a_damaged_stored_hash_is_an_error_not_a_refusal() {
        let hash = PasswordHash::from_stored("not-a-hash".to_owned());
        assert!(matches!(
            hash.verify("x"),
            Err(PasswordError::StoredHash(_))
        ));
    }

    #[test]
    fn the_rule_names_what_is_wrong() {
        assert_eq!(
            check_rule("hong.nguyen", "ngan"),
            Err(PasswordRule::TooShort { min: 10, got: 4 })
        );
        assert_eq!(
            check_rule("hong.nguyen", "xx-Hong.Nguyen-xx"),
            Err(PasswordRule::ContainsLogin)
        );
        assert_eq!(
            check_rule("an", "aaaaaaaaaaaa"),
            Err(PasswordRule::OneCharacter)
        );
        assert_eq!(check_rule("hong.nguyen", "sen nở trên đồng tháp"), Ok(()));
        assert!(
            PasswordRule::ContainsLogin
                .vietnamese()
                .contains("tên đăng nhập")
        );
    }

    #[test]
    fn generated_passwords_are_three_groups_from_the_unambiguous_alphabet() {
        let a = generate();
        let b = generate();
        assert_ne!(a.expose_secret(), b.expose_secret());
        let a = a.expose_secret();
        assert_eq!(a.len(), 14);
        assert_eq!(a.split('-').count(), 3);
        assert!(a.bytes().all(|c| c == b'-' || ALPHABET.contains(&c)));
        assert!(check_rule("some.login", a).is_ok());
    }
}
