//! The district side for tests and benchmarks: the aggregator's test settings and the real
//! aggregator in this process ([`aggregator`]), publishing envelopes as relays do
//! ([`publish`]), the district office's requests ([`office`]), and a whole demo district to test against ([`DemoDistrict`], and one per
//! test binary shared by its tests, [`shared`]).
//!
//! Reporting and the dashboard read the aggregator's gRPC API and nothing else; their tests
//! and benchmarks need an aggregator that holds what the district's would: the plan
//! 1442/KH-PGDĐT, the ten demo schools enrolled, each school's 2017–2020 history (decided and
//! sealed as its agent would, [`demo_data::sealed`]) and one message no agent would send, so
//! the dead letters have something to show. [`DemoDistrict::start`] publishes all of it to the
//! district stream and returns once the aggregator has applied every event.
//!
//! The district's codes are `demo_data`'s ([`PROVINCE`], [`DISTRICT`]); the stream's name is
//! `event_bus::subjects::stream_name`'s ([`stream_name`]).

pub mod aggregator;
pub mod credentials;
pub mod office;
pub mod publish;
pub mod shared;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use bytes::Bytes;
use demo_data::sealed::{DistrictOfficeLog, school_log};
use demo_data::{TAM_NONG_SCHOOLS, Volume};
use domain::Envelope;
use event_bus::subjects::{SchoolAddress, events_subject};
use test_harness::{NatsServer, Postgres};
use wire::pb;

pub use aggregator::{RunningAggregator, settings};
pub use credentials::{AccountsClient, Client, OfficeCredentials};
pub use demo_data::{DISTRICT, PROVINCE};
pub use publish::{outgoing, publish, publish_with_ids, subject_of};

/// The seed of the demo histories the fixture loads (the demo's own is different, so a test
/// cannot lean on figures it saw in the demo).
pub const SEED: u64 = 2020;

/// How long loading may take before the fixture gives up.
const LOAD_TIMEOUT: Duration = Duration::from_secs(180);

/// The school whose subject carries the one broken message the fixture publishes, and its body.
pub const BROKEN_MESSAGE: (&str, &[u8]) = ("thcs-an-hoa", b"{\"not\": \"an envelope\"");

/// The name of the demo district's stream.
pub fn stream_name() -> String {
    event_bus::subjects::stream_name(PROVINCE, DISTRICT)
        .expect("the demo district's codes are valid subject tokens")
}

/// Sets up `tracing` for a test binary once (`RUST_LOG`, `warn` by default).
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .try_init();
}

/// NATS, PostgreSQL and a running aggregator holding the demo district.
#[derive(Debug)]
pub struct DemoDistrict {
    pub nats: NatsServer,
    pub pg: Postgres,
    pub js: jetstream::Context,
    /// Every envelope published, the office's first: what a reference model folds.
    pub envelopes: Vec<Envelope>,
    aggregator: RunningAggregator,
}

impl DemoDistrict {
    /// The ten Tam Nông schools at the demo's volume (about 4,000 events in all).
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(Volume::DEMO).await
    }

    pub async fn start_with(volume: Volume) -> anyhow::Result<Self> {
        Self::start_in(volume, false).await
    }

    /// For [`shared`]: a district never dropped, whose servers are stopped when the process
    /// exits (registered as soon as each starts, so a process killed while loading leaves
    /// nothing behind either).
    async fn start_kept_until_exit() -> anyhow::Result<Self> {
        Self::start_in(Volume::DEMO, true).await
    }

    async fn start_in(volume: Volume, stop_at_exit: bool) -> anyhow::Result<Self> {
        init_tracing();
        let nats = NatsServer::from_env_or_start().await?;
        if stop_at_exit {
            nats.stop_at_exit()?;
        }
        let pg = Postgres::start().await?;
        if stop_at_exit {
            pg.stop_at_exit()?;
        }
        let db_url = pg.fresh_database().await?;
        let js = jetstream::new(async_nats::connect(nats.url()).await?);
        event_bus::stream::ensure_district_stream(&js, PROVINCE, DISTRICT).await?;

        let mut settings = settings(&db_url, &nats.url());
        // Readers (a dashboard, reports, benches) query it concurrently: more connections,
        // and patience for them on a loaded machine.
        settings.database.max_connections = 8;
        settings.database.acquire_timeout_ms = 5_000;
        let aggregator = RunningAggregator::start(settings).await?;

        let mut envelopes = DistrictOfficeLog::demo(TAM_NONG_SCHOOLS).into_envelopes();
        for school in TAM_NONG_SCHOOLS {
            envelopes.extend(school_log(school, volume, SEED));
        }
        tracing::info!(events = envelopes.len(), "publishing the demo district");
        publish(&js, &envelopes).await?;
        let (school, body) = BROKEN_MESSAGE;
        let subject = events_subject(&SchoolAddress::parse(PROVINCE, DISTRICT, school)?);
        js.publish(subject, Bytes::from_static(body))
            .await?
            .await
            .context("publishing the broken message")?;

        let district = Self {
            nats,
            pg,
            js,
            envelopes,
            aggregator,
        };
        district.wait_loaded().await?;
        Ok(district)
    }

    /// `http://127.0.0.1:<port>`: the aggregator's gRPC endpoint.
    pub fn aggregator_url(&self) -> String {
        self.aggregator.url()
    }

    pub fn aggregator_addr(&self) -> SocketAddr {
        self.aggregator.grpc
    }

    /// A client signed in as the district's administrator.
    pub async fn client(&self) -> anyhow::Result<Client> {
        self.aggregator.client().await
    }

    /// The administrator's session and reporting's token.
    pub fn credentials(&self) -> &OfficeCredentials {
        &self.aggregator.credentials
    }

    /// Waits until every author's newest event is applied and the broken message is a dead
    /// letter.
    async fn wait_loaded(&self) -> anyhow::Result<()> {
        let heads = publish::heads(&self.envelopes);
        let client = self.client().await?;
        let last = std::sync::Mutex::new(String::new());
        let loaded = test_harness::wait_until(LOAD_TIMEOUT, || {
            let (mut client, heads, last) = (client.clone(), &heads, &last);
            async move {
                let progress = async {
                    let state = client
                        .get_ingest_state(pb::GetIngestStateRequest {})
                        .await?
                        .into_inner();
                    let behind: Vec<&str> = heads
                        .iter()
                        .filter(|(author, head)| {
                            !state
                                .authors
                                .iter()
                                .any(|a| &a.author == author && a.applied_seq >= *head)
                        })
                        .map(|(author, _)| author.as_str())
                        .collect();
                    let dead_letters = client
                        .list_dead_letters(pb::ListDeadLettersRequest::default())
                        .await?
                        .into_inner()
                        .dead_letters
                        .len();
                    Ok::<_, tonic::Status>((
                        behind.is_empty() && dead_letters > 0,
                        format!("behind {behind:?}, {dead_letters} dead letters"),
                    ))
                };
                let (done, seen) = progress
                    .await
                    .unwrap_or_else(|status| (false, format!("{status}")));
                *last
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = seen;
                done
            }
        })
        .await;
        loaded.with_context(|| {
            format!(
                "the aggregator did not apply the demo district: {}",
                last.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            )
        })
    }

    /// Stops the aggregator gracefully; the servers stop when dropped.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.aggregator.stop().await
    }
}
