//! The district's accounts, sessions, service tokens and audit trail, in the `accounts`
//! schema of the aggregator's PostgreSQL (migration `20261203000000_accounts.sql`).
//!
//! Why in the aggregator: it is the one district server with a database, and every district
//! call — the office's own, the dashboard's and reporting's on a person's behalf — ends there,
//! so one place decides who a caller is ([`Accounts::authenticate`]) and what they may see
//! (`domain::district::access`). Accounts are not events: nothing in the district stream says
//! who may sign in, so a rebuild neither reads nor touches them.
//!
//! Accounts are issued from above: an administrator creates the others, and the first
//! administrator is created on the server (`district-aggregator account create-admin`, also
//! the break-glass reset). A new or reset account gets a generated one-time password that its
//! owner must change before anything else. Secrets are never stored in clear (Argon2id PHC
//! strings, SHA-256 of tokens) and never logged: `tracing` names logins, token ids and
//! addresses only.

mod audit;
mod authenticate;
mod people;
mod tokens;

use chrono::{DateTime, Utc};
use credentials::{LockoutPolicy, LoginError, PasswordError, PasswordRule, SessionPolicy};
use domain::Slug;
use domain::district::access::AccountRole;
use sqlx::PgPool;

pub use audit::{AuditAction, AuditEntry, Origin};
pub use authenticate::{Caller, Presented, Refusal};
pub use people::{Account, NewAccount, NewSession};
pub use tokens::{IssuedToken, ServiceTokenInfo};

/// Why an account operation was refused or failed. The gRPC service maps each to a status
/// (`crate::accounts_service::status`), with a Vietnamese message.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Wrong login or wrong password (one answer for both), or no, an unknown, expired or
    /// revoked credential.
    #[error(
        "the credential is missing, unknown, expired or revoked, or the login and password do not match"
    )]
    Unauthenticated,
    /// Five failures in a row: locked until the instant.
    #[error("login {login} is locked after repeated failed sign-ins until {until}")]
    Locked { login: String, until: DateTime<Utc> },
    #[error("login: {0}")]
    Login(#[from] LoginError),
    #[error("new_password: {0}")]
    PasswordRule(#[from] PasswordRule),
    #[error("full_name must not be empty")]
    FullNameRequired,
    #[error("role is required")]
    RoleRequired,
    /// A school head needs an enrolled school; the other roles none.
    #[error("school: {0}")]
    School(SchoolRule),
    #[error("login {0} is not a district account")]
    NotFound(String),
    #[error("login {0} already exists")]
    Exists(String),
    #[error("an administrator cannot disable their own account")]
    OwnAccount,
    #[error("service must be a lowercase slug (a-z, 0-9, '-'), got {0:?}")]
    BadService(String),
    #[error("no service token has id {0:?}")]
    TokenNotFound(String),
    #[error("action {0:?} cannot be recorded by a service")]
    BadAction(String),
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// PostgreSQL failed: logged with its text, never shown to callers.
    #[error("the accounts database failed: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("a stored account is unreadable: {0}")]
    Corrupt(String),
}

/// Why the `school` of an account was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchoolRule {
    #[error("a school head's account needs the code of an enrolled school")]
    Required,
    #[error("{0:?} is not an enrolled school's code")]
    NotEnrolled(String),
    #[error("only a school head's account names a school")]
    NotForRole,
}

/// The district's accounts in the aggregator's database.
#[derive(Debug, Clone)]
pub struct Accounts {
    pool: PgPool,
    lockout: LockoutPolicy,
    sessions: SessionPolicy,
}

impl Accounts {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            lockout: LockoutPolicy::default(),
            sessions: SessionPolicy::default(),
        }
    }

    /// The session policy (the dashboard's cookie lifetime follows it).
    pub fn session_policy(&self) -> SessionPolicy {
        self.sessions
    }
}

/// Hashes a password off the async threads (Argon2id takes tens of milliseconds).
async fn hash(password: secrecy::SecretString) -> Result<credentials::PasswordHash, AccountError> {
    tokio::task::spawn_blocking(move || credentials::PasswordHash::new(&password))
        .await
        .map_err(|e| AccountError::Corrupt(format!("the hashing task failed: {e}")))?
        .map_err(AccountError::from)
}

/// Checks a password against a stored hash off the async threads.
async fn verify(stored: credentials::PasswordHash, typed: &str) -> Result<bool, AccountError> {
    let typed = typed.to_owned();
    tokio::task::spawn_blocking(move || stored.verify(&typed))
        .await
        .map_err(|e| AccountError::Corrupt(format!("the hashing task failed: {e}")))?
        .map_err(AccountError::from)
}

/// Spends the time a real check would, so that a wrong login answers as slowly as a wrong
/// password (no timing oracle for which logins exist).
async fn verify_nothing(typed: &str) {
    let typed = typed.to_owned();
    let _ =
        tokio::task::spawn_blocking(move || credentials::password::verify_nothing(&typed)).await;
}

/// A role and school as stored, checked against each other.
fn checked_school(role: AccountRole, school: &str) -> Result<Option<Slug>, AccountError> {
    let school = school.trim();
    match (role, school.is_empty()) {
        (AccountRole::SchoolHead, true) => Err(AccountError::School(SchoolRule::Required)),
        (AccountRole::SchoolHead, false) => Slug::parse("school", school)
            .map(Some)
            .map_err(|_| AccountError::School(SchoolRule::NotEnrolled(school.to_owned()))),
        (_, true) => Ok(None),
        (_, false) => Err(AccountError::School(SchoolRule::NotForRole)),
    }
}
