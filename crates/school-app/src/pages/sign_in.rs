//! `/dang-nhap`: signing in with the staff account the school head created, and signing out.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use wire::bearer::Bearer;
use wire::pb;

use crate::AppState;
use crate::agent;
use crate::error::PageError;
use crate::layout;
use crate::session::{self, PASSWORD, SIGN_IN};

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

fn form(login: &str, refusal: Option<&str>, code: StatusCode) -> Response {
    let body = layout::bare(
        "Đăng nhập",
        html! {
            section.card {
                h1 { "Đăng nhập" }
                @if let Some(refusal) = refusal { p.notice.error id="loi-dang-nhap" { (refusal) } }
                form.sign-in method="post" action=(SIGN_IN) {
                    label for="login" { "Tên đăng nhập" }
                    input id="login" name="login" type="text" value=(login) autocomplete="username" required;
                    label for="password" { "Mật khẩu" }
                    input id="password" name="password" type="password" autocomplete="current-password" required;
                    button.primary type="submit" { "Đăng nhập" }
                }
                p.muted { "Tài khoản do Hiệu trưởng cấp. Quên mật khẩu: nhờ Hiệu trưởng đặt lại." }
            }
        },
    );
    (code, Html(body.into_string())).into_response()
}

pub async fn show() -> Response {
    form("", None, StatusCode::OK)
}

pub async fn submit(State(state): State<AppState>, Form(input): Form<SignInForm>) -> Response {
    let reply = agent::staff(&state.agent, Bearer::none())
        .sign_in(pb::StaffSignInRequest {
            login: input.login.clone(),
            password: input.password,
        })
        .await;
    match reply {
        Ok(reply) => {
            let reply = reply.into_inner();
            let must_change = reply
                .account
                .as_ref()
                .is_some_and(|a| a.must_change_password);
            let mut response =
                Redirect::to(if must_change { PASSWORD } else { "/" }).into_response();
            if let Ok(value) = session::set_cookie(&reply.session_token, 12 * 3600).parse() {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(status) => {
            let refusal = wire::status::vietnamese_message(&status).unwrap_or_else(|| {
                "Không đăng nhập được lúc này; hãy thử lại sau ít phút.".to_owned()
            });
            let code = match status.code() {
                tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => {
                    StatusCode::UNAUTHORIZED
                }
                tonic::Code::InvalidArgument => StatusCode::BAD_REQUEST,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            form(&input.login, Some(&refusal), code)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(input): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let (staff, _) = session::staff_of(&state, &headers).await?;
    staff.check_csrf(&state, &input.csrf)?;
    if let Ok(bearer) = Bearer::new(staff.session()) {
        let _ = agent::staff(&state.agent, bearer)
            .sign_out(pb::StaffSignOutRequest {})
            .await;
    }
    let mut response = Redirect::to(SIGN_IN).into_response();
    if let Ok(value) = session::set_cookie("", 0).parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}
