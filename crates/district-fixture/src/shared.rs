//! One demo district per test binary, shared by its tests.
//!
//! Loading the demo district costs tens of seconds; starting one per test would multiply a
//! suite's time by its number of tests, and one test running every check in turn could not be
//! picked by `cargo test NAME` nor fail on its own. So the first test that asks starts the
//! district, on a thread and a tokio runtime of its own that outlive every test (each
//! `#[tokio::test]` has its own runtime, which ends with it), and later tests get the same
//! one. Tests only read it, through its gRPC API, with clients they make on their own
//! runtime.
//!
//! The district lives in a `static` and is never dropped, so its `nats-server` and PostgreSQL
//! are registered with `stop_at_exit` as soon as they start: a guardian process stops them and
//! removes their directories when the test binary exits, however it exits.

use std::net::SocketAddr;
use std::sync::OnceLock;

use anyhow::Context as _;
use domain::Envelope;

use crate::DemoDistrict;
use crate::credentials::{Client, OfficeCredentials, client_with};

/// What a test sees of the shared district: where its aggregator answers, and what it holds.
#[derive(Debug)]
pub struct SharedDistrict {
    grpc: SocketAddr,
    /// The administrator's session and reporting's token.
    pub credentials: OfficeCredentials,
    /// Every envelope published, the office's first.
    pub envelopes: Vec<Envelope>,
}

impl SharedDistrict {
    /// `http://127.0.0.1:<port>`: the aggregator's gRPC endpoint.
    pub fn aggregator_url(&self) -> String {
        format!("http://{}", self.grpc)
    }

    pub fn aggregator_addr(&self) -> SocketAddr {
        self.grpc
    }

    /// A client on the caller's runtime, signed in as the district's administrator.
    pub async fn client(&self) -> anyhow::Result<Client> {
        client_with(&self.aggregator_url(), &self.credentials.admin)
            .await
            .context("connecting to the shared district's aggregator")
    }

    /// A client on the caller's runtime sending `token`.
    pub async fn client_as(&self, token: &str) -> anyhow::Result<Client> {
        client_with(&self.aggregator_url(), token).await
    }
}

/// Started once; a failure is kept too, so every test reports it instead of loading again.
static SHARED: OnceLock<Result<SharedDistrict, String>> = OnceLock::new();

/// The test binary's demo district ([`DemoDistrict::start`]), started by the first caller.
pub async fn shared() -> anyhow::Result<&'static SharedDistrict> {
    tokio::task::spawn_blocking(shared_blocking)
        .await
        .context("waiting for the shared district")?
}

/// [`shared`], for a caller without a runtime (it blocks until the district is loaded).
pub fn shared_blocking() -> anyhow::Result<&'static SharedDistrict> {
    SHARED
        .get_or_init(start)
        .as_ref()
        .map_err(|e| anyhow::anyhow!("the shared demo district did not start: {e}"))
}

fn start() -> Result<SharedDistrict, String> {
    let (started, start_outcome) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("shared-demo-district".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("shared-demo-district")
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = started.send(Err(format!("building its runtime: {e}")));
                    return;
                }
            };
            runtime.block_on(async move {
                match DemoDistrict::start_kept_until_exit().await {
                    Ok(district) => {
                        let shared = SharedDistrict {
                            grpc: district.aggregator_addr(),
                            credentials: district.credentials().clone(),
                            envelopes: district.envelopes.clone(),
                        };
                        let _ = started.send(Ok(shared));
                        // The aggregator runs on this runtime: keep both (and the servers'
                        // handles) until the process exits.
                        let _kept = district;
                        std::future::pending::<()>().await;
                    }
                    Err(e) => {
                        let _ = started.send(Err(format!("{e:#}")));
                    }
                }
            });
        })
        .map_err(|e| format!("spawning its thread: {e}"))?;
    start_outcome
        .recv()
        .map_err(|_| "its thread ended without a word".to_owned())?
}
