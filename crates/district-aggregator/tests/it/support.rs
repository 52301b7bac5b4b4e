//! Real services for the aggregator's tests: a `nats-server`, a PostgreSQL database, the real
//! aggregator on port 0, and envelopes published the way schools and the district office
//! publish them.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use chrono::{DateTime, NaiveDate, Utc};
use district_aggregator::config::{
    DatabaseSettings, DistrictSettings, GrpcSettings, IngestSettings, Settings,
};
use district_aggregator::projection::ActivityUpdate;
use district_aggregator::state::IngestState;
use domain::district::{DistrictEvent, Enrolment, SchoolLevel};
use domain::event::{ActivityDetails, ActivityRecorded, Event, PlanAdopted};
use domain::{Actor, Author, ContentArea, Envelope, Role, SchoolRef, Slug};
use event_bus::connect::NatsSettings;
use event_bus::subjects::{SchoolAddress, district_own_subject, events_subject};
use sqlx::{PgPool, Row};
use test_harness::{NatsServer, Postgres};
use tokio::sync::{broadcast, oneshot};
use uuid::Uuid;

pub const PROVINCE: &str = "dong-thap";
pub const DISTRICT: &str = "tam-nong";
pub const AN_HOA: &str = "thcs-an-hoa";
pub const PHU_CUONG: &str = "thcs-phu-cuong";
pub const STREAM: &str = "TRUYENTHONG_DONG-THAP_TAM-NONG";
pub const CONSUMER: &str = "district-aggregator";
/// Messages above this are dead-lettered in these tests (the real default is 1 MiB).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
pub const WAIT: Duration = Duration::from_secs(60);

/// A NATS server and a fresh database.
pub struct Env {
    pub nats: NatsServer,
    pub pg: Postgres,
    pub db_url: String,
    pub js: jetstream::Context,
    pub db: PgPool,
}

impl Env {
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(Postgres::start().await?).await
    }

    /// With a throwaway PostgreSQL of our own, which the test may stop and restart.
    pub async fn start_local() -> anyhow::Result<Self> {
        Self::start_with(Postgres::start_local().await?).await
    }

    async fn start_with(pg: Postgres) -> anyhow::Result<Self> {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .try_init();
        let nats = NatsServer::start().await?;
        let db_url = pg.fresh_database().await?;
        let client = async_nats::connect(nats.url()).await?;
        let js = jetstream::new(client);
        // The district owns its stream; create it now so tests can publish before the
        // aggregator first runs.
        event_bus::stream::ensure_district_stream(&js, PROVINCE, DISTRICT).await?;
        let db = PgPool::connect(&db_url).await?;
        Ok(Self {
            nats,
            pg,
            db_url,
            js,
            db,
        })
    }

    pub fn settings(&self) -> Settings {
        Settings {
            district: DistrictSettings {
                province: PROVINCE.into(),
                district: DISTRICT.into(),
                name: "Phòng GD-ĐT Tam Nông".into(),
            },
            database: DatabaseSettings {
                url: self.db_url.clone().into(),
                max_connections: 4,
                acquire_timeout_ms: 1_000,
            },
            grpc: GrpcSettings::default(),
            nats: NatsSettings::new(self.nats.url()),
            ingest: IngestSettings {
                batch_wait_ms: 20,
                ack_wait_ms: 3_000,
                heartbeat_ms: 1_000,
                max_message_bytes: MAX_MESSAGE_BYTES,
                max_backoff_ms: 500,
                replay_grace_ms: 100,
                replay_min_interval_ms: 300,
                replay_max_interval_ms: 2_000,
                replay_timeout_ms: 2_000,
                ..IngestSettings::default()
            },
        }
    }

    /// Waits until the aggregator's consumer has every message of the stream delivered and
    /// acknowledged (so every message was placed by a committed batch).
    pub async fn wait_consumed(&self) -> anyhow::Result<()> {
        let js = self.js.clone();
        test_harness::wait_until(WAIT, || {
            let js = js.clone();
            async move {
                let Ok(stream) = js.get_stream(STREAM).await else {
                    return false;
                };
                match stream.consumer_info(CONSUMER).await {
                    Ok(info) => info.num_pending == 0 && info.num_ack_pending == 0,
                    Err(_) => false,
                }
            }
        })
        .await
        .context("the aggregator did not consume the whole stream")
    }

    pub async fn applied_seq(&self, author: &str) -> anyhow::Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT applied_seq FROM live.positions WHERE author = $1")
                .bind(author)
                .fetch_optional(&self.db)
                .await?,
        )
    }

    pub async fn wait_applied(&self, author: &str, seq: i64) -> anyhow::Result<()> {
        test_harness::wait_until(WAIT, || async move {
            self.applied_seq(author).await.ok().flatten() == Some(seq)
        })
        .await
        .with_context(|| format!("{author} did not reach seq {seq}"))
    }

    pub async fn count(&self, sql: &str) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar(sql).fetch_one(&self.db).await?)
    }

    /// `(applied_seq, applied_events, rejected_events)` of an author.
    pub async fn position(&self, author: &str) -> anyhow::Result<(i64, i64, i64)> {
        let row = sqlx::query("SELECT applied_seq, applied_events, rejected_events FROM live.positions WHERE author = $1")
            .bind(author)
            .fetch_one(&self.db)
            .await?;
        Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
    }
}

