//! The HTTP routes: report downloads with a Vietnamese file name, the printable page inline,
//! health over gRPC, and the dashboard merged into the same server.

use percent_encoding::percent_decode_str;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use wire::pb;

use crate::support::Env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_download_as_attachments_with_vietnamese_names() {
    let env = Env::start().await;
    {
        let http = env.web();
        let cases = [
            (
                "docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                &b"PK"[..],
            ),
            (
                "xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &b"PK"[..],
            ),
            ("html", "text/html; charset=utf-8", &b"<!DOCTYPE html>"[..]),
            ("csv", "text/csv; charset=utf-8", &[0xEF, 0xBB, 0xBF][..]),
            ("json", "application/json", &b"{"[..]),
        ];
        for (format, media_type, magic) in cases {
            let response = http
                .get(env.http_url(&format!(
                    "/bao-cao/tai-ve?ky=2018-Q1&dinh-dang={format}&truong=thcs-an-hoa&so=12"
                )))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200, "{format}");
            assert_eq!(response.headers()["content-type"], media_type);
            let disposition = response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(
                disposition.starts_with("attachment; filename=\""),
                "{disposition}"
            );
            let encoded = disposition.split("filename*=UTF-8''").nth(1).unwrap();
            assert_eq!(
                percent_decode_str(encoded).decode_utf8().unwrap(),
                format!("Báo cáo truyền thông GDĐT Trường THCS An Hòa quý I năm 2018.{format}")
            );
            let body = response.bytes().await.unwrap();
            assert!(body.starts_with(magic), "{format}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printable_page_is_inline_html_with_svg_charts_and_no_script() {
    let env = Env::start().await;
    {
        let response = env
            .web()
            .get(env.http_url("/bao-cao/xem?ky=2017-2018-HK1&so=7"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("inline;")
        );
        let page = response.text().await.unwrap();
        for expected in [
            "@page { size: A4;",
            "UBND HUYỆN TAM NÔNG",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Số: 7/BC-PGDĐT",
            "Kết quả thực hiện kế hoạch truyền thông về giáo dục và đào tạo học kỳ I năm học 2017-2018",
            "<svg",
            "Nơi nhận:",
            "TRƯỞNG PHÒNG",
        ] {
            assert!(page.contains(expected), "the page lacks {expected}");
        }
        assert!(!page.contains("<script"), "the page has a script");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reporting_serves_health_and_the_dashboard_beside_the_reports() {
    let env = Env::start().await;
    {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", env.grpc))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut health = HealthClient::new(channel);
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: "truyenthong.v1.Reporting".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32);

        let response = env
            .web()
            .get(env.http_url("/?ky=2018-2019"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "the dashboard's plan view");

        // The gRPC JSON export parses and carries the period.
        let json = env.generate("2018", "", pb::ReportFormat::Json).await;
        let value: serde_json::Value = serde_json::from_slice(&json.content).unwrap();
        assert_eq!(value["meta"]["period"], "2018");
        assert_eq!(value["meta"]["period_words"], "năm 2018");
        assert!(value["sections"].as_array().unwrap().len() == 4);
    }
}
