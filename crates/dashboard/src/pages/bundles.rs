//! `/nhap-goi`: *Nhập gói dữ liệu của trường* — an officer uploads the signed bundle (.ttgoi)
//! a school with no connection sent on a USB stick, and reads what the district did with it;
//! `/nhap-goi/phan-hoi/{code}` downloads the school's signed reply bundle to carry back.
//!
//! The aggregator does everything (`ImportBundle`, `ExportReply`, `docs/bundles.md`): it
//! verifies the bundle against the school's registered key and refuses, with a Vietnamese
//! reason shown here, a bundle that is tampered with, truncated or signed by another school.
//! The page only carries bytes. Officers and administrators; the aggregator refuses others.

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use wire::pb;

use crate::DashboardState;
use crate::error::PageError;
use crate::layout::{self, Nav};
use crate::session::Viewer;

/// The route of the page.
pub const ROUTE: &str = "/nhap-goi";
/// The largest upload accepted (the aggregator's own bound over gRPC is the same).
pub const MAX_UPLOAD_BYTES: usize = 512 << 20;

/// What the page shows above the form.
enum Outcome {
    Imported(pb::ImportBundleReply),
    Refused(String),
}

fn district_only(viewer: &Viewer) -> Result<(), PageError> {
    if viewer.own_school().is_some() {
        return Err(PageError::Forbidden {
            vietnamese: "Tài khoản của bạn không được nhập gói dữ liệu của trường.".into(),
        });
    }
    Ok(())
}

pub async fn show(viewer: Viewer) -> Result<Markup, PageError> {
    district_only(&viewer)?;
    let schools = viewer.aggregator.schools().await?;
    Ok(render(&viewer, None, &schools))
}

pub async fn upload(
    State(state): State<DashboardState>,
    viewer: Viewer,
    mut form: Multipart,
) -> Result<Markup, PageError> {
    district_only(&viewer)?;
    let bad_form = |reason: String| PageError::BadRequest {
        english: format!("bundle upload: {reason}"),
        vietnamese: "Không đọc được tệp tải lên; hãy chọn lại tệp .ttgoi và gửi lại.".into(),
    };
    let mut csrf = String::new();
    let mut bytes = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| bad_form(e.to_string()))?
    {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(|e| bad_form(e.to_string()))?,
            Some("goi") => {
                bytes = Some(
                    field
                        .bytes()
                        .await
                        .map_err(|e| bad_form(e.to_string()))?
                        .to_vec(),
                );
            }
            _ => {}
        }
    }
    viewer.check_csrf(&state, &csrf)?;
    let outcome = match bytes.filter(|b| !b.is_empty()) {
        None => Outcome::Refused("Chưa chọn tệp gói dữ liệu (.ttgoi).".into()),
        Some(bytes) => {
            match viewer.aggregator.import_bundle(bytes).await {
                Ok(reply) => Outcome::Imported(reply),
                Err(status) => {
                    tracing::warn!(code = ?status.code(), message = status.message(), "bundle import refused");
                    Outcome::Refused(wire::status::vietnamese_message(&status).unwrap_or_else(
                        || "Máy chủ tổng hợp không trả lời; hãy thử lại sau.".to_owned(),
                    ))
                }
            }
        }
    };
    let schools = viewer.aggregator.schools().await?;
    Ok(render(&viewer, Some(outcome), &schools))
}

pub async fn reply(viewer: Viewer, Path(code): Path<String>) -> Result<Response, PageError> {
    district_only(&viewer)?;
    let (bytes, name) = viewer.aggregator.export_reply(&code).await?;
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

fn render(viewer: &Viewer, outcome: Option<Outcome>, schools: &[pb::EnrolledSchool]) -> Markup {
    let title = "Nhập gói dữ liệu của trường";
    let body = html! {
        h1 { (title) }
        p.lead { "Trường mất kết nối có thể chép dữ liệu ra USB (trang " i { "Xuất dữ liệu gửi Phòng" } " của trường) "
            "và mang đến Phòng. Phòng kiểm tra chữ ký của trường trước khi nhận; gói bị sửa, bị cắt cụt "
            "hoặc do trường khác ký sẽ bị từ chối. Nhập lại một gói đã nhận không làm thay đổi gì." }
        @match &outcome {
            Some(Outcome::Imported(r)) => {
                section.notice role="status" id="ket-qua-nhap-goi" {
                    p { (r.message_vi) }
                    p { a id="tai-phan-hoi" href={ (ROUTE) "/phan-hoi/" (r.school) } { "Tải gói phản hồi cho trường " (r.school) } }
                }
            }
            Some(Outcome::Refused(message)) => {
                p.refusal role="alert" id="goi-bi-tu-choi" { "Không nhận gói: " (message) }
            }
            None => {}
        }
        section.card {
            h2 { "Tải gói lên" }
            form method="post" action=(ROUTE) enctype="multipart/form-data" id="nhap-goi" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                label { "Tệp gói dữ liệu (.ttgoi)"
                    input type="file" name="goi" accept=".ttgoi" required;
                }
                button type="submit" { "Nhập gói" }
            }
        }
        section.card {
            h2 { "Gói phản hồi cho trường" }
            p { "Gói phản hồi ghi những gì Phòng đã nhận, đã từ chối hoặc đang giữ lại, và chỉ tiêu của Phòng; "
                "chép vào USB để trường nhập ở trang " i { "Nhập phản hồi của Phòng" } "." }
            ul id="goi-phan-hoi" {
                @for s in schools {
                    li { a href={ (ROUTE) "/phan-hoi/" (s.code) } { (s.name) } }
                }
            }
        }
    };
    layout::page(title, Nav::Bundles, Some(viewer), body)
}
