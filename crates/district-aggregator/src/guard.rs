//! The gRPC edge of who may call: a request's credential read from its metadata, resolved by
//! [`Accounts::authenticate`], checked against the permission the method needs, and every
//! refusal turned into a status with the right code and a `vi-VN` message.
//!
//! One place, so that the two services (`DistrictAggregator`, `DistrictAccounts`) cannot
//! disagree on what UNAUTHENTICATED or PERMISSION_DENIED means, and so that no database or
//! driver text ever reaches a caller (it is logged instead).

use chrono::{FixedOffset, Utc};
use domain::district::access::Permission;
use tonic::metadata::MetadataMap;
use tonic::{Code, Request, Status};
use tracing::{error, warn};

use crate::accounts::{
    AccountError, Accounts, AuditAction, Caller, Presented, Refusal, SchoolRule,
};

use service_runtime::credential::{CLIENT_ADDRESS, ON_BEHALF_OF, bearer_token};

fn text(metadata: &MetadataMap, key: &str) -> Option<String> {
    metadata
        .get(key)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// What a request presented.
pub fn presented<T>(request: &Request<T>) -> Presented {
    let metadata = request.metadata();
    Presented {
        bearer: bearer_token(metadata),
        on_behalf_of: text(metadata, ON_BEHALF_OF),
        client_address: text(metadata, CLIENT_ADDRESS),
        peer: request
            .remote_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default(),
    }
}

/// The authenticated caller of `request`, whatever it may then do.
pub async fn caller<T>(accounts: &Accounts, request: &Request<T>) -> Result<Caller, Status> {
    accounts
        .authenticate(&presented(request), Utc::now())
        .await
        .map_err(|e| account_status(&e))
}

/// The caller of `request` if it may make a call that needs `permission`; a refusal is
/// recorded in the audit trail.
pub async fn authorize<T>(
    accounts: &Accounts,
    request: &Request<T>,
    permission: Permission,
) -> Result<Caller, Status> {
    let caller = caller(accounts, request).await?;
    match caller.check(permission) {
        Ok(()) => Ok(caller),
        Err(refusal) => {
            if let Refusal::Denied(p) = refusal {
                warn!(
                    login = caller.origin.login,
                    service = caller.origin.service,
                    permission = p.english(),
                    "call refused"
                );
                if let Err(e) = accounts
                    .audit(&caller.origin, AuditAction::AccessDenied, "", p.english())
                    .await
                {
                    warn!(error = %e, "the refusal could not be recorded in the audit trail");
                }
            }
            Err(refusal_status(&caller, refusal))
        }
    }
}

/// A refusal of an authenticated caller as a status.
pub fn refusal_status(caller: &Caller, refusal: Refusal) -> Status {
    match refusal {
        Refusal::MustChangePassword => wire::status::refusal(
            Code::FailedPrecondition,
            "password",
            "the one-time password must be changed first (ChangePassword)".to_owned(),
            "Bạn cần đổi mật khẩu dùng một lần trước khi làm việc khác.".to_owned(),
        ),
        Refusal::Denied(permission) => wire::status::refusal(
            Code::PermissionDenied,
            "",
            caller.principal.refusal_english(permission),
            caller.principal.refusal_vietnamese(permission),
        ),
    }
}

/// A school head's request naming another school (`field` = that school's code).
pub fn out_of_scope(field: &str, school: &str) -> Status {
    wire::status::refusal(
        Code::PermissionDenied,
        field,
        format!("{field} {school:?} is outside the caller's school"),
        format!("Tài khoản này chỉ xem được số liệu của trường mình, không xem được «{school}»."),
    )
}

/// An instant as people at the district read it (Vietnam, UTC+7).
fn vietnam_time(at: chrono::DateTime<Utc>) -> String {
    const FORMAT: &str = "%H:%M ngày %d/%m/%Y";
    match FixedOffset::east_opt(7 * 3600) {
        Some(vietnam) => at.with_timezone(&vietnam).format(FORMAT).to_string(),
        None => at.format(FORMAT).to_string(),
    }
}

/// An account operation's failure as a status. Database and internal errors are logged with
/// their text and answered without it.
pub fn account_status(e: &AccountError) -> Status {
    use AccountError as E;
    let refuse = |code, field: &str, vietnamese: String| {
        wire::status::refusal(code, field, e.to_string(), vietnamese)
    };
    match e {
        E::Unauthenticated => refuse(
            Code::Unauthenticated,
            "",
            "Chưa đăng nhập, hoặc phiên làm việc đã hết hạn: hãy đăng nhập lại.".to_owned(),
        ),
        E::Locked { login, until } => refuse(
            Code::FailedPrecondition,
            "login",
            format!(
                "Tài khoản «{login}» tạm khóa đến {} vì nhập sai mật khẩu nhiều lần. Hãy thử \
                 lại sau, hoặc nhờ quản trị đặt lại mật khẩu.",
                vietnam_time(*until)
            ),
        ),
        E::Login(rule) => refuse(Code::InvalidArgument, "login", rule.vietnamese()),
        E::PasswordRule(rule) => refuse(Code::InvalidArgument, "new_password", rule.vietnamese()),
        E::FullNameRequired => refuse(
            Code::InvalidArgument,
            "full_name",
            "Họ và tên không được để trống.".to_owned(),
        ),
        E::RoleRequired => refuse(
            Code::InvalidArgument,
            "role",
            "Hãy chọn vai trò của tài khoản.".to_owned(),
        ),
        E::School(rule) => refuse(
            Code::InvalidArgument,
            "school",
            match rule {
                SchoolRule::Required => {
                    "Tài khoản Hiệu trưởng phải gắn với một trường đã ghi danh.".to_owned()
                }
                SchoolRule::NotEnrolled(code) => {
                    format!("«{code}» không phải mã của một trường đã ghi danh.")
                }
                SchoolRule::NotForRole => {
                    "Chỉ tài khoản Hiệu trưởng mới gắn với một trường.".to_owned()
                }
            },
        ),
        E::NotFound(login) => refuse(
            Code::NotFound,
            "login",
            format!("Không có tài khoản «{login}»."),
        ),
        E::Exists(login) => refuse(
            Code::AlreadyExists,
            "login",
            format!("Tên đăng nhập «{login}» đã có người dùng."),
        ),
        E::OwnAccount => refuse(
            Code::FailedPrecondition,
            "login",
            "Quản trị không thể tự khóa tài khoản của chính mình.".to_owned(),
        ),
        E::BadService(_) => refuse(
            Code::InvalidArgument,
            "service",
            "Tên dịch vụ chỉ gồm chữ a–z không dấu, chữ số và gạch ngang, bắt đầu bằng chữ."
                .to_owned(),
        ),
        E::TokenNotFound(id) => refuse(
            Code::NotFound,
            "id",
            format!("Không có khóa dịch vụ «{id}»."),
        ),
        E::BadAction(_) => refuse(
            Code::InvalidArgument,
            "action",
            "Dịch vụ chỉ ghi được việc tải báo cáo (report_downloaded) vào nhật ký.".to_owned(),
        ),
        E::Sql(source) => {
            warn!(error = %source, "the accounts database failed");
            wire::status::refusal(
                Code::Unavailable,
                "",
                "the accounts database is unavailable; try again".to_owned(),
                "Cơ sở dữ liệu tài khoản tạm thời không dùng được; hãy thử lại sau.".to_owned(),
            )
        }
        E::Password(_) | E::Corrupt(_) => {
            error!(error = %e, "an account operation failed");
            wire::status::refusal(
                Code::Internal,
                "",
                "an account operation failed on the server; the administrator can read why in its log"
                    .to_owned(),
                "Máy chủ gặp lỗi khi xử lý tài khoản; quản trị xem nguyên nhân trong nhật ký máy chủ."
                    .to_owned(),
            )
        }
    }
}
