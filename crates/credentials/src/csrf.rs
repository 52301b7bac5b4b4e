//! CSRF tokens for the forms of the dashboard and the school's web app.
//!
//! The token of a form is the HMAC-SHA-256 of the session's token under a key the server
//! draws at start: it needs no storage, differs per session, and cannot be computed by a
//! page on another site (which never sees the session cookie, `HttpOnly`, nor the key).
//! Together with `SameSite=Strict` cookies this is defence in depth: either alone stops a
//! cross-site form post.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The server's CSRF key; a restart draws a new one (open forms then need a reload).
#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(…)")
    }
}

impl CsrfKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        Self(key)
    }

    /// The token the forms of the session `session_token` carry.
    pub fn token_for(&self, session_token: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(session_token))
    }

    /// Whether `presented` is the token of `session_token` (in constant time).
    pub fn verify(&self, session_token: &str, presented: &str) -> bool {
        let Ok(presented) = URL_SAFE_NO_PAD.decode(presented.as_bytes()) else {
            return false;
        };
        self.mac(session_token).ct_eq(&presented).into()
    }

    fn mac(&self, session_token: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(session_token.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_valid_for_its_session_only() {
        let key = CsrfKey::generate();
        let token = key.token_for("ttp_a");
        assert!(key.verify("ttp_a", &token));
        assert!(!key.verify("ttp_b", &token));
        assert!(!key.verify("ttp_a", ""));
        assert!(!key.verify("ttp_a", "%%%"));
        assert!(!CsrfKey::generate().verify("ttp_a", &token));
    }
}
