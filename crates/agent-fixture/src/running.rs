//! The agent running: in this process on port 0, or as a child process of its binary.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use crate::sessions::{connect_anonymous, ensure_head};
use crate::settings::SchoolDir;
use crate::{Client, Settings, connect};

/// How long an agent may take to answer its first `GetStatus`, or to stop.
const PATIENCE: Duration = Duration::from_secs(30);

/// A loopback address of its own for each school app a test process starts: a browser keeps
/// cookies per host, not per port, so two apps on 127.0.0.1 would sign each other's staff
/// out in a shared browser.
fn app_host() -> std::net::Ipv4Addr {
    static NEXT: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::net::Ipv4Addr::new(127, 0, 1, 10 + n % 200)
}

/// `school_agent::run` in this process, on port 0.
#[derive(Debug)]
pub struct RunningAgent {
    pub grpc: SocketAddr,
    /// The school app's address, when started with [`RunningAgent::start_with_app`].
    pub app: Option<SocketAddr>,
    /// The session token of the head the fixture signed in (see [`crate::sessions`]).
    pub head_token: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningAgent {
    /// Starts the agent with `settings` (its `grpc.listen` is ignored: it binds port 0) and
    /// waits until it answers, then signs its head in. A school's first start creates its log
    /// first, as the operator does once with `school-agent init`.
    pub async fn start(settings: Settings) -> anyhow::Result<Self> {
        Self::start_serving(settings, false).await
    }

    /// [`start`](Self::start), serving the school app too, on a port of its own.
    pub async fn start_with_app(settings: Settings) -> anyhow::Result<Self> {
        Self::start_serving(settings, true).await
    }

    async fn start_serving(settings: Settings, with_app: bool) -> anyhow::Result<Self> {
        if !settings.storage.path.exists() {
            school_agent::init(&settings).await?;
        }
        let kept = settings.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding 127.0.0.1:0 for the agent")?;
        let grpc = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app_listener = if with_app {
            let host = app_host();
            Some(
                tokio::net::TcpListener::bind((host, 0))
                    .await
                    .with_context(|| format!("binding {host}:0 for the school app"))?,
            )
        } else {
            None
        };
        let app = app_listener
            .as_ref()
            .map(tokio::net::TcpListener::local_addr)
            .transpose()?;
        let task = tokio::spawn(school_agent::run_with_app(
            settings,
            listener,
            app_listener,
            async move {
                let _ = stopped.await;
            },
        ));
        let mut agent = Self {
            grpc,
            app,
            head_token: String::new(),
            stop: Some(stop),
            task,
        };
        tokio::select! {
            ready = wait_ready(grpc) => ready?,
            ended = &mut agent.task => {
                return Err(match ended {
                    Ok(Ok(())) => anyhow::anyhow!("the agent stopped before it answered"),
                    Ok(Err(e)) => e.context("the agent failed to start"),
                    Err(e) => anyhow::Error::new(e).context("the agent's task panicked"),
                });
            }
        }
        agent.head_token = ensure_head(&kept, grpc).await?;
        Ok(agent)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.grpc)
    }

    pub async fn client(&self) -> anyhow::Result<Client> {
        connect(self.grpc).await
    }

    /// Graceful stop: the server drains, the writer answers what it took, the relay stops
    /// between batches. Fails if the agent does not stop within 30 s or stopped with an error.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(PATIENCE, &mut self.task)
            .await
            .context("the agent did not stop within 30 s")?
            .context("the agent's task panicked")?
    }

    /// The office PC switched off: the agent's task is dropped wherever it is, without any
    /// shutdown. Every command it answered is committed in its log.
    pub async fn power_off(self) -> anyhow::Result<()> {
        self.task.abort();
        match self.task.await {
            Err(e) if e.is_cancelled() => Ok(()),
            Err(e) => Err(e).context("the agent's task panicked"),
            Ok(result) => result,
        }
    }
}

/// `school-agent init`: the school's first start creates its log, as the operator does once.
async fn init_log(binary: &Path, config: &Path) -> anyhow::Result<()> {
    let output = Command::new(binary)
        .arg("--config")
        .arg(config)
        .arg("init")
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {} init", binary.display()))?;
    anyhow::ensure!(
        output.status.success(),
        "`school-agent init` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// The agent's binary as a child process, reading the configuration file its school's
/// directory holds; killed if dropped.
#[derive(Debug)]
pub struct AgentProcess {
    child: Child,
    pub grpc: SocketAddr,
    /// The session token of the head the fixture signed in (see [`crate::sessions`]).
    pub head_token: String,
}

impl AgentProcess {
    /// Writes `settings` to `school`'s configuration file, starts `binary` (the path of a
    /// built `school-agent`, e.g. `env!("CARGO_BIN_EXE_school-agent")`) on it and waits until
    /// it answers on `settings.grpc.listen`. Its log goes to a new file in the directory.
    pub async fn spawn(
        binary: &Path,
        school: &SchoolDir,
        settings: &Settings,
    ) -> anyhow::Result<Self> {
        let config = school.write_config(settings)?;
        if !settings.storage.path.exists() {
            init_log(binary, &config).await?;
        }
        let log_path = (1..)
            .map(|n| school.path().join(format!("agent-{n}.log")))
            .find(|p| !p.exists())
            .context("naming the agent's log")?;
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let child = Command::new(binary)
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "info,school_agent=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("spawning {}", binary.display()))?;
        let grpc = settings.grpc.listen;
        let mut agent = Self {
            child,
            grpc,
            head_token: String::new(),
        };
        wait_ready(grpc)
            .await
            .with_context(|| format!("see {}", log_path.display()))?;
        agent.head_token = ensure_head(settings, grpc).await?;
        Ok(agent)
    }

    pub async fn client(&self) -> anyhow::Result<Client> {
        connect(self.grpc).await
    }

    /// SIGKILL: no graceful shutdown at all.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill().await.context("killing the agent")
    }

    /// SIGTERM, and a clean exit (status 0) within 30 s.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            let pid = i32::try_from(pid).context("a pid fits in i32")?;
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            )
            .context("sending SIGTERM to the agent")?;
        }
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .context("the agent did not stop within 30 s of SIGTERM")??;
        anyhow::ensure!(status.success(), "school-agent exited with {status}");
        Ok(())
    }
}

/// Waits until the agent at `addr` answers `GetStatus` — with its refusal of a call without
/// a session, which proves the service is up before anybody is signed in.
pub(crate) async fn wait_ready(addr: SocketAddr) -> anyhow::Result<()> {
    test_harness::wait_until(PATIENCE, || async move {
        match connect_anonymous(addr).await {
            Ok(mut client) => match client.get_status(wire::pb::GetStatusRequest {}).await {
                Ok(_) => true,
                Err(status) => status.code() == tonic::Code::Unauthenticated,
            },
            Err(_) => false,
        }
    })
    .await
    .with_context(|| format!("the agent at {addr} did not become ready"))
}