/// The real aggregator, in this process, on port 0.
pub struct Running {
    pub grpc: SocketAddr,
    pub state: Arc<IngestState>,
    pub activities: broadcast::Receiver<ActivityUpdate>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub async fn start(settings: Settings) -> anyhow::Result<Self> {
        let aggregator = district_aggregator::Aggregator::connect(settings).await?;
        let state = aggregator.state();
        let activities = aggregator.subscribe_activities();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let grpc = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(aggregator.run(listener, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            grpc,
            state,
            activities,
            stop: Some(stop),
            task,
        })
    }

    /// Graceful stop.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), self.task).await??
    }

    /// Drops the task wherever it is: mid-batch, mid-transaction, before an ack.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

pub fn recorded_at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2020-12-01T03:00:00Z")
        .expect("valid instant")
        .with_timezone(&Utc)
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

pub fn seed_plan() -> domain::Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/plans/kh-114-thcs-an-hoa-2017.toml");
    let text = std::fs::read_to_string(path).expect("the seed plan file is in the repository");
    toml::from_str(&text).expect("the seed plan parses")
}

fn actor() -> Actor {
    Actor::parse(Role::VicePrincipal, "Nguyễn Thị Hồng Nhung").expect("valid actor")
}

const TOPICS: &[(i64, &str)] = &[
    (1, "nq-29-nq-88"),
    (2, "phat-trien-doi-ngu"),
    (3, "huong-nghiep"),
    (3, "trai-nghiem-sang-tao"),
    (4, "ton-vinh-dien-hinh"),
    (5, "thu-tuc-hanh-chinh"),
    (6, "chi-dao-dia-phuong"),
];

/// The n-th activity's details: spread over areas, channels and dates of the plan period.
pub fn details(n: u64) -> ActivityDetails {
    let (area, topic) = TOPICS[(n as usize) % TOPICS.len()];
    let channels = [
        domain::Channel::DistrictRadio,
        domain::Channel::SchoolPortal,
        domain::Channel::Facebook,
    ];
    ActivityDetails {
        date: date(2017, 11, 1) + chrono::Days::new(n % 1000),
        area: ContentArea::from_number("area", area).expect("valid area"),
        topic: Some(Slug::parse("topic", topic).expect("valid topic")),
        channel: channels[(n as usize) % channels.len()],
        title: format!("Tin bài số {n} về hướng nghiệp ở xã An Hòa"),
        summary: "Đăng tin về hoạt động giáo dục của nhà trường cho phụ huynh.".into(),
        audience: Some("Phụ huynh học sinh".into()),
        reach: Some(100 + n as u32 % 50),
        partner: None,
        evidence_url: Some(format!("https://thcsanhoa.tamnong.edu.vn/tin-tuc/{n}")),
        responsible: Role::VicePrincipal,
    }
}

