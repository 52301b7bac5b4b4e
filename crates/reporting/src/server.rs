//! The running service: [`Reporter`] makes one report end to end (gather → compose → render)
//! for every front end (gRPC, HTTP, command line); [`run`] serves gRPC and HTTP on
//! already-bound listeners until shutdown.
//!
//! Shutdown: when the `shutdown` future resolves, a broadcast tells both servers to stop
//! accepting; each finishes the requests it has, and `run` returns once both have ended.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use chrono::{NaiveDate, Utc};
use service_runtime::{AuthorizedChannel, Credential};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tonic::transport::Channel;
use tracing::{info, warn};
use wire::pb;
use wire::pb::district_accounts_client::DistrictAccountsClient;

use crate::cache::ReportCache;
use crate::compose::{Issue, compose};
use crate::config::Settings;
use crate::error::ReportError;
use crate::gather::{AggregatorClient, gather};
use crate::office::Office;
use crate::render::{RenderedFile, render};
use crate::request::{Fields, ReportRequest};

/// Makes reports from the aggregator's answers.
#[derive(Debug, Clone)]
pub struct Reporter {
    /// The service's own client (the `bao-cao` command, which runs on the server).
    client: AggregatorClient,
    channel: Channel,
    service: Credential,
    office: Arc<Office>,
    /// People's reports already made (`crate::cache`).
    cache: Arc<ReportCache>,
}

/// A signed-in person a report is made for: their account, and clients that ask on their
/// behalf (so the aggregator scopes the data as it does for them).
#[derive(Debug, Clone)]
pub struct Person {
    pub account: pb::Account,
    client: AggregatorClient,
    accounts: DistrictAccountsClient<AuthorizedChannel>,
}

impl Reporter {
    /// Reads over `channel` with reporting's service `credential`.
    pub fn new(channel: Channel, service: Credential, office: Office) -> Self {
        Self {
            client: crate::gather::client(channel.clone(), service.clone()),
            channel,
            service,
            office: Arc::new(office),
            cache: Arc::new(ReportCache::default()),
        }
    }

    /// How many people's reports were generated rather than served from the cache.
    pub fn generations(&self) -> u64 {
        self.cache.generations()
    }

    /// The aggregator client the reporter reads with.
    pub fn client(&self) -> &AggregatorClient {
        &self.client
    }

    /// The person of a session token (`ttp_…`) seen at `address`, checked with the aggregator.
    pub async fn person(
        &self,
        session: &str,
        address: Option<&str>,
    ) -> Result<Person, ReportError> {
        if credentials::token::TokenKind::of(session)
            != Some(credentials::token::TokenKind::Session)
        {
            return Err(ReportError::unauthenticated());
        }
        let credential = self
            .service
            .on_behalf_of(session, address)
            .map_err(|_| ReportError::unauthenticated())?;
        let mut accounts = DistrictAccountsClient::new(credential.clone().on(self.channel.clone()));
        let who = accounts
            .who_am_i(pb::WhoAmIRequest {})
            .await
            .map_err(|status| ReportError::from_aggregator(&status, str::to_owned))?
            .into_inner();
        let account = who.account.ok_or_else(ReportError::unauthenticated)?;
        if account.must_change_password {
            return Err(ReportError::from_aggregator(
                &wire::status::refusal(
                    tonic::Code::FailedPrecondition,
                    "password",
                    "the one-time password must be changed first".into(),
                    "Bạn cần đổi mật khẩu dùng một lần trước khi tạo báo cáo.".into(),
                ),
                str::to_owned,
            ));
        }
        Ok(Person {
            account,
            client: crate::gather::client(self.channel.clone(), credential),
            accounts,
        })
    }

    /// The report of `request` for `person`: a school head's of their own school only,
    /// read on their behalf, and recorded in the audit trail as their download.
    pub async fn report_for(
        &self,
        person: &Person,
        request: &ReportRequest,
        fields: &Fields,
    ) -> Result<RenderedFile, ReportError> {
        if person.account.role == i32::from(pb::AccountRole::SchoolHead)
            && request.school.as_ref().map(|s| s.as_str()) != Some(person.account.school.as_str())
        {
            return Err(ReportError::not_your_school(fields.school));
        }
        // The key: the request, the person's scope, the issue date, and what the aggregator
        // has applied for each author (anything newly applied makes a new report).
        let applied = person
            .client
            .clone()
            .get_ingest_state(pb::GetIngestStateRequest {})
            .await
            .map_err(|status| ReportError::from_aggregator(&status, str::to_owned))?
            .into_inner();
        let mut key = format!(
            "{}|{:?}|{}|{:?}|{}|{}",
            request.period,
            request.school,
            request.format,
            request.number,
            person.account.school,
            Self::today()
        );
        for author in &applied.authors {
            key.push_str(&format!("|{}:{}", author.author, author.applied_seq));
        }
        let file = self
            .cache
            .get_or_make(key, || self.report_with(&person.client, request, fields))
            .await?;
        let entry = pb::RecordAuditRequest {
            action: "report_downloaded".into(),
            target: file.file_name.clone(),
            detail: format!(
                "kỳ {}, {}, định dạng {}",
                request.period,
                request.school.as_ref().map_or("toàn huyện", |s| s.as_str()),
                request.format
            ),
        };
        if let Err(status) = person.accounts.clone().record_audit(entry).await {
            warn!(%status, login = %person.account.login, "the download could not be recorded in the audit trail");
        }
        Ok(file)
    }

