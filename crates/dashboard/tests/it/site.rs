//! The dashboard served on a loopback port, as `reporting` serves it.

use std::net::SocketAddr;
use std::path::PathBuf;

use std::sync::atomic::{AtomicU8, Ordering};

use dashboard::DashboardState;
use service_runtime::Credential;
use test_harness::chromium::{Chromium, LoadedPage, artefacts_dir};
use tonic::transport::Endpoint;

/// A running dashboard.
pub struct Site {
    addr: SocketAddr,
    _server: tokio::task::JoinHandle<()>,
}

/// Each site of a test binary serves on a loopback address of its own (127.0.0.2, .3, …):
/// cookies belong to a host, not a port, so sites that sign different people in one browser
/// must not share a host.
fn next_host() -> std::net::Ipv4Addr {
    static NEXT: AtomicU8 = AtomicU8::new(2);
    std::net::Ipv4Addr::new(127, 0, 0, NEXT.fetch_add(1, Ordering::Relaxed).max(2))
}

impl Site {
    /// Serves the dashboard over the aggregator at `aggregator_url`, calling it with the
    /// service token `token`, on a loopback address of its own, port 0.
    pub async fn serve(aggregator_url: &str, token: &str) -> anyhow::Result<Self> {
        let channel = Endpoint::from_shared(aggregator_url.to_owned())?.connect_lazy();
        let listener = tokio::net::TcpListener::bind((next_host(), 0)).await?;
        let addr = listener.local_addr()?;
        let state = DashboardState::new(channel, Credential::bearer(token)?);
        let app = dashboard::router(state);
        let server = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        Ok(Self {
            addr,
            _server: server,
        })
    }

    /// Serves the dashboard over an address where nothing listens.
    pub async fn serve_without_aggregator() -> anyhow::Result<Self> {
        let port = test_harness::free_port()?;
        Self::serve(&format!("http://127.0.0.1:{port}"), "tts_nobody-listens").await
    }

    /// Signs the browser in to this site with the session `token` (the cookie a sign-in
    /// sets).
    pub async fn sign_in(&self, browser: &Chromium, token: &str) -> anyhow::Result<()> {
        browser
            .set_cookie(&self.url("/"), dashboard::session::COOKIE, token)
            .await
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The absolute address of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Where a page's screenshot goes: `target/test-artefacts/dashboard/<name>.png`.
pub fn screenshot_path(name: &str) -> PathBuf {
    artefacts_dir("dashboard").join(format!("{name}.png"))
}

/// Takes a screenshot and checks that a non-empty file was written.
pub async fn screenshot(page: &LoadedPage, name: &str) -> anyhow::Result<()> {
    let path = screenshot_path(name);
    let _ = std::fs::remove_file(&path);
    page.screenshot(&path).await?;
    let size = std::fs::metadata(&path)?.len();
    anyhow::ensure!(size > 1_000, "{} is only {size} bytes", path.display());
    Ok(())
}
