//! `/minh-chung/{loai}/{id}`: a record's evidence files (photos, a scanned minute, a PDF) and
//! the form that attaches one (*Đính kèm minh chứng*); `/minh-chung/tep/{sha256}` shows one.
//!
//! The upload is a multipart form, like the plan's. The file goes to the agent's
//! `AttachEvidence` whole; the agent hashes it, stores it and records `evidence.attached`, so
//! its refusals (type, size, a file attached twice, the duty) are the domain's, shown in
//! Vietnamese above the form. A file larger than the limit is refused here already, with the
//! same words, so a 200 MB video is not carried to the agent first. Each file says whether it
//! has reached the district (*đã gửi Phòng*) or waits on this PC (*chưa gửi*).

use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::duties::Duty;
use domain::evidence::{EvidenceTarget, MAX_FILE_SIZE, MEDIA_TYPES};
use domain::vi;
use maud::{Markup, html};
use uuid::Uuid;
use wire::pb;

use crate::AppState;
use crate::error::PageError;
use crate::layout::{self, Nav};
use crate::session::Staff;

/// The body limit of the upload: the file limit and a margin, so that a file just over the
/// limit still reaches the size check and its message.
pub fn body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(MAX_FILE_SIZE as usize + 1024 * 1024)
}

/// The URL's record kind (Vietnamese slugs) and the record.
fn target(kind: &str, id: &str) -> Result<EvidenceTarget, PageError> {
    let id = Uuid::parse_str(id).map_err(|_| PageError::NotFound)?;
    Ok(match kind {
        "hoat-dong" => EvidenceTarget::Activity(id),
        "phong-vien" => EvidenceTarget::ReporterVisit(id),
        "tra-loi-bao-chi" => EvidenceTarget::PressAnswer(id),
        "chung-tu-chi" => EvidenceTarget::Expense(id),
        _ => return Err(PageError::NotFound),
    })
}

/// The URL slug of a record kind.
pub fn slug(record: &EvidenceTarget) -> &'static str {
    match record {
        EvidenceTarget::Activity(_) => "hoat-dong",
        EvidenceTarget::ReporterVisit(_) => "phong-vien",
        EvidenceTarget::PressAnswer(_) => "tra-loi-bao-chi",
        EvidenceTarget::Expense(_) => "chung-tu-chi",
    }
}

/// The page of `record`'s evidence.
pub fn href(record: &EvidenceTarget) -> String {
    format!("/minh-chung/{}/{}", slug(record), record.id())
}

/// The duty that may attach to `record`: the one that records it.
fn duty(record: &EvidenceTarget) -> Duty {
    match record {
        EvidenceTarget::Activity(_) => Duty::Activities,
        EvidenceTarget::ReporterVisit(_) | EvidenceTarget::PressAnswer(_) => Duty::Press,
        EvidenceTarget::Expense(_) => Duty::Spending,
    }
}

/// The media type of an upload: what the browser said, else what the name's extension says.
fn media_type_of(declared: Option<&str>, name: &str) -> String {
    let declared = declared.unwrap_or("").trim().to_ascii_lowercase();
    if MEDIA_TYPES.contains(&declared.as_str()) {
        return declared;
    }
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg".into(),
        "png" => "image/png".into(),
        "webp" => "image/webp".into(),
        "pdf" => "application/pdf".into(),
        _ if declared.is_empty() => "application/octet-stream".into(),
        _ => declared,
    }
}

async fn files_of(
    staff: &Staff,
    record: &EvidenceTarget,
) -> Result<Vec<pb::AgentEvidenceFile>, PageError> {
    Ok(staff
        .agent
        .clone()
        .list_evidence(pb::ListAgentEvidenceRequest {
            record_kind: record.kind().to_owned(),
            record_id: record.id().to_string(),
        })
        .await
        .map_err(|s| PageError::from_status(&s))?
        .into_inner()
        .files)
}

fn body(
    staff: &Staff,
    record: &EvidenceTarget,
    files: &[pb::AgentEvidenceFile],
    refusal: Option<&str>,
) -> Markup {
    let may_attach = duty(record).allows(staff.role());
    html! {
        section.card {
            h1 { "Minh chứng: " (record.label_vi().to_lowercase()) }
            p.muted { "Mã hồ sơ " (record.id()) }
            @if files.is_empty() {
                p.muted id="chua-co" { "Chưa có tệp minh chứng nào." }
            } @else {
                table.evidence id="minh-chung" {
                    thead { tr { th { "Tệp" } th { "Dung lượng" } th { "Gửi Phòng" } } }
                    tbody {
                        @for f in files {
                            tr data-sha256=(f.sha256) data-uploaded=(f.uploaded) {
                                td { a href={ "/minh-chung/tep/" (f.sha256) } target="_blank" { (f.name) } br; span.muted { (f.media_type) } }
                                td { (vi::file_size(f.size)) }
                                td {
                                    @if f.uploaded { span.state.da-gui data-delivery="da-gui" { "đã gửi Phòng" } }
                                    @else { span.state.chua-gui data-delivery="chua-gui" { "chưa gửi" } }
                                }
                            }
                        }
                    }
                }
            }
            @if may_attach {
                h2 { "Đính kèm minh chứng" }
                p.muted { "Ảnh JPEG, PNG, WebP hoặc tệp PDF, mỗi tệp tối đa " (vi::file_size(MAX_FILE_SIZE)) ". Tệp được lưu trên máy này và gửi về Phòng khi có mạng." }
                @if let Some(r) = refusal { p.notice.error id="loi-tep" { (r) } }
                form.record method="post" action=(href(record)) enctype="multipart/form-data" {
                    input type="hidden" name="csrf" value=(staff.csrf());
                    label for="tep" { "Tệp minh chứng" }
                    input id="tep" name="tep" type="file" accept=".jpg,.jpeg,.png,.webp,.pdf,image/jpeg,image/png,image/webp,application/pdf";
                    button.primary type="submit" id="dinh-kem" { "Đính kèm minh chứng" }
                }
            } @else {
                p.muted { "Đính kèm minh chứng thuộc nhiệm vụ «" (duty(record).label_vi()) "»." }
            }
        }
    }
}

