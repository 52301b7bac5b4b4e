//! The district and reporting service each check reads, and helpers to read numbers back the way the
//! report writes them.

use std::net::SocketAddr;

use district_fixture::shared::SharedDistrict;
use reporting::config::{AggregatorSettings, Settings};
use wire::pb;
use wire::pb::reporting_client::ReportingClient;

/// Reporting settings reading `aggregator_url` with the service token `token`.
pub fn settings(aggregator_url: String, token: &str) -> Settings {
    Settings {
        aggregator: AggregatorSettings {
            url: aggregator_url,
            tls: None,
            connect_timeout_ms: 1_000,
            request_timeout_ms: 30_000,
            token: Some(token.to_owned().into()),
            token_file: None,
        },
        ..Settings::default()
    }
}

/// Starts `reporting::run` on port 0 for gRPC and HTTP; it runs until the test's runtime ends.
pub async fn start_reporting(settings: Settings) -> (SocketAddr, SocketAddr) {
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addrs = (grpc.local_addr().unwrap(), http.local_addr().unwrap());
    tokio::spawn(reporting::run(
        settings,
        grpc,
        http,
        std::future::pending::<()>(),
    ));
    addrs
}

/// The shared demo district and a reporting service of this test reading it.
pub struct Env {
    pub district: &'static SharedDistrict,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    /// An officer's session (`ttp_…`), password changed: reports are made for a person.
    pub session: String,
}

/// The officer every test of this binary signs in as, made once.
static OFFICER: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// Creates the officer `lan.pham` on the shared district and signs them in, the one-time
/// password changed; returns the session.
async fn officer(district: &SharedDistrict) -> String {
    use district_fixture::credentials::{accounts_client_with, channel};
    use wire::pb::district_accounts_client::DistrictAccountsClient;
    OFFICER
        .get_or_init(|| async {
            let url = district.aggregator_url();
            let issued = accounts_client_with(&url, &district.credentials.admin)
                .await
                .unwrap()
                .create_account(pb::CreateAccountRequest {
                    login: "lan.pham".into(),
                    full_name: "Phạm Thị Lan".into(),
                    role: pb::AccountRole::Officer.into(),
                    school: String::new(),
                })
                .await
                .unwrap()
                .into_inner();
            let session = DistrictAccountsClient::new(channel(&url).await.unwrap())
                .sign_in(pb::SignInRequest {
                    login: "lan.pham".into(),
                    password: issued.one_time_password.clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .session_token;
            accounts_client_with(&url, &session)
                .await
                .unwrap()
                .change_password(pb::ChangePasswordRequest {
                    current_password: issued.one_time_password,
                    new_password: "bao-cao-cua-phong-2018".into(),
                })
                .await
                .unwrap();
            session
        })
        .await
        .clone()
}

/// A signed-in person's reporting client.
pub type Reporting = ReportingClient<service_runtime::AuthorizedChannel>;

impl Env {
    /// The test binary's demo district, and reporting reading it on port 0.
    pub async fn start() -> Env {
        let district = district_fixture::shared::shared().await.unwrap();
        let (grpc, http) = start_reporting(settings(
            district.aggregator_url(),
            &district.credentials.reporting,
        ))
        .await;
        Env {
            district,
            grpc,
            http,
            session: officer(district).await,
        }
    }

    pub async fn aggregator(&self) -> district_fixture::Client {
        self.district.client().await.unwrap()
    }

    /// The Reporting service, as the signed-in officer.
    pub async fn reporting(&self) -> Reporting {
        self.reporting_as(&self.session).await
    }

    /// The Reporting service, sending `session`.
    pub async fn reporting_as(&self, session: &str) -> Reporting {
        let channel = district_fixture::credentials::channel(&format!("http://{}", self.grpc))
            .await
            .unwrap();
        ReportingClient::new(
            service_runtime::Credential::bearer(session)
                .unwrap()
                .on(channel),
        )
        .max_decoding_message_size(256 * 1024 * 1024)
    }

    /// An HTTP client with the officer's session cookie, as their browser would send it.
    pub fn web(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::COOKIE,
            format!("{}={}", dashboard::session::COOKIE, self.session)
                .parse()
                .unwrap(),
        );
        reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap()
    }

    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    /// A report generated by the service over gRPC.
    pub async fn generate(
        &self,
        period: &str,
        school: &str,
        format: pb::ReportFormat,
    ) -> pb::GenerateReportReply {
        self.reporting()
            .await
            .generate_report(pb::GenerateReportRequest {
                period: period.into(),
                school: school.into(),
                format: format.into(),
                number: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// School code → name, from the aggregator.
    pub async fn school_names(&self) -> Vec<(String, String)> {
        self.aggregator()
            .await
            .list_schools(pb::ListSchoolsRequest {})
            .await
            .unwrap()
            .into_inner()
            .schools
            .into_iter()
            .map(|s| (s.code, s.name))
            .collect()
    }
}

/// A number as Word and the page write it back: `1.234` → 1234, `83,33%` → 0.8333, `4,5` →
/// 4.5; `None` for an empty cell.
pub fn vn_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let (t, percent) = match t.strip_suffix('%') {
        Some(t) => (t, true),
        None => (t, false),
    };
    let v: f64 = t.replace('.', "").replace(',', ".").parse().ok()?;
    // Rates are shown with two decimals of a percent: exactly the four decimals of the share,
    // so rounding to six places recovers the aggregator's double.
    Some(if percent {
        (v / 100.0 * 1e6).round() / 1e6
    } else {
        v
    })
}

/// An `optional` count of a view as the report shows it: a number or nothing.
pub fn opt_int(v: Option<i64>) -> Option<f64> {
    v.map(|v| v as f64)
}
