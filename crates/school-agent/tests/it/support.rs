//! Spawning the real agent: as a child process (for SIGKILL) or in-process on port 0.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream;
use futures::StreamExt;
use tempfile::TempDir;
use tokio::process::{Child, Command};
use tonic::transport::Channel;
use wire::pb;
use wire::pb::school_agent_client::SchoolAgentClient;

pub const PROVINCE: &str = "dong-thap";
pub const DISTRICT: &str = "tam-nong";
pub const SCHOOL: &str = "thcs-an-hoa";
pub const SUBJECT: &str = "truyenthong.events.dong-thap.tam-nong.thcs-an-hoa";

pub type Client = SchoolAgentClient<Channel>;

/// A school's directory: its config and its SQLite log, kept across agent restarts.
pub struct SchoolDir {
    pub dir: TempDir,
    pub grpc: SocketAddr,
}

impl SchoolDir {
    pub fn new(nats_url: &str) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let port = test_harness::free_port()?;
        let grpc = SocketAddr::from(([127, 0, 0, 1], port));
        let me = Self { dir, grpc };
        me.write_config(nats_url)?;
        Ok(me)
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("agent.toml")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("log.sqlite")
    }

    pub fn write_config(&self, nats_url: &str) -> anyhow::Result<()> {
        let text = format!(
            r#"
[school]
province = "{PROVINCE}"
district = "{DISTRICT}"
code = "{SCHOOL}"
name = "Trường THCS An Hòa"

[storage]
path = "{log}"

[grpc]
listen = "{grpc}"

[nats]
url = "{nats_url}"

[relay]
batch_size = 128
ack_timeout_ms = 2000
max_backoff_ms = 400
ensure_stream = true
"#,
            log = self.log_path().display(),
            grpc = self.grpc,
        );
        std::fs::write(self.config_path(), text)?;
        Ok(())
    }

    pub fn settings(&self) -> anyhow::Result<school_agent::config::Settings> {
        Ok(school_agent::config::Settings::load(Some(
            &self.config_path(),
        ))?)
    }
}

/// The agent as a real child process.
pub struct AgentProcess {
    child: Child,
    pub grpc: SocketAddr,
}

impl AgentProcess {
    pub async fn spawn(school: &SchoolDir) -> anyhow::Result<Self> {
        let log = std::fs::File::create(school.dir.path().join(format!(
            "agent-{}.log",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos()
        )))?;
        let child = Command::new(env!("CARGO_BIN_EXE_school-agent"))
            .arg("--config")
            .arg(school.config_path())
            .env("RUST_LOG", "info,school_agent=debug")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .context("spawning school-agent")?;
        let me = Self {
            child,
            grpc: school.grpc,
        };
        me.wait_ready().await?;
        Ok(me)
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        let addr = self.grpc;
        test_harness::wait_until(Duration::from_secs(20), || async move {
            match connect(addr).await {
                Ok(mut c) => c.get_status(pb::GetStatusRequest {}).await.is_ok(),
                Err(_) => false,
            }
        })
        .await
        .context("school-agent did not become ready")
    }

    /// SIGKILL: no graceful shutdown at all.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// SIGTERM and wait for a graceful exit.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGTERM,
            )?;
        }
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await??;
        anyhow::ensure!(status.success(), "school-agent exited with {status}");
        Ok(())
    }
}

/// The agent in this process, on port 0, stopped through a oneshot.
pub struct AgentInProcess {
    pub grpc: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl AgentInProcess {
    pub async fn start(school: &SchoolDir) -> anyhow::Result<Self> {
        let settings = school.settings()?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let grpc = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(school_agent::run(settings, listener, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            grpc,
            stop: Some(stop),
            task,
        })
    }

    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await?
    }
}

pub async fn connect(addr: SocketAddr) -> anyhow::Result<Client> {
    Ok(SchoolAgentClient::connect(format!("http://{addr}")).await?)
}

pub fn header() -> Option<pb::CommandHeader> {
    Some(pb::CommandHeader {
        school: SCHOOL.into(),
        actor: Some(pb::Actor {
            role: pb::Role::VicePrincipal as i32,
            person: "Nguyễn Thị Hồng Nhung".into(),
        }),
    })
}

pub fn seed_plan() -> pb::Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/plans/kh-114-thcs-an-hoa-2017.toml");
    let text = std::fs::read_to_string(path).expect("the seed plan file is in the repository");
    let plan: domain::Plan = toml::from_str(&text).expect("the seed plan parses");
    wire::convert::plan_to_pb(&plan)
}

