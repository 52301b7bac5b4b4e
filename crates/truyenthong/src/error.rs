//! What can go wrong, and how it is told to staff (in Vietnamese) and to programs (`--json`).
//!
//! Exit codes: 0 done, 1 refused or failed (by this program or by the agent), 2 usage error
//! (the shape of the command line).

use std::process::ExitCode;

use serde::Serialize;
use tonic::{Code, Status};

/// A failure of one command.
#[derive(Debug)]
pub enum CliError {
    /// The command line is wrong: a missing option, an unusable address. Exit code 2.
    Usage(String),
    /// A value was refused here, before anything was sent.
    Input {
        message: String,
        /// The agent's field path (`activity.date`), when there is one.
        field: Option<String>,
        /// Where the value came from, in words: `tùy chọn --ngay`, `cột «ngay»`.
        place: Option<String>,
    },
    /// A file could not be used; the message is complete.
    File(String),
    /// The agent could not be reached.
    Connect { url: String },
    /// No session is stored for the agent: `truyenthong dang-nhap` first.
    NotSignedIn { url: String },
    /// The agent refused or failed the request.
    Agent { status: Status, url: String },
    /// The command ran and reported its failures itself (a CSV import with refused rows).
    Reported(String),
}

impl CliError {
    /// A value refused here. `field` is the agent's field path, `place` says where the value
    /// came from (`tùy chọn --ngay`); either may be empty.
    pub fn input(message: impl Into<String>, field: &str, place: &str) -> Self {
        CliError::Input {
            message: message.into(),
            field: (!field.is_empty()).then(|| field.to_string()),
            place: (!place.is_empty()).then(|| place.to_string()),
        }
    }

    /// A value of an option refused here.
    pub fn option(message: impl Into<String>, field: &str, option: &str) -> Self {
        Self::input(message, field, &format!("tùy chọn {option}"))
    }

    pub fn agent(status: Status, url: &str) -> Self {
        if is_connection_failure(&status) {
            CliError::Connect {
                url: url.to_string(),
            }
        } else {
            CliError::Agent {
                status,
                url: url.to_string(),
            }
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            _ => ExitCode::from(1),
        }
    }

    /// The message for people, in Vietnamese.
    pub fn vietnamese(&self) -> String {
        match self {
            CliError::Usage(m) | CliError::File(m) | CliError::Reported(m) => m.clone(),
            CliError::Input {
                message,
                field,
                place,
            } => {
                let mut where_ = Vec::new();
                if let Some(field) = field {
                    where_.push(format!("trường dữ liệu: {field}"));
                }
                if let Some(place) = place {
                    where_.push(place.clone());
                }
                if where_.is_empty() {
                    message.clone()
                } else {
                    format!("{message} ({})", where_.join(", "))
                }
            }
            CliError::Connect { url } => connect_message(url),
            CliError::NotSignedIn { url } => format!(
                "Chưa đăng nhập vào máy chủ của trường tại {url}: chạy `truyenthong dang-nhap` trước."
            ),
            CliError::Agent { status, url } => agent_message(status, url),
        }
    }

