//! A district to test against: a real `nats-server`, a real PostgreSQL, the real aggregator
//! in this process on port 0, loaded with the Tam Nông demo history.
//!
//! Reporting and the dashboard read the aggregator's gRPC API and nothing else; their tests
//! and benchmarks need an aggregator that holds what the district's would: the plan
//! 1442/KH-PGDĐT, the ten demo schools enrolled, each school's 2017–2020 history (decided and
//! sealed as its agent would, [`demo_data::sealed`]) and one message no agent would send, so
//! the dead letters have something to show. [`DemoDistrict::start`] publishes all of it to the
//! district stream and returns once the aggregator has applied every event.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use bytes::Bytes;
use demo_data::sealed::{DISTRICT, DistrictOfficeLog, PROVINCE, school_log};
use demo_data::{TAM_NONG_SCHOOLS, Volume};
use district_aggregator::config::{
    DatabaseSettings, DistrictSettings, GrpcSettings, IngestSettings, Settings,
};
use domain::{Author, Envelope};
use event_bus::connect::NatsSettings;
use event_bus::headers::{CloudEventHeaders, source_for};
use event_bus::publish::{OutgoingEvent, publish_in_order};
use event_bus::subjects::{SchoolAddress, district_own_subject, events_subject};
use test_harness::{NatsServer, Postgres};
use tokio::sync::oneshot;
use tonic::transport::Channel;
use wire::pb;
use wire::pb::district_aggregator_client::DistrictAggregatorClient;

/// The seed of the demo histories the fixture loads (the demo's own is different, so a test
/// cannot lean on figures it saw in the demo).
pub const SEED: u64 = 2020;

/// How long loading may take before the fixture gives up.
const LOAD_TIMEOUT: Duration = Duration::from_secs(180);

/// Events per `publish_in_order` call: one relay batch.
const PUBLISH_RUN: usize = 250;

/// The school whose subject carries the one broken message the fixture publishes, and its body.
pub const BROKEN_MESSAGE: (&str, &[u8]) = ("thcs-an-hoa", b"{\"not\": \"an envelope\"");

/// NATS, PostgreSQL and a running aggregator holding the demo district.
#[derive(Debug)]
pub struct DemoDistrict {
    pub nats: NatsServer,
    pub pg: Postgres,
    pub js: jetstream::Context,
    /// Every envelope published, the office's first: what a reference model folds.
    pub envelopes: Vec<Envelope>,
    grpc: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl DemoDistrict {
    /// The ten Tam Nông schools at the demo's volume (about 4,000 events in all).
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(Volume::DEMO).await
    }

    pub async fn start_with(volume: Volume) -> anyhow::Result<Self> {
        init_tracing();
        let nats = NatsServer::from_env_or_start().await?;
        let pg = Postgres::start().await?;
        let db_url = pg.fresh_database().await?;
        let js = jetstream::new(async_nats::connect(nats.url()).await?);
        event_bus::stream::ensure_district_stream(&js, PROVINCE, DISTRICT).await?;

        let aggregator = district_aggregator::Aggregator::connect(settings(&db_url, &nats.url()))
            .await
            .context("connecting the aggregator")?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let grpc = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(aggregator.run(listener, async move {
            let _ = stopped.await;
        }));

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
            grpc,
            stop: Some(stop),
            task,
        };
        district.wait_loaded().await?;
        Ok(district)
    }

    /// `http://127.0.0.1:<port>`: the aggregator's gRPC endpoint.
    pub fn aggregator_url(&self) -> String {
        format!("http://{}", self.grpc)
    }

    pub fn aggregator_addr(&self) -> SocketAddr {
        self.grpc
    }

    pub async fn client(&self) -> anyhow::Result<DistrictAggregatorClient<Channel>> {
        DistrictAggregatorClient::connect(self.aggregator_url())
            .await
            .context("connecting to the aggregator")
    }

    /// Waits until every author's newest event is applied and the broken message is a dead
    /// letter.
    async fn wait_loaded(&self) -> anyhow::Result<()> {
        let heads = heads(&self.envelopes);
        let mut client = self.client().await?;
        let started = tokio::time::Instant::now();
        loop {
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
            if behind.is_empty() && dead_letters > 0 {
                return Ok(());
            }
            anyhow::ensure!(
                started.elapsed() < LOAD_TIMEOUT,
                "the aggregator did not apply the demo district in {LOAD_TIMEOUT:?}: behind {behind:?}, {dead_letters} dead letters"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the aggregator gracefully; the servers stop when dropped.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), &mut self.task)
            .await
            .context("the aggregator did not stop in 30 s")??
    }
}

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .try_init();
}

