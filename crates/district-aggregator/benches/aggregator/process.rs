//! The aggregator as a separate process: this bench binary re-executed with
//! `DISTRICT_AGGREGATOR_BENCH_CHILD` set to a configuration file, running exactly what
//! `main.rs` runs for `serve`, so that its CPU time and peak memory are its own. Its log goes
//! to a file; the `batch committed` debug lines give the batches' sizes and cadence.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use chrono::DateTime;
use district_aggregator::config::Settings;

use crate::{DISTRICT, PROVINCE};

/// Set (to the configuration file) when this binary runs as the aggregator process.
pub const CHILD_ENV: &str = "DISTRICT_AGGREGATOR_BENCH_CHILD";

/// The aggregator process: what `main.rs` does for `serve`.
pub fn aggregator_process(config: PathBuf) -> anyhow::Result<()> {
    // The bench holds our stdin: when it goes away (killed, panicked), so do we.
    std::thread::spawn(|| {
        let mut buf = [0_u8; 64];
        let mut stdin = std::io::stdin();
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => std::process::exit(3),
                Ok(_) => {}
            }
        }
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        tracing_subscriber::fmt().with_env_filter(filter).init();
        let settings = Settings::load(Some(&config)).context("loading the configuration")?;
        let listener = tokio::net::TcpListener::bind(settings.grpc.listen)
            .await
            .with_context(|| format!("binding gRPC on {}", settings.grpc.listen))?;
        district_aggregator::run(settings, listener, async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut term) => {
                    term.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        })
        .await
    })
}

/// The aggregator process, killed when dropped.
pub struct AggregatorProcess {
    child: Child,
    log: PathBuf,
}

impl AggregatorProcess {
    pub fn spawn(config: &Path, log: &Path) -> anyhow::Result<Self> {
        let out = std::fs::File::create(log)?;
        let child = Command::new(std::env::current_exe()?)
            .env(CHILD_ENV, config)
            .env("RUST_LOG", child_log_filter())
            .stdin(Stdio::piped())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .context("spawning the aggregator process")?;
        Ok(Self {
            child,
            log: log.to_owned(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "the aggregator exited ({status}); its log ends:\n{}",
                tail(&self.log, 30)
            );
        }
        Ok(())
    }

    /// SIGTERM, as systemd stops it; waits for the graceful stop.
    pub async fn stop(mut self) -> anyhow::Result<Duration> {
        let t = Instant::now();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )?;
        while t.elapsed() < Duration::from_secs(30) {
            if let Some(status) = self.child.try_wait()? {
                ensure!(status.success(), "the aggregator stopped with {status}");
                return Ok(t.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("the aggregator did not stop within 30 s of SIGTERM")
    }
}

impl Drop for AggregatorProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn child_log_filter() -> String {
    std::env::var("BENCH_CHILD_LOG")
        .unwrap_or_else(|_| "info,district_aggregator::ingest=debug".into())
}

/// `(commits, messages, mean ms between consecutive commits)` from the aggregator's
/// `batch committed` debug lines (one per careful batch, and one per part of a pipelined
/// batch, whose parts commit in parallel).
pub fn batch_stats(log: &Path) -> Option<(usize, u64, f64)> {
    let text = std::fs::read_to_string(log).ok()?;
    let mut stamps = Vec::new();
    let mut messages = 0;
    for line in text.lines().filter(|l| l.contains("batch committed")) {
        let plain: String = strip_ansi(line);
        let at = plain
            .split_whitespace()
            .next()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())?;
        stamps.push(at);
        messages += plain
            .split_whitespace()
            .find_map(|w| w.strip_prefix("messages="))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    let span = (*stamps.last()? - *stamps.first()?).num_microseconds()? as f64 / 1000.0;
    Some((
        stamps.len(),
        messages,
        span / (stamps.len().saturating_sub(1)).max(1) as f64,
    ))
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The aggregator's configuration file in `dir`: the run's PostgreSQL and NATS, a free
/// gRPC port, production defaults for everything else.
pub fn write_config(dir: &Path, db_url: &str, nats_url: &str) -> anyhow::Result<PathBuf> {
    let port = test_harness::free_port()?;
    let path = dir.join("aggregator.toml");
    // Production defaults everywhere else (`IngestSettings::default()`, 8 connections).
    std::fs::write(
        &path,
        format!(
            r#"
[district]
province = "{PROVINCE}"
district = "{DISTRICT}"
name = "Phòng GD-ĐT Tam Nông"

[database]
url = "{db_url}"

[grpc]
listen = "127.0.0.1:{port}"

[nats]
url = "{nats_url}"
# The bench's own plain, open nats-server on loopback.
insecure = true
"#
        ),
    )?;
    Ok(path)
}
