//! The whole system, for real: a `nats-server` and a PostgreSQL (test-harness), the district
//! aggregator as a child process of the built binary, school agents in this process
//! (`school_agent::run`, restartable with another NATS URL), and the district office talking
//! to the aggregator over gRPC.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_nats::jetstream;
use demo_data::{DemoRequest, DemoSchool, TAM_NONG_SCHOOLS};
use domain::district::SchoolLevel;
use tempfile::TempDir;
use test_harness::{NatsServer, Postgres};
use tokio::process::{Child, Command};
use tonic::transport::Channel;
use wire::pb;
use wire::pb::district_aggregator_client::DistrictAggregatorClient;
use wire::pb::school_agent_client::SchoolAgentClient;

use crate::binaries;

pub const PROVINCE: &str = "dong-thap";
pub const DISTRICT: &str = "tam-nong";
pub const STREAM: &str = "TRUYENTHONG_DONG-THAP_TAM-NONG";
pub const CONSUMER: &str = "district-aggregator";
pub const DISTRICT_AUTHOR: &str = "_district";
/// The seed of every demo history in this suite.
pub const SEED: u64 = 2017;

pub type Office = DistrictAggregatorClient<Channel>;
pub type AgentClient = SchoolAgentClient<Channel>;

/// The aggregator's `[ingest]` knobs that scenarios change; everything else is fixed below.
#[derive(Debug, Clone, Copy)]
pub struct Ingest {
    pub batch_size: usize,
    pub max_ack_pending: i64,
    pub ack_wait_ms: u64,
}

impl Ingest {
    /// Large batches, as in production.
    pub const DEFAULT: Ingest = Ingest {
        batch_size: 500,
        max_ack_pending: 2_000,
        ack_wait_ms: 15_000,
    };
    /// Small batches and a short ack wait: many transactions to be killed in, and quick
    /// redelivery after a kill.
    pub const SMALL_BATCHES: Ingest = Ingest {
        batch_size: 20,
        max_ack_pending: 100,
        ack_wait_ms: 2_000,
    };
}

/// NATS, PostgreSQL and the aggregator process.
pub struct System {
    /// Declared first: dropped (killed) before the servers it uses.
    pub aggregator: AggregatorProcess,
    pub nats: NatsServer,
    pub pg: Postgres,
    /// The district side's own plain NATS connection (setup, the oracle, fault injection).
    pub js: jetstream::Context,
    _dir: TempDir,
}

impl System {
    /// Starts NATS, a throwaway PostgreSQL cluster of our own (so it can be stopped and
    /// restarted, whatever `DATABASE_URL` says) with a fresh database, and the aggregator.
    pub async fn start(ingest: Ingest) -> anyhow::Result<Self> {
        let bin = tokio::task::spawn_blocking(binaries::aggregator).await?;
        let (nats, pg) = tokio::try_join!(NatsServer::start(), Postgres::start_local())?;
        let db_url = pg.fresh_database().await?;
        let js = jetstream::new(async_nats::connect(nats.url()).await?);
        // The district owns its stream; the aggregator ensures it too, but schools may start
        // publishing before its ingest task has.
        event_bus::stream::ensure_district_stream(&js, PROVINCE, DISTRICT).await?;
        let dir = tempfile::Builder::new().prefix("system-").tempdir()?;
        let grpc = SocketAddr::from(([127, 0, 0, 1], test_harness::free_port()?));
        let config = dir.path().join("aggregator.toml");
        std::fs::write(
            &config,
            aggregator_config(&db_url, &nats.url(), grpc, ingest),
        )?;
        let aggregator =
            AggregatorProcess::start(bin, config, dir.path().join("aggregator.log"), grpc).await?;
        Ok(Self {
            aggregator,
            nats,
            pg,
            js,
            _dir: dir,
        })
    }

    pub fn nats_url(&self) -> String {
        self.nats.url()
    }

    pub async fn office(&self) -> anyhow::Result<Office> {
        self.aggregator.office().await
    }

    /// The district office enrols `schools` and adopts its plan through the aggregator's
    /// gRPC; returns the district's head seq.
    pub async fn set_up_district(&self, schools: &[&DemoSchool]) -> anyhow::Result<u64> {
        let mut office = self.office().await?;
        for s in schools {
            office.enroll_school(enrolment(s)).await?;
        }
        let head = office
            .adopt_district_plan(pb::AdoptDistrictPlanRequest {
                actor: office_actor(),
                plan: Some(district_plan()),
            })
            .await?
            .into_inner()
            .seq;
        Ok(head)
    }

