//! People's accounts: creating them with one-time passwords, signing in with lock-out,
//! changing and resetting passwords, enabling and disabling.

use chrono::{DateTime, Utc};
use credentials::token::TokenKind;
use credentials::{LoginName, PasswordHash, PasswordRule, Token, TokenHash};
use domain::Slug;
use domain::district::access::{AccountRole, Person};
use secrecy::{ExposeSecret, SecretString};
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::{
    AccountError, Accounts, AuditAction, Origin, SchoolRule, checked_school, hash, verify,
    verify_nothing,
};

/// An account as the service shows it (never the hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub login: String,
    pub full_name: String,
    pub role: AccountRole,
    /// The school of a school head.
    pub school: Option<Slug>,
    pub must_change_password: bool,
    pub enabled: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_sign_in: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

impl Account {
    /// The person the access rules know.
    pub fn person(&self) -> Person {
        Person {
            login: self.login.clone(),
            full_name: self.full_name.clone(),
            role: self.role,
            school: self.school.clone(),
        }
    }
}

/// What an administrator asks for a new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub login: String,
    pub full_name: String,
    pub role: AccountRole,
    /// A school head's school code; empty for the other roles.
    pub school: String,
}

/// A session handed out by [`Accounts::sign_in`]: the token, shown once, and when it ends.
#[derive(Debug)]
pub struct NewSession {
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
    pub account: Account,
}

const ACCOUNT_COLUMNS: &str = "login, full_name, role, school, must_change_password, enabled, \
     locked_until, last_sign_in, created_at, created_by";

fn account_from_row(row: &PgRow) -> Result<Account, AccountError> {
    let role: String = row.get("role");
    let role = AccountRole::from_code(&role)
        .ok_or_else(|| AccountError::Corrupt(format!("unknown role {role:?}")))?;
    let school = row
        .get::<Option<String>, _>("school")
        .map(|s| Slug::parse("school", &s))
        .transpose()
        .map_err(|e| AccountError::Corrupt(e.to_string()))?;
    Ok(Account {
        login: row.get("login"),
        full_name: row.get("full_name"),
        role,
        school,
        must_change_password: row.get("must_change_password"),
        enabled: row.get("enabled"),
        locked_until: row.get("locked_until"),
        last_sign_in: row.get("last_sign_in"),
        created_at: row.get("created_at"),
        created_by: row.get("created_by"),
    })
}

