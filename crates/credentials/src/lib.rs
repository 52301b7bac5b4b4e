//! How people and services prove who they are, without I/O.
//!
//! Shared by the district aggregator (district accounts, service tokens) and the school agent
//! (staff accounts), so both hash, generate and expire alike:
//! - [`password`]: Argon2id hashes (PHC strings), the rule a new password must meet, and the
//!   one-time passwords generated when an account is created or reset (there is no default
//!   password anywhere);
//! - [`token`]: random bearer tokens (sessions, service credentials) and the SHA-256 that is
//!   all a server keeps of them;
//! - [`csrf`]: the per-session token every form that changes something must carry;
//! - [`policy`]: when repeated failures lock an account and when a session expires — pure
//!   functions of counts and instants, so they are tested without a clock;
//! - [`login`]: what a login name may look like.
//!
//! Randomness comes from the operating system (`getrandom`); nothing here reads a file, a
//! socket or the clock.

pub mod csrf;
pub mod login;
pub mod password;
pub mod policy;
pub mod token;

pub use login::{LoginError, LoginName};
pub use password::{PasswordError, PasswordHash, PasswordRule};
pub use policy::{LockoutPolicy, SessionPolicy};
pub use token::{Token, TokenHash};
