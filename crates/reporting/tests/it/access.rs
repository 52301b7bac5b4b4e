//! Reports are made for a signed-in person: without a session the Reporting service is
//! UNAUTHENTICATED and a download goes to the sign-in page; a school head gets their own
//! school's reports only; every report made is in the audit trail as the person's download.

use district_fixture::credentials::{accounts_client_with, channel};
use tonic::Code;
use wire::pb;
use wire::pb::reporting_client::ReportingClient;

use crate::support::Env;

const SCHOOL: &str = "thcs-an-hoa";
const OTHER: &str = "th-phu-duc";

fn request(school: &str) -> pb::GenerateReportRequest {
    pb::GenerateReportRequest {
        period: "2018-Q1".into(),
        school: school.into(),
        format: pb::ReportFormat::Csv.into(),
        number: String::new(),
    }
}

/// A school head of [`SCHOOL`], signed in, the one-time password changed.
async fn school_head(env: &Env) -> String {
    district_fixture::credentials::signed_in_person(
        &env.district.aggregator_url(),
        &env.district.credentials.admin,
        "ht.an-hoa",
        "Võ Thị Hạnh",
        pb::AccountRole::SchoolHead,
        SCHOOL,
        "truong-an-hoa-bao-cao",
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_are_made_for_a_signed_in_person_within_their_scope() {
    let env = Env::start().await;

    // No session: UNAUTHENTICATED over gRPC, the sign-in page over HTTP.
    let anonymous = ReportingClient::new(channel(&format!("http://{}", env.grpc)).await.unwrap())
        .generate_report(request(SCHOOL))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    assert_eq!(
        wire::status::vietnamese_message(&anonymous).as_deref(),
        Some("Cần đăng nhập để tạo báo cáo.")
    );
    // Reporting's own service token is not a person.
    let as_service = env
        .reporting_as(&env.district.credentials.reporting)
        .await
        .generate_report(request(SCHOOL))
        .await
        .unwrap_err();
    assert_eq!(as_service.code(), Code::Unauthenticated);
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let download = no_redirects
        .get(env.http_url("/bao-cao/tai-ve?ky=2018-Q1&dinh-dang=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status().as_u16(), 303);
    assert!(
        download.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/dang-nhap?tiep=")
    );

    // A school head: their own school's report, not another's nor the district's.
    let head = school_head(&env).await;
    let mut reporting = env.reporting_as(&head).await;
    let own = reporting
        .generate_report(request(SCHOOL))
        .await
        .unwrap()
        .into_inner();
    assert!(!own.content.is_empty());
    for school in [OTHER, ""] {
        let refused = reporting
            .generate_report(request(school))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "school {school:?}");
        assert_eq!(
            wire::status::vietnamese_message(&refused).as_deref(),
            Some("Tài khoản Hiệu trưởng chỉ tạo được báo cáo của trường mình.")
        );
    }
    let cookie = format!("{}={head}", dashboard::session::COOKIE);
    let other = reqwest::Client::new()
        .get(env.http_url(&format!(
            "/bao-cao/tai-ve?ky=2018-Q1&dinh-dang=csv&truong={OTHER}"
        )))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 403);
    // Without a school, the head's download is their school's.
    let mine = reqwest::Client::new()
        .get(env.http_url("/bao-cao/tai-ve?ky=2018-Q1&dinh-dang=csv"))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status().as_u16(), 200);

    // The downloads are the head's, in the audit trail.
    let trail = accounts_client_with(
        &env.district.aggregator_url(),
        &env.district.credentials.admin,
    )
    .await
    .unwrap()
    .list_audit(pb::ListAuditRequest::default())
    .await
    .unwrap()
    .into_inner()
    .entries;
    let downloads = trail
        .iter()
        .filter(|e| e.action == "report_downloaded" && e.login == "ht.an-hoa")
        .count();
    assert_eq!(downloads, 2, "{trail:?}");
    assert!(
        trail
            .iter()
            .any(|e| e.action == "report_downloaded" && e.service == "reporting")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_report_asked_for_at_once_is_generated_once() {
    let env = Env::start().await;
    let settings = crate::support::settings(
        env.district.aggregator_url(),
        &env.district.credentials.reporting,
    );
    let reporter = reporting::Reporter::new(
        settings.aggregator.channel().unwrap(),
        settings.aggregator.credential().unwrap(),
        settings.office.clone(),
    );
    let person = reporter.person(&env.session, None).await.unwrap();
    let fields = reporting::request::Fields::VI;
    let whole_plan = reporting::ReportRequest::parse(&fields, "plan", None, "docx", None).unwrap();
    let (a, b) = tokio::join!(
        reporter.report_for(&person, &whole_plan, &fields),
        reporter.report_for(&person, &whole_plan, &fields)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b);
    assert_eq!(reporter.generations(), 1, "two requests, one generation");
    let again = reporter
        .report_for(&person, &whole_plan, &fields)
        .await
        .unwrap();
    assert_eq!(again, a);
    assert_eq!(reporter.generations(), 1);
    let excel = reporting::ReportRequest::parse(&fields, "plan", None, "xlsx", None).unwrap();
    reporter.report_for(&person, &excel, &fields).await.unwrap();
    assert_eq!(
        reporter.generations(),
        2,
        "another format is another report"
    );
}
