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
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tracing::{info, warn};

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
    client: AggregatorClient,
    office: Arc<Office>,
}

impl Reporter {
    pub fn new(client: AggregatorClient, office: Office) -> Self {
        Self {
            client,
            office: Arc::new(office),
        }
    }

    /// The aggregator client the reporter reads with.
    pub fn client(&self) -> &AggregatorClient {
        &self.client
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
        let started = Instant::now();
        let today = Self::today();
        let data = gather(&self.client, request, fields, today).await?;
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
    let client = settings
        .aggregator
        .client()
        .context("configuring the aggregator client")?;
    let reporter = Reporter::new(client.clone(), settings.office.clone());
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
    let app = crate::http::router(reporter)
        .merge(dashboard::router(dashboard::DashboardState::new(client)));
    let http_task = tokio::spawn({
        let stopped = stopped(&stop);
        async move {
            axum::serve(http, app)
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