pub async fn adopt_seed_plan(client: &mut Client) -> anyhow::Result<pb::CommandReply> {
    Ok(client
        .adopt_plan(pb::AdoptPlanRequest {
            header: header(),
            plan: Some(seed_plan()),
        })
        .await?
        .into_inner())
}

const TOPICS: &[(u32, &str)] = &[
    (1, "nq-29-nq-88"),
    (2, "phat-trien-doi-ngu"),
    (3, "huong-nghiep"),
    (3, "trai-nghiem-sang-tao"),
    (4, "ton-vinh-dien-hinh"),
    (5, "thu-tuc-hanh-chinh"),
    (6, "chi-dao-dia-phuong"),
];

/// The n-th demo activity: spread over the plan's areas, channels and dates.
pub fn activity(n: u64) -> pb::RecordActivityRequest {
    let (area, topic) = TOPICS[(n as usize) % TOPICS.len()];
    let channels = [
        pb::Channel::DistrictRadio,
        pb::Channel::SchoolPortal,
        pb::Channel::Facebook,
        pb::Channel::Meeting,
    ];
    let day = chrono::NaiveDate::from_ymd_opt(2017, 11, 1).expect("valid date")
        + chrono::Days::new(n % 1000);
    pb::RecordActivityRequest {
        header: header(),
        activity_id: String::new(),
        activity: Some(pb::Activity {
            date: day.to_string(),
            area,
            topic: topic.into(),
            channel: channels[(n as usize) % channels.len()] as i32,
            title: format!("Tin bài số {n} về hoạt động của trường"),
            summary:
                "Đăng tin về hoạt động giáo dục của nhà trường cho phụ huynh và nhân dân xã An Hòa."
                    .into(),
            audience: "Phụ huynh học sinh".into(),
            reach: Some(100 + (n % 50) as u32),
            partner: String::new(),
            evidence_url: format!("https://thcsanhoa.tamnong.edu.vn/tin-tuc/{n}"),
            responsible: pb::Role::VicePrincipal as i32,
        }),
    }
}

pub async fn status(client: &mut Client) -> anyhow::Result<pb::AgentStatus> {
    Ok(client
        .get_status(pb::GetStatusRequest {})
        .await?
        .into_inner())
}

/// Waits until the agent reports everything delivered.
pub async fn wait_delivered(client: &Client, head: u64, timeout: Duration) -> anyhow::Result<()> {
    test_harness::wait_until(timeout, || {
        let mut c = client.clone();
        async move {
            status(&mut c)
                .await
                .is_ok_and(|s| s.head_seq == head && s.last_published_seq == head && s.backlog == 0)
        }
    })
    .await
    .with_context(|| format!("events up to {head} were not all delivered"))
}

/// Every message in the district stream on the school's subject, in stream order, read with a
/// plain async-nats ordered consumer.
pub async fn stream_messages(
    nats_url: &str,
) -> anyhow::Result<Vec<async_nats::jetstream::Message>> {
    let client = async_nats::connect(nats_url).await?;
    let js = jetstream::new(client);
    let mut stream = js.get_stream("TRUYENTHONG_DONG-THAP_TAM-NONG").await?;
    let expected = stream.info().await?.state.messages;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            filter_subject: SUBJECT.into(),
            ..Default::default()
        })
        .await?;
    let mut out = Vec::new();
    if expected == 0 {
        return Ok(out);
    }
    let mut messages = consumer.messages().await?;
    while let Some(message) = tokio::time::timeout(Duration::from_secs(10), messages.next()).await?
    {
        out.push(message?);
        if out.len() as u64 >= expected {
            break;
        }
    }
    Ok(out)
}

/// Checks the stream holds seq 1..=n exactly once each, in order, with the contract's headers.
pub fn assert_delivered_once_in_order(messages: &[async_nats::jetstream::Message], n: u64) {
    let seqs: Vec<u64> = messages
        .iter()
        .map(|m| {
            domain::Envelope::parse(&m.payload)
                .expect("every message is an envelope")
                .seq
        })
        .collect();
    let expected: Vec<u64> = (1..=n).collect();
    assert_eq!(seqs.len(), expected.len(), "message count");
    assert_eq!(seqs, expected, "each seq once, in order");
}
