//! The gRPC service `truyenthong.v1.Reporting`, with `grpc.health.v1` and server reflection
//! like every server of the system. Thin: the request is parsed at the edge (fields named as
//! the proto names them), the [`Reporter`] does the work, and failures become statuses in one
//! place ([`ReportError::to_status`]).

use std::future::Future;

use tonic::{Request, Response, Status};
use tracing::warn;
use wire::pb;
use wire::pb::reporting_server::{Reporting, ReportingServer};

use crate::error::ReportError;
use crate::request::{Fields, Format, ReportRequest, parse_period};
use crate::server::Reporter;

/// The `Reporting` gRPC service.
#[derive(Debug, Clone)]
pub struct ReportingService {
    reporter: Reporter,
}

impl ReportingService {
    pub fn new(reporter: Reporter) -> Self {
        Self { reporter }
    }
}

/// The request's format enum as a [`Format`] (field `format`).
fn format(value: i32) -> Result<Format, ReportError> {
    match pb::ReportFormat::try_from(value) {
        Ok(pb::ReportFormat::Docx) => Ok(Format::Docx),
        Ok(pb::ReportFormat::Xlsx) => Ok(Format::Xlsx),
        Ok(pb::ReportFormat::Html) => Ok(Format::Html),
        Ok(pb::ReportFormat::Csv) => Ok(Format::Csv),
        Ok(pb::ReportFormat::Json) => Ok(Format::Json),
        Ok(pb::ReportFormat::Unspecified) => Err(ReportError::invalid(
            "format",
            "must be set: DOCX, XLSX, HTML, CSV or JSON",
            "chưa chọn định dạng báo cáo (DOCX, XLSX, HTML, CSV hoặc JSON)",
        )),
        Err(_) => Err(ReportError::invalid(
            "format",
            format!("{value} is not a ReportFormat (1..=5)"),
            format!("định dạng số {value} không hỗ trợ"),
        )),
    }
}

fn parse(r: pb::GenerateReportRequest) -> Result<ReportRequest, ReportError> {
    let fields = Fields::GRPC;
    // The period first: it is the field people most often get wrong.
    parse_period(fields.period, &r.period)?;
    let format = format(r.format)?;
    ReportRequest::parse(
        &fields,
        &r.period,
        Some(&r.school),
        format.extension(),
        Some(&r.number),
    )
}

#[tonic::async_trait]
impl Reporting for ReportingService {
    async fn generate_report(
        &self,
        request: Request<pb::GenerateReportRequest>,
    ) -> Result<Response<pb::GenerateReportReply>, Status> {
        // A person's session, as the aggregator issued it: the report is made on their
        // behalf and within what they may see.
        let session = service_runtime::credential::bearer_token(request.metadata())
            .ok_or_else(|| ReportError::unauthenticated().to_status())?;
        let address = request.remote_addr().map(|a| a.ip().to_string());
        let person = self
            .reporter
            .person(&session, address.as_deref())
            .await
            .map_err(|e| e.to_status())?;
        let request = parse(request.into_inner()).map_err(|e| e.to_status())?;
        match self
            .reporter
            .report_for(&person, &request, &Fields::GRPC)
            .await
        {
            Ok(file) => Ok(Response::new(pb::GenerateReportReply {
                file_name: file.file_name,
                media_type: file.media_type.to_string(),
                content: file.bytes,
            })),
            Err(e) => {
                if !matches!(e, ReportError::Refused(_)) {
                    warn!(error = %e, period = %request.period, "report failed");
                }
                Err(e.to_status())
            }
        }
    }
}

/// Serves the service, health and reflection on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    reporter: Reporter,
    settings: &crate::config::GrpcSettings,
) -> Result<(), service_runtime::ServeError> {
    service_runtime::GrpcServer::new(wire::FILE_DESCRIPTOR_SET)
        .configure(settings)
        .add_service(
            ReportingServer::new(ReportingService::new(reporter))
                .max_encoding_message_size(256 * 1024 * 1024),
        )
        .serve(listener, shutdown)
        .await
}
