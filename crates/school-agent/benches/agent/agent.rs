//! The agent under test: the real `school_agent::run`, in this process, on an ephemeral
//! port, with its log in a fresh directory on the real disk and the relay's production
//! settings (but a short retry cap, so the drain starts promptly when NATS returns).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use wire::pb;

use crate::support::{Client, DISTRICT, PROVINCE, SCHOOL, connect, status};

/// How often the bench asks the agent for its status while waiting.
pub const POLL: Duration = Duration::from_millis(20);

pub struct Agent {
    pub dir: tempfile::TempDir,
    pub grpc: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Agent {
    /// Starts the agent on the bench's plain, open nats-server at `nats_url`.
    pub async fn start(nats_url: &str, relay_batch: u32) -> anyhow::Result<Self> {
        let nats = format!(
            "[nats]\nurl = \"{nats_url}\"\n# The bench's own plain, open nats-server on loopback.\ninsecure = true\n"
        );
        Self::start_with(&nats, relay_batch, true).await
    }

    /// Starts the agent with `nats` as its `[nats]` section (a secured district's: TLS and
    /// the school's nkey) and waits until it answers; `ensure_stream` as the school's NATS
    /// user allows.
    pub async fn start_with(
        nats: &str,
        relay_batch: u32,
        ensure_stream: bool,
    ) -> anyhow::Result<Self> {
        // tempfile's default dir is /tmp: the report says which filesystem it is on (tmpfs
        // would make the fsync figures meaningless).
        let dir = tempfile::Builder::new().prefix("agent-bench-").tempdir()?;
        let config = dir.path().join("agent.toml");
        std::fs::write(
            &config,
            format!(
                r#"
[school]
province = "{PROVINCE}"
district = "{DISTRICT}"
code = "{SCHOOL}"
name = "Trường THCS An Hòa"

[storage]
path = "{log}"

[grpc]
listen = "127.0.0.1:0"

{nats}
[relay]
# Production values (deploy/agent.example.toml) except the retry cap: 250 ms instead of
# 30 s so the drain below starts promptly after NATS returns (backoff is not throughput).
batch_size = {relay_batch}
ack_timeout_ms = 5000
max_backoff_ms = 250
ensure_stream = {ensure_stream}
"#,
                log = dir.path().join("log.sqlite").display(),
            ),
        )?;
        let settings = school_agent::config::Settings::load(Some(&config))?;
        // A new school: its log is created once, as `school-agent init` does.
        school_agent::init(&settings).await?;
        // As main.rs binds it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let grpc = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(school_agent::run(settings, listener, async move {
            let _ = stopped.await;
        }));
        let agent = Self {
            dir,
            grpc,
            stop: Some(stop),
            task,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(mut c) = connect(grpc).await
                && c.get_status(pb::GetStatusRequest {}).await.is_ok()
            {
                break;
            }
            ensure!(Instant::now() < deadline, "the agent did not become ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(agent)
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("log.sqlite")
    }

    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .context("agent shutdown timed out")??
    }
}

/// Waits until every event up to `head` is published; returns how long that took.
pub async fn wait_backlog_zero(
    client: &Client,
    head: u64,
    timeout: Duration,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut c = client.clone();
    loop {
        let s = status(&mut c).await?;
        if s.head_seq == head && s.backlog == 0 && s.last_published_seq == head {
            return Ok(started.elapsed());
        }
        if started.elapsed() > timeout {
            bail!(
                "not delivered after {timeout:?}: head {} published {} backlog {}",
                s.head_seq,
                s.last_published_seq,
                s.backlog
            );
        }
        tokio::time::sleep(POLL).await;
    }
}
