//! Who is calling: a presented credential resolved into a [`Caller`].
//!
//! Every gRPC call of the aggregator (but `SignIn`, health and reflection) goes through
//! [`Accounts::authenticate`] before it reads or writes anything. A session token names a
//! person; a service token names a service, and with a person's session token beside it
//! (`x-truyenthong-on-behalf-of`) the call is that person's, through the service. What the
//! caller may do is then `domain::district::access`'s table, in [`Caller::check`].

use chrono::{DateTime, Duration, Utc};
use credentials::TokenHash;
use credentials::token::TokenKind;
use domain::district::access::{Permission, Principal};
use sqlx::Row;

use super::people::Account;
use super::{AccountError, Accounts, Origin};

/// What a call presented, read from its metadata by the gRPC edge.
#[derive(Debug, Clone, Default)]
pub struct Presented {
    /// The bearer token of `authorization`.
    pub bearer: Option<String>,
    /// `x-truyenthong-on-behalf-of`: a person's session token, sent by a service.
    pub on_behalf_of: Option<String>,
    /// `x-truyenthong-client-address`: the person's address, as the service saw it.
    pub client_address: Option<String>,
    /// The connection's peer address, as this server sees it.
    pub peer: String,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The person's session (their own, or the one on whose behalf a service calls).
    pub session: Option<TokenHash>,
    /// Set while the person's one-time password must be changed first.
    pub must_change_password: bool,
    /// Who and from where, for the audit trail.
    pub origin: Origin,
}

/// Why an authenticated caller may not make a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The person must change their one-time password first.
    MustChangePassword,
    /// Their role (or the service) does not allow it.
    Denied(Permission),
}

impl Caller {
    /// Whether the caller may make a call that needs `permission`.
    pub fn check(&self, permission: Permission) -> Result<(), Refusal> {
        if self.must_change_password {
            return Err(Refusal::MustChangePassword);
        }
        if self.principal.allows(permission) {
            Ok(())
        } else {
            Err(Refusal::Denied(permission))
        }
    }

    /// The signed-in person's login, if a person is calling.
    pub fn login(&self) -> Option<&str> {
        match &self.principal {
            Principal::Person { person, .. } => Some(&person.login),
            Principal::Service(_) => None,
        }
    }
}

/// A session's or a token's last use is written at most this often: a busy dashboard must
/// not turn every read into a write, and idle expiry (30 minutes) does not need it finer.
const TOUCH_EVERY: i64 = 60;

impl Accounts {
    /// Resolves what a call presented; `Unauthenticated` for nothing, an unknown, ended,
    /// expired or revoked credential, a disabled account, or a person's session presented
    /// as if on behalf of someone.
    pub async fn authenticate(
        &self,
        presented: &Presented,
        now: DateTime<Utc>,
    ) -> Result<Caller, AccountError> {
        let bearer = presented
            .bearer
            .as_deref()
            .ok_or(AccountError::Unauthenticated)?;
        match TokenKind::of(bearer) {
            Some(TokenKind::Session) => {
                if presented.on_behalf_of.is_some() {
                    return Err(AccountError::Unauthenticated);
                }
                let (account, session) = self.session(bearer, now).await?;
                Ok(Caller {
                    origin: Origin {
                        login: account.login.clone(),
                        service: String::new(),
                        from_address: presented.peer.clone(),
                    },
                    must_change_password: account.must_change_password,
                    principal: Principal::Person {
                        person: account.person(),
                        via: None,
                    },
                    session: Some(session),
                })
            }
            Some(TokenKind::Service) => {
                let service = self.service_of(bearer, now).await?;
                match presented.on_behalf_of.as_deref() {
                    None => Ok(Caller {
                        origin: Origin {
                            login: String::new(),
                            service: service.clone(),
                            from_address: presented.peer.clone(),
                        },
                        principal: Principal::Service(service),
                        session: None,
                        must_change_password: false,
                    }),
                    Some(person_token) => {
                        let (account, session) = self.session(person_token, now).await?;
                        Ok(Caller {
                            origin: Origin {
                                login: account.login.clone(),
                                service: service.clone(),
                                from_address: presented
                                    .client_address
                                    .clone()
                                    .unwrap_or_else(|| presented.peer.clone()),
                            },
                            must_change_password: account.must_change_password,
                            principal: Principal::Person {
                                person: account.person(),
                                via: Some(service),
                            },
                            session: Some(session),
                        })
                    }
                }
            }
            None => Err(AccountError::Unauthenticated),
        }
    }

    /// The account of an open, unexpired session token, noting its use.
    async fn session(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(Account, TokenHash), AccountError> {
        if TokenKind::of(token) != Some(TokenKind::Session) {
            return Err(AccountError::Unauthenticated);
        }
        let hash = TokenHash::of(token);
        let row = sqlx::query(
            "SELECT login, created_at, last_seen FROM accounts.sessions \
             WHERE token_hash = $1 AND ended_at IS NULL",
        )
        .bind(hash.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(AccountError::Unauthenticated)?;
        let created_at: DateTime<Utc> = row.get("created_at");
        let last_seen: DateTime<Utc> = row.get("last_seen");
        if !self.sessions.is_valid(created_at, last_seen, now) {
            sqlx::query("UPDATE accounts.sessions SET ended_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(hash.as_str())
                .execute(&self.pool)
                .await?;
            return Err(AccountError::Unauthenticated);
        }
        let account = self.account(&row.get::<String, _>("login")).await?;
        if !account.enabled {
            return Err(AccountError::Unauthenticated);
        }
        if now - last_seen > Duration::seconds(TOUCH_EVERY) {
            sqlx::query("UPDATE accounts.sessions SET last_seen = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(hash.as_str())
                .execute(&self.pool)
                .await?;
        }
        Ok((account, hash))
    }

    /// The service of an unrevoked service token, noting its use.
    async fn service_of(&self, token: &str, now: DateTime<Utc>) -> Result<String, AccountError> {
        let hash = TokenHash::of(token);
        let row = sqlx::query(
            "SELECT service, last_used_at FROM accounts.service_tokens \
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(AccountError::Unauthenticated)?;
        let last_used: Option<DateTime<Utc>> = row.get("last_used_at");
        if last_used.is_none_or(|t| now - t > Duration::seconds(TOUCH_EVERY)) {
            sqlx::query(
                "UPDATE accounts.service_tokens SET last_used_at = $1 WHERE token_hash = $2",
            )
            .bind(now)
            .bind(hash.as_str())
            .execute(&self.pool)
            .await?;
        }
        Ok(row.get("service"))
    }
}
