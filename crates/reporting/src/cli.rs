//! The `reporting bao-cao` command (alias `report`): writes one report to a file, with
//! progress on stderr in Vietnamese. It reads the aggregator directly, like the service.

use std::path::{Path, PathBuf};

use crate::compose::{Issue, compose};
use crate::config::Settings;
use crate::error::ReportError;
use crate::gather::gather;
use crate::render::render;
use crate::request::{Fields, ReportRequest};
use crate::server::Reporter;

/// What `bao-cao` was asked, as typed.
#[derive(Debug, Clone)]
pub struct ReportArgs {
    pub period: String,
    pub format: String,
    pub school: Option<String>,
    pub number: Option<String>,
    /// The output file; by default the report's own name in the current directory.
    pub out: Option<PathBuf>,
}

/// A finished report file.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: PathBuf,
    pub bytes: usize,
}

/// Makes the report and writes it, telling `progress` each step.
pub async fn write_report(
    settings: &Settings,
    args: &ReportArgs,
    mut progress: impl FnMut(String),
) -> Result<Written, ReportError> {
    let fields = Fields::VI;
    let request = ReportRequest::parse(
        &fields,
        &args.period,
        args.school.as_deref(),
        &args.format,
        args.number.as_deref(),
    )?;
    let client = settings
        .aggregator
        .client()
        .map_err(|e| ReportError::Internal(e.to_string()))?;
    progress(format!(
        "Đang lấy số liệu từ máy chủ tổng hợp {} …",
        settings.aggregator.url
    ));
    let today = Reporter::today();
    let data = gather(&client, &request, &fields, today).await?;
    let report = compose(
        &data,
        &Issue {
            office: &settings.office,
            number: request.number.as_deref(),
            issued_on: today,
        },
    );
    progress(format!(
        "Đang soạn {} ({} bảng, {} biểu đồ) …",
        report
            .subtitle
            .to_lowercase()
            .replacen("kết quả", "báo cáo kết quả", 1),
        report.tables().count(),
        report.figures().count()
    ));
    progress(format!(
        "Đang xuất tệp {} …",
        request.format.extension().to_uppercase()
    ));
    let file = render(&report, request.format).map_err(|e| ReportError::Internal(e.to_string()))?;
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new(".").join(&file.file_name));
    std::fs::write(&path, &file.bytes)
        .map_err(|e| ReportError::Internal(format!("writing {}: {e}", path.display())))?;
    Ok(Written {
        path,
        bytes: file.bytes.len(),
    })
}

/// The exit code of a failed command: 2 for a request to fix, 3 for an aggregator to wait
/// for, 1 otherwise.
pub fn exit_code(e: &ReportError) -> i32 {
    match e {
        ReportError::Refused(_) => 2,
        ReportError::Unavailable(_) => 3,
        ReportError::Internal(_) => 1,
    }
}