/// Production settings, with the waits shortened for tests.
fn settings(db_url: &str, nats_url: &str) -> Settings {
    Settings {
        district: DistrictSettings {
            province: PROVINCE.into(),
            district: DISTRICT.into(),
            name: "Phòng GD-ĐT Tam Nông".into(),
        },
        database: DatabaseSettings {
            url: db_url.to_owned().into(),
            max_connections: 4,
            acquire_timeout_ms: 5_000,
        },
        grpc: GrpcSettings::default(),
        nats: NatsSettings::new(nats_url.to_owned()),
        ingest: IngestSettings {
            batch_wait_ms: 20,
            ack_wait_ms: 5_000,
            heartbeat_ms: 1_000,
            max_backoff_ms: 500,
            ..IngestSettings::default()
        },
    }
}

/// Each author's newest seq.
fn heads(envelopes: &[Envelope]) -> Vec<(String, u64)> {
    let mut heads: std::collections::BTreeMap<String, u64> = Default::default();
    for e in envelopes {
        let head = heads.entry(author_code(&e.school)).or_default();
        *head = (*head).max(e.seq);
    }
    heads.into_iter().collect()
}

fn author_code(author: &Author) -> String {
    match author {
        Author::School(code) => code.as_str().to_owned(),
        Author::DistrictOffice => "_district".to_owned(),
    }
}

/// The message an agent (or the office) publishes for `envelope`.
pub fn outgoing(envelope: &Envelope, outbox_head: Option<u64>) -> anyhow::Result<OutgoingEvent> {
    let (subject, source) = match &envelope.school {
        Author::School(code) => {
            let address = SchoolAddress::parse(PROVINCE, DISTRICT, code.as_str())?;
            (events_subject(&address), source_for(&address))
        }
        Author::DistrictOffice => (
            district_own_subject(PROVINCE, DISTRICT)?,
            format!("/truyenthong/{PROVINCE}/{DISTRICT}/_district"),
        ),
    };
    Ok(OutgoingEvent {
        subject,
        headers: CloudEventHeaders {
            id: envelope.id,
            source,
            event_type: envelope.event_type.clone(),
            time: envelope.occurred_at,
        },
        body: Bytes::from(envelope.to_json()),
        seq: envelope.seq,
        outbox_head,
    })
}

/// Publishes envelopes in the order given, one author run at a time, as relays do; each
/// message's `Nats-Msg-Id` is its event id.
pub async fn publish(js: &jetstream::Context, envelopes: &[Envelope]) -> anyhow::Result<()> {
    publish_with_ids(js, envelopes, |e| e.id).await
}

/// [`publish`] with the `Nats-Msg-Id` `msg_id` gives each envelope: fresh ids make copies
/// JetStream cannot recognise, as a school re-sending after the duplicate window does.
pub async fn publish_with_ids(
    js: &jetstream::Context,
    envelopes: &[Envelope],
    msg_id: impl Fn(&Envelope) -> uuid::Uuid,
) -> anyhow::Result<()> {
    let heads: std::collections::BTreeMap<String, u64> = heads(envelopes).into_iter().collect();
    let mut run: Vec<OutgoingEvent> = Vec::new();
    for envelope in envelopes {
        let head = heads.get(&author_code(&envelope.school)).copied();
        let mut next = outgoing(envelope, head)?;
        next.headers.id = msg_id(envelope);
        let breaks_run = run.last().is_some_and(|last| {
            last.subject != next.subject || last.seq >= next.seq || run.len() >= PUBLISH_RUN
        });
        if breaks_run {
            flush(js, &mut run).await?;
        }
        run.push(next);
    }
    flush(js, &mut run).await
}

async fn flush(js: &jetstream::Context, run: &mut Vec<OutgoingEvent>) -> anyhow::Result<()> {
    if run.is_empty() {
        return Ok(());
    }
    let outcome = publish_in_order(js, run, Duration::from_secs(10)).await;
    if let Some(error) = outcome.error {
        anyhow::bail!("publishing failed after {} acks: {error}", outcome.acked);
    }
    run.clear();
    Ok(())
}
