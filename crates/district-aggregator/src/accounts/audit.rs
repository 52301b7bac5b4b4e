//! The audit trail: who did what, when and from where (`accounts.audit_log`).
//!
//! Written beside the change it records (a sign-in, an account change, an enrolment, a token
//! issued, a refusal, a report download a service did for a person), never with a secret in
//! it. Read newest first by an administrator (`ListAudit`, the dashboard's audit page).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{AccountError, Accounts};

/// What happened. The codes are the migration's CHECK list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    SignIn,
    SignInFailed,
    SignInLocked,
    SignOut,
    PasswordChanged,
    AccountCreated,
    PasswordReset,
    AccountEnabled,
    AccountDisabled,
    SchoolEnrolled,
    DistrictPlanAdopted,
    ServiceTokenIssued,
    ServiceTokenRevoked,
    ReportDownloaded,
    AccessDenied,
}

impl AuditAction {
    pub const ALL: [AuditAction; 15] = [
        AuditAction::SignIn,
        AuditAction::SignInFailed,
        AuditAction::SignInLocked,
        AuditAction::SignOut,
        AuditAction::PasswordChanged,
        AuditAction::AccountCreated,
        AuditAction::PasswordReset,
        AuditAction::AccountEnabled,
        AuditAction::AccountDisabled,
        AuditAction::SchoolEnrolled,
        AuditAction::DistrictPlanAdopted,
        AuditAction::ServiceTokenIssued,
        AuditAction::ServiceTokenRevoked,
        AuditAction::ReportDownloaded,
        AuditAction::AccessDenied,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AuditAction::SignIn => "sign_in",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::SignInLocked => "sign_in_locked",
            AuditAction::SignOut => "sign_out",
            AuditAction::PasswordChanged => "password_changed",
            AuditAction::AccountCreated => "account_created",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::AccountEnabled => "account_enabled",
            AuditAction::AccountDisabled => "account_disabled",
            AuditAction::SchoolEnrolled => "school_enrolled",
            AuditAction::DistrictPlanAdopted => "district_plan_adopted",
            AuditAction::ServiceTokenIssued => "service_token_issued",
            AuditAction::ServiceTokenRevoked => "service_token_revoked",
            AuditAction::ReportDownloaded => "report_downloaded",
            AuditAction::AccessDenied => "access_denied",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// Who acted and from where, as the audit trail records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The person's login; empty when nobody is signed in.
    pub login: String,
    /// The service it came through or from; empty for a direct call, `server` for the
    /// server's own commands.
    pub service: String,
    /// The client's address.
    pub from_address: String,
}

impl Origin {
    /// The server's own commands (`district-aggregator account …`, `token …`).
    pub fn server() -> Self {
        Self {
            service: "server".to_owned(),
            ..Self::default()
        }
    }
}

/// One entry of the trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub origin: Origin,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// The most entries one page shows.
pub const MAX_PAGE: u32 = 500;
/// A page's size when none is asked.
pub const DEFAULT_PAGE: u32 = 100;

impl Accounts {
    /// Records one entry.
    pub async fn audit(
        &self,
        origin: &Origin,
        action: AuditAction,
        target: &str,
        detail: &str,
    ) -> Result<(), AccountError> {
        sqlx::query(
            "INSERT INTO accounts.audit_log (login, service, from_address, action, target, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&origin.login)
        .bind(&origin.service)
        .bind(&origin.from_address)
        .bind(action.code())
        .bind(target)
        .bind(detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Entries newest first: at most `limit` (0 = [`DEFAULT_PAGE`], capped at [`MAX_PAGE`]),
    /// before `before_id` when it is positive.
    pub async fn audit_page(
        &self,
        limit: u32,
        before_id: i64,
    ) -> Result<Vec<AuditEntry>, AccountError> {
        let limit = match limit {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        };
        let before = if before_id > 0 { before_id } else { i64::MAX };
        let rows = sqlx::query(
            "SELECT id, at, login, service, from_address, action, target, detail \
             FROM accounts.audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| AuditEntry {
                id: row.get("id"),
                at: row.get("at"),
                origin: Origin {
                    login: row.get("login"),
                    service: row.get("service"),
                    from_address: row.get("from_address"),
                },
                action: row.get("action"),
                target: row.get("target"),
                detail: row.get("detail"),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_codes_round_trip() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::from_code(action.code()), Some(action));
        }
        assert_eq!(AuditAction::from_code("deleted_everything"), None);
    }
}
