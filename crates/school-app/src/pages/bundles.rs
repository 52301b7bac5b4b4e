//! `/xuat-du-lieu`: *Xuất dữ liệu gửi Phòng* — when the line is down, the school's events go
//! to the district in one signed file on a USB stick (`docs/bundles.md`), and the district's
//! signed reply comes back the same way (*Nhập phản hồi của Phòng*), so the records turn to
//! *Phòng đã nhận* without a connection.
//!
//! The agent does the work (`ExportBundle`, `ImportReply`); the page says which events the
//! file will hold — from the first one the district has not confirmed to the newest — and
//! carries the bytes.

use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::html;
use wire::pb;

use crate::AppState;
use crate::error::PageError;
use crate::layout::{self, Nav};
use crate::pages::activities::load;
use crate::session::Staff;

pub const ROUTE: &str = "/xuat-du-lieu";
pub const DOWNLOAD: &str = "/xuat-du-lieu/tai-ve";
pub const REPLY: &str = "/xuat-du-lieu/phan-hoi";
/// A reply bundle is a few kilobytes; anything much larger is not one.
pub const MAX_REPLY_UPLOAD: usize = 4 << 20;

enum Notice {
    /// The reply's receipt was kept: how far the district applied, and how many it refused or
    /// holds.
    Imported {
        applied_seq: u64,
        refusals: usize,
    },
    Refused(String),
}

pub async fn show(State(state): State<AppState>, staff: Staff) -> Result<Response, PageError> {
    page(&state, &staff, None, StatusCode::OK).await
}

async fn page(
    state: &AppState,
    staff: &Staff,
    notice: Option<Notice>,
    code: StatusCode,
) -> Result<Response, PageError> {
    let log = load(staff).await?;
    let status = &log.status;
    let from = status.district_applied_seq + 1;
    let head = status.head_seq;
    let count = head.saturating_sub(from.saturating_sub(1));
    let body = html! {
        h1 { "Xuất dữ liệu gửi Phòng" }
        @match &notice {
            Some(Notice::Imported { applied_seq, refusals }) => {
                p.notice role="status" id="da-nhap-phan-hoi" {
                    "Đã nhập phản hồi của Phòng: Phòng đã nhận đến số " (applied_seq) "."
                    @if *refusals > 0 {
                        " Có " (refusals) " sự kiện Phòng từ chối hoặc giữ lại; xem ở trang Hoạt động."
                    }
                }
            }
            Some(Notice::Refused(message)) => {
                p.notice.error role="alert" id="phan-hoi-bi-tu-choi" { "Không nhập được: " (message) }
            }
            None => {}
        }
        section.card {
            p { "Khi máy không gửi được dữ liệu lên Phòng (mất mạng lâu ngày), thầy/cô có thể chép dữ liệu của trường ra một tệp, "
                "mang tệp đến Phòng bằng USB. Tệp được ký bằng khóa của trường nên Phòng biết chắc tệp là của trường và chưa bị sửa." }
            @if count == 0 {
                p id="khong-co-gi" { "Phòng đã nhận hết dữ liệu của trường (đến số " (head) "); không có gì cần chép." }
            } @else {
                p id="pham-vi" {
                    "Tệp sẽ chứa " strong { (count) " sự kiện" } ", từ số " strong { (from) } " đến số " strong { (head) }
                    " (những gì Phòng chưa xác nhận đã nhận)."
                }
                p { a.button id="tai-goi" href=(DOWNLOAD) download { "Tải tệp gửi Phòng" } }
                p.muted { "Sau khi Phòng nhập tệp, hãy mang gói phản hồi của Phòng về và nhập ở dưới. "
                    "Khi có mạng trở lại, máy vẫn gửi như thường; Phòng không ghi trùng." }
            }
        }
        section.card {
            h2 { "Nhập phản hồi của Phòng" }
            form method="post" action=(REPLY) enctype="multipart/form-data" id="nhap-phan-hoi" {
                input type="hidden" name="csrf" value=(staff.csrf());
                label { "Gói phản hồi (.ttgoi)"
                    input type="file" name="goi" accept=".ttgoi" required;
                }
                button type="submit" { "Nhập phản hồi" }
            }
        }
    };
    let page = layout::page(
        &state.school_name,
        "Xuất dữ liệu gửi Phòng",
        Nav::Bundles,
        staff,
        Some((status, log.tally())),
        body,
    );
    Ok((code, Html(page.into_string())).into_response())
}

pub async fn download(staff: Staff) -> Result<Response, PageError> {
    let mut stream = staff
        .agent
        .clone()
        .export_bundle(pb::ExportBundleRequest { from_seq: None })
        .await
        .map_err(|s| refusal_page(&s))?
        .into_inner();
    let mut bytes = Vec::new();
    let mut name = String::new();
    while let Some(chunk) = stream.message().await.map_err(|s| refusal_page(&s))? {
        if name.is_empty() {
            name = chunk.file_name;
        }
        bytes.extend_from_slice(&chunk.data);
    }
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// A refused export: its Vietnamese reason as a page error.
fn refusal_page(status: &tonic::Status) -> PageError {
    match status.code() {
        tonic::Code::FailedPrecondition | tonic::Code::InvalidArgument => {
            PageError::Forbidden(wire::status::vietnamese_message(status).unwrap_or_default())
        }
        _ => PageError::from_status(status),
    }
}

pub async fn import_reply(
    State(state): State<AppState>,
    staff: Staff,
    mut upload: Multipart,
) -> Result<Response, PageError> {
    let mut csrf = String::new();
    let mut bytes = None;
    while let Ok(Some(field)) = upload.next_field().await {
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("goi") => bytes = field.bytes().await.ok().map(|b| b.to_vec()),
            _ => {}
        }
    }
    staff.check_csrf(&state, &csrf)?;
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        let notice = Notice::Refused("Chưa chọn gói phản hồi (.ttgoi).".into());
        return page(&state, &staff, Some(notice), StatusCode::BAD_REQUEST).await;
    };
    let chunks = vec![pb::BundleChunk {
        data: bytes,
        ..Default::default()
    }];
    match staff
        .agent
        .clone()
        .import_reply(futures::stream::iter(chunks))
        .await
    {
        Ok(after) => {
            let after = after.into_inner();
            let notice = Notice::Imported {
                applied_seq: after.district_applied_seq,
                refusals: after.district_refusals.len(),
            };
            page(&state, &staff, Some(notice), StatusCode::OK).await
        }
        Err(status)
            if status.code() == tonic::Code::InvalidArgument
                || status.code() == tonic::Code::FailedPrecondition =>
        {
            let message = wire::status::vietnamese_message(&status).unwrap_or_default();
            page(
                &state,
                &staff,
                Some(Notice::Refused(message)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(status) => Err(PageError::from_status(&status)),
    }
}
