//! The HTTP side of reporting: report downloads for the dashboard and for anyone with a
//! browser, beside the dashboard's own pages (merged in by [`crate::run`]).
//!
//! - `GET /bao-cao/tai-ve?ky=<period>&dinh-dang=<docx|xlsx|html|csv|json>[&truong=<school>][&so=<number>]`
//!   — the file, as an attachment with its Vietnamese name;
//! - `GET /bao-cao/xem?ky=<period>[&truong=<school>][&so=<number>]` — the printable page,
//!   inline.
//!
//! A bad request gets a short Vietnamese page naming the parameter and the rule, with status
//! 400 (invalid), 404 (no such school) or 409 (no district plan yet); an unreachable
//! aggregator 503; our own faults 500 — never a trace.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{FromRef, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use dashboard::DashboardState;
use dashboard::session::{ClientAddress, Viewer};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use tracing::warn;

use crate::error::{RefusalKind, ReportError};
use crate::render::RenderedFile;
use crate::render::html::escape;
use crate::request::{Fields, Format, ReportRequest};
use crate::server::Reporter;

/// What the download routes need: the reporter, and the dashboard's state to know who is
/// signed in (the same session cookie as the dashboard's pages).
#[derive(Debug, Clone)]
pub struct HttpState {
    reporter: Reporter,
    dashboard: DashboardState,
}

impl FromRef<HttpState> for DashboardState {
    fn from_ref(state: &HttpState) -> Self {
        state.dashboard.clone()
    }
}

/// The download and view routes. A report is made for the signed-in person, on their
/// behalf: without a session the browser goes to the sign-in page, and a school head gets
/// their own school's reports only (403 otherwise).
pub fn router(reporter: Reporter, dashboard: DashboardState) -> Router {
    Router::new()
        .route("/bao-cao/tai-ve", get(download))
        .route("/bao-cao/xem", get(view))
        .with_state(HttpState {
            reporter,
            dashboard,
        })
}

type Params = Query<HashMap<String, String>>;

fn request(params: &HashMap<String, String>, format: &str) -> Result<ReportRequest, ReportError> {
    let fields = Fields::VI;
    let get = |name: &str| params.get(name).map(String::as_str);
    ReportRequest::parse(
        &fields,
        get(fields.period).unwrap_or_default(),
        get(fields.school),
        format,
        get(fields.number),
    )
}

async fn download(
    State(state): State<HttpState>,
    viewer: Viewer,
    ClientAddress(address): ClientAddress,
    Query(params): Params,
) -> Response {
    let format = params
        .get(Fields::VI.format)
        .map(String::as_str)
        .unwrap_or_default()
        .to_string();
    respond(&state, &viewer, address, &params, &format, true).await
}

async fn view(
    State(state): State<HttpState>,
    viewer: Viewer,
    ClientAddress(address): ClientAddress,
    Query(params): Params,
) -> Response {
    respond(
        &state,
        &viewer,
        address,
        &params,
        Format::Html.extension(),
        false,
    )
    .await
}

async fn respond(
    state: &HttpState,
    viewer: &Viewer,
    address: Option<String>,
    params: &HashMap<String, String>,
    format: &str,
    attachment: bool,
) -> Response {
    let mut request = match request(params, format) {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    // A school head's reports are their school's, whether or not the address says so.
    if request.school.is_none()
        && let Some(own) = viewer.own_school()
    {
        request.school = domain::Slug::parse(Fields::VI.school, own).ok();
    }
    let person = match state
        .reporter
        .person(viewer.session(), address.as_deref())
        .await
    {
        Ok(person) => person,
        Err(e) => return error_page(&e),
    };
    match state
        .reporter
        .report_for(&person, &request, &Fields::VI)
        .await
    {
        Ok(file) => file_response(file, attachment),
        Err(e) => {
            if !matches!(e, ReportError::Refused(_)) {
                warn!(error = %e, period = %request.period, "report failed");
            }
            error_page(&e)
        }
    }
}

/// `attachment; filename="<ASCII>"; filename*=UTF-8''<the Vietnamese name>` (RFC 6266).
pub fn content_disposition(file_name: &str, attachment: bool) -> String {
    let ascii: String = domain::district::fold_vietnamese(file_name)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "{}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        if attachment { "attachment" } else { "inline" },
        utf8_percent_encode(file_name, NON_ALPHANUMERIC)
    )
}

fn file_response(file: RenderedFile, attachment: bool) -> Response {
    let disposition = content_disposition(&file.file_name, attachment);
    let mut response = (StatusCode::OK, file.bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.media_type),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The HTTP status of a failure.
pub fn status(e: &ReportError) -> StatusCode {
    match e {
        ReportError::Refused(r) => match r.kind {
            RefusalKind::InvalidArgument => StatusCode::BAD_REQUEST,
            RefusalKind::NotFound => StatusCode::NOT_FOUND,
            RefusalKind::FailedPrecondition => StatusCode::CONFLICT,
            RefusalKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            RefusalKind::PermissionDenied => StatusCode::FORBIDDEN,
        },
        ReportError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        ReportError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn error_page(e: &ReportError) -> Response {
    let message = escape(&e.vietnamese());
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Không tạo được báo cáo</title>\
<style>body{{font-family:\"Times New Roman\",serif;font-size:14pt;max-width:40em;margin:3em auto;}}h1{{font-size:16pt;}}</style></head>\
<body><h1>Không tạo được báo cáo</h1><p>{message}</p>\
<p>Kỳ báo cáo ghi theo một trong các dạng: <code>2018-Q1</code> (quý), <code>2017-2018-HK1</code> (học kỳ), <code>2017-2018</code> (năm học), <code>2018</code> (năm), <code>2018-03</code> (tháng), <code>plan</code> (cả giai đoạn). \
Định dạng: <code>docx</code>, <code>xlsx</code>, <code>html</code>, <code>csv</code>, <code>json</code>.</p>\
<p><a href=\"/\">Về trang tổng hợp</a></p></body></html>\n"
    );
    (
        status(e),
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_survives_in_both_forms() {
        let d = content_disposition("Báo cáo truyền thông GDĐT quý I năm 2018.docx", true);
        assert!(d.starts_with("attachment; filename=\"bao-cao-truyen-thong-gddt-quy-i-nam-2018.docx\"; filename*=UTF-8''B%C3%A1o%20c%C3%A1o"), "{d}");
    }
}
