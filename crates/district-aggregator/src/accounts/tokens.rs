//! Service tokens: how reporting (and any other district service) proves it is itself.
//!
//! A token (`tts_…`) is issued by an administrator or on the server, shown once, stored only
//! as its SHA-256, and revocable at once; its short id names it in lists, logs and the audit
//! trail. A bearer token and not mutual TLS, so that an administrator can issue and revoke
//! one from the dashboard without a certificate authority at hand; the link itself is TLS.

use chrono::{DateTime, Utc};
use credentials::Token;
use credentials::token::TokenKind;
use secrecy::SecretString;
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::{AccountError, Accounts, AuditAction, Origin};

/// A service token as lists show it (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTokenInfo {
    pub id: String,
    pub service: String,
    pub note: String,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token just issued: the secret, shown once, and its info.
#[derive(Debug)]
pub struct IssuedToken {
    pub info: ServiceTokenInfo,
    pub token: SecretString,
}

const TOKEN_COLUMNS: &str = "id, service, note, issued_by, issued_at, revoked_at, last_used_at";

fn info_from_row(row: &PgRow) -> ServiceTokenInfo {
    ServiceTokenInfo {
        id: row.get("id"),
        service: row.get("service"),
        note: row.get("note"),
        issued_by: row.get("issued_by"),
        issued_at: row.get("issued_at"),
        revoked_at: row.get("revoked_at"),
        last_used_at: row.get("last_used_at"),
    }
}

/// Whether `service` is a name a token may carry: the migration's CHECK, checked first so the
/// caller gets the rule, not a constraint violation.
fn valid_service(service: &str) -> bool {
    let mut chars = service.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && service.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Accounts {
    /// Issues a token for `service`.
    pub async fn issue_token(
        &self,
        service: &str,
        note: &str,
        by: &Origin,
    ) -> Result<IssuedToken, AccountError> {
        let service = service.trim();
        if !valid_service(service) {
            return Err(AccountError::BadService(service.to_owned()));
        }
        let token = Token::generate(TokenKind::Service);
        let hash = token.hash();
        // The id is the hash's head: unique enough to name it, and not the secret.
        let id = format!("{service}-{}", &hash.as_str()[..8]);
        let row = sqlx::query(&format!(
            "INSERT INTO accounts.service_tokens (id, service, note, token_hash, issued_by) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(&id)
        .bind(service)
        .bind(note.trim())
        .bind(hash.as_str())
        .bind(&by.login)
        .fetch_one(&self.pool)
        .await?;
        self.audit(by, AuditAction::ServiceTokenIssued, &id, service)
            .await?;
        tracing::info!(id = %id, service, by = %by.login, "service token issued");
        Ok(IssuedToken {
            info: info_from_row(&row),
            token: token.secret,
        })
    }

    /// Revokes a token by id; revoking twice keeps the first revocation's time.
    pub async fn revoke_token(
        &self,
        id: &str,
        by: &Origin,
    ) -> Result<ServiceTokenInfo, AccountError> {
        let row = sqlx::query(&format!(
            "UPDATE accounts.service_tokens SET revoked_at = coalesce(revoked_at, now()) \
             WHERE id = $1 RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(id.trim())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| AccountError::TokenNotFound(id.to_owned()))?;
        self.audit(by, AuditAction::ServiceTokenRevoked, id, "")
            .await?;
        tracing::warn!(id, by = %by.login, "service token revoked");
        Ok(info_from_row(&row))
    }

    /// Every token, newest first.
    pub async fn tokens(&self) -> Result<Vec<ServiceTokenInfo>, AccountError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM accounts.service_tokens ORDER BY issued_at DESC, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(info_from_row).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_follow_the_stored_rule() {
        assert!(valid_service("reporting"));
        assert!(valid_service("bao-cao-2"));
        assert!(!valid_service(""));
        assert!(!valid_service("Reporting"));
        assert!(!valid_service("2fa"));
        assert!(!valid_service("báo-cáo"));
        assert!(!valid_service(&"a".repeat(65)));
    }
}
