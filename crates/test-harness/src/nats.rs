//! A real `nats-server` with JetStream for integration tests.
//!
//! The event bus is the part of the system most exposed to failure (a district server goes
//! down, a school's link drops, the store is recovered after a crash), so tests need a server
//! they can stop, kill and restart on the same port and the same JetStream store. Each
//! [`NatsServer`] owns one `nats-server` process on free loopback ports with its own temporary
//! directory holding the config file, the JetStream store and the log.
//!
//! When `NATS_URL` is set, [`NatsServer::from_env_or_start`] points at that server instead;
//! such a handle cannot be stopped or restarted.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use nix::sys::signal::Signal;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::ports::{free_port, wait_port_bindable};
use crate::process::{ChildProcess, find_program, log_tail, open_log};

/// How long a server may take to become ready before start fails.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `stop` waits after SIGTERM before resorting to SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How many different ports the first start tries when the chosen one was taken meanwhile.
const START_ATTEMPTS: usize = 3;
/// Lines of the server log quoted in errors.
const LOG_TAIL_LINES: usize = 30;

/// A `nats-server` with JetStream, started for a test (or the one named by `NATS_URL`).
///
/// Dropping it kills the server and removes its temporary directory (store included).
#[derive(Debug)]
pub struct NatsServer {
    url: String,
    port: u16,
    /// `None` for an external server from `NATS_URL`.
    managed: Option<Managed>,
}

#[derive(Debug)]
struct Managed {
    binary: PathBuf,
    http_port: u16,
    /// The configuration file `nats-server -c` reads.
    config: PathBuf,
    /// `None` while stopped. Behind a mutex so `is_running` can take `&self`.
    child: Mutex<Option<ChildProcess>>,
    /// Holds `nats.conf`, `nats.log` and `store/`. Declared last: removed after the child dies.
    dir: TempDir,
}

