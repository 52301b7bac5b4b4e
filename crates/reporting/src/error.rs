//! Why a report could not be made, grouped by how the caller handles it: a request to fix
//! (invalid, not found, precondition), an aggregator to wait for (unavailable), or a fault of
//! ours (internal).
//!
//! Every refusal names the field and the rule, in English (logs, the gRPC status message)
//! and in Vietnamese (the `vi-VN` `LocalizedMessage`, the web page, the command line). The
//! mapping to gRPC statuses is here ([`ReportError::to_status`]); to HTTP in [`crate::http`].

use std::fmt;

use domain::{DomainError, ErrorKind};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// A refused or failed report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The request is at fault; `field` says where.
    #[error("{0}")]
    Refused(Box<Refusal>),
    /// The district aggregator could not be reached or did not answer.
    #[error("the district aggregator is unavailable: {0}")]
    Unavailable(String),
    /// Our fault: an answer we cannot read, a renderer that failed.
    #[error("the report could not be produced: {0}")]
    Internal(String),
}

/// A request the service refuses, with the field and the rule in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    /// The field at fault, as the caller's interface names it (`period`, `ky`, `truong`).
    pub field: String,
    /// The rule in English, after the field: "2030 is outside plan period …".
    pub english: String,
    /// The whole message in Vietnamese, naming the field.
    pub vietnamese: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// `INVALID_ARGUMENT`, HTTP 400.
    InvalidArgument,
    /// `NOT_FOUND`, HTTP 404.
    NotFound,
    /// `FAILED_PRECONDITION` (no district plan yet), HTTP 409.
    FailedPrecondition,
    /// `UNAUTHENTICATED`: no, or an ended, session; HTTP: back to the sign-in page.
    Unauthenticated,
    /// `PERMISSION_DENIED` (a school head asking for another school's report), HTTP 403.
    PermissionDenied,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.english)
    }
}

impl ReportError {
    fn refused(
        kind: RefusalKind,
        field: &str,
        english: impl Into<String>,
        vietnamese: impl Into<String>,
    ) -> Self {
        ReportError::Refused(Box::new(Refusal {
            kind,
            field: field.to_string(),
            english: english.into(),
            vietnamese: format!(
                "{} (trường dữ liệu: {field})",
                capitalise(&vietnamese.into())
            ),
        }))
    }

    /// A call without a person's session.
    pub fn unauthenticated() -> Self {
        ReportError::Refused(Box::new(Refusal {
            kind: RefusalKind::Unauthenticated,
            field: String::new(),
            english: "a report needs a signed-in person: send their session token \
                      (authorization: Bearer ttp_…), from DistrictAccounts.SignIn"
                .into(),
            vietnamese: "Cần đăng nhập để tạo báo cáo.".into(),
        }))
    }

    /// A school head asking for a report beyond their school (`field` names the school).
    pub fn not_your_school(field: &str) -> Self {
        ReportError::Refused(Box::new(Refusal {
            kind: RefusalKind::PermissionDenied,
            field: field.to_string(),
            english: "a school head's reports are of their own school only".into(),
            vietnamese: "Tài khoản Hiệu trưởng chỉ tạo được báo cáo của trường mình.".into(),
        }))
    }

    /// An invalid request: `english` is the rule after the field name, `vietnamese` the
    /// sentence for people (the field is appended).
    pub fn invalid(field: &str, english: impl Into<String>, vietnamese: impl Into<String>) -> Self {
        Self::refused(RefusalKind::InvalidArgument, field, english, vietnamese)
    }

    /// Something the request names that does not exist.
    pub fn not_found(
        field: &str,
        english: impl Into<String>,
        vietnamese: impl Into<String>,
    ) -> Self {
        Self::refused(RefusalKind::NotFound, field, english, vietnamese)
    }

    /// A domain refusal (a period that does not parse or lies outside the plan), reported
    /// under `field`.
    pub fn from_domain(field: &str, mut e: DomainError) -> Self {
        e.field = field.to_string();
        let kind = match e.kind {
            ErrorKind::NotFound => RefusalKind::NotFound,
            // Reports check no duties; a permission refusal cannot reach here, but is not
            // the input's fault either.
            ErrorKind::FailedPrecondition | ErrorKind::PermissionDenied => {
                RefusalKind::FailedPrecondition
            }
            ErrorKind::InvalidArgument | ErrorKind::AlreadyExists => RefusalKind::InvalidArgument,
        };
        let english = e.to_string();
        let english = english
            .strip_prefix(&format!("{field} "))
            .unwrap_or(&english)
            .to_string();
        ReportError::Refused(Box::new(Refusal {
            kind,
            field: field.to_string(),
            english,
            vietnamese: e.vietnamese(),
        }))
    }