    /// Today in Vietnam: the date a report is issued on.
    pub fn today() -> NaiveDate {
        domain::calendar::local_date(Utc::now())
    }

    /// Gathers, composes and renders the report of `request`; `fields` names the request's
    /// fields in refusals the way the caller's interface does.
    pub async fn report(
        &self,
        request: &ReportRequest,
        fields: &Fields,
    ) -> Result<RenderedFile, ReportError> {
        self.report_with(&self.client, request, fields).await
    }

    async fn report_with(
        &self,
        client: &AggregatorClient,
        request: &ReportRequest,
        fields: &Fields,
    ) -> Result<RenderedFile, ReportError> {
        let started = Instant::now();
        let today = Self::today();
        let data = gather(client, request, fields, today).await?;
        let gathered = started.elapsed();
        let office = self.office.clone();
        let number = request.number.clone();
        let format = request.format;
        // Composing is quick; rendering a plan-period Word or Excel file takes CPU for a
        // moment, so neither runs on the async workers.
        let file = tokio::task::spawn_blocking(move || {
            let report = compose(
                &data,
                &Issue {
                    office: &office,
                    number: number.as_deref(),
                    issued_on: today,
                },
            );
            render(&report, format)
        })
        .await
        .map_err(|e| ReportError::Internal(format!("the renderer stopped: {e}")))?
        .map_err(|e| ReportError::Internal(e.to_string()))?;
        info!(
            period = %request.period,
            school = request.school.as_ref().map(|s| s.as_str()),
            format = %format,
            bytes = file.bytes.len(),
            gather_ms = gathered.as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            "report generated"
        );
        Ok(file)
    }
}

/// Serves `truyenthong.v1.Reporting` (with health and reflection) on `grpc` and the HTTP
/// router (dashboard and report downloads) on `http` until `shutdown` resolves.
pub async fn run(
    settings: Settings,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let channel = settings
        .aggregator
        .channel()
        .context("configuring the aggregator client")?;
    let credential = settings
        .aggregator
        .credential()
        .context("reading reporting's service token")?;
    let reporter = Reporter::new(channel.clone(), credential.clone(), settings.office.clone());
    let dashboard = dashboard::DashboardState::new(channel, credential);
    let grpc_addr = grpc.local_addr().context("reading the gRPC address")?;
    let http_addr = http.local_addr().context("reading the HTTP address")?;

    let (stop, _) = broadcast::channel::<()>(1);
    let stopped = |stop: &broadcast::Sender<()>| {
        let mut rx = stop.subscribe();
        async move {
            let _ = rx.recv().await;
        }
    };

    let grpc_settings = settings.grpc.clone();
    let grpc_task = tokio::spawn({
        let (shutdown, reporter) = (stopped(&stop), reporter.clone());
        async move { crate::service::serve(grpc, shutdown, reporter, &grpc_settings).await }
    });
    let app = crate::http::router(reporter, dashboard.clone()).merge(dashboard::router(dashboard));
    let http_task = tokio::spawn({
        let stopped = stopped(&stop);
        async move {
            // With each connection's address: the audit trail says where a person was.
            axum::serve(
                http,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(stopped)
            .await
            .context("serving HTTP")
        }
    });
    info!(
        grpc = %grpc_addr,
        http = %http_addr,
        aggregator = %settings.aggregator.url,
        "reporting started"
    );

    shutdown.await;
    info!("stopping reporting");
    let _ = stop.send(());
    let (grpc_result, http_result) = tokio::join!(grpc_task, http_task);
    let grpc_result = grpc_result
        .context("the gRPC server panicked")?
        .context("serving gRPC");
    let http_result = http_result.context("the HTTP server panicked")?;
    if let Err(e) = &grpc_result {
        warn!(error = %e, "the gRPC server ended with an error");
    }
    info!("reporting stopped");
    grpc_result.and(http_result)
}
