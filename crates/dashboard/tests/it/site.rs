//! The dashboard served on a loopback port, as `reporting` serves it.

use std::net::SocketAddr;
use std::path::PathBuf;

use dashboard::DashboardState;
use test_harness::chromium::{LoadedPage, artefacts_dir};
use tonic::transport::{Channel, Endpoint};
use wire::pb::district_aggregator_client::DistrictAggregatorClient;

/// A running dashboard.
pub struct Site {
    addr: SocketAddr,
    _server: tokio::task::JoinHandle<()>,
}

impl Site {
    /// Serves the dashboard over `client` on 127.0.0.1:0.
    pub async fn serve(client: DistrictAggregatorClient<Channel>) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = dashboard::router(DashboardState::new(client));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            _server: server,
        })
    }

    /// Serves the dashboard over a client of an address where nothing listens.
    pub async fn serve_without_aggregator() -> anyhow::Result<Self> {
        let port = test_harness::free_port()?;
        let channel = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))?.connect_lazy();
        Self::serve(DistrictAggregatorClient::new(channel)).await
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
