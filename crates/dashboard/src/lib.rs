//! The district dashboard: server-rendered Vietnamese pages for the district office
//! (Phòng GD-ĐT), over the district aggregator's gRPC API and nothing else.
//!
//! [`router`] gives an axum router that the `reporting` binary merges into its HTTP server,
//! next to its own report routes (`/bao-cao/tai-ve`, `/bao-cao/xem`), which the dashboard's
//! pages link to. Pages (see `docs/dashboard.md`):
//!
//! | path | page | reads |
//! |---|---|---|
//! | `/` | plan view heat map, schools × content areas | `GetPlanView`, `ListSchools` |
//! | `/truong/{code}` | one school | every view, filtered to the school |
//! | `/day-du` | completeness and timeliness | `GetCompleteness`, `GetIngestState` |
//! | `/phan-hoi` | responsiveness | `GetResponsiveness` |
//! | `/thu-loi` | dead letters | `ListDeadLetters` |
//! | `/tiep-nhan` | ingest state per author | `GetIngestState` |
//! | `/bao-cao` | report downloads | `GetDistrictPlan`, `ListSchools` |
//!
//! Pages are rendered with `maud` (templates checked at compile time), use one cached
//! stylesheet and no JavaScript. Every period page first checks the period against the
//! district plan (`GetDistrictPlan`), then asks for its views concurrently. Errors become
//! Vietnamese pages with HTTP 400/404/503/500 (`error.rs`); each request is traced with its
//! method, path, status and latency.

mod assets;
mod error;
mod format;
mod labels;
mod layout;
mod pages;
mod periods;
mod source;

use axum::Router;
use axum::http::Request;
use axum::routing::get;
use tonic::transport::Channel;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use wire::pb::district_aggregator_client::DistrictAggregatorClient;

pub use error::PageError;

use source::Aggregator;

/// What every page needs: a handle on the district aggregator.
#[derive(Debug, Clone)]
pub struct DashboardState {
    aggregator: Aggregator,
}

impl DashboardState {
    pub fn new(aggregator: DistrictAggregatorClient<Channel>) -> Self {
        Self {
            aggregator: Aggregator::new(aggregator),
        }
    }
}

/// The dashboard's routes, with a Vietnamese 404 page as the fallback.
///
/// Merge it into a server with `Router::merge`; the merged router then has this fallback,
/// so the other router must not set one of its own (axum refuses two).
pub fn router(state: DashboardState) -> Router {
    Router::new()
        .route("/", get(pages::plan::show))
        .route("/truong/{code}", get(pages::school::show))
        .route("/day-du", get(pages::completeness::show))
        .route("/phan-hoi", get(pages::responsiveness::show))
        .route("/thu-loi", get(pages::dead_letters::show))
        .route("/tiep-nhan", get(pages::ingest::show))
        .route("/bao-cao", get(pages::reports::show))
        .route(assets::ROUTE, get(assets::serve))
        .fallback(not_found)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    tracing::info_span!(
                        "dashboard",
                        method = %request.method(),
                        path = %request.uri().path(),
                        query = request.uri().query().unwrap_or(""),
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// Any other address: the 404 page.
async fn not_found(uri: axum::http::Uri) -> PageError {
    PageError::NoSuchPage(uri.path().to_string())
}
