//! A school's evidence files on its page, and `/truong/{code}/minh-chung/{sha256}`, which
//! serves one received file.
//!
//! The list reads `ListEvidence`: each record's files with their name, size and state at the
//! district (*đã nhận*, *đang chờ*, *bị từ chối* with the reason). Only a received file —
//! whose size and SHA-256 the aggregator checked — has a link; the route asks `GetEvidence`
//! on the viewer's behalf, so it is scoped as the school's page is (a school head's own
//! school only), and answers the file with its media type, `inline` for the allowed types
//! (images and PDF) and `nosniff`, so a browser never reads it as anything else.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use domain::vi;
use wire::pb;

use crate::error::PageError;
use crate::session::Viewer;

/// The record kind in Vietnamese.
fn record_label(kind: &str) -> &'static str {
    match kind {
        "activity" => "Hoạt động",
        "reporter_visit" => "Đón tiếp phóng viên",
        "press_answer" => "Trả lời báo chí",
        "expense" => "Chứng từ chi",
        _ => "Hồ sơ khác",
    }
}

/// The state of a file at the district in Vietnamese.
pub fn state_label(state: &str) -> &'static str {
    match state {
        "received" => "đã nhận",
        "refused" => "bị từ chối",
        _ => "đang chờ",
    }
}

/// The page's section: every record's files.
pub fn section(code: &str, list: &pb::ListEvidenceReply) -> Markup {
    html! {
        h2 { "Minh chứng" }
        @if list.files.is_empty() {
            p.muted { "Trường chưa gửi tệp minh chứng nào." }
        } @else {
            div.scroll { table id="minh-chung" {
                thead { tr {
                    th { "Hồ sơ" } th { "Tệp" } th.num { "Dung lượng" } th { "Tình trạng" }
                } }
                tbody {
                    @for f in &list.files {
                        tr data-sha256=(f.sha256) data-state=(f.state) data-record=(f.record_id) {
                            td { (record_label(&f.record_kind)) br; small.muted { (f.record_id) } }
                            td {
                                @if f.state == "received" {
                                    a href={ "/truong/" (code) "/minh-chung/" (f.sha256) } { (f.name) }
                                } @else { (f.name) }
                                br; small.muted { (f.media_type) }
                            }
                            td.num { (vi::file_size(f.size)) }
                            td {
                                @match f.state.as_str() {
                                    "received" => span.badge.ok { (state_label(&f.state)) },
                                    "refused" => {
                                        span.badge.warn { (state_label(&f.state)) }
                                        br; small.muted { (f.refused) }
                                    }
                                    _ => span.badge { (state_label(&f.state)) },
                                }
                            }
                        }
                    }
                }
            } }
        }
    }
}

/// `filename*=` of RFC 5987: UTF-8, percent-encoded.
fn encoded_filename(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An ASCII fallback name for old browsers: what is not ASCII-safe becomes `_`.
fn ascii_filename(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub async fn serve(
    viewer: Viewer,
    Path((code, sha256)): Path<(String, String)>,
) -> Result<Response, PageError> {
    if !viewer.may_see_school(&code) {
        return Err(crate::session::forbidden("minh chứng của trường khác"));
    }
    if !domain::evidence::is_sha256_hex(&sha256) {
        return Err(PageError::NoSuchPage(format!(
            "/truong/{code}/minh-chung/{sha256}"
        )));
    }
    let file = viewer.aggregator.evidence_file(&code, &sha256).await?;
    let media_type = domain::evidence::MEDIA_TYPES
        .iter()
        .find(|t| **t == file.media_type)
        .copied()
        .unwrap_or("application/octet-stream");
    let disposition = if media_type == "application/octet-stream" {
        "attachment"
    } else {
        "inline"
    };
    let mut response = file.content.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{disposition}; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_filename(&file.name),
        encoded_filename(&file.name)
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vietnamese_file_name_is_encoded_for_the_header() {
        assert_eq!(
            encoded_filename("Biên bản.pdf"),
            "Bi%C3%AAn%20b%E1%BA%A3n.pdf"
        );
        assert_eq!(ascii_filename("Biên bản.pdf"), "Bi_n_b_n.pdf");
    }
}
