//! The school's staff accounts and sessions, in the agent's SQLite file beside the log.
//!
//! Why here and not in the event log: accounts are how this PC knows who is typing, not facts
//! of the school for the district. No password hash, token or account row is ever published;
//! what the district sees of a person is the `actor` (role and full name) of the events they
//! record, which the service builds from the signed-in account.
//!
//! The head creates the others' accounts; nobody signs up. A new or reset account gets a
//! generated one-time password (`credentials::password::generate`) that must be changed at
//! first sign-in. Passwords are kept as Argon2id hashes, sessions only as the SHA-256 of their
//! token; five failed sign-ins in a row lock an account (`credentials::LockoutPolicy`) and a
//! session expires by `credentials::SessionPolicy::school_agent()`. Every sign-in, failure,
//! lock and account change is logged with `tracing` (the login, never a secret) and kept in
//! `staff_audit`.

use chrono::{DateTime, Utc};
use credentials::token::TokenKind;
use credentials::{
    LockoutPolicy, LoginError, LoginName, PasswordError, PasswordHash, PasswordRule, SessionPolicy,
    Token, TokenHash,
};
use domain::Role;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Row, SqlitePool};

/// Why an account operation was refused or failed. The service maps each to a gRPC status.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// Wrong login or wrong password (one answer for both), or no/unknown/expired session.
    #[error("the login and password do not match an enabled account, or the session is not valid")]
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
    #[error("role {0} is not a school staff role")]
    NotStaffRole(Role),
    #[error("login {0} is not a staff account of this school")]
    NotFound(String),
    #[error("login {0} already exists")]
    Exists(String),
    #[error("a head cannot disable their own account")]
    OwnAccount,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("the staff accounts failed: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("a stored staff account is unreadable: {0}")]
    Corrupt(String),
}

/// A staff account as the service shows it (never the hash): the domain's shape.
pub use domain::staff::StaffAccount as Account;

/// A session handed out by [`Staff::sign_in`]: the token, shown once, and when it ends.
#[derive(Debug)]
pub struct NewSession {
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
    pub account: Account,
}

/// The roles a staff account may have: the plan's, not the district office's.
pub fn is_staff_role(role: Role) -> bool {
    role != Role::DistrictOffice
}

/// The staff accounts of the agent's database.
#[derive(Debug, Clone)]
pub struct Staff {
    pool: SqlitePool,
    lockout: LockoutPolicy,
    sessions: SessionPolicy,
}

const ACCOUNT_COLUMNS: &str = "login, full_name, role, must_change_password, enabled, \
     locked_until, last_sign_in, created_by, created_at";

impl Staff {
    pub fn new(pool: SqlitePool) -> Self {
        Self {
            pool,
            lockout: LockoutPolicy::default(),
            sessions: SessionPolicy::school_agent(),
        }
    }

