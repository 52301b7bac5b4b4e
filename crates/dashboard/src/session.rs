//! Who is looking at a page: the person's session cookie, checked with the aggregator on every
//! request, and the credential the page's calls then carry.
//!
//! The dashboard keeps no accounts of its own. Signing in asks the aggregator
//! (`DistrictAccounts.SignIn`); the session token it returns lives only in an `HttpOnly`,
//! `Secure`, `SameSite=Strict` cookie; and every page asks the aggregator `WhoAmI` on behalf of
//! that session, then reads its views on the person's behalf too — so a school head's pages
//! show what the aggregator lets a school head see, and an expired, signed-out or disabled
//! session goes back to the sign-in page at once.
//!
//! Forms that change something carry a CSRF token (`credentials::csrf`: the HMAC of the
//! session under a key drawn at start); a post without the right one is refused with 403.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use credentials::token::TokenKind;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use wire::pb;

use crate::DashboardState;
use crate::error::PageError;
use crate::source::Aggregator;

/// The session cookie's name.
pub const COOKIE: &str = "tt_phien";
/// The sign-in form's own CSRF cookie (there is no session yet to bind a token to).
pub const SIGN_IN_COOKIE: &str = "tt_dang_nhap";
/// The sign-in page.
pub const SIGN_IN: &str = "/dang-nhap";
/// The account page, where a one-time password is changed.
pub const ACCOUNT: &str = "/tai-khoan";

/// The signed-in person looking at a page.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub account: pb::Account,
    /// The aggregator, asked on this person's behalf.
    pub aggregator: Aggregator,
    session: String,
    csrf: String,
}

impl Viewer {
    /// The CSRF token this person's forms carry.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// The session token (for reporting, which asks on the person's behalf too).
    pub fn session(&self) -> &str {
        &self.session
    }

    pub fn role(&self) -> pb::AccountRole {
        pb::AccountRole::try_from(self.account.role).unwrap_or(pb::AccountRole::Unspecified)
    }

    pub fn is_admin(&self) -> bool {
        self.role() == pb::AccountRole::Admin
    }

    /// A school head's school; `None` for the district's roles.
    pub fn own_school(&self) -> Option<&str> {
        (self.role() == pb::AccountRole::SchoolHead).then_some(self.account.school.as_str())
    }

    /// Whether this person may see `school`'s page and reports.
    pub fn may_see_school(&self, school: &str) -> bool {
        self.own_school().is_none_or(|own| own == school)
    }

    /// Refuses a form posted without this session's CSRF token.
    pub fn check_csrf(&self, state: &DashboardState, presented: &str) -> Result<(), PageError> {
        if state.csrf.verify(&self.session, presented) {
            Ok(())
        } else {
            tracing::warn!(login = %self.account.login, "form refused: missing or wrong CSRF token");
            Err(PageError::Forbidden {
                vietnamese: "Biểu mẫu này đã hết hạn hoặc không phải do trang của Phòng gửi. \
                             Hãy mở lại trang và gửi lại."
                    .into(),
            })
        }
    }
}

/// The value of cookie `name` in `headers`.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// A `Set-Cookie` value: `HttpOnly`, `Secure`, `SameSite=Strict`, for the whole site, kept
/// `max_age` seconds (0 clears it). Browsers treat `localhost` and `127.0.0.1` as secure, so
/// `Secure` does not stop a dashboard on this machine.
pub fn set_cookie(name: &str, value: &str, max_age: i64) -> HeaderValue {
    let cookie =
        format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}");
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Where the person was going, as a sign-in page address.
pub fn sign_in_address(next: &str) -> String {
    if next.is_empty() || next == "/" {
        SIGN_IN.to_owned()
    } else {
        format!(
            "{SIGN_IN}?tiep={}",
            utf8_percent_encode(next, NON_ALPHANUMERIC)
        )
    }
}

/// A `tiep` (next) address that stays on this site: a path, never `//host` or a URL.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// The client's address, when the server was started with connection info.
pub fn client_address(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// The client's address as an extractor (empty when the server has no connection info).
#[derive(Debug, Clone)]
pub struct ClientAddress(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(parts)))
    }
}

/// Back to the sign-in page, forgetting the cookie.
fn to_sign_in(parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let mut response = Redirect::to(&sign_in_address(&next)).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(COOKIE, "", 0));
    response
}

impl<S> FromRequestParts<S> for Viewer
where
    DashboardState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = DashboardState::from_ref(state);
        let Some(session) = cookie(&parts.headers, COOKIE)
            .filter(|t| TokenKind::of(t) == Some(TokenKind::Session))
            .map(str::to_owned)
        else {
            return Err(to_sign_in(parts));
        };
        let address = client_address(parts);
        let credential = state
            .service
            .on_behalf_of(&session, address.as_deref())
            .map_err(|_| to_sign_in(parts))?;
        let aggregator = Aggregator::new(state.channel.clone(), credential);
        let who = aggregator
            .account_call("WhoAmI", |mut c| async move {
                c.who_am_i(pb::WhoAmIRequest {}).await
            })
            .await;
        let account = match who {
            Ok(reply) => match reply.account {
                Some(account) => account,
                None => return Err(to_sign_in(parts)),
            },
            Err(PageError::SignInRequired) => return Err(to_sign_in(parts)),
            Err(other) => return Err(other.into_response()),
        };
        let path = parts.uri.path();
        let allowed_before_change =
            path == ACCOUNT || path.starts_with("/tai-khoan/") || path == "/dang-xuat";
        if account.must_change_password && !allowed_before_change {
            return Err(Redirect::to(ACCOUNT).into_response());
        }
        let csrf = state.csrf.token_for(&session);
        Ok(Viewer {
            account,
            aggregator,
            session,
            csrf,
        })
    }
}

/// The 403 of a page a person may not see.
pub fn forbidden(what: &str) -> PageError {
    PageError::Forbidden {
        vietnamese: format!("Tài khoản của bạn không được xem {what}."),
    }
}
