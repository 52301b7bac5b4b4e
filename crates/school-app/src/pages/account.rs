//! `/tai-khoan/mat-khau`: choosing one's own password — forced after a first or reset
//! password, before any other page opens.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use wire::bearer::Bearer;
use wire::pb;

use crate::AppState;
use crate::agent;
use crate::error::PageError;
use crate::layout;
use crate::session::{self, PASSWORD, Staff};

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

fn page(
    state: &AppState,
    staff: &Staff,
    must_change: bool,
    error: Option<(&str, String)>,
    code: StatusCode,
) -> Response {
    let error_for = |field: &str| {
        error
            .as_ref()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| m.clone())
    };
    let body = html! {
        section.card {
            h1 { "Đổi mật khẩu" }
            @if must_change {
                p.notice.error id="phai-doi" { "Đây là mật khẩu dùng một lần: thầy/cô cần chọn mật khẩu của mình trước khi làm việc." }
            }
            form.record method="post" action=(PASSWORD) {
                input type="hidden" name="csrf" value=(staff.csrf());
                @for (name, label, auto) in [("current", "Mật khẩu hiện tại", "current-password"), ("new", "Mật khẩu mới (ít nhất 10 ký tự)", "new-password"), ("repeat", "Nhập lại mật khẩu mới", "new-password")] {
                    div class=@if error_for(name).is_some() { "has-error" } {
                        label for=(name) { (label) }
                        input id=(name) name=(name) type="password" autocomplete=(auto) required;
                        @if let Some(message) = error_for(name) { p.field-error data-field=(name) { (message) } }
                    }
                }
                button.primary type="submit" { "Đổi mật khẩu" }
            }
        }
    };
    let markup = if must_change {
        layout::bare("Đổi mật khẩu", body)
    } else {
        layout::page(
            &state.school_name,
            "Đổi mật khẩu",
            layout::Nav::None,
            staff,
            None,
            body,
        )
    };
    (code, Html(markup.into_string())).into_response()
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (staff, must_change) = session::staff_of(&state, &headers).await?;
    Ok(page(&state, &staff, must_change, None, StatusCode::OK))
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(input): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let (staff, must_change) = session::staff_of(&state, &headers).await?;
    staff.check_csrf(&state, &input.csrf)?;
    if input.new != input.repeat {
        let message = "Hai lần nhập mật khẩu mới không giống nhau.".to_owned();
        return Ok(page(
            &state,
            &staff,
            must_change,
            Some(("repeat", message)),
            StatusCode::BAD_REQUEST,
        ));
    }
    let bearer = Bearer::new(staff.session()).map_err(|_| PageError::SignInRequired)?;
    let changed = agent::staff(&state.agent, bearer)
        .change_password(pb::StaffChangePasswordRequest {
            current_password: input.current,
            new_password: input.new,
        })
        .await;
    match changed {
        Ok(_) => Ok(Redirect::to("/").into_response()),
        Err(status)
            if matches!(
                status.code(),
                tonic::Code::InvalidArgument
                    | tonic::Code::Unauthenticated
                    | tonic::Code::PermissionDenied
            ) =>
        {
            let field = match wire::status::violated_field(&status).as_deref() {
                Some("new_password") => "new",
                _ => "current",
            };
            let message = wire::status::vietnamese_message(&status)
                .unwrap_or_else(|| "Không đổi được mật khẩu.".to_owned());
            if status.code() == tonic::Code::Unauthenticated
                && field == "current"
                && wire::status::violated_field(&status).is_none()
            {
                return Err(PageError::SignInRequired);
            }
            Ok(page(
                &state,
                &staff,
                must_change,
                Some((field, message)),
                StatusCode::BAD_REQUEST,
            ))
        }
        Err(status) => Err(PageError::from_status(&status)),
    }
}