fn respond(state: &AppState, staff: &Staff, body: Markup, code: StatusCode) -> Response {
    let page = layout::page(
        &state.school_name,
        "Minh chứng",
        Nav::Activities,
        staff,
        None,
        body,
    );
    (code, Html(page.into_string())).into_response()
}

pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let record = target(&kind, &id)?;
    let files = files_of(&staff, &record).await?;
    Ok(respond(
        &state,
        &staff,
        body(&staff, &record, &files, None),
        StatusCode::OK,
    ))
}

pub async fn attach(
    State(state): State<AppState>,
    staff: Staff,
    Path((kind, id)): Path<(String, String)>,
    mut upload: Multipart,
) -> Result<Response, PageError> {
    let record = target(&kind, &id)?;
    let too_large = format!(
        "Tệp quá lớn: mỗi tệp minh chứng tối đa {}.",
        vi::file_size(MAX_FILE_SIZE)
    );
    let mut csrf = String::new();
    let mut file: Option<(String, String, Vec<u8>)> = None;
    let mut refusal: Option<String> = None;
    loop {
        match upload.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("csrf") => csrf = field.text().await.unwrap_or_default(),
                Some("tep") => {
                    let name = field.file_name().unwrap_or("").to_owned();
                    let media_type = media_type_of(field.content_type(), &name);
                    match field.bytes().await {
                        Ok(bytes) => file = Some((name, media_type, bytes.to_vec())),
                        Err(_) => {
                            refusal = Some(too_large.clone());
                            break;
                        }
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(_) => {
                refusal = Some(too_large.clone());
                break;
            }
        }
    }
    if refusal.is_none() {
        staff.check_csrf(&state, &csrf)?;
    }
    let refusal = match (refusal, file) {
        (Some(r), _) => Some(r),
        (None, None) => Some("Chưa chọn tệp minh chứng.".to_owned()),
        (None, Some((_, _, bytes))) if bytes.is_empty() => {
            Some("Chưa chọn tệp minh chứng, hoặc tệp rỗng.".to_owned())
        }
        (None, Some((_, _, bytes))) if bytes.len() as u64 > MAX_FILE_SIZE => Some(format!(
            "Tệp nặng {}, vượt quá giới hạn {}.",
            vi::file_size(bytes.len() as u64),
            vi::file_size(MAX_FILE_SIZE)
        )),
        (None, Some((name, media_type, content))) => {
            let size = content.len();
            let sent = staff
                .agent
                .clone()
                .attach_evidence(pb::AttachEvidenceRequest {
                    header: None,
                    record_kind: record.kind().to_owned(),
                    record_id: record.id().to_string(),
                    name: name.clone(),
                    media_type,
                    content,
                })
                .await;
            match sent {
                Ok(_) => {
                    tracing::info!(file = %name, bytes = size, record = record.kind(), "evidence attached");
                    return Ok(Redirect::to(&href(&record)).into_response());
                }
                Err(status) => match status.code() {
                    tonic::Code::InvalidArgument
                    | tonic::Code::AlreadyExists
                    | tonic::Code::FailedPrecondition
                    | tonic::Code::NotFound => Some(
                        wire::status::vietnamese_message(&status)
                            .unwrap_or_else(|| "Máy không nhận tệp này.".to_owned()),
                    ),
                    _ => return Err(PageError::from_status(&status)),
                },
            }
        }
    };
    let files = files_of(&staff, &record).await?;
    Ok(respond(
        &state,
        &staff,
        body(&staff, &record, &files, refusal.as_deref()),
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

/// One file, as the browser shows it: its media type, `inline`, never sniffed.
pub async fn file(staff: Staff, Path(sha256): Path<String>) -> Result<Response, PageError> {
    if !domain::evidence::is_sha256_hex(&sha256) {
        return Err(PageError::NotFound);
    }
    let mut agent = staff.agent.clone();
    let listed = agent
        .list_evidence(pb::ListAgentEvidenceRequest::default())
        .await
        .map_err(|s| PageError::from_status(&s))?
        .into_inner()
        .files;
    let media_type = listed
        .iter()
        .find(|f| f.sha256 == sha256)
        .and_then(|f| MEDIA_TYPES.iter().find(|t| **t == f.media_type).copied())
        .ok_or(PageError::NotFound)?;
    let content = agent
        .get_evidence(pb::GetEvidenceRequest {
            sha256: sha256.clone(),
        })
        .await
        .map_err(|s| PageError::from_status(&s))?
        .into_inner()
        .content;
    let mut response = content.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_media_type_falls_back_on_the_extension() {
        assert_eq!(media_type_of(Some("image/png"), "a.bin"), "image/png");
        assert_eq!(media_type_of(None, "Biên bản.PDF"), "application/pdf");
        assert_eq!(
            media_type_of(Some("application/octet-stream"), "anh.jpg"),
            "image/jpeg"
        );
        assert_eq!(
            media_type_of(Some("application/zip"), "a.zip"),
            "application/zip"
        );
    }
}