impl Accounts {
    /// One account by login.
    pub async fn account(&self, login: &str) -> Result<Account, AccountError> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts.accounts WHERE login = $1"
        ))
        .bind(login)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| AccountError::NotFound(login.to_owned()))?;
        account_from_row(&row)
    }

    /// Every account, by login.
    pub async fn list(&self) -> Result<Vec<Account>, AccountError> {
        let rows = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts.accounts ORDER BY login COLLATE \"C\""
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(account_from_row).collect()
    }

    /// Whether any administrator can sign in (the server command says so when none can).
    pub async fn has_enabled_administrator(&self) -> Result<bool, AccountError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM accounts.accounts WHERE role = 'quan-tri' AND enabled)",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Creates an account with a generated one-time password, returned once. A school head's
    /// school must be one `is_enrolled` knows.
    pub async fn create(
        &self,
        new: &NewAccount,
        is_enrolled: impl Fn(&Slug) -> bool,
        by: &Origin,
    ) -> Result<(Account, SecretString), AccountError> {
        let login = LoginName::parse(&new.login)?;
        let full_name = new.full_name.trim();
        if full_name.is_empty() {
            return Err(AccountError::FullNameRequired);
        }
        let school = checked_school(new.role, &new.school)?;
        if let Some(school) = &school
            && !is_enrolled(school)
        {
            return Err(AccountError::School(SchoolRule::NotEnrolled(
                school.as_str().to_owned(),
            )));
        }
        let password = credentials::password::generate();
        let hash = hash(password.clone()).await?;
        let created_by = if by.login.is_empty() {
            &by.service
        } else {
            &by.login
        };
        let inserted = sqlx::query(
            "INSERT INTO accounts.accounts (login, full_name, role, school, password_hash, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (login) DO NOTHING",
        )
        .bind(login.as_str())
        .bind(full_name)
        .bind(new.role.code())
        .bind(school.as_ref().map(Slug::as_str))
        .bind(hash.as_stored())
        .bind(created_by)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(AccountError::Exists(login.as_str().to_owned()));
        }
        self.audit(
            by,
            AuditAction::AccountCreated,
            login.as_str(),
            new.role.code(),
        )
        .await?;
        tracing::info!(
            login = login.as_str(),
            role = new.role.code(),
            created_by,
            "district account created"
        );
        Ok((self.account(login.as_str()).await?, password))
    }

    /// On the server: creates an administrator, or — the break-glass — makes an existing login
    /// an enabled, unlocked administrator with a new one-time password and ends its sessions.
    pub async fn create_or_reset_admin(
        &self,
        login: &str,
        full_name: &str,
    ) -> Result<(Account, SecretString), AccountError> {
        let new = NewAccount {
            login: login.to_owned(),
            full_name: full_name.to_owned(),
            role: AccountRole::Administrator,
            school: String::new(),
        };
        match self.create(&new, |_| false, &Origin::server()).await {
            Err(AccountError::Exists(existing)) => {
                let full_name = full_name.trim();
                if full_name.is_empty() {
                    return Err(AccountError::FullNameRequired);
                }
                let password = credentials::password::generate();
                let hash = hash(password.clone()).await?;
                sqlx::query(
                    "UPDATE accounts.accounts SET full_name = $1, role = 'quan-tri', school = NULL, \
                     password_hash = $2, must_change_password = true, enabled = true, \
                     failed_sign_ins = 0, locked_until = NULL WHERE login = $3",
                )
                .bind(full_name)
                .bind(hash.as_stored())
                .bind(&existing)
                .execute(&self.pool)
                .await?;
                self.end_sessions(&existing).await?;
                self.audit(
                    &Origin::server(),
                    AuditAction::PasswordReset,
                    &existing,
                    "quan-tri",
                )
                .await?;
                tracing::warn!(login = %existing, "administrator reset on the server");
                Ok((self.account(&existing).await?, password))
            }
            other => other,
        }
    }

    /// Signs in: a session for the login and password, or one refusal for a wrong login or
    /// password (a disabled account answers the same); the lock-out policy counts failures.
    pub async fn sign_in(
        &self,
        login: &str,
        password: &str,
        from: &Origin,
        now: DateTime<Utc>,
    ) -> Result<NewSession, AccountError> {
        let Ok(login) = LoginName::parse(login) else {
            verify_nothing(password).await;
            return Err(AccountError::Unauthenticated);
        };
        let row = sqlx::query(
            "SELECT password_hash, enabled, failed_sign_ins, locked_until \
             FROM accounts.accounts WHERE login = $1",
        )
        .bind(login.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            verify_nothing(password).await;
            self.audit(from, AuditAction::SignInFailed, login.as_str(), "")
                .await?;
            tracing::info!(login = login.as_str(), "sign-in failed: no such account");
            return Err(AccountError::Unauthenticated);
        };
        let locked_until: Option<DateTime<Utc>> = row.get("locked_until");
        if self.lockout.is_locked(locked_until, now) {
            let until = locked_until.unwrap_or(now);
            tracing::info!(login = login.as_str(), %until, "sign-in refused: account locked");
            return Err(AccountError::Locked {
                login: login.as_str().to_owned(),
                until,
            });
        }
        let stored = PasswordHash::from_stored(row.get("password_hash"));
        let matches = verify(stored, password).await?;
        let enabled: bool = row.get("enabled");
        if !matches || !enabled {
            let failures = u32::try_from(row.get::<i32, _>("failed_sign_ins")).unwrap_or(0);
            let after = self.lockout.after_failure(failures, now);
            sqlx::query(
                "UPDATE accounts.accounts SET failed_sign_ins = $1, locked_until = $2 \
                 WHERE login = $3",
            )
            .bind(i32::try_from(after.failures).unwrap_or(i32::MAX))
            .bind(after.locked_until)
            .bind(login.as_str())
            .execute(&self.pool)
            .await?;
            let detail = if enabled {
                ""
            } else {
                "tài khoản đã bị khóa bởi quản trị"
            };
            if let Some(until) = after.locked_until {
                self.audit(from, AuditAction::SignInLocked, login.as_str(), detail)
                    .await?;
                tracing::warn!(login = login.as_str(), %until, "account locked after failed sign-ins");
                return Err(AccountError::Locked {
                    login: login.as_str().to_owned(),
                    until,
                });
            }
            self.audit(from, AuditAction::SignInFailed, login.as_str(), detail)
                .await?;
            tracing::info!(
                login = login.as_str(),
                failures = after.failures,
                "sign-in failed"
            );
            return Err(AccountError::Unauthenticated);
        }
        sqlx::query(
            "UPDATE accounts.accounts SET failed_sign_ins = 0, locked_until = NULL, \
             last_sign_in = $1 WHERE login = $2",
        )
        .bind(now)
        .bind(login.as_str())
        .execute(&self.pool)
        .await?;
        let token = Token::generate(TokenKind::Session);
        sqlx::query(
            "INSERT INTO accounts.sessions (token_hash, login, created_at, last_seen) \
             VALUES ($1, $2, $3, $3)",
        )
        .bind(token.hash().as_str())
        .bind(login.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        let signed_in = Origin {
            login: login.as_str().to_owned(),
            ..from.clone()
        };
        self.audit(&signed_in, AuditAction::SignIn, login.as_str(), "")
            .await?;
        tracing::info!(login = login.as_str(), from = %from.from_address, "signed in");
        Ok(NewSession {
            token: token.secret,
            expires_at: self.sessions.expires_at(now, now),
            account: self.account(login.as_str()).await?,
        })
    }

    /// Ends the session whose token hashes to `session` (nothing when it already ended).
    pub async fn sign_out(&self, session: &TokenHash, by: &Origin) -> Result<(), AccountError> {
        let ended = sqlx::query(
            "UPDATE accounts.sessions SET ended_at = now() \
             WHERE token_hash = $1 AND ended_at IS NULL",
        )
        .bind(session.as_str())
        .execute(&self.pool)
        .await?;
        if ended.rows_affected() > 0 {
            self.audit(by, AuditAction::SignOut, &by.login, "").await?;
            tracing::info!(login = %by.login, "signed out");
        }
        Ok(())
    }

    /// Changes `login`'s own password after checking the current one; ends their other
    /// sessions (all but `keep`).
    pub async fn change_password(
        &self,
        login: &str,
        current: &str,
        new: &SecretString,
        keep: &TokenHash,
        by: &Origin,
    ) -> Result<Account, AccountError> {
        credentials::password::check_rule(login, new.expose_secret())?;
        if current == new.expose_secret() {
            return Err(AccountError::PasswordRule(PasswordRule::Unchanged));
        }
        let stored: String =
            sqlx::query_scalar("SELECT password_hash FROM accounts.accounts WHERE login = $1")
                .bind(login)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| AccountError::NotFound(login.to_owned()))?;
        if !verify(PasswordHash::from_stored(stored), current).await? {
            tracing::info!(login, "password change refused: wrong current password");
            return Err(AccountError::Unauthenticated);
        }
        let hash = hash(new.clone()).await?;
        sqlx::query(
            "UPDATE accounts.accounts SET password_hash = $1, must_change_password = false \
             WHERE login = $2",
        )
        .bind(hash.as_stored())
        .bind(login)
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "UPDATE accounts.sessions SET ended_at = now() \
             WHERE login = $1 AND token_hash <> $2 AND ended_at IS NULL",
        )
        .bind(login)
        .bind(keep.as_str())
        .execute(&self.pool)
        .await?;
        self.audit(by, AuditAction::PasswordChanged, login, "")
            .await?;
        tracing::info!(login, "password changed");
        self.account(login).await
    }

    /// An administrator's reset: a new one-time password, unlocked, its sessions ended.
    pub async fn reset_password(
        &self,
        login: &str,
        by: &Origin,
    ) -> Result<(Account, SecretString), AccountError> {
        let password = credentials::password::generate();
        let hash = hash(password.clone()).await?;
        let changed = sqlx::query(
            "UPDATE accounts.accounts SET password_hash = $1, must_change_password = true, \
             failed_sign_ins = 0, locked_until = NULL WHERE login = $2",
        )
        .bind(hash.as_stored())
        .bind(login)
        .execute(&self.pool)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(AccountError::NotFound(login.to_owned()));
        }
        self.end_sessions(login).await?;
        self.audit(by, AuditAction::PasswordReset, login, "")
            .await?;
        tracing::info!(login, by = %by.login, "password reset");
        Ok((self.account(login).await?, password))
    }

    /// Enables or disables `login` (disabling ends its sessions); an administrator cannot
    /// disable their own account.
    pub async fn set_enabled(
        &self,
        login: &str,
        enabled: bool,
        by: &Origin,
    ) -> Result<Account, AccountError> {
        if !enabled && by.login == login {
            return Err(AccountError::OwnAccount);
        }
        let changed = sqlx::query("UPDATE accounts.accounts SET enabled = $1 WHERE login = $2")
            .bind(enabled)
            .bind(login)
            .execute(&self.pool)
            .await?;
        if changed.rows_affected() == 0 {
            return Err(AccountError::NotFound(login.to_owned()));
        }
        let action = if enabled {
            AuditAction::AccountEnabled
        } else {
            self.end_sessions(login).await?;
            AuditAction::AccountDisabled
        };
        self.audit(by, action, login, "").await?;
        tracing::info!(login, enabled, by = %by.login, "account enabled or disabled");
        self.account(login).await
    }

    /// Ends every open session of `login`.
    async fn end_sessions(&self, login: &str) -> Result<(), AccountError> {
        sqlx::query(
            "UPDATE accounts.sessions SET ended_at = now() WHERE login = $1 AND ended_at IS NULL",
        )
        .bind(login)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