    /// Waits until the aggregator's durable consumer has every stream message delivered and
    /// acknowledged.
    pub async fn wait_consumed(&self, timeout: Duration) -> anyhow::Result<()> {
        let js = self.js.clone();
        test_harness::wait_until(timeout, || {
            let js = js.clone();
            async move {
                let Ok(stream) = js.get_stream(STREAM).await else {
                    return false;
                };
                stream
                    .consumer_info(CONSUMER)
                    .await
                    .is_ok_and(|i| i.num_pending == 0 && i.num_ack_pending == 0)
            }
        })
        .await
        .context("the aggregator did not acknowledge the whole stream")
    }

    /// Messages in the district stream now.
    pub async fn stream_messages(&self) -> anyhow::Result<u64> {
        Ok(self
            .js
            .get_stream(STREAM)
            .await?
            .info()
            .await?
            .state
            .messages)
    }
}

fn aggregator_config(db_url: &str, nats_url: &str, grpc: SocketAddr, ingest: Ingest) -> String {
    let Ingest {
        batch_size,
        max_ack_pending,
        ack_wait_ms,
    } = ingest;
    format!(
        r#"
[district]
province = "{PROVINCE}"
district = "{DISTRICT}"
name = "Phòng GD-ĐT Tam Nông"

[database]
url = "{db_url}"
max_connections = 4
acquire_timeout_ms = 1000

[grpc]
listen = "{grpc}"

[nats]
url = "{nats_url}"
name = "district-aggregator-system-tests"

[ingest]
batch_size = {batch_size}
batch_wait_ms = 20
max_ack_pending = {max_ack_pending}
ack_wait_ms = {ack_wait_ms}
heartbeat_ms = 1000
max_backoff_ms = 500
replay_grace_ms = 100
replay_min_interval_ms = 300
replay_max_interval_ms = 2000
replay_timeout_ms = 2000
ensure_stream = true
"#
    )
}

/// The aggregator as a real child process of the built binary.
pub struct AggregatorProcess {
    child: Option<Child>,
    bin: PathBuf,
    config: PathBuf,
    log: PathBuf,
    pub grpc: SocketAddr,
    /// How many times it was started.
    pub starts: u32,
}

impl AggregatorProcess {
    async fn start(
        bin: PathBuf,
        config: PathBuf,
        log: PathBuf,
        grpc: SocketAddr,
    ) -> anyhow::Result<Self> {
        let mut me = Self {
            child: None,
            bin,
            config,
            log,
            grpc,
            starts: 0,
        };
        me.spawn().await?;
        Ok(me)
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.child.is_none(), "the aggregator is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child = Command::new(&self.bin)
            .arg("--config")
            .arg(&self.config)
            .env(
                "RUST_LOG",
                std::env::var("SYSTEM_TESTS_AGGREGATOR_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("spawning {}", self.bin.display()))?;
        self.child = Some(child);
        self.starts += 1;
        self.wait_ready().await
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                anyhow::bail!(
                    "the aggregator exited during start-up ({status}):\n{}",
                    self.log_tail(30)
                );
            }
            if let Ok(mut office) = self.office().await
                && office
                    .get_ingest_state(pb::GetIngestStateRequest {})
                    .await
                    .is_ok()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "the aggregator was not ready in 60 s:\n{}",
                    self.log_tail(30)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new client (the process may have been restarted since the last one).
    pub async fn office(&self) -> anyhow::Result<Office> {
        Ok(DistrictAggregatorClient::connect(format!("http://{}", self.grpc)).await?)
    }

    /// SIGKILL: no shutdown at all, wherever it is.
    pub async fn sigkill(&mut self) -> anyhow::Result<()> {
        let mut child = self.child.take().context("the aggregator is not running")?;
        child.kill().await?; // SIGKILL, then reaps it
        Ok(())
    }

    /// Starts it again with the same configuration and waits until it answers.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.spawn().await
    }

    /// SIGTERM, and a clean exit within 30 s.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        let mut child = self.child.take().context("the aggregator is not running")?;
        if let Some(pid) = child.id() {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(i32::try_from(pid)?),
                nix::sys::signal::Signal::SIGTERM,
            )?;
        }
        let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .context("the aggregator did not stop within 30 s of SIGTERM")??;
        anyhow::ensure!(
            status.success(),
            "the aggregator exited with {status}:\n{}",
            self.log_tail(30)
        );
        Ok(())
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for AggregatorProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- district-aggregator log tail ({}) ---\n{}\n---",
                self.log.display(),
                self.log_tail(40)
            );
        }
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

/// A real school agent in this process, with its SQLite log kept across restarts.
pub struct Agent {
    pub school: &'static DemoSchool,
    dir: TempDir,
    running: Option<RunningAgent>,
}

