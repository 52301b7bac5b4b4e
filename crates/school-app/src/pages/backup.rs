//! `/sao-luu`: the school's backups — the folder they go to, each backup with its time and the
//! last seq it holds, the last error (a USB disk unplugged), and *Sao lưu ngay* for the head.
//! So that the head can see, without a terminal, that there is a recent copy to restore.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use wire::pb;

use crate::AppState;
use crate::error::PageError;
use crate::layout::{self, Nav};
use crate::pages::sign_in::CsrfOnly;
use crate::session::Staff;

pub const PATH: &str = "/sao-luu";
pub const NOW_PATH: &str = "/sao-luu/ngay";

/// A protobuf timestamp's `(seconds, nanos)` in Vietnam time.
fn instant(t: Option<(i64, i32)>) -> String {
    t.and_then(|(s, n)| chrono::DateTime::from_timestamp(s, u32::try_from(n).ok()?))
        .map(domain::vi::instant)
        .unwrap_or_default()
}

fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!(
            "{} MB",
            domain::vi::decimal(bytes as f64 / (1024.0 * 1024.0), 1)
        )
    } else {
        format!("{} KB", domain::vi::count(bytes.div_ceil(1024)))
    }
}

async fn page(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    done: bool,
    code: StatusCode,
) -> Result<Response, PageError> {
    let mut agent = staff.agent.clone();
    let backups = agent
        .get_backups(pb::GetBackupsRequest {})
        .await
        .map_err(|s| PageError::from_status(&s))?
        .into_inner();
    let status = agent
        .get_status(pb::GetStatusRequest {})
        .await
        .map_err(|s| PageError::from_status(&s))?
        .into_inner();
    let is_head = staff.role() == domain::Role::Principal;
    let body = html! {
        section.card id="sao-luu" {
            h1 { "Sao lưu sổ của trường" }
            @if status.catching_up {
                p.notice.error id="dang-bo-sung" { "Sổ đang được bổ sung từ Phòng GD-ĐT sau khi khôi phục bản sao; chưa ghi nhận được. " (status.catch_up_status) }
            } @else if !status.catch_up_status.is_empty() {
                p.notice.error id="canh-bao-so" { (status.catch_up_status) }
            }
            @if let Some(message) = &error {
                p.notice.error id="loi-sao-luu" { (message) }
            }
            @if done {
                p.notice.ok id="da-sao-luu" { "Đã sao lưu xong." }
            }
            dl {
                dt { "Thư mục sao lưu" }
                dd id="thu-muc" {
                    @if backups.folder.is_empty() {
                        "Chưa chọn thư mục: không có sao lưu tự động. Đặt [backup] folder trong tệp cấu hình của school-agent (ví dụ ổ USB)."
                    } @else {
                        code { (backups.folder) }
                        " — tự động mỗi " (backups.every_hours) " giờ, giữ " (backups.keep) " bản gần nhất"
                    }
                }
                dt { "Sổ hiện có" }
                dd { "đến số " (status.head_seq) }
                dt { "Lỗi lần cuối" }
                dd id="loi-lan-cuoi" {
                    @if backups.last_error.is_empty() { "không có" } @else {
                        (backups.last_error) " (" (instant(backups.last_error_at.as_ref().map(|t| (t.seconds, t.nanos)))) ")"
                    }
                }
            }
            @if backups.backups.is_empty() {
                p id="chua-co" { "Chưa có bản sao nào trong thư mục." }
            } @else {
                table id="ban-sao" {
                    thead { tr { th { "Thời điểm" } th { "Đến số" } th { "Dung lượng" } th { "Tệp" } } }
                    tbody {
                        @for b in &backups.backups {
                            tr data-backup=(b.name) {
                                td { (instant(b.taken_at.as_ref().map(|t| (t.seconds, t.nanos)))) }
                                td data-head-seq=(b.head_seq) { (b.head_seq) }
                                td { (size(b.size_bytes)) }
                                td { code { (b.name) } }
                            }
                        }
                    }
                }
            }
            @if is_head {
                form method="post" action=(NOW_PATH) {
                    input type="hidden" name="csrf" value=(staff.csrf());
                    button.primary type="submit" id="sao-luu-ngay" { "Sao lưu ngay" }
                }
            } @else {
                p { "Chỉ Hiệu trưởng được sao lưu ngay." }
            }
            p.hint {
                "Khôi phục một bản sao: dừng school-agent rồi chạy "
                code { "school-agent khoi-phuc-ban-sao TỆP" }
                "; khi khởi động lại, sổ được bổ sung từ Phòng GD-ĐT."
            }
        }
    };
    let markup = layout::page(
        &state.school_name,
        "Sao lưu",
        Nav::Backup,
        staff,
        None,
        body,
    );
    Ok((code, Html(markup.into_string())).into_response())
}

/// *Sao lưu ngay*: the head's backup on demand; a failure is shown on the page.
pub async fn now(
    State(state): State<AppState>,
    staff: Staff,
    Form(input): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    staff.check_csrf(&state, &input.csrf)?;
    let taken = staff
        .agent
        .clone()
        .back_up_now(pb::BackUpNowRequest {})
        .await;
    match taken {
        Ok(_) => Ok(Redirect::to(&format!("{PATH}?xong=1")).into_response()),
        Err(status)
            if matches!(
                status.code(),
                tonic::Code::FailedPrecondition | tonic::Code::PermissionDenied
            ) =>
        {
            let message = wire::status::vietnamese_message(&status)
                .unwrap_or_else(|| "Không sao lưu được.".to_owned());
            page(
                &state,
                &staff,
                Some(message),
                false,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(status) => Err(PageError::from_status(&status)),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct Done {
    #[serde(default)]
    xong: Option<String>,
}

/// The page (`?xong=1` after a backup).
pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    axum::extract::Query(done): axum::extract::Query<Done>,
) -> Result<Response, PageError> {
    page(&state, &staff, None, done.xong.is_some(), StatusCode::OK).await
}
