//! The whole system, for real: a `nats-server` and a PostgreSQL (test-harness), the district
//! aggregator as a child process of the built binary, school agents in this process
//! (`school_agent::run`, restartable with another NATS URL), and the district office talking
//! to the aggregator over gRPC.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use demo_data::{DemoRequest, DemoSchool};
use tempfile::TempDir;
use test_harness::{NatsServer, Postgres};
use tokio::process::{Child, Command};
use wire::pb;

use crate::binaries;

pub use demo_data::{DISTRICT, PROVINCE};
pub use district_fixture::stream_name;
pub const DISTRICT_AUTHOR: &str = domain::Author::DISTRICT_TOKEN;
/// The seed of every demo history in this suite.
pub const SEED: u64 = 2017;

pub type Office = district_fixture::Client;
pub type AgentClient = agent_fixture::Client;

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
        let settings = aggregator_settings(&db_url, &nats.url(), grpc, ingest);
        district_fixture::aggregator::write_config(&settings, &config)?;
        // The office's credentials, made on the database before the binary first runs (as the
        // server commands would): the binary answers nobody without one.
        let pool = district_aggregator::db::connect(&settings.database).await?;
        let credentials = district_fixture::credentials::office_credentials(
            &district_aggregator::accounts::Accounts::new(pool.clone()),
            &db_url,
        )
        .await?;
        pool.close().await;
        let aggregator = AggregatorProcess::start(
            bin,
            config,
            dir.path().join("aggregator.log"),
            grpc,
            credentials.admin,
        )
        .await?;
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
                let Ok(stream) = js.get_stream(stream_name()).await else {
                    return false;
                };
                stream
                    .consumer_info(consumer())
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
            .get_stream(stream_name())
            .await?
            .info()
            .await?
            .state
            .messages)
    }
}

/// The aggregator's durable consumer (its settings' default, which the tests keep).
fn consumer() -> String {
    district_aggregator::config::IngestSettings::default().consumer
}

/// The fixture's test settings of the aggregator, listening on `grpc`, with the scenario's
/// `[ingest]` knobs.
fn aggregator_settings(
    db_url: &str,
    nats_url: &str,
    grpc: SocketAddr,
    ingest: Ingest,
) -> district_aggregator::config::Settings {
    let mut settings = district_fixture::settings(db_url, nats_url);
    settings.grpc.listen = grpc;
    settings.nats.name = Some("district-aggregator-system-tests".into());
    settings.ingest.batch_size = ingest.batch_size;
    settings.ingest.max_ack_pending = ingest.max_ack_pending;
    settings.ingest.ack_wait_ms = ingest.ack_wait_ms;
    settings
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
    /// The office administrator's session, which its clients send.
    admin: String,
}

impl AggregatorProcess {
    async fn start(
        bin: PathBuf,
        config: PathBuf,
        log: PathBuf,
        grpc: SocketAddr,
        admin: String,
    ) -> anyhow::Result<Self> {
        let mut me = Self {
            child: None,
            bin,
            config,
            log,
            grpc,
            starts: 0,
            admin,
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
        let exited = std::sync::Mutex::new(None);
        let ready = test_harness::wait_until(Duration::from_secs(60), || {
            let exited = &exited;
            let status = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            let grpc = self.grpc;
            let admin = self.admin.clone();
            async move {
                if let Some(status) = status {
                    *exited
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(status);
                    return true;
                }
                match district_fixture::credentials::client_with(&format!("http://{grpc}"), &admin)
                    .await
                {
                    Ok(mut office) => ingest_state(&mut office).await.is_ok(),
                    Err(_) => false,
                }
            }
        })
        .await;
        if let Some(status) = exited
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            self.child = None;
            anyhow::bail!(
                "the aggregator exited during start-up ({status}):\n{}",
                self.log_tail(30)
            );
        }
        ready.with_context(|| format!("the aggregator was not ready:\n{}", self.log_tail(30)))
    }

    /// A new client (the process may have been restarted since the last one).
    pub async fn office(&self) -> anyhow::Result<Office> {
        district_fixture::credentials::client_with(&format!("http://{}", self.grpc), &self.admin)
            .await
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

/// A real school agent in this process (`agent_fixture`), with its SQLite log kept across
/// restarts.
pub struct Agent {
    pub school: &'static DemoSchool,
    dir: agent_fixture::SchoolDir,
    running: Option<(agent_fixture::RunningAgent, AgentClient)>,
}

impl Agent {
    pub async fn start(school: &'static DemoSchool, nats_url: &str) -> anyhow::Result<Self> {
        let mut me = Self {
            school,
            dir: agent_fixture::SchoolDir::for_school(school.code, school.name)?,
            running: None,
        };
        me.run(nats_url).await?;
        Ok(me)
    }

    pub fn code(&self) -> &'static str {
        self.school.code
    }

    async fn run(&mut self, nats_url: &str) -> anyhow::Result<()> {
        let agent = agent_fixture::RunningAgent::start(self.dir.settings(nats_url)).await?;
        let client = agent.client().await?;
        self.running = Some((agent, client));
        Ok(())
    }

    /// Graceful stop; the log stays.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        let (agent, _) = self.running.take().context("the agent is not running")?;
        agent.stop().await
    }

    /// The office PC switched off: the agent stops wherever it is, without shutting down.
    /// Every command it answered is committed in its log.
    pub async fn power_off(&mut self) -> anyhow::Result<()> {
        let (agent, _) = self.running.take().context("the agent is not running")?;
        agent.power_off().await
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
            .map(|(_, client)| client.clone())
            .expect("the agent is running")
    }

    pub async fn status(&self) -> anyhow::Result<pb::AgentStatus> {
        agent_fixture::status(&mut self.client()).await
    }

    /// Waits until JetStream acknowledged everything in the log; returns the head seq.
    pub async fn wait_delivered(&self, timeout: Duration) -> anyhow::Result<u64> {
        agent_fixture::wait_all_delivered(&self.client(), timeout)
            .await
            .with_context(|| format!("{} did not deliver its log", self.code()))
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

pub use district_fixture::office::{demo_school as school, district_plan, office_actor};

/// The office enrols `s` in its own commune.
pub fn enrolment(s: &DemoSchool) -> pb::EnrollSchoolRequest {
    district_fixture::office::enrolment(s, s.commune)
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
    let last = std::sync::Mutex::new(None::<pb::IngestState>);
    let done = test_harness::wait_until(timeout, || {
        let last = &last;
        async move {
            let Ok(mut office) = aggregator.office().await else {
                return false;
            };
            let Ok(state) = ingest_state(&mut office).await else {
                return false;
            };
            let done = heads
                .iter()
                .all(|(code, head)| author(&state, code).is_some_and(|a| a.applied_seq == *head));
            *last
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(state);
            done
        }
    })
    .await;
    let last = last
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match (done, last) {
        (Ok(()), Some(state)) => Ok(state),
        (outcome, last) => {
            let behind: Vec<String> = heads
                .iter()
                .map(|(code, head)| {
                    let a = last.as_ref().and_then(|s| author(s, code));
                    format!("{code}: head {head}, {a:?}")
                })
                .collect();
            Err(outcome
                .err()
                .unwrap_or_else(|| anyhow::anyhow!("no state read")))
            .context(format!(
                "not every author applied:\n{}\n{}",
                behind.join("\n"),
                aggregator.log_tail(20)
            ))
        }
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
