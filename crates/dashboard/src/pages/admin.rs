//! `/quan-tri/…`: the administrator's pages — the district's accounts (create, reset a
//! password, lock and unlock) and the audit trail.
//!
//! The aggregator decides: every call goes on the administrator's behalf and a person of
//! another role gets its PERMISSION_DENIED as the 403 page. A new or reset password is shown
//! once, on the page that answers the form, and never again.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use wire::pb;

use crate::DashboardState;
use crate::error::PageError;
use crate::format::when;
use crate::layout::{self, Nav, role_name};
use crate::session::Viewer;

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    school: String,
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

const ROLES: [(&str, pb::AccountRole); 4] = [
    ("chuyen-vien", pb::AccountRole::Officer),
    ("lanh-dao", pb::AccountRole::HeadOfOffice),
    ("hieu-truong", pb::AccountRole::SchoolHead),
    ("quan-tri", pb::AccountRole::Admin),
];

/// What the page shows above the list: a password just issued, or a refusal.
enum Notice {
    Issued { login: String, password: String },
    Refused { field: String, message: String },
    Done(String),
}

async fn accounts_page(
    viewer: &Viewer,
    notice: Option<Notice>,
    typed: Option<&CreateForm>,
) -> Result<Markup, PageError> {
    let agg = &viewer.aggregator;
    let (accounts, schools) = tokio::try_join!(
        agg.account_call("ListAccounts", |mut c| async move {
            c.list_accounts(pb::ListAccountsRequest {}).await
        }),
        agg.schools()
    )?;
    let beside = |field: &str| match &notice {
        Some(Notice::Refused { field: f, message }) if f == field => Some(message.clone()),
        _ => None,
    };
    let typed_value = |f: fn(&CreateForm) -> &str| typed.map(f).unwrap_or("").to_owned();
    let body = html! {
        h1 { "Tài khoản của Phòng và các trường" }
        @match &notice {
            Some(Notice::Issued { login, password }) => {
                p.notice role="status" id="mat-khau-moi" {
                    "Mật khẩu dùng một lần của " b { (login) } ": " code.password { (password) }
                    br; "Mật khẩu chỉ hiện một lần. Hãy trao tận tay người dùng; họ phải đổi ngay khi đăng nhập lần đầu."
                }
            }
            Some(Notice::Done(text)) => { p.notice role="status" { (text) } }
            Some(Notice::Refused { field, message }) if field.is_empty() || field == "login_row" => {
                p.refusal role="alert" { (message) }
            }
            _ => {}
        }
        table.accounts {
            thead { tr { th { "Tên đăng nhập" } th { "Họ và tên" } th { "Vai trò" } th { "Trường" } th { "Trạng thái" } th { "Đăng nhập lần cuối" } th { "" } } }
            tbody {
                @for a in &accounts.accounts {
                    @let role = pb::AccountRole::try_from(a.role).unwrap_or(pb::AccountRole::Unspecified);
                    tr data-login=(a.login) {
                        td { (a.login) }
                        td { (a.full_name) }
                        td { (role_name(role)) }
                        td { (a.school) }
                        td {
                            @if !a.enabled { "Đã khóa" }
                            @else if a.locked_until.is_some() { "Tạm khóa (nhập sai mật khẩu)" }
                            @else if a.must_change_password { "Chờ đổi mật khẩu" }
                            @else { "Đang dùng" }
                        }
                        td { (when!(a.last_sign_in)) }
                        td.actions {
                            form method="post" action={ "/quan-tri/tai-khoan/" (a.login) "/dat-lai-mat-khau" } {
                                input type="hidden" name="csrf" value=(viewer.csrf());
                                button type="submit" { "Đặt lại mật khẩu" }
                            }
                            @if a.login != viewer.account.login {
                                @if a.enabled {
                                    form method="post" action={ "/quan-tri/tai-khoan/" (a.login) "/khoa" } {
                                        input type="hidden" name="csrf" value=(viewer.csrf());
                                        button type="submit" { "Khóa" }
                                    }
                                } @else {
                                    form method="post" action={ "/quan-tri/tai-khoan/" (a.login) "/mo-khoa" } {
                                        input type="hidden" name="csrf" value=(viewer.csrf());
                                        button type="submit" { "Mở khóa" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { "Tạo tài khoản" }
            form method="post" action="/quan-tri/tai-khoan" id="tao-tai-khoan" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                label { "Tên đăng nhập (chữ không dấu, ví dụ hoa.pham)"
                    input name="login" value=(typed_value(|f| &f.login)) required;
                }
                @if let Some(m) = beside("login") { p.field-error id="loi-login" { (m) } }
                label { "Họ và tên"
                    input name="full_name" value=(typed_value(|f| &f.full_name)) required;
                }
                @if let Some(m) = beside("full_name") { p.field-error id="loi-full_name" { (m) } }
                label { "Vai trò"
                    select name="role" {
                        @for (code, role) in ROLES {
                            option value=(code) selected[typed_value(|f| &f.role) == code] { (role_name(role)) }
                        }
                    }
                }
                @if let Some(m) = beside("role") { p.field-error { (m) } }
                label { "Trường (chỉ cho tài khoản Hiệu trưởng)"
                    select name="school" {
                        option value="" { "—" }
                        @for s in &schools {
                            option value=(s.code) selected[typed_value(|f| &f.school) == s.code] { (s.name) }
                        }
                    }
                }
                @if let Some(m) = beside("school") { p.field-error id="loi-school" { (m) } }
                button type="submit" { "Tạo tài khoản" }
            }
        }
        p { a href="/quan-tri/nhat-ky" { "Xem nhật ký truy cập" } }
    };
    Ok(layout::page("Tài khoản", Nav::Admin, Some(viewer), body))
}

pub async fn accounts(viewer: Viewer) -> Result<Markup, PageError> {
    accounts_page(&viewer, None, None).await
}

/// A refusal of a form as the page with the message beside its field, or the error page.
fn refused(status: &tonic::Status, call: &'static str) -> Result<Notice, PageError> {
    match status.code() {
        tonic::Code::InvalidArgument
        | tonic::Code::AlreadyExists
        | tonic::Code::NotFound
        | tonic::Code::FailedPrecondition
            if wire::status::violated_field(status).as_deref() != Some("password") =>
        {
            Ok(Notice::Refused {
                field: wire::status::violated_field(status).unwrap_or_default(),
                message: wire::status::vietnamese_message(status).unwrap_or_default(),
            })
        }
        _ => Err(PageError::from_status(call, status)),
    }
}

pub async fn create(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Form(form): Form<CreateForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&state, &form.csrf)?;
    let role = ROLES
        .iter()
        .find(|(code, _)| *code == form.role)
        .map_or(pb::AccountRole::Unspecified, |(_, r)| *r);
    let request = pb::CreateAccountRequest {
        login: form.login.clone(),
        full_name: form.full_name.clone(),
        role: role.into(),
        school: if role == pb::AccountRole::SchoolHead {
            form.school.clone()
        } else {
            String::new()
        },
    };
    match viewer
        .aggregator
        .account_call_raw("CreateAccount", |mut c| async move {
            c.create_account(request).await
        })
        .await
    {
        Ok(issued) => {
            let login = issued.account.map(|a| a.login).unwrap_or_default();
            let notice = Notice::Issued {
                login,
                password: issued.one_time_password,
            };
            Ok(accounts_page(&viewer, Some(notice), None)
                .await?
                .into_response())
        }
        Err(status) => {
            let notice = refused(&status, "CreateAccount")?;
            let page = accounts_page(&viewer, Some(notice), Some(&form)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
    }
}

pub async fn reset(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(login): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&state, &form.csrf)?;
    let request = pb::ResetPasswordRequest { login };
    match viewer
        .aggregator
        .account_call_raw("ResetPassword", |mut c| async move {
            c.reset_password(request).await
        })
        .await
    {
        Ok(issued) => {
            let notice = Notice::Issued {
                login: issued.account.map(|a| a.login).unwrap_or_default(),
                password: issued.one_time_password,
            };
            Ok(accounts_page(&viewer, Some(notice), None)
                .await?
                .into_response())
        }
        Err(status) => {
            let notice = refused(&status, "ResetPassword")?;
            Ok((
                StatusCode::BAD_REQUEST,
                accounts_page(&viewer, Some(notice), None).await?,
            )
                .into_response())
        }
    }
}

async fn set_enabled(
    state: &DashboardState,
    viewer: &Viewer,
    login: String,
    enabled: bool,
    csrf: &str,
) -> Result<Response, PageError> {
    viewer.check_csrf(state, csrf)?;
    let request = pb::SetAccountEnabledRequest {
        login: login.clone(),
        enabled,
    };
    let notice = match viewer
        .aggregator
        .account_call_raw("SetAccountEnabled", |mut c| async move {
            c.set_account_enabled(request).await
        })
        .await
    {
        Ok(_) if enabled => Notice::Done(format!("Đã mở khóa tài khoản {login}.")),
        Ok(_) => Notice::Done(format!(
            "Đã khóa tài khoản {login}; các phiên đăng nhập của tài khoản đã kết thúc."
        )),
        Err(status) => refused(&status, "SetAccountEnabled")?,
    };
    Ok(accounts_page(viewer, Some(notice), None)
        .await?
        .into_response())
}

pub async fn lock(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(login): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    set_enabled(&state, &viewer, login, false, &form.csrf).await
}

pub async fn unlock(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(login): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    set_enabled(&state, &viewer, login, true, &form.csrf).await
}

/// What an audit action is called, in Vietnamese.
fn action_name(action: &str) -> &str {
    match action {
        "sign_in" => "Đăng nhập",
        "sign_in_failed" => "Đăng nhập sai",
        "sign_in_locked" => "Tạm khóa do nhập sai nhiều lần",
        "sign_out" => "Đăng xuất",
        "password_changed" => "Đổi mật khẩu",
        "account_created" => "Tạo tài khoản",
        "password_reset" => "Đặt lại mật khẩu",
        "account_enabled" => "Mở khóa tài khoản",
        "account_disabled" => "Khóa tài khoản",
        "school_enrolled" => "Ghi danh trường",
        "district_plan_adopted" => "Ban hành kế hoạch của Phòng",
        "service_token_issued" => "Cấp khóa dịch vụ",
        "service_token_revoked" => "Thu hồi khóa dịch vụ",
        "report_downloaded" => "Tải báo cáo",
        "access_denied" => "Bị từ chối truy cập",
        other => other,
    }
}

pub async fn audit(viewer: Viewer) -> Result<Markup, PageError> {
    let trail = viewer
        .aggregator
        .account_call("ListAudit", |mut c| async move {
            c.list_audit(pb::ListAuditRequest {
                limit: 200,
                before_id: 0,
            })
            .await
        })
        .await?;
    let body = html! {
        h1 { "Nhật ký truy cập" }
        p.lead { "200 việc gần nhất: ai làm, lúc nào, từ đâu." }
        table.audit {
            thead { tr { th { "Lúc" } th { "Tài khoản" } th { "Qua dịch vụ" } th { "Từ địa chỉ" } th { "Việc" } th { "Đối tượng" } th { "Ghi chú" } } }
            tbody {
                @for e in &trail.entries {
                    tr data-action=(e.action) {
                        td { (when!(e.at)) }
                        td { (e.login) }
                        td { (e.service) }
                        td { (e.from_address) }
                        td { (action_name(&e.action)) }
                        td { (e.target) }
                        td { (e.detail) }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        "Nhật ký truy cập",
        Nav::Admin,
        Some(&viewer),
        body,
    ))
}
