//! A school staff account as the school agent shows it: who signs in on the school PC, with
//! which plan [`Role`]. The agent keeps accounts (and their password hashes and sessions) in
//! its own database, never in the event log; what an event says of a person is its
//! [`Actor`](crate::Actor), which the agent builds from the signed-in account
//! ([`StaffAccount::actor`]). The duties each role holds are [`crate::duties`].

use chrono::{DateTime, Utc};

use crate::envelope::Actor;
use crate::error::DomainError;
use crate::roles::Role;

/// A staff account (never its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    pub login: String,
    pub full_name: String,
    pub role: Role,
    pub must_change_password: bool,
    pub enabled: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_sign_in: Option<DateTime<Utc>>,
    /// The login of the head who created it, or `server` for the server command.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl StaffAccount {
    /// The actor of the events this account records: its role and full name.
    pub fn actor(&self) -> Result<Actor, DomainError> {
        Actor::parse(self.role, &self.full_name)
    }
}
