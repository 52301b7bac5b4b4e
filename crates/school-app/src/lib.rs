//! The school's own app: Vietnamese pages served by the school agent on the office PC, for
//! the staff who record the school's communication and never open a terminal.
//!
//! Server-rendered HTML (maud), one stylesheet, no JavaScript and nothing fetched from the
//! internet, so it works in whatever browser the office PC has and on a phone. The app keeps
//! nothing of its own: it calls the agent's gRPC services in-process ([`agent::AgentTransport`],
//! the same `SchoolAgent` and `SchoolStaff` services the command line uses, with the same
//! staff sessions and duty checks), and every record lives in the agent's SQLite log — never
//! in the browser, so closing the tab or clearing its cache loses nothing.
//!
//! Every record and every page says where the record stands on its way to the district
//! ([`delivery`]): *chưa gửi* (only on this PC), *đã gửi* (in the district's stream), *Phòng
//! đã nhận* (applied by the district's aggregator), or *Phòng từ chối* with its reason.
//!
//! - [`agent`]: the in-process transport and the clients on it.
//! - [`session`]: the staff session cookie, the signed-in [`session::Staff`], CSRF.
//! - [`delivery`]: the delivery state of a record from the agent's status (pure).
//! - [`pages`]: one module per page; [`layout`] the frame they share. With no line, the
//!   school's events go to the district on a USB stick (`pages::bundles`, *Xuất dữ liệu gửi
//!   Phòng*, and the district's reply back).

pub mod agent;
pub mod delivery;
pub mod error;
pub mod forms;
pub mod layout;
pub mod pages;
pub mod session;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::routing::{get, post};
use credentials::csrf::CsrfKey;
use std::sync::Arc;
use tokio::net::TcpListener;
use tracing::info;

use crate::agent::AgentTransport;

/// The stylesheet, served at [`STYLE_PATH`].
pub const STYLE: &str = include_str!("style.css");
pub const STYLE_PATH: &str = "/kieu.css";

/// What every page handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub(crate) agent: AgentTransport,
    pub(crate) csrf: Arc<CsrfKey>,
    /// The school's name for the header ("Trường THCS An Hòa").
    pub(crate) school_name: Arc<str>,
}

impl AppState {
    pub fn new(agent: AgentTransport, school_name: &str) -> Self {
        Self {
            agent,
            csrf: Arc::new(CsrfKey::generate()),
            school_name: Arc::from(school_name),
        }
    }
}

/// Every page of the app.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home::show))
        .route(
            session::SIGN_IN,
            get(pages::sign_in::show).post(pages::sign_in::submit),
        )
        .route("/dang-xuat", post(pages::sign_in::sign_out))
        .route(
            session::PASSWORD,
            get(pages::account::show).post(pages::account::submit),
        )
        .route("/hoat-dong", get(pages::activities::list))
        .route(
            "/hoat-dong/moi",
            get(pages::activities::new_form).post(pages::activities::record),
        )
        .route(
            "/hoat-dong/{id}/sua",
            get(pages::activities::edit_form).post(pages::activities::correct),
        )
        .route("/gui-ngay", post(pages::home::send_now))
        .route("/ghi", get(pages::commands::menu))
        .route(
            "/ghi/{slug}",
            get(pages::commands::show).post(pages::commands::submit),
        )
        .route("/hop-thu", get(pages::inbox::show))
        .route(pages::backup::PATH, get(pages::backup::show))
        .route(pages::backup::NOW_PATH, post(pages::backup::now))
        .route(
            "/minh-chung/{kind}/{id}",
            get(pages::evidence::show)
                .post(pages::evidence::attach)
                .layer(pages::evidence::body_limit()),
        )
        .route("/minh-chung/tep/{sha256}", get(pages::evidence::file))
        .route("/ke-hoach", get(pages::plan::show))
        .route("/ke-hoach/doc", post(pages::plan::read))
        .route("/ke-hoach/ban-hanh", post(pages::plan::adopt))
        .route(pages::bundles::ROUTE, get(pages::bundles::show))
        .route(pages::bundles::DOWNLOAD, get(pages::bundles::download))
        .route(pages::bundles::REPLY, post(pages::bundles::import_reply))
        // A plan document is at most plan_reader::MAX_UPLOAD; the form's other fields are small.
        .layer(axum::extract::DefaultBodyLimit::max(
            plan_reader::MAX_UPLOAD + 64 * 1024,
        ))
        .route(
            STYLE_PATH,
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8")],
                    STYLE,
                )
            }),
        )
        .with_state(state)
}

/// Serves the app over TLS (`tls::acceptor`) on `listener` until `shutdown` resolves.
pub async fn serve_tls(
    listener: TcpListener,
    state: AppState,
    acceptor: tokio_rustls::TlsAcceptor,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tls::serve(listener, acceptor, router(state), shutdown).await
}

/// Serves the app on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let address: Option<SocketAddr> = listener.local_addr().ok();
    info!(address = ?address, "school app serving");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
