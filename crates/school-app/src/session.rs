//! Who is using the app: the staff session cookie, checked with the agent (`WhoAmI`) on every
//! request, and the CSRF token of the person's forms.
//!
//! The app keeps no accounts: signing in asks the agent (`SchoolStaff.SignIn`), the session
//! token lives only in an `HttpOnly`, `Secure`, `SameSite=Strict` cookie (browsers accept
//! `Secure` cookies over plain HTTP on the loopback, which is where the app listens by
//! default), and the agent refuses an expired, signed-out or disabled session at once. A
//! form that changes something carries `credentials::csrf`'s HMAC of the session under a key
//! drawn at start; a post without it is refused.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use wire::bearer::Bearer;
use wire::pb;

use crate::AppState;
use crate::agent::{self, Agent};
use crate::error::PageError;

/// The session cookie.
pub const COOKIE: &str = "tt_truong";
pub const SIGN_IN: &str = "/dang-nhap";
pub const PASSWORD: &str = "/tai-khoan/mat-khau";

/// The signed-in staff member using a page.
#[derive(Debug, Clone)]
pub struct Staff {
    pub account: pb::StaffAccount,
    /// The school's log, asked as this person.
    pub agent: Agent,
    session: String,
    csrf: String,
}

impl Staff {
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    pub fn role(&self) -> domain::Role {
        wire::convert::role("role", self.account.role).unwrap_or(domain::Role::Teacher)
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, state: &AppState, presented: &str) -> Result<(), PageError> {
        if state.csrf.verify(&self.session, presented) {
            Ok(())
        } else {
            Err(PageError::Forbidden(
                "Biểu mẫu đã hết hạn hoặc không phải từ trang này; hãy mở lại trang và gửi lại."
                    .into(),
            ))
        }
    }

    pub fn session(&self) -> &str {
        &self.session
    }
}

/// The session token of the request's cookie.
pub fn session_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// A `Set-Cookie` value for the session (`max_age` 0 deletes it).
pub fn set_cookie(value: &str, max_age: i64) -> String {
    format!("{COOKIE}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}")
}

/// Who the session of `headers` belongs to, and whether their password must change first.
pub async fn staff_of(state: &AppState, headers: &HeaderMap) -> Result<(Staff, bool), PageError> {
    let session = session_of(headers).ok_or(PageError::SignInRequired)?;
    let bearer = Bearer::new(&session).map_err(|_| PageError::SignInRequired)?;
    let account = agent::staff(&state.agent, bearer.clone())
        .who_am_i(pb::StaffWhoAmIRequest {})
        .await
        .map_err(|status| PageError::from_status(&status))?
        .into_inner();
    let must_change = account.must_change_password;
    let csrf = state.csrf.token_for(&session);
    Ok((
        Staff {
            account,
            agent: agent::agent(&state.agent, bearer),
            session,
            csrf,
        },
        must_change,
    ))
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = PageError;

    /// A signed-in person whose password need not change now (else: to the password page).
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (staff, must_change) = staff_of(state, &parts.headers).await?;
        if must_change {
            return Err(PageError::PasswordChangeRequired);
        }
        Ok(staff)
    }
}
