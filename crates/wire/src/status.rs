//! Domain refusals as gRPC statuses, in one place.
//!
//! The status message is the English `DomainError` text, which names the field and the rule
//! (`activity.date 2031-01-01 is outside plan period 2017-10-20..2020-12-31`). The details
//! (`google.rpc.Status.details`, via `tonic-types`) carry a `BadRequest` field violation with
//! the field path and a `LocalizedMessage` in `vi-VN` for school staff, which clients read
//! back with [`vietnamese_message`] and [`violated_field`].

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use domain::{DecodeError, DomainError, ErrorKind};

/// The locale of the localized message.
pub const VI_LOCALE: &str = "vi-VN";

/// The gRPC code for each kind of refusal.
pub fn code(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::InvalidArgument => Code::InvalidArgument,
        ErrorKind::FailedPrecondition => Code::FailedPrecondition,
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::AlreadyExists => Code::AlreadyExists,
        ErrorKind::PermissionDenied => Code::PermissionDenied,
    }
}

/// A refused command as a status: code by kind, English message, field violation and the
/// Vietnamese message in the details.
pub fn from_domain(err: &DomainError) -> Status {
    let message = err.to_string();
    let mut details = ErrorDetails::with_bad_request_violation(err.field.clone(), message.clone());
    details.set_localized_message(VI_LOCALE, err.vietnamese());
    Status::with_error_details(code(err.kind), message, details)
}

/// A refusal that is not a domain rule (a credential, a role, an account): `code`, the English
/// `message` naming the rule, the `field` it concerns (empty for none) and the `vi-VN` message
/// people read, in the same shape as [`from_domain`].
pub fn refusal(code: Code, field: &str, message: String, vietnamese: String) -> Status {
    let mut details = if field.is_empty() {
        ErrorDetails::new()
    } else {
        ErrorDetails::with_bad_request_violation(field, message.clone())
    };
    details.set_localized_message(VI_LOCALE, vietnamese);
    Status::with_error_details(code, message, details)
}

/// A stored event that this build cannot read back: the school's own log is damaged or
/// newer than the binary. Not the caller's fault, so `INTERNAL`, with the reason.
pub fn from_decode(err: &DecodeError) -> Status {
    Status::internal(format!("a stored event could not be read: {err}"))
}

/// The Vietnamese message of a status made by [`from_domain`], for showing to school staff.
pub fn vietnamese_message(status: &Status) -> Option<String> {
    status
        .get_error_details()
        .localized_message()
        .filter(|m| m.locale == VI_LOCALE)
        .map(|m| m.message.clone())
}

/// The field path a status made by [`from_domain`] names (`activity.date`).
pub fn violated_field(status: &Status) -> Option<String> {
    status
        .get_error_details()
        .bad_request()
        .and_then(|b| b.field_violations.first())
        .map(|v| v.field.clone())
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use domain::{DateRange, Rule};

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn invalid_argument_carries_both_messages_and_the_field() {
        let period = DateRange::new(d(2017, 10, 20), d(2020, 12, 31)).unwrap();
        let err = DomainError::invalid(
            "activity.date",
            Rule::OutsidePeriod {
                date: d(2031, 1, 1),
                period,
            },
        );
        let status = from_domain(&err);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "activity.date 2031-01-01 is outside plan period 2017-10-20..2020-12-31"
        );
        assert_eq!(vietnamese_message(&status), Some(err.vietnamese()));
        assert!(
            vietnamese_message(&status)
                .unwrap()
                .contains("01/01/2031 nằm ngoài thời gian thực hiện kế hoạch")
        );
        assert_eq!(violated_field(&status).as_deref(), Some("activity.date"));
        let details = status.get_error_details();
        let violation = &details.bad_request().unwrap().field_violations[0];
        assert_eq!(violation.description, status.message());
    }

    #[test]
    fn survives_the_trip_through_grpc_headers() {
        // What a client receives: the status rebuilt from its HTTP/2 trailers.
        let err = DomainError::precondition("plan", Rule::NoPlan);
        let sent = from_domain(&err);
        let mut headers = tonic::codegen::http::HeaderMap::new();
        sent.add_header(&mut headers).unwrap();
        let received = Status::from_header_map(&headers).unwrap();
        assert_eq!(received.code(), Code::FailedPrecondition);
        assert_eq!(received.message(), sent.message());
        assert_eq!(vietnamese_message(&received), Some(err.vietnamese()));
        assert_eq!(violated_field(&received).as_deref(), Some("plan"));
    }

    #[test]
    fn codes_follow_the_kind() {
        let id = uuid::Uuid::nil();
        let cases = [
            (
                DomainError::invalid("expense.amount", Rule::Negative { value: -1 }),
                Code::InvalidArgument,
            ),
            (
                DomainError::precondition("plan", Rule::NoPlan),
                Code::FailedPrecondition,
            ),
            (
                DomainError::not_found("answer.feedback_id", id),
                Code::NotFound,
            ),
            (
                DomainError::already_exists("activity.activity_id", id),
                Code::AlreadyExists,
            ),
            (
                DomainError {
                    kind: ErrorKind::PermissionDenied,
                    field: "actor.role".into(),
                    rule: Rule::NotYourDuty {
                        command: "settle_budget",
                        duty: domain::duties::Duty::Spending,
                        role: domain::Role::Teacher,
                    },
                },
                Code::PermissionDenied,
            ),
        ];
        for (err, expected) in cases {
            let status = from_domain(&err);
            assert_eq!(status.code(), expected, "{err}");
            assert_eq!(status.message(), err.to_string());
            assert_eq!(violated_field(&status), Some(err.field.clone()));
        }
    }

    #[test]
    fn a_plain_status_has_no_vietnamese() {
        assert_eq!(vietnamese_message(&Status::unavailable("down")), None);
        assert_eq!(violated_field(&Status::unavailable("down")), None);
    }

    #[test]
    fn decode_errors_are_internal() {
        let status = from_decode(&DecodeError::UnknownType("x.y".into()));
        assert_eq!(status.code(), Code::Internal);
        assert!(status.message().contains("x.y"));
    }

    #[test]
    fn a_refusal_carries_the_vietnamese_and_the_field_when_given() {
        let status = refusal(
            Code::Unauthenticated,
            "",
            "no session".to_owned(),
            "Chưa đăng nhập: chạy truyenthong dang-nhap.".to_owned(),
        );
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(
            vietnamese_message(&status).as_deref(),
            Some("Chưa đăng nhập: chạy truyenthong dang-nhap.")
        );
        assert_eq!(violated_field(&status), None);
        let status = refusal(
            Code::FailedPrecondition,
            "password",
            "change it".to_owned(),
            "Đổi".to_owned(),
        );
        assert_eq!(violated_field(&status).as_deref(), Some("password"));
    }
}