    /// Creates an account with a generated one-time password, returned once.
    pub async fn create(
        &self,
        login: &str,
        full_name: &str,
        role: Role,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> Result<(Account, SecretString), StaffError> {
        let login = LoginName::parse(login)?;
        let full_name = full_name.trim();
        if full_name.is_empty() {
            return Err(StaffError::FullNameRequired);
        }
        if !is_staff_role(role) {
            return Err(StaffError::NotStaffRole(role));
        }
        let password = credentials::password::generate();
        let hash = hash(password.clone()).await?;
        let inserted = sqlx::query(
            "INSERT INTO staff_accounts (login, full_name, role, password_hash, \
             must_change_password, enabled, created_by, created_at) \
             VALUES (?, ?, ?, ?, 1, 1, ?, ?) ON CONFLICT (login) DO NOTHING",
        )
        .bind(login.as_str())
        .bind(full_name)
        .bind(role.code())
        .bind(hash.as_stored())
        .bind(created_by)
        .bind(now.to_rfc3339())
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StaffError::Exists(login.as_str().to_owned()));
        }
        self.audit(now, created_by, "account_created", login.as_str())
            .await?;
        tracing::info!(
            login = login.as_str(),
            role = role.code(),
            created_by,
            "staff account created"
        );
        Ok((self.account(login.as_str()).await?, password))
    }

    /// On the school PC: creates the head's account, or — the break-glass — gives an existing
    /// login the head's role, a new one-time password, enables and unlocks it and ends its
    /// sessions.
    pub async fn create_or_reset_head(
        &self,
        login: &str,
        full_name: &str,
        now: DateTime<Utc>,
    ) -> Result<(Account, SecretString), StaffError> {
        match self
            .create(login, full_name, Role::Principal, "server", now)
            .await
        {
            Err(StaffError::Exists(existing)) => {
                let password = credentials::password::generate();
                let hash = hash(password.clone()).await?;
                sqlx::query(
                    "UPDATE staff_accounts SET full_name = ?, role = ?, password_hash = ?, \
                     must_change_password = 1, enabled = 1, failed_sign_ins = 0, \
                     locked_until = NULL WHERE login = ?",
                )
                .bind(full_name.trim())
                .bind(Role::Principal.code())
                .bind(hash.as_stored())
                .bind(&existing)
                .execute(&self.pool)
                .await?;
                self.end_sessions(&existing).await?;
                self.audit(now, "server", "password_reset", &existing)
                    .await?;
                tracing::warn!(login = %existing, "head account reset on the server");
                Ok((self.account(&existing).await?, password))
            }
            other => other,
        }
    }

    /// Signs in: a session for the login and password, or one refusal for a wrong login or
    /// password; the lock-out policy counts failures and locks.
    pub async fn sign_in(
        &self,
        login: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<NewSession, StaffError> {
        let Ok(login) = LoginName::parse(login) else {
            credentials::password::verify_nothing(password);
            return Err(StaffError::Unauthenticated);
        };
        let row = sqlx::query(
            "SELECT password_hash, enabled, failed_sign_ins, locked_until \
             FROM staff_accounts WHERE login = ?",
        )
        .bind(login.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            let typed = password.to_owned();
            let _ =
                tokio::task::spawn_blocking(move || credentials::password::verify_nothing(&typed))
                    .await;
            self.audit(now, "", "sign_in_failed", login.as_str())
                .await?;
            tracing::info!(login = login.as_str(), "sign-in failed: no such account");
            return Err(StaffError::Unauthenticated);
        };
        let locked_until = parse_instant(row.get::<Option<String>, _>("locked_until"))?;
        if self.lockout.is_locked(locked_until, now) {
            let until = locked_until.unwrap_or(now);
            tracing::info!(login = login.as_str(), %until, "sign-in refused: account locked");
            return Err(StaffError::Locked {
                login: login.as_str().to_owned(),
                until,
            });
        }
        let stored = PasswordHash::from_stored(row.get::<String, _>("password_hash"));
        let typed = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || stored.verify(&typed))
            .await
            .map_err(|e| StaffError::Corrupt(e.to_string()))??;
        let enabled: bool = row.get("enabled");
        if !matches || !enabled {
            let failures = u32::try_from(row.get::<i64, _>("failed_sign_ins")).unwrap_or(0);
            let after = self.lockout.after_failure(failures, now);
            sqlx::query(
                "UPDATE staff_accounts SET failed_sign_ins = ?, locked_until = ? WHERE login = ?",
            )
            .bind(i64::from(after.failures))
            .bind(after.locked_until.map(|t| t.to_rfc3339()))
            .bind(login.as_str())
            .execute(&self.pool)
            .await?;
            if let Some(until) = after.locked_until {
                self.audit(now, "", "sign_in_locked", login.as_str())
                    .await?;
                tracing::warn!(login = login.as_str(), %until, "account locked after failed sign-ins");
            } else {
                self.audit(now, "", "sign_in_failed", login.as_str())
                    .await?;
                tracing::info!(
                    login = login.as_str(),
                    failures = after.failures,
                    "sign-in failed"
                );
            }
            return Err(StaffError::Unauthenticated);
        }
        sqlx::query(
            "UPDATE staff_accounts SET failed_sign_ins = 0, locked_until = NULL, \
             last_sign_in = ? WHERE login = ?",
        )
        .bind(now.to_rfc3339())
        .bind(login.as_str())
        .execute(&self.pool)
        .await?;
        let token = Token::generate(TokenKind::Session);
        sqlx::query(
            "INSERT INTO staff_sessions (token_hash, login, created_at, last_seen) VALUES (?, ?, ?, ?)",
        )
        .bind(token.hash().as_str())
        .bind(login.as_str())
        .bind(now.to_rfc3339())
        .bind(now.to_rfc3339())
        .execute(&self.pool)
        .await?;
        self.audit(now, login.as_str(), "sign_in", login.as_str())
            .await?;
        tracing::info!(login = login.as_str(), "signed in");
        Ok(NewSession {
            token: token.secret,
            expires_at: self.sessions.expires_at(now, now),
            account: self.account(login.as_str()).await?,
        })
    }

    /// The account of a valid session token, extending its idle expiry; `Unauthenticated` for
    /// an unknown or expired token or a disabled account.
    pub async fn authenticate(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Account, StaffError> {
        if TokenKind::of(token) != Some(TokenKind::Session) {
            return Err(StaffError::Unauthenticated);
        }
        let hash = TokenHash::of(token);
        let row = sqlx::query(
            "SELECT login, created_at, last_seen FROM staff_sessions WHERE token_hash = ?",
        )
        .bind(hash.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StaffError::Unauthenticated)?;
        let created = parse_instant(Some(row.get("created_at")))?.unwrap_or(now);
        let last_seen = parse_instant(Some(row.get("last_seen")))?.unwrap_or(now);
        if !self.sessions.is_valid(created, last_seen, now) {
            sqlx::query("DELETE FROM staff_sessions WHERE token_hash = ?")
                .bind(hash.as_str())
                .execute(&self.pool)
                .await?;
            return Err(StaffError::Unauthenticated);
        }
        let login: String = row.get("login");
        let account = self.account(&login).await?;
        if !account.enabled {
            return Err(StaffError::Unauthenticated);
        }
        sqlx::query("UPDATE staff_sessions SET last_seen = ? WHERE token_hash = ?")
            .bind(now.to_rfc3339())
            .bind(hash.as_str())
            .execute(&self.pool)
            .await?;
        Ok(account)
    }

    /// Ends the session of `token` (nothing when it is unknown).
    pub async fn sign_out(&self, token: &str, now: DateTime<Utc>) -> Result<(), StaffError> {
        let hash = TokenHash::of(token);
        let login: Option<String> =
            sqlx::query_scalar("DELETE FROM staff_sessions WHERE token_hash = ? RETURNING login")
                .bind(hash.as_str())
                .fetch_optional(&self.pool)
                .await?;
        if let Some(login) = login {
            self.audit(now, &login, "sign_out", &login).await?;
            tracing::info!(login = %login, "signed out");
        }
        Ok(())
    }

    /// Changes the caller's own password after checking the current one; ends the caller's
    /// other sessions (all but `keep_token`).
    pub async fn change_password(
        &self,
        login: &str,
        current: &str,
        new: &SecretString,
        keep_token: &str,
        now: DateTime<Utc>,
    ) -> Result<Account, StaffError> {
        credentials::password::check_rule(login, new.expose_secret())?;
        if current == new.expose_secret() {
            return Err(StaffError::PasswordRule(PasswordRule::Unchanged));
        }
        let stored: String =
            sqlx::query_scalar("SELECT password_hash FROM staff_accounts WHERE login = ?")
                .bind(login)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StaffError::NotFound(login.to_owned()))?;
        let stored = PasswordHash::from_stored(stored);
        let typed = current.to_owned();
        let matches = tokio::task::spawn_blocking(move || stored.verify(&typed))
            .await
            .map_err(|e| StaffError::Corrupt(e.to_string()))??;
        if !matches {
            tracing::info!(login, "password change refused: wrong current password");
            return Err(StaffError::Unauthenticated);
        }
        let hash = hash(new.clone()).await?;
        sqlx::query(
            "UPDATE staff_accounts SET password_hash = ?, must_change_password = 0 WHERE login = ?",
        )
        .bind(hash.as_stored())
        .bind(login)
        .execute(&self.pool)
        .await?;
        sqlx::query("DELETE FROM staff_sessions WHERE login = ? AND token_hash <> ?")
            .bind(login)
            .bind(TokenHash::of(keep_token).as_str())
            .execute(&self.pool)
            .await?;
        self.audit(now, login, "password_changed", login).await?;
        tracing::info!(login, "password changed");
        self.account(login).await
    }

    /// The head's reset: a new one-time password, unlocked, its sessions ended.
    pub async fn reset_password(
        &self,
        by: &str,
        login: &str,
        now: DateTime<Utc>,
    ) -> Result<(Account, SecretString), StaffError> {
        let password = credentials::password::generate();
        let hash = hash(password.clone()).await?;
        let changed = sqlx::query(
            "UPDATE staff_accounts SET password_hash = ?, must_change_password = 1, \
             failed_sign_ins = 0, locked_until = NULL WHERE login = ?",
        )
        .bind(hash.as_stored())
        .bind(login)
        .execute(&self.pool)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(StaffError::NotFound(login.to_owned()));
        }
        self.end_sessions(login).await?;
        self.audit(now, by, "password_reset", login).await?;
        tracing::info!(login, by, "staff password reset");
        Ok((self.account(login).await?, password))
    }

    /// Enables or disables (ending its sessions) an account; a head cannot disable their own.
    pub async fn set_enabled(
        &self,
        by: &str,
        login: &str,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Account, StaffError> {
        if by == login && !enabled {
            return Err(StaffError::OwnAccount);
        }
        let changed = sqlx::query("UPDATE staff_accounts SET enabled = ? WHERE login = ?")
            .bind(enabled)
            .bind(login)
            .execute(&self.pool)
            .await?;
        if changed.rows_affected() == 0 {
            return Err(StaffError::NotFound(login.to_owned()));
        }
        if !enabled {
            self.end_sessions(login).await?;
        }
        let action = if enabled {
            "account_enabled"
        } else {
            "account_disabled"
        };
        self.audit(now, by, action, login).await?;
        tracing::info!(login, by, enabled, "staff account enabled or disabled");
        self.account(login).await
    }

    /// Every account, by login.
    pub async fn list(&self) -> Result<Vec<Account>, StaffError> {
        let rows = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM staff_accounts ORDER BY login"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(account_of).collect()
    }

    /// One account.
    pub async fn account(&self, login: &str) -> Result<Account, StaffError> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM staff_accounts WHERE login = ?"
        ))
        .bind(login)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StaffError::NotFound(login.to_owned()))?;
        account_of(&row)
    }

    async fn end_sessions(&self, login: &str) -> Result<(), StaffError> {
        sqlx::query("DELETE FROM staff_sessions WHERE login = ?")
            .bind(login)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn audit(
        &self,
        at: DateTime<Utc>,
        login: &str,
        action: &str,
        target: &str,
    ) -> Result<(), StaffError> {
        sqlx::query("INSERT INTO staff_audit (at, login, action, target) VALUES (?, ?, ?, ?)")
            .bind(at.to_rfc3339())
            .bind(login)
            .bind(action)
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Argon2id is slow on purpose: off the async threads.
async fn hash(password: SecretString) -> Result<PasswordHash, StaffError> {
    tokio::task::spawn_blocking(move || PasswordHash::new(&password))
        .await
        .map_err(|e| StaffError::Corrupt(e.to_string()))?
        .map_err(StaffError::from)
}

fn parse_instant(text: Option<String>) -> Result<Option<DateTime<Utc>>, StaffError> {
    text.map(|t| {
        DateTime::parse_from_rfc3339(&t)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| StaffError::Corrupt(format!("instant {t:?}: {e}")))
    })
    .transpose()
}

fn account_of(row: &sqlx::sqlite::SqliteRow) -> Result<Account, StaffError> {
    let role: String = row.get("role");
    let role = Role::parse("role", &role).map_err(|e| StaffError::Corrupt(e.to_string()))?;
    Ok(Account {
        login: row.get("login"),
        full_name: row.get("full_name"),
        role,
        must_change_password: row.get("must_change_password"),
        enabled: row.get("enabled"),
        locked_until: parse_instant(row.get("locked_until"))?,
        last_sign_in: parse_instant(row.get("last_sign_in"))?,
        created_by: row.get("created_by"),
        created_at: parse_instant(Some(row.get("created_at")))?
            .ok_or_else(|| StaffError::Corrupt("created_at".into()))?,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::store::Store;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2018, 3, 1, 1, 0, 0).unwrap() + Duration::minutes(minute)
    }

    async fn staff() -> (tempfile::TempDir, Staff) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(&dir.path().join("log.db")).await.unwrap();
        (dir, Staff::new(store.pool().clone()))
    }

    #[tokio::test]
    async fn a_head_signs_in_with_the_one_time_password_and_must_change_it() {
        let (_dir, staff) = staff().await;
        let (head, otp) = staff
            .create_or_reset_head("hieu.truong", "Nguyễn Văn Hòa", at(0))
            .await
            .unwrap();
        assert_eq!(head.role, Role::Principal);
        assert!(head.must_change_password);
        let session = staff
            .sign_in("hieu.truong", otp.expose_secret(), at(1))
            .await
            .unwrap();
        let me = staff
            .authenticate(session.token.expose_secret(), at(2))
            .await
            .unwrap();
        assert_eq!(me.login, "hieu.truong");
        let new = SecretString::from("sen hồng đồng tháp".to_owned());
        let changed = staff
            .change_password(
                "hieu.truong",
                otp.expose_secret(),
                &new,
                session.token.expose_secret(),
                at(3),
            )
            .await
            .unwrap();
        assert!(!changed.must_change_password);
        staff
            .sign_out(session.token.expose_secret(), at(4))
            .await
            .unwrap();
        assert!(matches!(
            staff
                .authenticate(session.token.expose_secret(), at(5))
                .await,
            Err(StaffError::Unauthenticated)
        ));
        let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM staff_sessions")
            .fetch_all(&staff.pool)
            .await
            .unwrap();
        assert!(stored.is_empty());
    }

    #[tokio::test]
    async fn five_wrong_passwords_lock_the_account() {
        let (_dir, staff) = staff().await;
        let (_, otp) = staff
            .create_or_reset_head("hieu.truong", "Nguyễn Văn Hòa", at(0))
            .await
            .unwrap();
        for _ in 0..5 {
            assert!(matches!(
                staff
                    .sign_in("hieu.truong", "not-the-password", at(1))
                    .await,
                Err(StaffError::Unauthenticated)
            ));
        }
        // even the right password is refused while locked
        assert!(matches!(
            staff
                .sign_in("hieu.truong", otp.expose_secret(), at(2))
                .await,
            Err(StaffError::Locked { .. })
        ));
        assert!(
            staff
                .sign_in("hieu.truong", otp.expose_secret(), at(17))
                .await
                .is_ok()
        );
    }
}
