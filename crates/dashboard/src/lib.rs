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
//! | `/nhap-goi` | import a school's signed bundle, download its reply | `ImportBundle`, `ExportReply` |
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
pub mod session;
mod source;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::routing::{get, post};
use credentials::csrf::CsrfKey;
use service_runtime::Credential;
use tonic::transport::Channel;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use error::PageError;
pub use session::Viewer;

/// What every page needs: the channel to the district aggregator, the service's own
/// credential (pages ask on behalf of the signed-in person with it), and the CSRF key.
#[derive(Debug, Clone)]
pub struct DashboardState {
    channel: Channel,
    service: Credential,
    csrf: Arc<CsrfKey>,
    /// How long the session cookie is kept: the aggregator's absolute session lifetime.
    session_max_age_secs: i64,
}

impl DashboardState {
    /// Pages over `channel`, calling with reporting's service `credential`.
    pub fn new(channel: Channel, service: Credential) -> Self {
        Self {
            channel,
            service,
            csrf: Arc::new(CsrfKey::generate()),
            session_max_age_secs: credentials::SessionPolicy::default().absolute.num_seconds(),
        }
    }

    /// The aggregator channel, for routes beside the dashboard's (report downloads).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }
}

/// The dashboard's routes, with a Vietnamese 404 page as the fallback.
///
/// Merge it into a server with `Router::merge`; the merged router then has this fallback,
/// so the other router must not set one of its own (axum refuses two).
pub fn router(state: DashboardState) -> Router {
    Router::new()
        .route(
            session::SIGN_IN,
            get(pages::sign_in::show).post(pages::sign_in::submit),
        )
        .route("/dang-xuat", post(pages::sign_in::sign_out))
        .route(session::ACCOUNT, get(pages::account::show))
        .route("/tai-khoan/mat-khau", post(pages::account::change_password))
        .route("/tai-khoan/da-doi", get(pages::account::changed))
        .route(
            "/quan-tri/tai-khoan",
            get(pages::admin::accounts).post(pages::admin::create),
        )
        .route(
            "/quan-tri/tai-khoan/{login}/dat-lai-mat-khau",
            post(pages::admin::reset),
        )
        .route("/quan-tri/tai-khoan/{login}/khoa", post(pages::admin::lock))
        .route(
            "/quan-tri/tai-khoan/{login}/mo-khoa",
            post(pages::admin::unlock),
        )
        .route("/quan-tri/nhat-ky", get(pages::admin::audit))
        .route("/", get(pages::plan::show))
        .route("/truong/{code}", get(pages::school::show))
        .route(
            "/truong/{code}/minh-chung/{sha256}",
            get(pages::evidence::serve),
        )
        .route("/day-du", get(pages::completeness::show))
        .route("/phan-hoi", get(pages::responsiveness::show))
        .route("/thu-loi", get(pages::dead_letters::show))
        .route("/tiep-nhan", get(pages::ingest::show))
        .route("/bao-cao", get(pages::reports::show))
        .route(
            pages::bundles::ROUTE,
            get(pages::bundles::show)
                .post(pages::bundles::upload)
                .layer(DefaultBodyLimit::max(pages::bundles::MAX_UPLOAD_BYTES)),
        )
        .route("/nhap-goi/phan-hoi/{code}", get(pages::bundles::reply))
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
