//! End-to-end benchmark of the school agent: the real agent in-process (gRPC on port 0, its
//! SQLite log on the real disk with `synchronous = FULL` on the writer) against a real
//! `nats-server` with JetStream.
//!
//! Run: `cargo bench -p school-agent --bench agent` (release profile, `harness = false`).
//! `AGENT_BENCH_QUICK=1` divides every count by 10 for a smoke run.
//!
//! It measures, in one run:
//! 1. `RecordActivity` over gRPC: one sequential client, then 16 concurrent clients (one
//!    shared HTTP/2 channel, then 16 channels), with the relay publishing alongside as in
//!    production; latencies in an HDR histogram (µs).
//! 2. The relay draining a 20,000-event outbox after NATS comes back, against a raw pipelined
//!    JetStream publish of the same bodies and headers to another stream on the same server.
//! 3. Machine facts: CPUs, load, and the write+fsync latency of the log's disk.
//!
//! A tracing layer listens to the agent's own debug events (`batch committed`, `published`)
//! to report the writer's group-commit batch sizes and the relay's batch cycle time, without
//! touching the agent's code.

#![allow(clippy::unwrap_used)]

#[allow(dead_code, unused_imports)]
#[path = "../../tests/it/support.rs"]
mod support;

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use async_nats::jetstream;
use event_bus::publish::{OUTBOX_HEAD_HEADER, OutgoingEvent};
use event_bus::subjects::SchoolAddress;
use hdrhistogram::Histogram;
use test_harness::NatsServer;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use wire::pb;

use support::{Client, DISTRICT, PROVINCE, SCHOOL, activity, adopt_seed_plan, connect, status};

const CLIENTS: usize = 16;
const RAW_WINDOW: usize = 256;
const FSYNC_ITERS: usize = 200;
const POLL: Duration = Duration::from_millis(20);

const TARGET_P99_MS: f64 = 5.0;
const TARGET_CONCURRENT_CPS: f64 = 5_000.0;
const TARGET_RATIO: f64 = 0.5;

struct Counts {
    warmup: u64,
    sequential: u64,
    concurrent: u64,
    relay: u64,
}

/// Experiments, off by default (the default run measures the agent as `main.rs` runs it):
/// - `AGENT_BENCH_NODELAY=1` sets TCP_NODELAY on the gRPC listening socket, which Linux
///   copies to every accepted socket (tonic ignores its own `tcp_nodelay` setting when it is
///   handed an incoming stream, as `school_agent::run` does);
/// - `AGENT_BENCH_RELAY_BATCH=n` sets the relay's `batch_size` (default 256, as in
///   deploy/agent.example.toml).
struct Knobs {
    listener_nodelay: bool,
    relay_batch: u32,
}

fn knobs() -> Knobs {
    Knobs {
        listener_nodelay: std::env::var("AGENT_BENCH_NODELAY")
            .is_ok_and(|v| !v.is_empty() && v != "0"),
        relay_batch: std::env::var("AGENT_BENCH_RELAY_BATCH")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256),
    }
}

fn counts() -> Counts {
    let quick = std::env::var("AGENT_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let d = if quick { 10 } else { 1 };
    Counts {
        warmup: 200 / d,
        sequential: 2_000 / d,
        concurrent: 20_000 / d,
        relay: 20_000 / d,
    }
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench())
}

// ---------------------------------------------------------------------------------------------
// Figures.

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds")
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

#[derive(Debug)]
struct Run {
    label: String,
    commands: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
    batches: BatchFigures,
    cpu: Cpu,
}

impl Run {
    fn per_sec(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64()
    }

    fn row(&self) -> String {
        let h = &self.latency;
        format!(
            "{:<34} {:>7} {:>8.2} {:>9.0} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>8.2} {:>6}   {}",
            self.label,
            self.commands,
            self.elapsed.as_secs_f64(),
            self.per_sec(),
            ms(h.value_at_quantile(0.50)),
            ms(h.value_at_quantile(0.90)),
            ms(h.value_at_quantile(0.99)),
            ms(h.value_at_quantile(0.999)),
            ms(h.max()),
            h.count_between(30_000, h.max().max(30_000)),
            self.batches,
        )
    }

