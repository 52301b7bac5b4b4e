//! Real services for the aggregator's tests: a `nats-server`, a PostgreSQL database, the real
//! aggregator on port 0 (`district_fixture`'s, with its test settings), and envelopes sealed
//! and published the way schools and the district office publish them.

use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use chrono::{DateTime, NaiveDate, Utc};
use district_aggregator::config::Settings;
use domain::district::{DistrictEvent, Enrolment, SchoolLevel};
use domain::event::{ActivityDetails, ActivityRecorded, Event, PlanAdopted};
use domain::{Actor, ContentArea, Envelope, Role, SchoolRef, Slug};
use sqlx::{PgPool, Row};
use test_harness::{NatsServer, Postgres};
use uuid::Uuid;

pub use demo_data::seed_plan;
pub use district_fixture::aggregator::MAX_MESSAGE_BYTES;
pub use district_fixture::{DISTRICT, PROVINCE, RunningAggregator as Running, stream_name};

pub const AN_HOA: &str = "thcs-an-hoa";
pub const PHU_CUONG: &str = "thcs-phu-cuong";
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
        district_fixture::init_tracing();
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

    /// The aggregator's test settings on this database and NATS server.
    pub fn settings(&self) -> Settings {
        district_fixture::settings(&self.db_url, &self.nats.url())
    }

    /// Waits until the aggregator's consumer has every message of the stream delivered and
    /// acknowledged (so every message was placed by a committed batch).
    pub async fn wait_consumed(&self) -> anyhow::Result<()> {
        let js = self.js.clone();
        test_harness::wait_until(WAIT, || {
            let js = js.clone();
            async move {
                let Ok(stream) = js.get_stream(stream_name()).await else {
                    return false;
                };
                let consumer = district_aggregator::config::IngestSettings::default().consumer;
                match stream.consumer_info(consumer).await {
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

pub fn recorded_at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2020-12-01T03:00:00Z")
        .expect("valid instant")
        .with_timezone(&Utc)
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
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
    district_fixture::subject_of(envelope).expect("the demo district's subjects are valid")
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

/// Writes `key`'s seed into `<dir>/<name>.nk`, as the district office hands a seed over.
pub fn write_seed(
    dir: &std::path::Path,
    name: &str,
    key: &nkeys::KeyPair,
) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join(format!("{name}.nk"));
    std::fs::write(&path, format!("{}\n", key.seed()?))?;
    Ok(path)
}

/// The district's identity registry (`identities.toml` in `dir`) with the public keys of
/// `schools` and of the aggregator, as `district-admin` writes it; its path.
pub fn identity_registry(
    dir: &std::path::Path,
    schools: &[(&str, &nkeys::KeyPair)],
    aggregator: &nkeys::KeyPair,
) -> anyhow::Result<std::path::PathBuf> {
    use event_bus::registry::{AGGREGATOR, District, FILE_NAME, Kind, Registry, ServerOptions};
    let mut registry = Registry::new(
        District::new(PROVINCE, DISTRICT),
        ServerOptions::on_loopback(
            "tam-nong",
            4222,
            8222,
            &dir.join("store"),
            &dir.join("nats.pid"),
        ),
    );
    let now = Utc::now();
    registry
        .issue(AGGREGATOR, Kind::Aggregator, aggregator.public_key(), now)
        .context("registering the aggregator")?;
    for (code, key) in schools {
        registry
            .issue(code, Kind::School, key.public_key(), now)
            .with_context(|| format!("registering {code}"))?;
    }
    registry.save(dir)?;
    Ok(dir.join(FILE_NAME))
}

/// The district dashboard as `reporting` serves it, calling the aggregator at
/// `aggregator_url` with `token`, on `ip` port 0 — a loopback address of its own, since
/// browsers keep cookies per host. Its address.
pub async fn serve_dashboard(
    aggregator_url: &str,
    token: &str,
    ip: &str,
) -> anyhow::Result<std::net::SocketAddr> {
    let channel =
        tonic::transport::Endpoint::from_shared(aggregator_url.to_owned())?.connect_lazy();
    let state =
        dashboard::DashboardState::new(channel, service_runtime::Credential::bearer(token)?);
    let listener = tokio::net::TcpListener::bind((ip, 0)).await?;
    let addr = listener.local_addr()?;
    let app = dashboard::router(state);
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    Ok(addr)
}