struct RunningAgent {
    client: AgentClient,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Agent {
    pub async fn start(school: &'static DemoSchool, nats_url: &str) -> anyhow::Result<Self> {
        let mut me = Self {
            school,
            dir: tempfile::Builder::new().prefix("agent-").tempdir()?,
            running: None,
        };
        me.run(nats_url).await?;
        Ok(me)
    }

    pub fn code(&self) -> &'static str {
        self.school.code
    }

    async fn run(&mut self, nats_url: &str) -> anyhow::Result<()> {
        let config = self.write_config(nats_url)?;
        let settings = school_agent::config::Settings::load(Some(&config))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(school_agent::run(settings, listener, async move {
            let _ = stopped.await;
        }));
        let client = SchoolAgentClient::connect(format!("http://{addr}")).await?;
        self.running = Some(RunningAgent { client, stop, task });
        Ok(())
    }

    fn write_config(&self, nats_url: &str) -> anyhow::Result<PathBuf> {
        let path = self.dir.path().join("agent.toml");
        std::fs::write(
            &path,
            format!(
                r#"
[school]
province = "{PROVINCE}"
district = "{DISTRICT}"
code = "{code}"
name = "{name}"

[storage]
path = "{log}"

[nats]
url = "{nats_url}"

[relay]
batch_size = 256
ack_timeout_ms = 2000
max_backoff_ms = 400
"#,
                code = self.school.code,
                name = self.school.name,
                log = self.log_path().display(),
            ),
        )?;
        Ok(path)
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("log.sqlite")
    }

    /// Graceful stop; the log stays.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        let running = self.running.take().context("the agent is not running")?;
        let _ = running.stop.send(());
        tokio::time::timeout(Duration::from_secs(30), running.task)
            .await
            .context("the agent did not stop within 30 s")???;
        Ok(())
    }

    /// The office PC switched off: the agent stops wherever it is, without shutting down.
    /// Every command it answered is committed in its log.
    pub async fn power_off(&mut self) -> anyhow::Result<()> {
        let running = self.running.take().context("the agent is not running")?;
        running.task.abort();
        match running.task.await {
            Err(e) if e.is_cancelled() => Ok(()),
            Err(e) => Err(e.into()),
            Ok(result) => result,
        }
    }

    /// Stops it gracefully (when running) and starts it again on the same log with another
    /// NATS URL.
    pub async fn restart_with(&mut self, nats_url: &str) -> anyhow::Result<()> {
        if self.running.is_some() {
            self.stop().await?;
        }
        self.run(nats_url).await
    }

    pub fn client(&self) -> AgentClient {
        self.running
            .as_ref()
            .expect("the agent is running")
            .client
            .clone()
    }

    pub async fn status(&self) -> anyhow::Result<pb::AgentStatus> {
        Ok(self
            .client()
            .get_status(pb::GetStatusRequest {})
            .await?
            .into_inner())
    }

    /// Waits until JetStream acknowledged everything in the log; returns the head seq.
    pub async fn wait_delivered(&self, timeout: Duration) -> anyhow::Result<u64> {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.status().await?;
            if s.backlog == 0 && s.last_published_seq == s.head_seq {
                return Ok(s.head_seq);
            }
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "{} did not deliver its log in {timeout:?}: {s:?}",
                    self.code()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends `requests` through its gRPC, one after the other, in a task of its own.
    pub fn feed(
        &self,
        requests: Vec<DemoRequest>,
    ) -> tokio::task::JoinHandle<anyhow::Result<usize>> {
        let mut client = self.client();
        let code = self.code();
        tokio::spawn(async move {
            let n = requests.len();
            for (i, request) in requests.into_iter().enumerate() {
                demo_data::send(&mut client, request)
                    .await
                    .with_context(|| format!("{code}: request {i} refused"))?;
            }
            Ok(n)
        })
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.task.abort();
        }
    }
}

pub fn school(code: &str) -> &'static DemoSchool {
    TAM_NONG_SCHOOLS
        .iter()
        .find(|s| s.code == code)
        .unwrap_or_else(|| panic!("{code} is a demo school"))
}

pub fn office_actor() -> Option<pb::Actor> {
    Some(pb::Actor {
        role: pb::Role::DistrictOffice.into(),
        person: "Trần Văn Bình".into(),
    })
}

pub fn enrolment(s: &DemoSchool) -> pb::EnrollSchoolRequest {
    let level = match s.level.code() {
        "mam_non" => SchoolLevel::MamNon,
        "tieu_hoc" => SchoolLevel::TieuHoc,
        _ => SchoolLevel::Thcs,
    };
    pb::EnrollSchoolRequest {
        actor: office_actor(),
        enrolment: Some(pb::Enrolment {
            code: s.code.into(),
            name: s.name.into(),
            level: pb::SchoolLevel::from(level).into(),
            commune: s.commune.into(),
            enrolled_on: "2017-10-18".into(),
        }),
    }
}