    fn cpu_row(&self) -> String {
        format!(
            "{:<34} CPU per command: {}",
            "",
            self.cpu.per_item_us(self.commands)
        )
    }
}

// ---------------------------------------------------------------------------------------------
// What the agent says about itself through tracing (its debug events), gathered per phase.

#[derive(Debug, Default, Clone)]
struct Probe {
    /// Events per committed writer batch.
    writer_batch_events: Vec<u64>,
    /// (when, events acked) of each relay batch.
    relay_batches: Vec<(Instant, u64)>,
    /// Relay or writer warnings and errors.
    problems: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default)]
struct BatchFigures {
    batches: usize,
    mean: f64,
    max: u64,
}

impl std::fmt::Display for BatchFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>6} commits, {:>5.1} ev/commit (max {})",
            self.batches, self.mean, self.max
        )
    }
}

impl Probe {
    fn writer_figures(&self) -> BatchFigures {
        let b = &self.writer_batch_events;
        let sum: u64 = b.iter().sum();
        BatchFigures {
            batches: b.len(),
            mean: if b.is_empty() {
                0.0
            } else {
                sum as f64 / b.len() as f64
            },
            max: b.iter().copied().max().unwrap_or(0),
        }
    }
}

#[derive(Clone, Default)]
struct ProbeLayer(Arc<Mutex<Probe>>);