impl NatsServer {
    /// Starts a `nats-server` with JetStream on a free 127.0.0.1 port and a temporary store.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with_config("").await
    }

    /// Like [`start`](Self::start), with `conf` appended to the generated config file
    /// (for accounts, users and permissions).
    ///
    /// The harness writes `listen`, `http` (monitoring, used for the health check) and
    /// `jetstream { store_dir }` itself, so `conf` must not set those.
    pub async fn start_with_config(conf: &str) -> anyhow::Result<Self> {
        let conf = conf.to_owned();
        Self::start_with_config_file(move |layout| {
            let path = layout.dir.join("nats.conf");
            write_config(&path, &standard_config(layout, &conf))?;
            Ok(path)
        })
        .await
    }

    /// Starts `nats-server -c <file>` with a whole configuration that `prepare` writes and
    /// returns the path of, as a district's shipped configuration is (`district-admin`;
    /// nats-server resolves its `include`s next to the file). The configuration must listen
    /// on `127.0.0.1:<layout.port>`, serve monitoring on `127.0.0.1:<layout.http_port>` (the
    /// readiness check) and keep JetStream in `layout.store_dir`; `layout.dir` is the
    /// server's own temporary directory (for a pid file). `prepare` runs again with new ports
    /// if the first ones were taken meanwhile.
    pub async fn start_with_config_file(
        prepare: impl Fn(&ServerLayout) -> anyhow::Result<PathBuf>,
    ) -> anyhow::Result<Self> {
        let binary = find_program("nats-server")?;
        let mut dir = tempfile::Builder::new()
            .prefix("nats-")
            .tempdir()
            .context("creating a temporary directory for nats-server")?;
        std::fs::create_dir(dir.path().join("store")).context("creating the store directory")?;

        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            let http_port = free_port()?;
            let layout = ServerLayout {
                port,
                http_port,
                store_dir: dir.path().join("store"),
                dir: dir.path().to_owned(),
            };
            let config = prepare(&layout)?;
            let mut server = NatsServer {
                url: format!("nats://127.0.0.1:{port}"),
                port,
                managed: Some(Managed {
                    binary: binary.clone(),
                    http_port,
                    config,
                    child: Mutex::new(None),
                    dir,
                }),
            };
            match server.spawn_and_wait().await {
                Ok(()) => return Ok(server),
                Err(e) => {
                    let managed = server.managed.take().expect("set above");
                    let in_use = log_tail(&managed.log_path(), LOG_TAIL_LINES)
                        .contains("address already in use");
                    if !in_use {
                        return Err(e);
                    }
                    dir = managed.into_dir();
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.expect("at least one attempt")).context("no free port after retries")
    }

    /// Uses the server at `NATS_URL` when that variable is set (such a handle cannot be
    /// stopped, killed or restarted), otherwise [`start`](Self::start)s one.
    pub async fn from_env_or_start() -> anyhow::Result<Self> {
        match std::env::var("NATS_URL") {
            Ok(url) if !url.trim().is_empty() => Ok(NatsServer {
                port: port_of(&url).unwrap_or(4222),
                url,
                managed: None,
            }),
            _ => Self::start().await,
        }
    }

    /// Client URL, `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The JetStream store directory (`None` for an external server).
    pub fn store_dir(&self) -> Option<PathBuf> {
        self.managed.as_ref().map(Managed::store_dir)
    }

    /// The server's log file (`None` for an external server).
    pub fn log_path(&self) -> Option<PathBuf> {
        self.managed.as_ref().map(Managed::log_path)
    }

    /// Whether the process is alive. Always `true` for an external server.
    pub fn is_running(&self) -> bool {
        match &self.managed {
            None => true,
            Some(m) => m
                .child
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_mut()
                .is_some_and(|c| c.exited().is_none()),
        }
    }

    /// The server process's id while it runs (`None` when stopped or external).
    pub fn pid(&self) -> Option<u32> {
        let managed = self.managed.as_ref()?;
        let child = managed.child.lock().unwrap_or_else(PoisonError::into_inner);
        child.as_ref().map(ChildProcess::id)
    }

    /// Makes sure the server process and its directory go when this test process exits, for a
    /// server that is never dropped (one kept in a `static` and shared by a binary's tests):
    /// see the crate's docs. Register again after a restart (a new process).
    /// A no-op for an external server.
    pub fn stop_at_exit(&self) -> anyhow::Result<()> {
        let Some(managed) = self.managed.as_ref() else {
            return Ok(());
        };
        if let Some(pid) = self.pid() {
            crate::exit_guard::kill_at_exit(pid, Signal::SIGKILL)?;
        }
        crate::exit_guard::remove_at_exit(managed.dir.path())
    }

    /// Graceful stop: SIGTERM, wait for exit (SIGKILL after 10 s). A no-op when stopped.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        let managed = self.managed_mut("stop")?;
        let child = managed
            .child
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(mut child) = child.take() {
            child.terminate(Signal::SIGTERM, STOP_GRACE).await?;
        }
        Ok(())
    }

    /// Crash: SIGKILL and reap the process. A no-op when stopped.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        let managed = self.managed_mut("kill")?;
        let child = managed
            .child
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(mut child) = child.take() {
            child.kill();
        }
        Ok(())
    }

    /// Starts the server again on the same port with the same store (stopping it first if it
    /// is running) and waits until it is ready.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.managed_mut("restart")?;
        self.stop().await?;
        let http_port = self.managed_mut("restart")?.http_port;
        // The ports were just released; give the kernel a moment if they are not free yet.
        wait_port_bindable(self.port, Duration::from_secs(5)).await?;
        wait_port_bindable(http_port, Duration::from_secs(5)).await?;
        self.spawn_and_wait().await
    }

    fn managed_mut(&mut self, what: &str) -> anyhow::Result<&mut Managed> {
        let url = &self.url;
        self.managed.as_mut().with_context(|| {
            format!("cannot {what} the external NATS server at {url} (from NATS_URL)")
        })
    }

    /// Spawns the process and waits until it serves clients and JetStream is healthy.
    async fn spawn_and_wait(&mut self) -> anyhow::Result<()> {
        let port = self.port;
        let managed = self.managed_mut("start")?;
        let (stdout, stderr) = open_log(&managed.log_path())?;
        let child = Command::new(&managed.binary)
            .arg("-c")
            .arg(&managed.config)
            .current_dir(managed.dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("spawning {}", managed.binary.display()))?;
        *managed
            .child
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner) = Some(ChildProcess::new(child));

        let http_port = managed.http_port;
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = managed
                .child
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .as_mut()
                .and_then(ChildProcess::exited)
            {
                anyhow::bail!(
                    "nats-server exited during startup ({status}); log tail:\n{}",
                    log_tail(&managed.log_path(), LOG_TAIL_LINES)
                );
            }
            if healthz_ok(http_port).await && client_port_ok(port).await {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                let tail = log_tail(&managed.log_path(), LOG_TAIL_LINES);
                if let Some(mut child) = managed
                    .child
                    .get_mut()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                {
                    child.kill();
                }
                anyhow::bail!(
                    "nats-server on port {port} not ready after {READY_TIMEOUT:?}; log tail:\n{tail}"
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Managed {
    fn store_dir(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("nats.log")
    }

    /// Kills the child (if any) and hands back the directory for another attempt.
    fn into_dir(self) -> TempDir {
        if let Some(mut child) = self
            .child
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
        {
            child.kill();
        }
        self.dir
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let Some(managed) = self.managed.as_mut() else {
            return;
        };
        if std::thread::panicking() {
            eprintln!(
                "--- nats-server {} log tail ({}) ---\n{}\n---",
                self.url,
                managed.log_path().display(),
                log_tail(&managed.log_path(), LOG_TAIL_LINES)
            );
        }
        if let Some(mut child) = managed
            .child
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            child.kill();
        }
        // `managed.dir` is removed when the fields drop, after the process is gone.
    }
}

/// Where a managed server listens and keeps its files; what a full configuration must use.
#[derive(Debug, Clone)]
pub struct ServerLayout {
    /// The client port, on 127.0.0.1.
    pub port: u16,
    /// The monitoring port, on 127.0.0.1.
    pub http_port: u16,
    /// The JetStream store directory.
    pub store_dir: PathBuf,
    /// The server's temporary directory (its config and log live there too).
    pub dir: PathBuf,
}

/// The harness's own configuration: the layout, then `extra`.
fn standard_config(layout: &ServerLayout, extra: &str) -> String {
    format!(
        "# Written by test-harness.\n\
         listen: \"127.0.0.1:{port}\"\n\
         http: \"127.0.0.1:{http_port}\"\n\
         jetstream {{\n  store_dir: {store}\n}}\n\n{extra}\n",
        port = layout.port,
        http_port = layout.http_port,
        store = quote(&layout.store_dir.to_string_lossy()),
    )
}

fn write_config(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// A double-quoted NATS config string.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The port in a NATS URL such as `nats://user:pw@host:4222` (first server of a list).
fn port_of(url: &str) -> Option<u16> {
    let first = url.split(',').next()?;
    let authority = first.split_once("://").map_or(first, |(_, rest)| rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    host_port
        .trim_end_matches('/')
        .rsplit_once(':')?
        .1
        .parse()
        .ok()
}

/// Whether `GET /healthz` on the monitoring port answers 200 (JetStream recovered and ready).
async fn healthz_ok(http_port: u16) -> bool {
    let probe = async {
        let mut stream = TcpStream::connect(("127.0.0.1", http_port)).await.ok()?;
        stream
            .write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        let text = String::from_utf8_lossy(&response);
        Some(text.split_whitespace().nth(1) == Some("200"))
    };
    tokio::time::timeout(Duration::from_secs(1), probe)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// Whether the client port accepts a connection and greets it with `INFO`.
async fn client_port_ok(port: u16) -> bool {
    let probe = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let mut buf = [0u8; 5];
        stream.read_exact(&mut buf).await.ok()?;
        Some(&buf == b"INFO ")
    };
    tokio::time::timeout(Duration::from_secs(1), probe)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ports_from_urls() {
        assert_eq!(port_of("nats://127.0.0.1:4333"), Some(4333));
        assert_eq!(port_of("nats://u:p@host:14222/"), Some(14222));
        assert_eq!(port_of("nats://a:1,nats://b:2"), Some(1));
        assert_eq!(port_of("localhost"), None);
    }

    #[tokio::test]
    async fn external_servers_cannot_be_controlled() {
        let mut server = NatsServer {
            url: "nats://127.0.0.1:1".into(),
            port: 1,
            managed: None,
        };
        assert!(server.is_running());
        assert!(server.store_dir().is_none());
        for err in [
            server.stop().await.unwrap_err(),
            server.kill().unwrap_err(),
            server.restart().await.unwrap_err(),
        ] {
            assert!(err.to_string().contains("NATS_URL"), "{err}");
        }
    }

    #[test]
    fn quotes_config_strings() {
        assert_eq!(quote(r#"/tmp/a"b\c"#), r#""/tmp/a\"b\\c""#);
    }
}
