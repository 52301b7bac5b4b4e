//! Bad requests get a clear Vietnamese message naming the field, over gRPC (status code,
//! `BadRequest` field violation, `vi-VN` `LocalizedMessage`) and over HTTP (a Vietnamese page
//! with 400 / 404) — never a trace; an unreachable aggregator is UNAVAILABLE / 503.

use tonic::Code;
use wire::pb;
use wire::pb::reporting_client::ReportingClient;

use crate::support::{Env, settings, start_reporting};

fn request(period: &str, school: &str, format: pb::ReportFormat) -> pb::GenerateReportRequest {
    pb::GenerateReportRequest {
        period: period.into(),
        school: school.into(),
        format: format.into(),
        number: String::new(),
    }
}

/// (period, school, format, code, field, words the Vietnamese message must hold)
const CASES: &[(&str, &str, pb::ReportFormat, Code, &str, &str)] = &[
    (
        "2018-Q5",
        "",
        pb::ReportFormat::Docx,
        Code::InvalidArgument,
        "period",
        "«2018-Q5» không hợp lệ",
    ),
    (
        "quy 1",
        "",
        pb::ReportFormat::Docx,
        Code::InvalidArgument,
        "period",
        "«quy 1»",
    ),
    (
        "2030",
        "",
        pb::ReportFormat::Docx,
        Code::InvalidArgument,
        "period",
        "báo cáo 2030 (01/01/2030 – 31/12/2030) nằm ngoài thời gian thực hiện kế hoạch (18/10/2017 – 31/12/2020)",
    ),
    (
        "2018-Q1",
        "thcs-khong-co",
        pb::ReportFormat::Docx,
        Code::NotFound,
        "school",
        "Không có trường mã «thcs-khong-co» trong danh sách các trường của huyện",
    ),
    (
        "2018-Q1",
        "THCS An Hòa",
        pb::ReportFormat::Docx,
        Code::InvalidArgument,
        "school",
        "«THCS An Hòa» không hợp lệ",
    ),
    (
        "2018-Q1",
        "",
        pb::ReportFormat::Unspecified,
        Code::InvalidArgument,
        "format",
        "Chưa chọn định dạng báo cáo",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_over_grpc_name_the_field_in_vietnamese() {
    let env = Env::start().await;
    {
        let mut client = env.reporting().await;
        for (period, school, format, code, field, words) in CASES {
            let status = client
                .generate_report(request(period, school, *format))
                .await
                .unwrap_err();
            assert_eq!(status.code(), *code, "{period} {school}: {status:?}");
            assert_eq!(
                wire::status::violated_field(&status).as_deref(),
                Some(*field),
                "{status:?}"
            );
            assert!(status.message().starts_with(field), "{}", status.message());
            let vi = wire::status::vietnamese_message(&status).unwrap();
            assert!(vi.contains(words), "{vi:?} lacks {words:?}");
            assert!(vi.ends_with(&format!("(trường dữ liệu: {field})")), "{vi}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_over_http_get_a_vietnamese_page() {
    let env = Env::start().await;
    {
        let http = env.web();
        let cases = [
            (
                "/bao-cao/tai-ve?ky=2018-Q5&dinh-dang=docx",
                400,
                "«2018-Q5»",
                "ky",
            ),
            (
                "/bao-cao/tai-ve?ky=2030&dinh-dang=xlsx",
                400,
                "nằm ngoài thời gian thực hiện kế hoạch",
                "ky",
            ),
            (
                "/bao-cao/tai-ve?ky=2018-Q1&dinh-dang=docx&truong=thcs-khong-co",
                404,
                "Không có trường mã «thcs-khong-co»",
                "truong",
            ),
            (
                "/bao-cao/tai-ve?ky=2018-Q1&dinh-dang=pdf",
                400,
                "Định dạng «pdf» không hỗ trợ",
                "dinh-dang",
            ),
            (
                "/bao-cao/tai-ve?dinh-dang=docx",
                400,
                "Chưa chọn kỳ báo cáo",
                "ky",
            ),
            (
                "/bao-cao/xem?ky=2016",
                400,
                "nằm ngoài thời gian thực hiện kế hoạch",
                "ky",
            ),
        ];
        for (path, code, words, field) in cases {
            let response = http.get(env.http_url(path)).send().await.unwrap();
            assert_eq!(response.status().as_u16(), code, "{path}");
            assert_eq!(
                response.headers()["content-type"],
                "text/html; charset=utf-8",
                "{path}"
            );
            let body = response.text().await.unwrap();
            assert!(body.contains("Không tạo được báo cáo"), "{path}: {body}");
            assert!(body.contains(words), "{path}: {body}");
            assert!(
                body.contains(&format!("(trường dữ liệu: {field})")),
                "{path}: {body}"
            );
            for leak in ["panicked", "backtrace", "Status {", "src/"] {
                assert!(!body.contains(leak), "{path} leaks {leak}: {body}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_aggregator_is_unavailable_in_vietnamese() {
    {
        // A port nobody listens on: bound, then released.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let (grpc, http) = start_reporting(settings(url, "tts_nobody-listens")).await;

        // A session reporting cannot check while the aggregator is away.
        let session = format!("ttp_{}", "C".repeat(43));
        let channel = district_fixture::credentials::channel(&format!("http://{grpc}"))
            .await
            .unwrap();
        let status = ReportingClient::new(
            service_runtime::Credential::bearer(&session)
                .unwrap()
                .on(channel),
        )
        .generate_report(request("2018-Q1", "", pb::ReportFormat::Docx))
        .await
        .unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        let vi = wire::status::vietnamese_message(&status).unwrap();
        assert!(
            vi.contains("Không kết nối được với máy chủ tổng hợp"),
            "{vi}"
        );

        let response = reqwest::Client::new()
            .get(format!(
                "http://{http}/bao-cao/tai-ve?ky=2018-Q1&dinh-dang=docx"
            ))
            .header(
                reqwest::header::COOKIE,
                format!("{}={session}", dashboard::session::COOKIE),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 503);
        let page = response.text().await.unwrap();
        assert!(
            page.contains("Không lấy được số liệu từ máy chủ tổng hợp"),
            "{page}"
        );
    }
}