impl ProbeLayer {
    fn take(&self) -> Probe {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    events: Option<u64>,
    first_seq: Option<u64>,
    last_seq: Option<u64>,
    error: String,
}

impl tracing::field::Visit for Fields {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        match field.name() {
            "events" => self.events = Some(value),
            "first_seq" => self.first_seq = Some(value),
            "last_seq" => self.last_seq = Some(value),
            _ => {}
        }
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.record_u64(field, u64::try_from(value).unwrap_or(0));
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "error" => self.error = format!("{value:?}"),
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ProbeLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let now = Instant::now();
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut probe = self.0.lock().unwrap();
        match fields.message.as_str() {
            "batch committed" => probe.writer_batch_events.push(fields.events.unwrap_or(0)),
            "published" => {
                if let (Some(first), Some(last)) = (fields.first_seq, fields.last_seq) {
                    probe.relay_batches.push((now, last + 1 - first));
                }
            }
            _ if *meta.level() <= tracing::Level::WARN => {
                probe.problems.push(format!(
                    "{} {}: {} {}",
                    meta.level(),
                    meta.target(),
                    fields.message,
                    fields.error
                ));
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The agent.

struct Agent {
    dir: tempfile::TempDir,
    grpc: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Agent {
    async fn start(nats_url: &str, knobs: &Knobs) -> anyhow::Result<Self> {
        // tempfile's default dir is /tmp: check below that it is a real disk, not tmpfs.
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

[nats]
url = "{nats_url}"

[relay]
# Production values (deploy/agent.example.toml) except the retry cap: 250 ms instead of
# 30 s so the drain below starts promptly after NATS returns (backoff is not throughput).
batch_size = {relay_batch}
ack_timeout_ms = 5000
max_backoff_ms = 250
ensure_stream = true
"#,
                log = dir.path().join("log.sqlite").display(),
                relay_batch = knobs.relay_batch,
            ),
        )?;
        let settings = school_agent::config::Settings::load(Some(&config))?;
        let listener = if knobs.listener_nodelay {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.set_nodelay(true)?;
            socket.bind("127.0.0.1:0".parse()?)?;
            socket.listen(1024)?
        } else {
            // As main.rs binds it.
            tokio::net::TcpListener::bind("127.0.0.1:0").await?
        };
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

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("log.sqlite")
    }

    async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .context("agent shutdown timed out")??
    }
}

async fn wait_backlog_zero(
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

// ---------------------------------------------------------------------------------------------
// Load.

async fn sequential(
    client: &Client,
    first: u64,
    n: u64,
) -> anyhow::Result<(Duration, Histogram<u64>)> {
    let mut c = client.clone();
    let mut h = histogram();
    let started = Instant::now();
    for i in 0..n {
        let request = activity(first + i);
        let t = Instant::now();
        c.record_activity(request).await?;
        h.record(t.elapsed().as_micros() as u64)?;
    }
    Ok((started.elapsed(), h))
}

/// `clients.len()` tasks sharing `total` commands; returns the wall time and merged latencies.
async fn concurrent(
    clients: Vec<Client>,
    first: u64,
    total: u64,
) -> anyhow::Result<(Duration, Histogram<u64>)> {
    let k = clients.len() as u64;
    let barrier = Arc::new(tokio::sync::Barrier::new(clients.len() + 1));
    let mut tasks = tokio::task::JoinSet::new();
    let mut base = first;
    for (w, mut c) in clients.into_iter().enumerate() {
        let barrier = barrier.clone();
        // The first `total % k` clients take one command more, so exactly `total` are sent.
        let per = total / k + u64::from((w as u64) < total % k);
        let start = base;
        base += per;
        tasks.spawn(async move {
            let base = start;
            let mut h = histogram();
            barrier.wait().await;
            for i in 0..per {
                let request = activity(base + i);
                let t = Instant::now();
                c.record_activity(request).await?;
                h.record(t.elapsed().as_micros() as u64)?;
            }
            anyhow::Ok(h)
        });
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut all = histogram();
    while let Some(joined) = tasks.join_next().await {
        all.add(joined??)?;
    }
    Ok((started.elapsed(), all))
}

async fn channels(
    addr: std::net::SocketAddr,
    shared: Option<&Client>,
) -> anyhow::Result<Vec<Client>> {
    let mut out = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        out.push(match shared {
            Some(c) => c.clone(),
            None => connect(addr).await?,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Raw JetStream baseline.

/// Publishes `events` pipelined: `window` publishes in flight; `drain` waits for the whole
/// window's acks before sending more (the relay's batch pattern), otherwise a sliding window.
async fn raw_publish(
    js: &jetstream::Context,
    subject: &str,
    events: &[OutgoingEvent],
    window: usize,
    drain: bool,
) -> anyhow::Result<(Duration, usize)> {
    let started = Instant::now();
    let mut in_flight = VecDeque::with_capacity(window);
    let mut duplicates = 0;
    for event in events {
        if in_flight.len() >= window {
            let keep = if drain { 0 } else { window - 1 };
            while in_flight.len() > keep {
                let ack: jetstream::context::PublishAckFuture = in_flight.pop_front().unwrap();
                duplicates += usize::from(ack.await?.duplicate);
            }
        }
        // The relay's headers: CloudEvents, Nats-Msg-Id and the log head.
        let mut headers = event.headers.to_header_map()?;
        if let Some(head) = event.outbox_head {
            headers.insert(OUTBOX_HEAD_HEADER, head.to_string().as_str());
        }
        let ack = js
            .publish_with_headers(subject.to_string(), headers, event.body.clone())
            .await?;
        in_flight.push_back(ack);
    }
    while let Some(ack) = in_flight.pop_front() {
        duplicates += usize::from(ack.await?.duplicate);
    }
    Ok((started.elapsed(), duplicates))
}

/// A fresh stream with the district stream's exact configuration under another name and
/// subject (so neither its storage nor its duplicate window is shared with the relay's).
async fn fresh_stream(js: &jetstream::Context, district: &str) -> anyhow::Result<(String, String)> {
    let config = event_bus::stream::district_stream_config("bench", district)?;
    let name = config.name.clone();
    js.create_stream(config).await?;
    Ok((
        name,
        format!("truyenthong.events.bench.{district}.{SCHOOL}"),
    ))
}

async fn stream_messages(js: &jetstream::Context, name: &str) -> anyhow::Result<u64> {
    Ok(js.get_stream(name).await?.info().await?.state.messages)
}

// ---------------------------------------------------------------------------------------------
// Where the CPU goes: per-thread CPU time and context switches from /proc.

const CLK_TCK: f64 = 100.0;

#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    /// tokio workers and blocking threads: gRPC client and server, writer task, relay, NATS client.
    tokio: f64,
    /// sqlx's SQLite worker threads (one per connection): statements, commits, fsync calls.
    sqlite: f64,
    other: f64,
    nats_server: f64,
    /// Context switches (voluntary + involuntary) of the SQLite worker threads: each statement
    /// sqlx runs is a hand-off to its connection's thread and back.
    sqlite_switches: f64,
}

impl Cpu {
    fn since(self, before: Cpu) -> Cpu {
        Cpu {
            tokio: self.tokio - before.tokio,
            sqlite: self.sqlite - before.sqlite,
            other: self.other - before.other,
            nats_server: self.nats_server - before.nats_server,
            sqlite_switches: self.sqlite_switches - before.sqlite_switches,
        }
    }

    fn per_item_us(self, items: u64) -> String {
        let per = |s: f64| s * 1e6 / items.max(1) as f64;
        format!(
            "agent+client {:>4.0} µs (tokio {:>3.0}, sqlite {:>3.0}), nats-server {:>3.0} µs; sqlite thread switches {:>5.1}",
            per(self.tokio + self.sqlite + self.other),
            per(self.tokio),
            per(self.sqlite),
            per(self.nats_server),
            self.sqlite_switches / items.max(1) as f64
        )
    }
}

/// utime + stime in seconds and the name, from a /proc/.../stat file.
fn stat_cpu(path: &Path) -> Option<(String, f64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let (open, close) = (text.find('(')?, text.rfind(')')?);
    let name = text[open + 1..close].to_string();
    let fields: Vec<&str> = text[close + 2..].split_whitespace().collect();
    // After the name: state is field 3, utime field 14, stime field 15 (1-based in proc(5)).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((name, (utime + stime) / CLK_TCK))
}

fn context_switches(status: &Path) -> f64 {
    std::fs::read_to_string(status)
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            l.starts_with("voluntary_ctxt_switches") || l.starts_with("nonvoluntary_ctxt_switches")
        })
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .sum()
}

/// The pid of the nats-server started with `conf` (its command line names the config file).
fn nats_pid(conf: &Path) -> Option<u32> {
    let conf = conf.to_string_lossy();
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline);
            (cmdline.contains("nats-server") && cmdline.contains(conf.as_ref())).then_some(pid)
        })
}

fn cpu_now(nats_conf: &Path) -> Cpu {
    let mut cpu = Cpu::default();
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.filter_map(Result::ok) {
            if let Some((name, secs)) = stat_cpu(&task.path().join("stat")) {
                if name.starts_with("tokio") {
                    cpu.tokio += secs;
                } else if name.starts_with("sqlx-sqlite") {
                    cpu.sqlite += secs;
                    cpu.sqlite_switches += context_switches(&task.path().join("status"));
                } else {
                    cpu.other += secs;
                }
            }
        }
    }
    if let Some(pid) = nats_pid(nats_conf) {
        cpu.nats_server = stat_cpu(Path::new(&format!("/proc/{pid}/stat"))).map_or(0.0, |(_, s)| s);
    }
    cpu
}

