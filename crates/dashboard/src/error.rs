//! Why a page cannot be shown, and the Vietnamese error page each reason gets.
//!
//! Errors are grouped by what the office can do about them: fix the request (400), follow
//! another link (404), wait for the district aggregator (503), or call the technician (500).
//! Every one is rendered as a page of the dashboard with the right HTTP status, never as a
//! stack trace or a bare text body; the English detail goes to the log, not to the page.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use tonic::Code;

use domain::DomainError;

use crate::layout::{self, Nav};
use crate::session;

/// A page that cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The request names a period, date or page that the rules refuse (HTTP 400).
    #[error("bad request: {english}")]
    BadRequest {
        /// For the log: the rule and the field, as the domain words it.
        english: String,
        /// For the page.
        vietnamese: String,
    },
    /// No enrolled school has this code (HTTP 404).
    #[error("unknown school {0:?}")]
    UnknownSchool(String),
    /// No page at this address (HTTP 404).
    #[error("no page at {0}")]
    NoSuchPage(String),
    /// The district aggregator cannot be reached or did not answer in time (HTTP 503).
    #[error("the district aggregator is unavailable ({call}): {reason}")]
    Unavailable { call: &'static str, reason: String },
    /// The district aggregator failed, or answered something this build cannot read (HTTP 500).
    #[error("the district aggregator failed ({call}): {reason}")]
    Internal { call: &'static str, reason: String },
    /// The person may not see this (another school's page, a page of the administrator).
    #[error("forbidden: {vietnamese}")]
    Forbidden { vietnamese: String },
    /// No session, or it ended: back to the sign-in page.
    #[error("sign-in required")]
    SignInRequired,
    /// The one-time password must be changed first: to the account page.
    #[error("the one-time password must be changed first")]
    PasswordChangeRequired,
}

impl PageError {
    /// A refusal by the domain's rules (a period that does not parse or lies outside the plan).
    pub fn refused(err: &DomainError) -> Self {
        PageError::BadRequest {
            english: err.to_string(),
            vietnamese: capitalise(&err.vietnamese()),
        }
    }

    /// A bad request the dashboard itself detects.
    pub fn bad_request(english: impl Into<String>, vietnamese: impl Into<String>) -> Self {
        PageError::BadRequest {
            english: english.into(),
            vietnamese: vietnamese.into(),
        }
    }

    /// The aggregator's answer to `call` as a page error, by gRPC code.
    pub fn from_status(call: &'static str, status: &tonic::Status) -> Self {
        let reason = status.message().to_string();
        match status.code() {
            Code::FailedPrecondition
                if wire::status::violated_field(status).as_deref() == Some("password") =>
            {
                PageError::PasswordChangeRequired
            }
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
                let field = wire::status::violated_field(status);
                let vietnamese = match field.as_deref() {
                    // The domain's message for these names the expected form in English.
                    Some("page_token") => "Liên kết “Trang sau” không còn dùng được; \
                                           hãy mở lại danh sách từ trang đầu."
                        .to_string(),
                    Some("author") => "Nguồn gửi đã chọn không hợp lệ.".to_string(),
                    _ => wire::status::vietnamese_message(status).map_or_else(
                        || "Máy chủ tổng hợp từ chối yêu cầu này.".to_string(),
                        |m| capitalise(&m),
                    ),
                };
                PageError::BadRequest {
                    english: reason,
                    vietnamese,
                }
            }
            Code::Unauthenticated => PageError::SignInRequired,
            Code::PermissionDenied => PageError::Forbidden {
                vietnamese: wire::status::vietnamese_message(status).map_or_else(
                    || "Tài khoản của bạn không được xem trang này.".to_string(),
                    |m| capitalise(&m),
                ),
            },
            Code::NotFound => PageError::NoSuchPage(format!("{call}: {reason}")),
            Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Cancelled
            | Code::ResourceExhausted
            | Code::Aborted => PageError::Unavailable { call, reason },
            _ => PageError::Internal {
                call,
                reason: format!("{:?}: {reason}", status.code()),
            },
        }
    }

    /// The HTTP status of the page.
    pub fn status(&self) -> StatusCode {
        match self {
            PageError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            PageError::UnknownSchool(_) | PageError::NoSuchPage(_) => StatusCode::NOT_FOUND,
            PageError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            PageError::Forbidden { .. } => StatusCode::FORBIDDEN,
            PageError::SignInRequired | PageError::PasswordChangeRequired => StatusCode::SEE_OTHER,
        }
    }

    /// The page's heading.
    fn heading(&self) -> &'static str {
        match self {
            PageError::BadRequest { .. } => "Yêu cầu không hợp lệ",
            PageError::UnknownSchool(_) => "Không tìm thấy trường",
            PageError::NoSuchPage(_) => "Không tìm thấy trang",
            PageError::Unavailable { .. } => "Hệ thống tổng hợp của Phòng tạm thời không phản hồi",
            PageError::Internal { .. } => "Đã xảy ra lỗi hệ thống",
            PageError::Forbidden { .. } => "Không có quyền xem trang này",
            PageError::SignInRequired => "Cần đăng nhập",
            PageError::PasswordChangeRequired => "Cần đổi mật khẩu",
        }
    }

    /// What the office reads, and what it can do.
    fn explanation(&self) -> (String, &'static str) {
        match self {
            PageError::BadRequest { vietnamese, .. } => (
                vietnamese.clone(),
                "Hãy chọn lại kỳ báo cáo (tháng, quý, học kỳ, năm học, năm hoặc cả giai đoạn kế hoạch) hoặc ngày trong biểu mẫu rồi thử lại.",
            ),
            PageError::UnknownSchool(code) => (
                format!("Không có trường nào trong huyện mang mã “{code}”."),
                "Hãy chọn trường từ bản đồ kế hoạch ở trang chủ.",
            ),
            PageError::NoSuchPage(_) => (
                "Địa chỉ này không có trong trang tổng hợp của Phòng.".to_string(),
                "Hãy dùng thanh điều hướng ở trên để mở trang cần xem.",
            ),
            PageError::Unavailable { .. } => (
                "Không lấy được số liệu từ máy chủ tổng hợp của Phòng GD-ĐT.".to_string(),
                "Xin thử lại sau ít phút. Nếu lỗi còn kéo dài, hãy báo cho cán bộ phụ trách kỹ thuật.",
            ),
            PageError::Internal { .. } => (
                "Máy chủ tổng hợp trả lời không như mong đợi.".to_string(),
                "Hãy báo cho cán bộ phụ trách kỹ thuật; chi tiết đã được ghi vào nhật ký hệ thống.",
            ),
            PageError::Forbidden { vietnamese } => (
                vietnamese.clone(),
                "Nếu bạn cần xem trang này, hãy đề nghị quản trị của Phòng cấp quyền.",
            ),
            PageError::SignInRequired | PageError::PasswordChangeRequired => {
                ("Hãy đăng nhập để xem trang này.".to_string(), "")
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignInRequired => {
                let mut response = Redirect::to(session::SIGN_IN).into_response();
                response.headers_mut().insert(
                    header::SET_COOKIE,
                    session::set_cookie(session::COOKIE, "", 0),
                );
                return response;
            }
            PageError::PasswordChangeRequired => {
                return Redirect::to(session::ACCOUNT).into_response();
            }
            _ => {}
        }
        let status = self.status();
        match &self {
            PageError::Unavailable { .. } => {
                tracing::warn!(status = status.as_u16(), error = %self, "page unavailable");
            }
            PageError::Internal { .. } => {
                tracing::error!(status = status.as_u16(), error = %self, "page failed");
            }
            _ => tracing::info!(status = status.as_u16(), error = %self, "request refused"),
        }
        let (message, advice) = self.explanation();
        let heading = self.heading();
        let body = html! {
            section.error-page data-status=(status.as_u16()) {
                h1 { (heading) }
                p.error-message { (message) }
                p { (advice) }
                p { a href="/" { "Về trang chủ" } }
            }
        };
        let mut response = (status, layout::page(heading, Nav::None, None, body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        }
        response
    }
}

/// The domain's Vietnamese messages start in lower case (they are written to follow a
/// field name); a page shows them as a sentence.
fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => {
            let mut out: String = first.to_uppercase().collect();
            out.push_str(chars.as_str());
            if !out.ends_with('.') {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_what_the_office_can_do() {
        let bad = PageError::from_status("GetPlanView", &tonic::Status::invalid_argument("x"));
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let down = PageError::from_status("GetPlanView", &tonic::Status::unavailable("down"));
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
        let broken = PageError::from_status("GetPlanView", &tonic::Status::internal("bug"));
        assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            PageError::UnknownSchool("x".into()).status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn domain_messages_become_sentences() {
        assert_eq!(capitalise("kỳ báo cáo sai"), "Kỳ báo cáo sai.");
        assert_eq!(capitalise("đã xong."), "Đã xong.");
    }
}
