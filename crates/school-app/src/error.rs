//! What a page answers when it cannot show itself: back to sign-in, to the password change,
//! a refusal, or the agent unavailable — in Vietnamese, never the internal error text.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;

use crate::layout;
use crate::session;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("sign-in required")]
    SignInRequired,
    #[error("the password must be changed first")]
    PasswordChangeRequired,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("the agent could not answer: {0}")]
    Unavailable(String),
}

impl PageError {
    /// A gRPC refusal or failure as a page error (the status text is logged, not shown).
    pub fn from_status(status: &tonic::Status) -> Self {
        match status.code() {
            tonic::Code::Unauthenticated => PageError::SignInRequired,
            tonic::Code::FailedPrecondition
                if wire::status::violated_field(status).as_deref() == Some("password") =>
            {
                PageError::PasswordChangeRequired
            }
            tonic::Code::PermissionDenied => PageError::Forbidden(
                wire::status::vietnamese_message(status)
                    .unwrap_or_else(|| "Tài khoản của thầy/cô không có nhiệm vụ này.".into()),
            ),
            tonic::Code::NotFound => PageError::NotFound,
            _ => {
                tracing::warn!(code = ?status.code(), message = status.message(), "agent call failed");
                PageError::Unavailable(status.message().to_owned())
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (code, title, text) = match self {
            PageError::SignInRequired => return Redirect::to(session::SIGN_IN).into_response(),
            PageError::PasswordChangeRequired => {
                return Redirect::to(session::PASSWORD).into_response();
            }
            PageError::Forbidden(message) => (StatusCode::FORBIDDEN, "Không được phép", message),
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Không tìm thấy",
                "Trang hoặc bản ghi này không có trong sổ của trường.".to_owned(),
            ),
            PageError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Chưa trả lời được",
                "Máy chưa đọc được sổ của trường lúc này; hãy thử lại sau ít phút.".to_owned(),
            ),
        };
        let body = layout::bare(
            title,
            html! { h1 { (title) } p { (text) } p { a href="/" { "Về trang chính" } } },
        );
        (code, Html(body.into_string())).into_response()
    }
}
