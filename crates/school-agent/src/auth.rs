//! Who is calling the agent's gRPC: the staff session of a request's
//! `authorization: Bearer ttp_…` metadata ([`Sessions::caller`]), and the one mapping of a
//! [`StaffError`] to a `tonic::Status` (a `vi-VN` message for staff, through
//! `wire::status::refusal`).
//!
//! Every `SchoolAgent` method and every `SchoolStaff` method but `SignIn` needs a valid
//! session (`UNAUTHENTICATED` otherwise). A session whose password must be changed first gets
//! `FAILED_PRECONDITION` (field `password`) for everything but `WhoAmI`, `ChangePassword` and
//! `SignOut`. Health and reflection are other services and stay open. A token is never
//! logged.

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use tonic::metadata::MetadataMap;
use tonic::{Code, Status};
use tracing::{error, info};

use crate::staff::{Account, Staff, StaffError};

/// A signed-in caller: the account and the token it presented (to sign out or keep it).
#[derive(Debug)]
pub struct Caller {
    pub account: Account,
    pub token: SecretString,
}

/// What a call allows of a session whose password must be changed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MustChange {
    /// Refused (`FAILED_PRECONDITION`, field `password`): every call but the three below.
    Refused,
    /// Allowed: `WhoAmI`, `ChangePassword`, `SignOut`.
    Allowed,
}

/// The staff sessions, as the services check them.
#[derive(Debug, Clone)]
pub struct Sessions {
    staff: Staff,
}

impl Sessions {
    pub fn new(staff: Staff) -> Self {
        Self { staff }
    }

    pub fn staff(&self) -> &Staff {
        &self.staff
    }

    /// The signed-in caller of a request, or the refusal to answer with.
    pub async fn caller(
        &self,
        metadata: &MetadataMap,
        must_change: MustChange,
    ) -> Result<Caller, Status> {
        let Some(token) = bearer(metadata) else {
            return Err(wire::status::refusal(
                Code::Unauthenticated,
                "",
                "a staff session is required: send `authorization: Bearer ttp_…` from \
                 SchoolStaff.SignIn"
                    .to_owned(),
                "Cần đăng nhập bằng tài khoản của trường: chạy `truyenthong dang-nhap`.".to_owned(),
            ));
        };
        let account = match self
            .staff
            .authenticate(token.expose_secret(), Utc::now())
            .await
        {
            Ok(account) => account,
            Err(StaffError::Unauthenticated) => {
                info!("call refused: unknown or expired session");
                return Err(invalid_session());
            }
            Err(e) => return Err(staff_status(&e)),
        };
        if account.must_change_password && must_change == MustChange::Refused {
            info!(
                login = %account.login,
                "call refused: the password must be changed first"
            );
            return Err(wire::status::refusal(
                Code::FailedPrecondition,
                "password",
                "the password must be changed first (SchoolStaff.ChangePassword)".to_owned(),
                "Phải đổi mật khẩu trước khi làm việc: chạy `truyenthong doi-mat-khau`.".to_owned(),
            ));
        }
        Ok(Caller { account, token })
    }
}

/// The token of `authorization: Bearer …`, if any.
fn bearer(metadata: &MetadataMap) -> Option<SecretString> {
    service_runtime::credential::bearer_token(metadata).map(SecretString::from)
}

fn invalid_session() -> Status {
    wire::status::refusal(
        Code::Unauthenticated,
        "",
        "the session is unknown or has expired; sign in again".to_owned(),
        "Phiên đăng nhập không hợp lệ hoặc đã hết hạn: chạy `truyenthong dang-nhap` để đăng \
         nhập lại."
            .to_owned(),
    )
}

/// The status of a refused or failed account operation. Storage errors are logged and never
/// returned to the caller.
pub fn staff_status(e: &StaffError) -> Status {
    let refusal = |code: Code, field: Option<&str>, english: &str, vietnamese: &str| {
        wire::status::refusal(
            code,
            field.unwrap_or(""),
            english.to_owned(),
            vietnamese.to_owned(),
        )
    };
    match e {
        StaffError::Unauthenticated => refusal(
            Code::Unauthenticated,
            None,
            &e.to_string(),
            "Tên đăng nhập hoặc mật khẩu không đúng.",
        ),
        StaffError::Locked { until, .. } => refusal(
            Code::FailedPrecondition,
            Some("login"),
            &e.to_string(),
            &format!(
                "Tài khoản tạm khóa vì đăng nhập sai nhiều lần liên tiếp; thử lại sau {}.",
                domain::vi::instant(*until)
            ),
        ),
        StaffError::Login(login) => refusal(
            Code::InvalidArgument,
            Some("login"),
            &e.to_string(),
            &login.vietnamese(),
        ),
        StaffError::PasswordRule(rule) => refusal(
            Code::InvalidArgument,
            Some("new_password"),
            &e.to_string(),
            &rule.vietnamese(),
        ),
        StaffError::FullNameRequired => refusal(
            Code::InvalidArgument,
            Some("full_name"),
            &e.to_string(),
            "Cần nhập họ và tên.",
        ),
        StaffError::NotStaffRole(role) => refusal(
            Code::InvalidArgument,
            Some("role"),
            &e.to_string(),
            &format!(
                "{} không phải vai trò của cán bộ, giáo viên trong trường.",
                role.label_vi()
            ),
        ),
        StaffError::NotFound(login) => refusal(
            Code::NotFound,
            Some("login"),
            &e.to_string(),
            &format!("Trường không có tài khoản «{login}»."),
        ),
        StaffError::Exists(login) => refusal(
            Code::AlreadyExists,
            Some("login"),
            &e.to_string(),
            &format!("Tài khoản «{login}» đã có."),
        ),
        StaffError::OwnAccount => refusal(
            Code::FailedPrecondition,
            Some("login"),
            &e.to_string(),
            "Hiệu trưởng không thể tự khóa tài khoản của mình.",
        ),
        StaffError::Password(_) | StaffError::Sql(_) | StaffError::Corrupt(_) => {
            error!(error = %e, "the staff accounts failed");
            Status::unavailable("the staff accounts cannot be read right now; try again")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::bearer::AUTHORIZATION;

    fn with(value: &str) -> MetadataMap {
        let mut metadata = MetadataMap::new();
        metadata.insert(AUTHORIZATION, value.parse().unwrap());
        metadata
    }

    #[test]
    fn the_bearer_token_is_read_from_the_authorization_metadata() {
        let token = bearer(&with("Bearer ttp_abc")).unwrap();
        assert_eq!(token.expose_secret(), "ttp_abc");
        assert_eq!(
            bearer(&with("bearer  ttp_abc ")).unwrap().expose_secret(),
            "ttp_abc"
        );
        assert!(bearer(&with("Basic dXNlcg==")).is_none());
        assert!(bearer(&with("Bearer ")).is_none());
        assert!(bearer(&MetadataMap::new()).is_none());
    }
}
