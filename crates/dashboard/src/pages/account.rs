//! `/tai-khoan`: the signed-in person's account, and the form to change their password — the
//! page a one-time password leads to, and the only page it allows.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use wire::pb;

use crate::DashboardState;
use crate::error::PageError;
use crate::layout::{self, Nav, role_name};
use crate::session::Viewer;

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// A refusal and the field it names.
struct Refusal<'a> {
    field: &'a str,
    message: String,
}

fn render(viewer: &Viewer, refusal: Option<&Refusal<'_>>, changed: bool) -> Markup {
    let a = &viewer.account;
    let beside = |field: &str| {
        refusal
            .filter(|r| r.field == field)
            .map(|r| r.message.clone())
    };
    let body = html! {
        h1 { "Tài khoản" }
        @if a.must_change_password {
            p.notice role="alert" id="phai-doi-mat-khau" {
                "Bạn đang dùng mật khẩu dùng một lần. Hãy chọn mật khẩu của riêng mình trước khi làm việc khác."
            }
        }
        @if changed {
            p.notice id="da-doi-mat-khau" { "Đã đổi mật khẩu. Các phiên đăng nhập khác của tài khoản đã kết thúc." }
        }
        dl.account {
            dt { "Họ và tên" } dd { (a.full_name) }
            dt { "Tên đăng nhập" } dd { (a.login) }
            dt { "Vai trò" } dd { (role_name(viewer.role())) }
            @if !a.school.is_empty() { dt { "Trường" } dd { (a.school) } }
        }
        section.card {
            h2 { "Đổi mật khẩu" }
            p.muted { "Ít nhất 10 ký tự, không chứa tên đăng nhập; nên dùng một câu dễ nhớ." }
            form method="post" action="/tai-khoan/mat-khau" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                label { "Mật khẩu hiện tại"
                    input type="password" name="current_password" id="current_password" autocomplete="current-password" required;
                }
                @if let Some(m) = beside("current_password") { p.field-error id="loi-current_password" { (m) } }
                label { "Mật khẩu mới"
                    input type="password" name="new_password" id="new_password" autocomplete="new-password" required;
                }
                @if let Some(m) = beside("new_password") { p.field-error id="loi-new_password" { (m) } }
                label { "Nhập lại mật khẩu mới"
                    input type="password" name="confirm_password" id="confirm_password" autocomplete="new-password" required;
                }
                @if let Some(m) = beside("confirm_password") { p.field-error id="loi-confirm_password" { (m) } }
                button type="submit" id="doi-mat-khau" { "Đổi mật khẩu" }
            }
        }
    };
    layout::page("Tài khoản", Nav::None, Some(viewer), body)
}

pub async fn show(viewer: Viewer) -> Markup {
    render(&viewer, None, false)
}

pub async fn change_password(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&state, &form.csrf)?;
    if form.new_password != form.confirm_password {
        let refusal = Refusal {
            field: "confirm_password",
            message: "Hai lần nhập mật khẩu mới không giống nhau.".into(),
        };
        return Ok((
            StatusCode::BAD_REQUEST,
            render(&viewer, Some(&refusal), false),
        )
            .into_response());
    }
    let request = pb::ChangePasswordRequest {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    match viewer
        .aggregator
        .account_call_raw("ChangePassword", |mut c| async move {
            c.change_password(request).await
        })
        .await
    {
        Ok(_) => Ok(Redirect::to("/tai-khoan/da-doi").into_response()),
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let field = wire::status::violated_field(&status).unwrap_or_default();
            let field = match field.as_str() {
                "current_password" => "current_password",
                _ => "new_password",
            };
            let refusal = Refusal {
                field,
                message: wire::status::vietnamese_message(&status).unwrap_or_default(),
            };
            Ok((
                StatusCode::BAD_REQUEST,
                render(&viewer, Some(&refusal), false),
            )
                .into_response())
        }
        Err(status) => Err(PageError::from_status("ChangePassword", &status)),
    }
}

/// After a change: the account page with its notice (a redirect, so a reload posts nothing).
pub async fn changed(viewer: Viewer) -> Markup {
    render(&viewer, None, true)
}
