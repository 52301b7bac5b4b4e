//! `/dang-nhap` and `/dang-xuat`: signing in with the account the office issued, and out.
//!
//! The sign-in form has no session to bind a CSRF token to, so it carries a random value
//! that must equal its own `SameSite=Strict` cookie (a double submit); the sign-in itself is
//! the aggregator's (`DistrictAccounts.SignIn`), which counts failures and locks. A wrong
//! login and a wrong password get the same answer.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use credentials::token::{Token, TokenKind};
use maud::{Markup, html};
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use wire::pb;

use crate::DashboardState;
use crate::error::PageError;
use crate::layout::{self, Nav};
use crate::session::{
    self, COOKIE, ClientAddress, SIGN_IN_COOKIE, Viewer, cookie, safe_next, set_cookie,
};
use crate::source::Aggregator;

#[derive(Debug, Deserialize)]
pub struct Next {
    tiep: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    tiep: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// A fresh double-submit value for the sign-in form.
fn form_token() -> String {
    // A session-kind token is 32 random bytes; its prefix is dropped.
    let token = Token::generate(TokenKind::Session);
    token
        .secret
        .expose_secret()
        .trim_start_matches(TokenKind::Session.prefix())
        .to_owned()
}

fn form(login: &str, next: &str, token: &str, refusal: Option<&str>) -> Markup {
    let body = html! {
        section.sign-in {
            h1 { "Đăng nhập" }
            p.lead { "Trang tổng hợp truyền thông của Phòng Giáo dục và Đào tạo. Tài khoản do quản trị của Phòng cấp; không tự đăng ký." }
            @if let Some(refusal) = refusal {
                p.refusal role="alert" id="loi-dang-nhap" { (refusal) }
            }
            form method="post" action=(session::SIGN_IN) {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="tiep" value=(next);
                label { "Tên đăng nhập"
                    input name="login" id="login" value=(login) autocomplete="username" required autofocus;
                }
                label { "Mật khẩu"
                    input type="password" name="password" id="password" autocomplete="current-password" required;
                }
                button type="submit" id="dang-nhap" { "Đăng nhập" }
            }
            p.muted { "Quên mật khẩu? Hãy nhờ quản trị của Phòng đặt lại; mật khẩu mới dùng một lần và phải đổi ngay khi đăng nhập." }
        }
    };
    layout::page("Đăng nhập", Nav::None, None, body)
}

/// The form, with a new double-submit cookie.
fn form_response(login: &str, next: &str, refusal: Option<&str>, status: u16) -> Response {
    let token = form_token();
    let mut response = (
        axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::OK),
        form(login, next, &token, refusal),
    )
        .into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(SIGN_IN_COOKIE, &token, 1800));
    response
}

pub async fn show(Query(next): Query<Next>) -> Response {
    form_response("", &safe_next(next.tiep.as_deref()), None, 200)
}

pub async fn submit(
    State(state): State<DashboardState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(Some(&form.tiep));
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !credentials_equal(expected, &form.csrf) {
        tracing::warn!("sign-in form refused: its CSRF value does not match its cookie");
        return form_response(
            &form.login,
            &next,
            Some("Biểu mẫu đăng nhập đã hết hạn. Hãy nhập lại tên đăng nhập và mật khẩu."),
            403,
        );
    }
    let credential = match address.as_deref() {
        // The address travels as the person's, for the audit trail; no session yet.
        Some(address) => state.service.with_client_address(address),
        None => Ok(state.service.clone()),
    };
    let Ok(credential) = credential else {
        return PageError::SignInRequired.into_response();
    };
    let accounts = Aggregator::new(state.channel.clone(), credential);
    let request = pb::SignInRequest {
        login: form.login.clone(),
        password: form.password.clone(),
    };
    match accounts
        .account_call_raw("SignIn", |mut c| async move { c.sign_in(request).await })
        .await
    {
        Ok(reply) => {
            let must_change = reply
                .account
                .as_ref()
                .is_some_and(|a| a.must_change_password);
            let target = if must_change { session::ACCOUNT } else { &next };
            let mut response = Redirect::to(target).into_response();
            let max_age = state.session_max_age_secs;
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                set_cookie(COOKIE, &reply.session_token, max_age),
            );
            headers.append(header::SET_COOKIE, set_cookie(SIGN_IN_COOKIE, "", 0));
            response
        }
        Err(status) => {
            let refusal = wire::status::vietnamese_message(&status).unwrap_or_else(|| {
                "Không đăng nhập được lúc này; hãy thử lại sau ít phút.".to_owned()
            });
            let code = match status.code() {
                tonic::Code::Unauthenticated => 401,
                tonic::Code::FailedPrecondition => 423,
                tonic::Code::InvalidArgument => 400,
                _ => 503,
            };
            form_response(&form.login, &next, Some(&refusal), code)
        }
    }
}

/// Constant-time equality of two short strings.
fn credentials_equal(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

pub async fn sign_out(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&state, &form.csrf)?;
    viewer
        .aggregator
        .account_call("SignOut", |mut c| async move {
            c.sign_out(pb::SignOutRequest {}).await
        })
        .await?;
    let mut response = Redirect::to(session::SIGN_IN).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(COOKIE, "", 0));
    Ok(response)
}