    /// An aggregator's answer that failed. Its refusals keep their code, field and Vietnamese
    /// message (the field renamed by `rename`, from the aggregator's names to the caller's);
    /// transport failures are `Unavailable`.
    pub fn from_aggregator(status: &Status, rename: impl Fn(&str) -> String) -> Self {
        let kind = match status.code() {
            Code::InvalidArgument | Code::OutOfRange => Some(RefusalKind::InvalidArgument),
            Code::NotFound => Some(RefusalKind::NotFound),
            Code::FailedPrecondition => Some(RefusalKind::FailedPrecondition),
            Code::Unauthenticated => Some(RefusalKind::Unauthenticated),
            Code::PermissionDenied => Some(RefusalKind::PermissionDenied),
            _ => None,
        };
        match kind {
            Some(kind) => {
                let field = wire::status::violated_field(status)
                    .map(|f| rename(&f))
                    .unwrap_or_default();
                let vietnamese = wire::status::vietnamese_message(status)
                    .unwrap_or_else(|| status.message().to_string());
                ReportError::Refused(Box::new(Refusal {
                    kind,
                    english: status.message().to_string(),
                    vietnamese: vietnamese.replace(
                        &format!(
                            "(trường dữ liệu: {})",
                            wire::status::violated_field(status).unwrap_or_default()
                        ),
                        &format!("(trường dữ liệu: {field})"),
                    ),
                    field,
                }))
            }
            None => match status.code() {
                Code::Unavailable
                | Code::DeadlineExceeded
                | Code::Cancelled
                | Code::ResourceExhausted
                | Code::Aborted => {
                    ReportError::Unavailable(format!("{:?}: {}", status.code(), status.message()))
                }
                _ => ReportError::Internal(format!(
                    "the district aggregator answered {:?}: {}",
                    status.code(),
                    status.message()
                )),
            },
        }
    }

    /// The field at fault, for refusals.
    pub fn field(&self) -> Option<&str> {
        match self {
            ReportError::Refused(r) => Some(&r.field),
            _ => None,
        }
    }

    /// The message for people, in Vietnamese. Never a trace: internal faults say only that
    /// the report could not be made.
    pub fn vietnamese(&self) -> String {
        match self {
            ReportError::Refused(r) => r.vietnamese.clone(),
            ReportError::Unavailable(_) => "Không kết nối được với máy chủ tổng hợp số liệu của Phòng GD-ĐT; vui lòng thử lại sau ít phút".into(),
            ReportError::Internal(_) => "Không tạo được báo cáo do lỗi của hệ thống; vui lòng báo cho bộ phận kỹ thuật".into(),
        }
    }

    /// As a gRPC status: code by kind, the English message naming the field, a `BadRequest`
    /// field violation and the `vi-VN` message in the details.
    pub fn to_status(&self) -> Status {
        let (code, field) = match self {
            ReportError::Refused(r) => (
                match r.kind {
                    RefusalKind::InvalidArgument => Code::InvalidArgument,
                    RefusalKind::NotFound => Code::NotFound,
                    RefusalKind::FailedPrecondition => Code::FailedPrecondition,
                    RefusalKind::Unauthenticated => Code::Unauthenticated,
                    RefusalKind::PermissionDenied => Code::PermissionDenied,
                },
                Some(r.field.as_str()),
            ),
            ReportError::Unavailable(_) => (Code::Unavailable, None),
            ReportError::Internal(_) => (Code::Internal, None),
        };
        let message = self.to_string();
        let mut details = match field {
            Some(field) => ErrorDetails::with_bad_request_violation(field, message.clone()),
            None => ErrorDetails::new(),
        };
        details.set_localized_message(wire::status::VI_LOCALE, self.vietnamese());
        Status::with_error_details(code, message, details)
    }
}

/// The first letter in upper case, as the domain's messages begin.
fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl From<wire::convert::district_views::UnreadableAnswer> for ReportError {
    fn from(e: wire::convert::district_views::UnreadableAnswer) -> Self {
        ReportError::Internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::str::FromStr;

    use domain::Period;

    use super::*;

    #[test]
    fn a_domain_refusal_keeps_both_languages_under_the_callers_field_name() {
        let e = Period::from_str("2018-Q7").unwrap_err();
        let e = ReportError::from_domain("ky", e);
        assert_eq!(e.field(), Some("ky"));
        assert!(
            e.to_string().starts_with("ky \"2018-Q7\" is not valid"),
            "{e}"
        );
        assert!(
            e.vietnamese().contains("(trường dữ liệu: ky)"),
            "{}",
            e.vietnamese()
        );
        let status = e.to_status();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(wire::status::violated_field(&status).as_deref(), Some("ky"));
        assert_eq!(
            wire::status::vietnamese_message(&status),
            Some(e.vietnamese())
        );
    }

    #[test]
    fn aggregator_failures_become_unavailable_or_keep_their_refusal() {
        let down = ReportError::from_aggregator(&Status::unavailable("tcp connect error"), |f| {
            f.to_string()
        });
        assert!(matches!(down, ReportError::Unavailable(_)));
        assert_eq!(down.to_status().code(), Code::Unavailable);
        assert!(down.vietnamese().contains("Không kết nối được"));

        let refused = wire::status::from_domain(&DomainError::invalid(
            "period",
            domain::Rule::NoDistrictPlan,
        ));
        let e = ReportError::from_aggregator(&refused, |f| {
            if f == "period" { "ky".into() } else { f.into() }
        });
        assert_eq!(e.field(), Some("ky"));
        assert!(
            e.vietnamese().ends_with("(trường dữ liệu: ky)"),
            "{}",
            e.vietnamese()
        );
        assert_eq!(e.to_status().code(), Code::InvalidArgument);
    }
}