pub fn activity(n: u64) -> Event {
    Event::ActivityRecorded(ActivityRecorded {
        activity_id: Uuid::now_v7(),
        details: details(n),
    })
}

/// A school's log, sealed the way its agent seals it.
pub struct SchoolLog {
    pub school: SchoolRef,
    pub envelopes: Vec<Envelope>,
}

impl SchoolLog {
    pub fn new(code: &str) -> Self {
        Self {
            school: SchoolRef::parse(PROVINCE, DISTRICT, code).expect("valid school"),
            envelopes: Vec::new(),
        }
    }

    /// Appends `event` at the next seq and returns its envelope.
    pub fn push(&mut self, event: Event) -> Envelope {
        let seq = self.envelopes.len() as u64 + 1;
        let envelope = Envelope::seal(
            &self.school,
            seq,
            Uuid::now_v7(),
            recorded_at(),
            actor(),
            &event,
        );
        self.envelopes.push(envelope.clone());
        envelope
    }

    /// The seed plan then `n` activities: seqs 1..=n+1.
    pub fn with_plan_and_activities(code: &str, n: u64) -> Self {
        let mut log = Self::new(code);
        log.push(Event::PlanAdopted(PlanAdopted { plan: seed_plan() }));
        for i in 0..n {
            log.push(activity(i));
        }
        log
    }

    pub fn events(&self) -> Vec<Event> {
        self.envelopes
            .iter()
            .map(|e| e.decode().expect("our own events decode"))
            .collect()
    }
}

/// The district office's own log.
pub struct DistrictLog {
    pub envelopes: Vec<Envelope>,
}

impl DistrictLog {
    pub fn new() -> Self {
        Self {
            envelopes: Vec::new(),
        }
    }

    pub fn enrol(&mut self, code: &str, name: &str) -> Envelope {
        let event = DistrictEvent::SchoolEnrolled(Enrolment {
            code: Slug::parse("code", code).expect("valid code"),
            name: name.into(),
            level: SchoolLevel::Thcs,
            commune: "An Hòa".into(),
            enrolled_on: date(2017, 10, 18),
        });
        let seq = self.envelopes.len() as u64 + 1;
        let envelope = Envelope::seal_district(
            &Slug::parse("province", PROVINCE).expect("valid"),
            &Slug::parse("district", DISTRICT).expect("valid"),
            seq,
            Uuid::now_v7(),
            recorded_at(),
            Actor::parse(Role::DistrictOffice, "Trần Văn Bình").expect("valid actor"),
            &event,
        );
        self.envelopes.push(envelope.clone());
        envelope
    }
}

pub fn subject_of(envelope: &Envelope) -> String {
    match &envelope.school {
        Author::School(code) => events_subject(
            &SchoolAddress::parse(PROVINCE, DISTRICT, code.as_str()).expect("valid address"),
        ),
        Author::DistrictOffice => district_own_subject(PROVINCE, DISTRICT).expect("valid district"),
    }
}

/// Publishes envelopes one author run at a time, in the order given, each with its own id.
pub async fn publish(js: &jetstream::Context, envelopes: &[Envelope]) -> anyhow::Result<()> {
    district_fixture::publish(js, envelopes).await
}

/// Publishes envelopes with fresh `Nats-Msg-Id`s: copies JetStream cannot recognise, as after
/// its duplicate window.
pub async fn republish(js: &jetstream::Context, envelopes: &[Envelope]) -> anyhow::Result<()> {
    district_fixture::publish_with_ids(js, envelopes, |_| Uuid::now_v7()).await
}

/// Publishes raw bytes on a subject, as a broken or hostile publisher would.
pub async fn publish_raw(
    js: &jetstream::Context,
    subject: &str,
    body: Vec<u8>,
) -> anyhow::Result<()> {
    js.publish(subject.to_owned(), body.into()).await?.await?;
    Ok(())
}
