//! Bearer tokens: sessions of people and credentials of services.
//!
//! A token is 32 random bytes, base64url, behind a short prefix that says what it is
//! (`ttp_` a person's session, `tts_` a service's credential) so that a token pasted into the
//! wrong place is recognised. A server keeps only the SHA-256 of a token ([`TokenHash`]): a
//! copy of the database signs nobody in. 256 random bits need no slow hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// What a token is for, told by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A person's session, made at sign-in.
    Session,
    /// A service's credential, issued by an administrator and revocable.
    Service,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Session => "ttp_",
            TokenKind::Service => "tts_",
        }
    }

    /// The kind of a presented token, by its prefix.
    pub fn of(token: &str) -> Option<Self> {
        [TokenKind::Session, TokenKind::Service]
            .into_iter()
            .find(|kind| token.starts_with(kind.prefix()))
    }
}

/// A freshly made token: given to its holder once, never stored.
#[derive(Debug)]
pub struct Token {
    pub kind: TokenKind,
    pub secret: SecretString,
}

impl Token {
    pub fn generate(kind: TokenKind) -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self {
            kind,
            secret: SecretString::from(format!(
                "{}{}",
                kind.prefix(),
                URL_SAFE_NO_PAD.encode(bytes)
            )),
        }
    }

    /// The hash a server stores for this token.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.secret.expose_secret())
    }
}

/// The SHA-256 of a token, lowercase hex: what a server stores and looks a presented token up
/// by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn of(token: &str) -> Self {
        let digest = Sha256::digest(token.as_bytes());
        let mut hex = String::with_capacity(64);
        for byte in digest {
            hex.push_str(&format!("{byte:02x}"));
        }
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_says_its_kind_and_hashes_stably() {
        let token = Token::generate(TokenKind::Service);
        let secret = token.secret.expose_secret();
        assert!(secret.starts_with("tts_"));
        assert_eq!(secret.len(), 4 + 43);
        assert_eq!(TokenKind::of(secret), Some(TokenKind::Service));
        assert_eq!(token.hash(), TokenHash::of(secret));
        assert_eq!(token.hash().as_str().len(), 64);
        assert_ne!(Token::generate(TokenKind::Session).hash(), token.hash());
        assert_eq!(TokenKind::of("Bearer x"), None);
    }
}