// ---------------------------------------------------------------------------------------------
// Machine.

/// Write-then-sync latencies of 4 KiB pages in `dir`: appending + fsync (a growing file: the
/// size changes, so the filesystem journal commits every time), and overwriting a
/// preallocated file in place + fsync and + fdatasync (what SQLite's WAL does once it has
/// reached its size; SQLite as bundled by libsqlite3-sys calls fsync, not fdatasync).
fn fsync_probe(dir: &Path) -> anyhow::Result<[Histogram<u64>; 3]> {
    use std::io::{Seek as _, SeekFrom};
    let page = vec![0x5au8; 4096];
    let path = dir.join("fsync-probe");
    let mut out = [histogram(), histogram(), histogram()];

    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    for _ in 0..FSYNC_ITERS {
        let t = Instant::now();
        file.write_all(&page)?;
        file.sync_all()?;
        out[0].record(t.elapsed().as_micros().max(1) as u64)?;
    }
    for (variant, hist) in out[1..].iter_mut().enumerate() {
        file.seek(SeekFrom::Start(0))?;
        for _ in 0..FSYNC_ITERS {
            let t = Instant::now();
            file.write_all(&page)?;
            if variant == 0 {
                file.sync_all()?
            } else {
                file.sync_data()?
            }
            hist.record(t.elapsed().as_micros().max(1) as u64)?;
        }
    }
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(out)
}