    /// The error for `--json`.
    pub fn json(&self) -> ErrorJson {
        let (code, field, message) = match self {
            CliError::Usage(_) => ("USAGE", None, None),
            CliError::Input { field, .. } => ("INVALID_INPUT", field.clone(), None),
            CliError::File(_) => ("FILE", None, None),
            CliError::Connect { .. } => ("UNAVAILABLE", None, None),
            CliError::NotSignedIn { .. } => ("UNAUTHENTICATED", None, None),
            CliError::Agent { status, .. } => (
                code_name(status.code()),
                wire::status::violated_field(status),
                Some(status.message().to_string()),
            ),
            CliError::Reported(_) => ("FAILED", None, None),
        };
        ErrorJson {
            error: ErrorBody {
                code,
                field,
                message,
                message_vi: self.vietnamese(),
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ErrorJson {
    error: ErrorBody,
}

#[derive(Debug, Serialize)]
struct ErrorBody {
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// The agent's English message, when the agent refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    message_vi: String,
}

/// The message when the agent cannot be reached.
pub fn connect_message(url: &str) -> String {
    format!("Không kết nối được máy chủ của trường tại {url}; kiểm tra school-agent đã chạy chưa.")
}

/// Messages the agent itself sends with `UNAVAILABLE`: the request reached it, so they are not
/// connection failures.
const AGENT_UNAVAILABLE: &[(&str, &str)] = &[
    (
        "the school's log could not be written",
        "Máy chủ của trường không ghi được vào sổ; chưa có gì được ghi, hãy thử lại.",
    ),
    (
        "the school agent is shutting down",
        "Máy chủ của trường đang tắt; hãy thử lại sau khi school-agent chạy lại.",
    ),
    (
        "the school's log cannot be read",
        "Máy chủ của trường tạm thời không đọc được sổ; hãy thử lại.",
    ),
];

/// Whether a status means the agent was not reached (refused connection, dropped link).
pub fn is_connection_failure(status: &Status) -> bool {
    status.code() == Code::Unavailable
        && wire::status::vietnamese_message(status).is_none()
        && !AGENT_UNAVAILABLE
            .iter()
            .any(|(prefix, _)| status.message().starts_with(prefix))
}

/// Whether sending the same request again may succeed: the link or the agent's storage
/// failed for a moment.
pub fn is_transient(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown
    ) && wire::status::vietnamese_message(status).is_none()
}

/// The Vietnamese message of an agent's status: its localized message with the field, or a
/// Vietnamese account of the code with the agent's own message.
pub fn agent_message(status: &Status, url: &str) -> String {
    if let Some(vi) = wire::status::vietnamese_message(status) {
        return match wire::status::violated_field(status) {
            Some(field) if !vi.contains(&field) => format!("{vi} (trường dữ liệu: {field})"),
            _ => vi,
        };
    }
    if let Some((_, vi)) = AGENT_UNAVAILABLE
        .iter()
        .find(|(prefix, _)| status.message().starts_with(prefix))
    {
        return (*vi).to_string();
    }
    let detail = status.message();
    match status.code() {
        Code::Unavailable => connect_message(url),
        Code::DeadlineExceeded => {
            "Máy chủ của trường không trả lời kịp (quá thời gian chờ); hãy thử lại.".to_string()
        }
        Code::Unimplemented => format!(
            "Máy chủ của trường không hỗ trợ lệnh này; có thể school-agent là phiên bản cũ ({detail})."
        ),
        Code::Internal => format!("Máy chủ của trường gặp lỗi nội bộ: {detail}"),
        code => format!(
            "Máy chủ của trường từ chối yêu cầu ({}): {detail}",
            code_vi(code)
        ),
    }
}

fn code_vi(code: Code) -> &'static str {
    match code {
        Code::InvalidArgument => "dữ liệu không hợp lệ",
        Code::FailedPrecondition => "chưa đủ điều kiện",
        Code::NotFound => "không tìm thấy",
        Code::AlreadyExists => "đã có",
        Code::PermissionDenied | Code::Unauthenticated => "không có quyền",
        Code::ResourceExhausted => "quá tải",
        Code::Aborted => "bị hủy giữa chừng",
        Code::OutOfRange => "ngoài phạm vi",
        Code::Cancelled => "bị hủy",
        Code::DataLoss => "mất dữ liệu",
        _ => "lỗi không xác định",
    }
}

fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_unavailable_is_the_connection_message() {
        let url = "http://127.0.0.1:1";
        let err = CliError::agent(Status::unavailable("tcp connect error"), url);
        assert!(matches!(err, CliError::Connect { .. }));
        assert_eq!(
            err.vietnamese(),
            "Không kết nối được máy chủ của trường tại http://127.0.0.1:1; kiểm tra school-agent đã chạy chưa."
        );
        let busy = Status::unavailable(
            "the school's log could not be written; nothing was recorded, try again",
        );
        assert!(!is_connection_failure(&busy));
        assert!(is_transient(&busy));
        assert!(agent_message(&busy, url).starts_with("Máy chủ của trường không ghi được"));
    }

    #[test]
    fn input_errors_name_field_and_option() {
        let err = CliError::option("Ngày «x» không hợp lệ", "activity.date", "--ngay");
        assert_eq!(
            err.vietnamese(),
            "Ngày «x» không hợp lệ (trường dữ liệu: activity.date, tùy chọn --ngay)"
        );
    }
}