fn target(level: Option<pb::SchoolLevel>, area: u32, per: pb::TargetPer, min: u32) -> pb::Target {
    pb::Target {
        level: level.map_or(0, i32::from),
        area,
        per: per.into(),
        min_activities: min,
    }
}

/// The district's plan 1442/KH-PGDĐT with targets of every kind.
pub fn district_plan() -> pb::DistrictPlan {
    use pb::{SchoolLevel as L, TargetPer as P};
    pb::DistrictPlan {
        number: "1442/KH-PGDĐT".into(),
        issuer: "Phòng Giáo dục và Đào tạo Tam Nông".into(),
        parent_agency: "UBND huyện Tam Nông".into(),
        place: "Tam Nông".into(),
        date: "2017-10-18".into(),
        title: "Kế hoạch truyền thông về giáo dục và đào tạo giai đoạn 2017-2020".into(),
        period_start: "2017-10-18".into(),
        period_end: "2020-12-31".into(),
        targets: vec![
            target(None, 0, P::Quarter, 2),
            target(Some(L::Thcs), 3, P::Semester, 4),
            target(Some(L::MamNon), 1, P::SchoolYear, 3),
            target(None, 4, P::CalendarYear, 3),
            target(Some(L::TieuHoc), 0, P::SchoolYear, 2),
        ],
        answer_within_days: Some(pb::AnswerWithinDays {
            feedback: 10,
            press: 5,
        }),
    }
}

/// The aggregator's ingest state.
pub async fn ingest_state(office: &mut Office) -> anyhow::Result<pb::IngestState> {
    Ok(office
        .get_ingest_state(pb::GetIngestStateRequest {})
        .await?
        .into_inner())
}

pub fn author<'a>(state: &'a pb::IngestState, code: &str) -> Option<&'a pb::AuthorState> {
    state.authors.iter().find(|a| a.author == code)
}

/// Sum of the applied seqs of every author: progress of the ingest.
pub fn applied_total(state: &pb::IngestState) -> u64 {
    state.authors.iter().map(|a| a.applied_seq).sum()
}

/// Waits until every author of `heads` is applied up to its head (a fresh client each poll,
/// so a restarted aggregator is found again).
pub async fn wait_applied(
    aggregator: &AggregatorProcess,
    heads: &BTreeMap<String, u64>,
    timeout: Duration,
) -> anyhow::Result<pb::IngestState> {
    let deadline = Instant::now() + timeout;
    let mut last = None;
    loop {
        if let Ok(mut office) = aggregator.office().await
            && let Ok(state) = ingest_state(&mut office).await
        {
            let done = heads
                .iter()
                .all(|(code, head)| author(&state, code).is_some_and(|a| a.applied_seq == *head));
            if done {
                return Ok(state);
            }
            last = Some(state);
        }
        if Instant::now() >= deadline {
            let behind: Vec<String> = heads
                .iter()
                .map(|(code, head)| {
                    let a = last.as_ref().and_then(|s| author(s, code));
                    format!("{code}: head {head}, {a:?}")
                })
                .collect();
            anyhow::bail!(
                "not every author applied in {timeout:?}:\n{}\n{}",
                behind.join("\n"),
                aggregator.log_tail(20)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The date a demo request happened on (corrections and retractions carry none).
pub fn request_date(request: &DemoRequest) -> Option<chrono::NaiveDate> {
    use DemoRequest as R;
    let text: &str = match request {
        R::AdoptPlan(r) => &r.plan.as_ref()?.date,
        R::AssignDuty(r) => &r.since,
        R::RecordActivity(r) => &r.activity.as_ref()?.date,
        R::CorrectActivity(_) | R::RetractActivity(_) => return None,
        R::ReceiveFeedback(r) => &r.received_on,
        R::AnswerFeedback(r) => &r.answered_on,
        R::RaisePressIssue(r) => &r.raised_on,
        R::AnswerPressIssue(r) => &r.answered_on,
        R::HostReporterVisit(r) => &r.date,
        R::Nominate(r) => &r.date,
        R::AwardCommendation(r) => &r.decision_date,
        R::AdoptEmulationCriteria(r) => &r.adopted_on,
        R::EstimateBudget(r) => &r.estimated_on,
        R::RecordExpense(r) => &r.spent_on,
        R::SettleBudget(r) => &r.settled_on,
    };
    text.parse().ok()
}

/// A port where nothing listens (free a moment ago; nothing of ours binds it).
pub fn dead_nats_url() -> anyhow::Result<String> {
    Ok(format!("nats://127.0.0.1:{}", test_harness::free_port()?))
}