fn read_first_line(path: &str, prefix: &str) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with(prefix))
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| "?".into())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The filesystem holding `path`, from /proc/self/mounts (longest mount-point prefix).
fn filesystem_of(path: &Path) -> String {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 3 && path.starts_with(f[1]))
                .then(|| (f[1].len(), format!("{} on {} ({})", f[0], f[1], f[2])))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, s)| s)
        .unwrap_or_else(|| "?".into())
}

// ---------------------------------------------------------------------------------------------

/// Drives the agent through the phases and prints the report.
async fn bench() -> anyhow::Result<()> {
    let probe = ProbeLayer::default();
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("school_agent::writer", tracing::Level::DEBUG)
        .with_target("school_agent::relay", tracing::Level::DEBUG)
        .with_target("school_agent", tracing::Level::WARN);
    tracing_subscriber::registry()
        .with(tracing_subscriber::Layer::with_filter(
            probe.clone(),
            filter,
        ))
        .init();

    let n = counts();
    let knobs = knobs();
    let bench_started = Instant::now();
    eprintln!("agent bench: pid {}", std::process::id());
    let load_before = loadavg();

    let mut nats = NatsServer::start().await?;
    let nats_conf = nats
        .log_path()
        .context("a managed nats-server")?
        .with_file_name("nats.conf");
    let agent = Agent::start(&nats.url(), &knobs).await?;
    let client = connect(agent.grpc).await?;

    // ---- machine facts (the temp dir the log lives in) ----
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpu_model = read_first_line("/proc/cpuinfo", "model name").replace("model name\t: ", "");
    let fs = filesystem_of(agent.dir.path());
    let log_dir = agent.dir.path().display().to_string();
    let [fsync_append, fsync_overwrite, fdatasync_overwrite] = fsync_probe(agent.dir.path())?;

    // ---- 1. RecordActivity over gRPC, NATS up and the relay publishing alongside ----
    let mut c = client.clone();
    let adopted = adopt_seed_plan(&mut c).await?;
    ensure!(adopted.seq == 1, "the plan is the first event");
    let mut next = 0u64;
    sequential(&client, next, n.warmup).await?;
    next += n.warmup;
    wait_backlog_zero(&client, 1 + next, Duration::from_secs(60)).await?;
    probe.take();

    let mut runs = Vec::new();
    let mut catch_up = Vec::new();
    for (label, kind) in [
        ("1 client, sequential", 0),
        ("16 clients, 1 shared channel", 1),
        ("16 clients, 16 channels", 2),
    ] {
        let count = if kind == 0 {
            n.sequential
        } else {
            n.concurrent
        };
        eprintln!(
            "[{:>6.1} s] {label}: {count} commands",
            bench_started.elapsed().as_secs_f64()
        );
        let cpu_before = cpu_now(&nats_conf);
        let (elapsed, latency) = match kind {
            0 => sequential(&client, next, count).await?,
            1 => concurrent(channels(agent.grpc, Some(&client)).await?, next, count).await?,
            _ => concurrent(channels(agent.grpc, None).await?, next, count).await?,
        };
        let cpu = cpu_now(&nats_conf).since(cpu_before);
        next += count;
        let batches = probe.take().writer_figures();
        runs.push(Run {
            label: label.into(),
            commands: count,
            elapsed,
            latency,
            batches,
            cpu,
        });
        catch_up.push(wait_backlog_zero(&client, 1 + next, Duration::from_secs(120)).await?);
    }
    let phase1_problems = probe.take().problems;

    // ---- 2. NATS down: record M (1 client then 16), then restart NATS and time the drain ----
    nats.stop().await?;
    let down_sequential = n.sequential.min(n.relay / 10);
    let down_concurrent = n.relay - down_sequential;
    let mut down_problems = Vec::new();
    for (label, count) in [
        ("1 client, sequential, NATS down", down_sequential),
        ("16 clients, 16 ch., NATS down", down_concurrent),
    ] {
        eprintln!(
            "[{:>6.1} s] {label}: {count} commands",
            bench_started.elapsed().as_secs_f64()
        );
        let cpu_before = cpu_now(&nats_conf);
        let (elapsed, latency) = if count == down_sequential {
            sequential(&client, next, count).await?
        } else {
            concurrent(channels(agent.grpc, None).await?, next, count).await?
        };
        let cpu = cpu_now(&nats_conf).since(cpu_before);
        next += count;
        let p = probe.take();
        down_problems.extend(p.problems.iter().cloned());
        runs.push(Run {
            label: label.into(),
            commands: count,
            elapsed,
            latency,
            batches: p.writer_figures(),
            cpu,
        });
    }
    let head = 1 + next;
    let mut c = client.clone();
    let before = status(&mut c).await?;
    ensure!(
        before.head_seq == head && before.backlog == n.relay,
        "backlog before restart: {before:?}"
    );

    eprintln!(
        "[{:>6.1} s] restarting NATS; relay drain",
        bench_started.elapsed().as_secs_f64()
    );
    let restart_started = Instant::now();
    nats.restart().await?;
    let ready = Instant::now();
    let cpu_before_drain = cpu_now(&nats_conf);
    let (mut connected_at, mut first_progress) = (None, None);
    let mut ticker = tokio::time::interval(POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let drained_at = loop {
        ticker.tick().await;
        let s = status(&mut c).await?;
        let now = Instant::now();
        if s.connected && connected_at.is_none() {
            connected_at = Some(now);
        }
        if s.backlog < n.relay && first_progress.is_none() {
            first_progress = Some((now, s.backlog));
        }
        if s.backlog == 0 {
            break now;
        }
        ensure!(
            now - ready < Duration::from_secs(120),
            "relay did not drain: {s:?}"
        );
    };
    let drain_cpu = cpu_now(&nats_conf).since(cpu_before_drain);
    let relay_probe = probe.take();
    let connected_at = connected_at.unwrap_or(drained_at);
    let (progress_at, backlog_at_progress) = first_progress.context("no progress observed")?;
    let relay_window = drained_at - progress_at;
    let relay_rate = backlog_at_progress as f64 / relay_window.as_secs_f64();
    let relay_end_to_end = n.relay as f64 / (drained_at - ready).as_secs_f64();

    // Relay batch cycle: time between consecutive "published" debug events.
    let mut cycle = histogram();
    for pair in relay_probe.relay_batches.windows(2) {
        cycle.record((pair[1].0 - pair[0].0).as_micros().max(1) as u64)?;
    }
    let relay_batch_count = relay_probe.relay_batches.len();
    let relay_batch_mean = relay_probe
        .relay_batches
        .iter()
        .map(|(_, n)| *n)
        .sum::<u64>() as f64
        / relay_batch_count.max(1) as f64;

    // The same bodies and headers, read back from the agent's log.
    let store = school_agent::store::Store::open(&agent.log_path()).await?;
    let stored = store
        .outgoing_between(head - n.relay + 1, head, u32::try_from(n.relay)?)
        .await?;
    store.close().await;
    ensure!(
        stored.len() as u64 == n.relay,
        "read {} events back",
        stored.len()
    );
    let address = SchoolAddress::parse(PROVINCE, DISTRICT, SCHOOL)?;
    let outgoing: Vec<OutgoingEvent> = stored
        .into_iter()
        .map(|e| school_agent::relay::outgoing(&address, e, Some(head)))
        .collect();
    let body_bytes: usize = outgoing.iter().map(|o| o.body.len()).sum();

    let raw_client = async_nats::connect(nats.url()).await?;
    let js = jetstream::new(raw_client.clone());
    let district_stream = event_bus::subjects::stream_name(PROVINCE, DISTRICT)?;
    let relay_stored = stream_messages(&js, &district_stream).await?;
    ensure!(
        relay_stored == head,
        "the district stream holds {relay_stored} messages, the log {head}"
    );

    // Warm the raw connection and the server's path once, on a throwaway stream.
    let (_, warm_subject) = fresh_stream(&js, "warm").await?;
    let warm: Vec<OutgoingEvent> = outgoing
        .iter()
        .take(512)
        .map(|o| {
            let mut o = o.clone();
            o.headers.id = uuid::Uuid::now_v7();
            o
        })
        .collect();
    raw_publish(&js, &warm_subject, &warm, RAW_WINDOW, false).await?;

    eprintln!(
        "[{:>6.1} s] raw JetStream baseline",
        bench_started.elapsed().as_secs_f64()
    );
    let (raw_stream, raw_subject) = fresh_stream(&js, "raw").await?;
    let cpu_before_raw = cpu_now(&nats_conf);
    let (raw_elapsed, raw_dups) =
        raw_publish(&js, &raw_subject, &outgoing, RAW_WINDOW, false).await?;
    let raw_cpu = cpu_now(&nats_conf).since(cpu_before_raw);
    let raw_stored = stream_messages(&js, &raw_stream).await?;
    ensure!(
        raw_stored == n.relay && raw_dups == 0,
        "raw stream holds {raw_stored} ({raw_dups} duplicates)"
    );
    let raw_rate = n.relay as f64 / raw_elapsed.as_secs_f64();

    let (drain_stream, drain_subject) = fresh_stream(&js, "drain").await?;
    let (drain_elapsed, drain_dups) =
        raw_publish(&js, &drain_subject, &outgoing, RAW_WINDOW, true).await?;
    let drain_stored = stream_messages(&js, &drain_stream).await?;
    ensure!(
        drain_stored == n.relay && drain_dups == 0,
        "drain stream holds {drain_stored} ({drain_dups} duplicates)"
    );
    let drain_rate = n.relay as f64 / drain_elapsed.as_secs_f64();
    let ratio = relay_rate / raw_rate;

    raw_client.flush().await?;
    drop(raw_client);
    agent.shutdown().await?;

    let load_after = loadavg();
    let total = bench_started.elapsed();

    // ---- report ----
    let q = |h: &Histogram<u64>, p: f64| ms(h.value_at_quantile(p));
    println!();
    println!(
        "school-agent benchmark — real nats-server (JetStream, file storage), agent in-process, SQLite WAL on disk"
    );
    println!(
        "========================================================================================================="
    );
    println!(
        "machine : {cpus} CPUs ({cpu_model}), load average before {load_before} / after {load_after}"
    );
    println!("log dir : {log_dir} on {fs}");
    for (label, h) in [
        ("append 4 KiB + fsync            ", &fsync_append),
        ("overwrite 4 KiB + fsync         ", &fsync_overwrite),
        ("overwrite 4 KiB + fdatasync     ", &fdatasync_overwrite),
    ] {
        println!(
            "disk    : {label} p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({FSYNC_ITERS} iterations)",
            q(h, 0.5),
            q(h, 0.9),
            q(h, 0.99),
            ms(h.max())
        );
    }
    println!(
        "agent   : writer synchronous=FULL (SQLite calls fsync on the WAL at every commit), relay batch_size {}, publish window {}",
        knobs.relay_batch,
        event_bus::publish::PIPELINE_WINDOW
    );
    if knobs.listener_nodelay || knobs.relay_batch != 256 {
        println!(
            "EXPERIMENT: listener TCP_NODELAY {}, relay batch_size {} (not the agent as deployed)",
            knobs.listener_nodelay, knobs.relay_batch
        );
    }
    println!();
    println!(
        "RecordActivity over gRPC (latency in ms, client-side, per call; NATS up = the relay publishes alongside)"
    );
    println!(
        "{:<34} {:>7} {:>8} {:>9} {:>7} {:>7} {:>7} {:>7} {:>8} {:>6}   writer group commit",
        "", "cmds", "secs", "cmd/s", "p50", "p90", "p99", "p99.9", "max", "≥30ms"
    );
    for run in &runs {
        println!("{}", run.row());
        println!("{}", run.cpu_row());
    }
    println!(
        "relay caught up (backlog 0, polled every {} ms) {} s after each NATS-up run",
        POLL.as_millis(),
        catch_up
            .iter()
            .map(|d| format!("{:.2}", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" / ")
    );
    let mut said: Vec<&String> = phase1_problems.iter().chain(&down_problems).collect();
    said.dedup();
    println!(
        "agent warnings: {} during the gRPC runs (relay retries while NATS was down are expected)",
        said.len()
    );
    for p in said.iter().take(2) {
        println!("  e.g. {p}");
    }
    println!();
    println!(
        "Relay drain of {} events after NATS restart (avg body {} B)",
        n.relay,
        body_bytes / outgoing.len().max(1)
    );
    println!(
        "  restart → NATS ready             {:>7.0} ms",
        (ready - restart_started).as_secs_f64() * 1000.0
    );
    println!(
        "  ready → agent connected (seen)   {:>7.0} ms  (client reconnect backoff)",
        (connected_at - ready).as_secs_f64() * 1000.0
    );
    println!(
        "  ready → first progress (seen)    {:>7.0} ms  (+ relay retry backoff; backlog then {backlog_at_progress})",
        (progress_at - ready).as_secs_f64() * 1000.0
    );
    println!(
        "  first progress → backlog 0       {:>7.0} ms",
        relay_window.as_secs_f64() * 1000.0
    );
    println!(
        "  relay, steady                    {relay_rate:>7.0} ev/s  ({backlog_at_progress} events / {:.3} s)",
        relay_window.as_secs_f64()
    );
    println!(
        "  relay, from NATS ready           {relay_end_to_end:>7.0} ev/s  (includes reconnect and retry backoff)"
    );
    println!(
        "  relay batches                    {relay_batch_count:>7} × {relay_batch_mean:.0} ev, cycle p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        q(&cycle, 0.5),
        q(&cycle, 0.9),
        q(&cycle, 0.99),
        ms(cycle.max())
    );
    println!(
        "  relay CPU per event (from ready) {}",
        drain_cpu.per_item_us(n.relay)
    );
    println!(
        "  raw JetStream, sliding {RAW_WINDOW:<8} {raw_rate:>7.0} ev/s  ({:.3} s, stream {raw_stream}: {raw_stored} msgs)",
        raw_elapsed.as_secs_f64()
    );
    println!(
        "  raw CPU per event                {}",
        raw_cpu.per_item_us(n.relay)
    );
    println!(
        "  raw JetStream, drain per {RAW_WINDOW:<6} {drain_rate:>7.0} ev/s  ({:.3} s; the relay's batch pattern, without SQLite)",
        drain_elapsed.as_secs_f64()
    );
    println!("  district stream {district_stream}: {relay_stored} msgs = log head {head}");
    println!();
    let one = &runs[0];
    let p99 = q(&one.latency, 0.99);
    println!(
        "Summary (one run, {:.0} s wall in total)",
        total.as_secs_f64()
    );
    println!("-----------------------------------------");
    println!(
        "RecordActivity 1 client      : {:>6.0} cmd/s  p50 {:.2} ms  p99 {:.2} ms   (target p99 < {TARGET_P99_MS} ms: {})",
        one.per_sec(),
        q(&one.latency, 0.5),
        p99,
        verdict(p99 < TARGET_P99_MS)
    );
    for run in &runs[1..3] {
        println!(
            "RecordActivity {:<14}: {:>6.0} cmd/s  p50 {:.2} ms  p99 {:.2} ms   (target ≥ 5,000 cmd/s: {})",
            if run.label.contains("shared") {
                "16 cl. shared"
            } else {
                "16 cl. own ch."
            },
            run.per_sec(),
            q(&run.latency, 0.5),
            q(&run.latency, 0.99),
            verdict(run.per_sec() >= TARGET_CONCURRENT_CPS)
        );
    }
    println!(
        "Relay publish                : {relay_rate:>6.0} ev/s   raw JetStream {raw_rate:.0} ev/s   ratio {ratio:.2} (target ≥ {TARGET_RATIO}: {})",
        verdict(ratio >= TARGET_RATIO)
    );
    println!(
        "fsync (4 KiB)                : append p50 {:.2} ms p99 {:.2} ms; overwrite p50 {:.2} ms p99 {:.2} ms (fdatasync p50 {:.2} p99 {:.2})",
        q(&fsync_append, 0.5),
        q(&fsync_append, 0.99),
        q(&fsync_overwrite, 0.5),
        q(&fsync_overwrite, 0.99),
        q(&fdatasync_overwrite, 0.5),
        q(&fdatasync_overwrite, 0.99)
    );
    println!(
        "load average                 : before {load_before}, after {load_after} ({cpus} CPUs, shared machine)"
    );
    drop(nats);
    Ok(())
}
