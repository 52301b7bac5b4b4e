//! End-to-end benchmark of the district aggregator against a real `nats-server` (JetStream,
//! file store) and a real PostgreSQL, both started by `test-harness` (PostgreSQL: a throwaway
//! cluster with `fsync=off`, `synchronous_commit=off`, `full_page_writes=off`, or the server
//! at `DATABASE_URL` when set; the run prints the settings it got).
//!
//! Run: `cargo bench -p district-aggregator --bench aggregator` (release profile,
//! `harness = false`). It measures, in one run:
//!
//! 1. **Ingest.** The district stream is pre-filled with `BENCH_EVENTS` (default 200,000)
//!    school events of the ten demo schools: `demo_data::history` requests, decided by
//!    `domain::decide` and sealed with `Envelope::seal` as a school agent does (recorded a few
//!    days after they happen), published per school with `publish_in_order` (the ten schools
//!    concurrently, so the stream interleaves them as a district's does). The district
//!    office's own events (the plan 1442/KH-PGDĐT and the ten enrolments) come first in the
//!    stream (`BENCH_ENROL_LAST=1` puts the enrolments after the school events instead, which
//!    sends everything through the held path). Then the real aggregator runs as a **separate
//!    process** — this bench binary re-executed, running exactly what `main.rs` runs
//!    (`Settings::load` of a TOML file with production defaults, then
//!    `district_aggregator::run`) — and the clock runs from its spawn until every author's
//!    `applied_seq` in `live.positions` reaches its head (polled every 50 ms).
//!    **Raw baseline**, same run, same stream, same PostgreSQL server: a plain async-nats
//!    durable pull consumer with explicit acks, batches of the ingest's `batch_size` gathered
//!    with its `batch_wait`, each inserted into `raw_events (school text, seq bigint, body
//!    jsonb)` with one multi-row `INSERT … SELECT FROM unnest(…)` in one transaction, acked
//!    after the commit.
//! 2. **Rebuild.** `district_aggregator::rebuild::run` (the `rebuild` subcommand's code) over
//!    the same stream, with its default options; its replay rate is the figure.
//! 3. **Plan view latency** (HDR histogram) over ≥ 1,000,000 events in the projection: 2,000
//!    queries over mixed periods (quarters, semesters, school years, `plan`) through
//!    `queries::Views::plan_view` — what the gRPC service's `GetPlanView` calls — and through
//!    gRPC (`Aggregator::serve_without_ingest`, in this process, over loopback TCP): 2,000 as `run` serves it
//!    (TCP_NODELAY, `service_runtime::GrpcServer`); plus a few
//!    through `Views::sql_only` (no activity index) for comparison. How the projection gets to 1M is
//!    `BENCH_FILL`:
//!    * `sql` (default): after the rebuild, every projection row of the ten schools is copied
//!      in SQL under 4 more codes per school (`<code>-2` … `<code>-5`, enrolled and with
//!      positions) — what replaying the same events 5× under different school codes would
//!      write, without the minutes it takes on this machine;
//!    * `replay`: after the ingest measurement, the same envelopes are re-published under
//!      those 40 codes (with their enrolments) and the rebuild replays the whole 1M stream
//!      through the ingest code path; the rebuild figure is then measured on 1M events.
//! 4. **Peak RSS** of the aggregator process during the ingest: `VmHWM` of
//!    `/proc/<pid>/status` when every head is reached.
//!
//! It ends with a summary block: PASS/MISS per target. Other knobs: `BENCH_QUERIES` (2000),
//! `BENCH_SQL_QUERIES` (20), `BENCH_COPIES` (4: extra copies for the query fill),
//! `BENCH_EXPERIMENTS=1` (after the ingest, what one `INSERT` per row costs PostgreSQL against
//! one multi-row `INSERT … unnest` per transaction, and what the search index costs),
//! `BENCH_CHILD_LOG` (the aggregator's `RUST_LOG`, default
//! `info,district_aggregator::ingest=debug`, whose one line per committed batch gives the
//! batch sizes and cycle times; the log goes to a file whose path is printed).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use async_nats::jetstream;
use async_nats::jetstream::consumer::PullConsumer;
use chrono::{DateTime, Utc};
use demo_data::sealed::{DistrictOfficeLog, school_log_of_len};
use demo_data::{DemoSchool, TAM_NONG_SCHOOLS};
use district_aggregator::config::{IngestSettings, Settings};
use district_aggregator::db::{self, LIVE_SCHEMA};
use district_aggregator::queries::Views;
use district_aggregator::rebuild::{self, Progress, RebuildOptions, thousands};
use domain::{Author, Envelope, Period, Slug};
use event_bus::publish::{OutgoingEvent, publish_in_order};
use event_bus::subjects::{district_events_filter, stream_name};
use futures::StreamExt;
use hdrhistogram::Histogram;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use test_harness::{NatsServer, Postgres};
use tokio::sync::oneshot;
use uuid::Uuid;
use wire::pb;
use wire::pb::district_aggregator_client::DistrictAggregatorClient;

/// The allocator the aggregator binary uses (this binary also runs as the aggregator process,
/// and the rebuild and the raw baseline run here): both sides measured alike.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PROVINCE: &str = "dong-thap";
const DISTRICT: &str = "tam-nong";
const SEED: u64 = 2017;
/// Set (to the configuration file) when this binary runs as the aggregator process.
const CHILD_ENV: &str = "DISTRICT_AGGREGATOR_BENCH_CHILD";
/// Events per `publish_in_order` call (one subject each), as a relay batch.
const PUBLISH_RUN: usize = 500;
const POLL: Duration = Duration::from_millis(50);
const INGEST_TIMEOUT: Duration = Duration::from_secs(1_800);
/// Linux's USER_HZ: the unit of the CPU times in `/proc/<pid>/stat`.
const CLOCK_TICKS: f64 = 100.0;

const TARGET_RATIO: f64 = 0.6;
const TARGET_REBUILD: f64 = 100_000.0;
const TARGET_P99_MS: f64 = 10.0;
const TARGET_RSS_MIB: f64 = 256.0;
const QUERY_EVENTS_MIN: i64 = 1_000_000;

fn main() -> anyhow::Result<()> {
    if let Some(config) = std::env::var_os(CHILD_ENV) {
        return aggregator_process(PathBuf::from(config));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench())
}

// ---------------------------------------------------------------------------------------
// The aggregator process: what `main.rs` does for `serve`.

fn aggregator_process(config: PathBuf) -> anyhow::Result<()> {
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
struct AggregatorProcess {
    child: Child,
    log: PathBuf,
}

impl AggregatorProcess {
    fn spawn(config: &Path, log: &Path) -> anyhow::Result<Self> {
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

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "the aggregator exited ({status}); its log ends:\n{}",
                tail(&self.log, 30)
            );
        }
        Ok(())
    }

    /// SIGTERM, as systemd stops it; waits for the graceful stop.
    async fn stop(mut self) -> anyhow::Result<Duration> {
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

fn child_log_filter() -> String {
    std::env::var("BENCH_CHILD_LOG")
        .unwrap_or_else(|_| "info,district_aggregator::ingest=debug".into())
}

/// `(commits, messages, mean ms between consecutive commits)` from the aggregator's
/// `batch committed` debug lines (one per careful batch, and one per part of a pipelined
/// batch, whose parts commit in parallel).
fn batch_stats(log: &Path) -> Option<(usize, u64, f64)> {
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

// ---------------------------------------------------------------------------------------
// Knobs.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fill {
    Sql,
    Replay,
}

#[derive(Debug)]
struct Knobs {
    events: u64,
    queries: usize,
    sql_queries: usize,
    copies: u32,
    fill: Fill,
    enrol_last: bool,
    experiments: bool,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

impl Knobs {
    fn from_env() -> anyhow::Result<Self> {
        let fill = match std::env::var("BENCH_FILL").as_deref() {
            Err(_) | Ok("") | Ok("sql") => Fill::Sql,
            Ok("replay") => Fill::Replay,
            Ok(other) => bail!("BENCH_FILL={other}: expected sql or replay"),
        };
        Ok(Self {
            events: env_or("BENCH_EVENTS", 200_000_u64).max(100),
            queries: env_or("BENCH_QUERIES", 2_000_usize).max(1),
            sql_queries: env_or("BENCH_SQL_QUERIES", 20_usize),
            copies: env_or("BENCH_COPIES", 4_u32),
            fill,
            enrol_last: std::env::var("BENCH_ENROL_LAST").is_ok_and(|v| !v.is_empty() && v != "0"),
            experiments: std::env::var("BENCH_EXPERIMENTS")
                .is_ok_and(|v| !v.is_empty() && v != "0"),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Histories, decided and sealed as agents and the district office do.

/// `log` under another school code: the same events, fresh ids.
fn copy_as(log: &[Envelope], code: &str) -> Vec<Envelope> {
    let author = Author::School(Slug::parse("code", code).expect("valid code"));
    log.iter()
        .map(|e| Envelope {
            id: Uuid::now_v7(),
            school: author.clone(),
            ..e.clone()
        })
        .collect()
}

fn copy_code(code: &str, k: u32) -> String {
    format!("{code}-{k}")
}

// ---------------------------------------------------------------------------------------
// Publishing, as the relays publish.

async fn publish_log(js: &jetstream::Context, log: &[Envelope]) -> anyhow::Result<()> {
    let head = log.last().map_or(0, |e| e.seq);
    for chunk in log.chunks(PUBLISH_RUN) {
        let run: Vec<OutgoingEvent> = chunk
            .iter()
            .map(|e| district_fixture::outgoing(e, Some(head)))
            .collect::<anyhow::Result<_>>()?;
        let outcome = publish_in_order(js, &run, Duration::from_secs(30)).await;
        if let Some(error) = outcome.error {
            bail!("publishing failed after {} acks: {error}", outcome.acked);
        }
    }
    Ok(())
}

/// How many relays publish at once. Each holds up to `PIPELINE_WINDOW` (256) unacknowledged
/// publishes, and async-nats lets a client hold 5,000: more relays than 5,000 / 256 at once
/// would each wait for a permit while holding acks nobody awaits.
const PUBLISHERS: usize = 10;

/// Publishes the logs, `PUBLISHERS` at a time (one relay per log); returns the rate.
async fn publish_all(js: &jetstream::Context, logs: &[Vec<Envelope>]) -> anyhow::Result<f64> {
    let total: usize = logs.iter().map(Vec::len).sum();
    let t = Instant::now();
    futures::stream::iter(logs.iter().map(|log| publish_log(js, log)))
        .buffer_unordered(PUBLISHERS)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<()>>>()?;
    Ok(total as f64 / t.elapsed().as_secs_f64())
}

async fn stream_messages(js: &jetstream::Context) -> anyhow::Result<u64> {
    let mut stream = js.get_stream(stream_name(PROVINCE, DISTRICT)?).await?;
    Ok(stream.info().await?.state.messages)
}

// ---------------------------------------------------------------------------------------
// Process accounting from /proc.

fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// `(ppid, utime + stime in ticks)` of a process.
fn proc_stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state(0) ppid(1) … utime(11) stime(12).
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

fn all_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Whose CPU time is counted: the processes of the run.
#[derive(Debug, Clone, Default)]
struct Accounts {
    postmaster: Option<u32>,
    nats: Option<u32>,
}

impl Accounts {
    fn find(pg: &Postgres, nats: &NatsServer) -> Self {
        let postmaster = pg.log_path().and_then(|log| {
            let pidfile = log.parent()?.join("data/postmaster.pid");
            std::fs::read_to_string(pidfile)
                .ok()?
                .lines()
                .next()?
                .trim()
                .parse()
                .ok()
        });
        let nats_dir = nats
            .store_dir()
            .and_then(|s| s.parent().map(|p| p.to_string_lossy().into_owned()));
        let nats = nats_dir.and_then(|dir| {
            all_pids().into_iter().find(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).contains(&dir))
                    .unwrap_or(false)
            })
        });
        Self { postmaster, nats }
    }

    /// CPU ticks of `(postgres: postmaster and its children, nats-server, this process,
    /// extra)`.
    fn sample(&self, extra: Option<u32>) -> CpuSample {
        let mut pg = 0;
        if let Some(pm) = self.postmaster {
            for pid in all_pids() {
                if let Some((ppid, ticks)) = proc_stat(pid)
                    && (pid == pm || ppid == pm)
                {
                    pg += ticks;
                }
            }
        }
        CpuSample {
            at: Instant::now(),
            pg,
            nats: self.nats.and_then(proc_stat).map_or(0, |s| s.1),
            me: proc_stat(std::process::id()).map_or(0, |s| s.1),
            extra: extra.and_then(proc_stat).map_or(0, |s| s.1),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct CpuSample {
    at: Instant,
    pg: u64,
    nats: u64,
    me: u64,
    extra: u64,
}

/// CPU microseconds per message of the processes of the run, between two samples.
#[derive(Debug, Clone, Copy)]
struct CpuPerMessage {
    me: f64,
    nats: f64,
    pg: f64,
}

impl CpuPerMessage {
    fn total(&self) -> f64 {
        self.me + self.nats + self.pg
    }
}

impl CpuSample {
    /// What each process spent per message of `messages` between `self` and `later`.
    fn per_message_us(&self, later: &CpuSample, messages: u64) -> CpuPerMessage {
        let us = |a: u64, b: u64| {
            b.saturating_sub(a) as f64 / CLOCK_TICKS * 1e6 / messages.max(1) as f64
        };
        CpuPerMessage {
            me: us(self.me, later.me),
            nats: us(self.nats, later.nats),
            pg: us(self.pg, later.pg),
        }
    }

    /// "postgres 1.2 s (60%), …" between `self` and `later`, in CPU seconds and share of one
    /// core over the wall time.
    fn describe(&self, later: &CpuSample, extra_name: &str) -> String {
        let wall = later.at.duration_since(self.at).as_secs_f64().max(1e-9);
        let part = |name: &str, a: u64, b: u64| {
            let secs = b.saturating_sub(a) as f64 / CLOCK_TICKS;
            format!("{name} {secs:.1} s ({:.0}% of a core)", 100.0 * secs / wall)
        };
        let mut parts = vec![
            part("postgres", self.pg, later.pg),
            part("nats-server", self.nats, later.nats),
            part("bench process", self.me, later.me),
        ];
        if !extra_name.is_empty() {
            parts.insert(0, part(extra_name, self.extra, later.extra));
        }
        format!("CPU over {wall:.1} s wall: {}", parts.join(", "))
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

// ---------------------------------------------------------------------------------------
// The raw baseline.

#[derive(serde::Deserialize)]
struct SeqOnly {
    seq: i64,
}

struct RawReport {
    messages: u64,
    elapsed: Duration,
    batches: u64,
}

/// A plain pull consumer into a plain table: batches as the ingest gathers them, one
/// multi-row insert and one transaction per batch, acks after the commit.
async fn raw_baseline(
    js: &jetstream::Context,
    url: &str,
    total: u64,
    ingest: &IngestSettings,
) -> anyhow::Result<RawReport> {
    let pool = PgPoolOptions::new().max_connections(2).connect(url).await?;
    sqlx::query(
        "CREATE TABLE raw_events (school text NOT NULL, seq bigint NOT NULL, body jsonb NOT NULL)",
    )
    .execute(&pool)
    .await?;
    let stream = js.get_stream(stream_name(PROVINCE, DISTRICT)?).await?;
    let consumer: PullConsumer = stream
        .create_consumer(jetstream::consumer::pull::Config {
            durable_name: Some("raw-baseline".into()),
            filter_subject: district_events_filter(PROVINCE, DISTRICT)?,
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: ingest.ack_wait(),
            max_ack_pending: ingest.max_ack_pending,
            max_deliver: -1,
            ..Default::default()
        })
        .await?;
    let started = Instant::now();
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(ingest.batch_size)
        .expires(Duration::from_secs(30))
        .heartbeat(ingest.heartbeat())
        .messages()
        .await?;
    let mut done = 0_u64;
    let mut batches = 0_u64;
    while done < total {
        let first = messages
            .next()
            .await
            .context("the raw consumer's messages ended")?
            .map_err(|e| anyhow::anyhow!("raw consumer: {e}"))?;
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + ingest.batch_wait();
        while batch.len() < ingest.batch_size {
            match tokio::time::timeout_at(deadline, messages.next()).await {
                Ok(Some(Ok(m))) => batch.push(m),
                Ok(Some(Err(e))) => bail!("raw consumer: {e}"),
                Ok(None) | Err(_) => break,
            }
        }
        let mut schools = Vec::with_capacity(batch.len());
        let mut seqs = Vec::with_capacity(batch.len());
        let mut bodies = Vec::with_capacity(batch.len());
        for m in &batch {
            schools.push(m.subject.rsplit('.').next().unwrap_or_default().to_owned());
            seqs.push(serde_json::from_slice::<SeqOnly>(&m.payload)?.seq);
            bodies.push(std::str::from_utf8(&m.payload)?.to_owned());
        }
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO raw_events (school, seq, body) \
             SELECT s, q, b::jsonb FROM unnest($1::text[], $2::int8[], $3::text[]) AS u(s, q, b)",
        )
        .bind(&schools)
        .bind(&seqs)
        .bind(&bodies)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        for m in &batch {
            m.ack().await.map_err(|e| anyhow::anyhow!("raw ack: {e}"))?;
        }
        done += batch.len() as u64;
        batches += 1;
    }
    let elapsed = started.elapsed();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM raw_events")
        .fetch_one(&pool)
        .await?;
    ensure!(
        stored as u64 == total,
        "raw baseline stored {stored} of {total}"
    );
    pool.close().await;
    Ok(RawReport {
        messages: done,
        elapsed,
        batches,
    })
}

/// The ceiling of any replay on this machine: the whole stream read as the rebuild reads it
/// (an ephemeral pull consumer without acks, `rebuild::READ_BATCH` messages per pull) and
/// decoded as the ingest decodes it (`Received::from_message`, `Decoder::decode`,
/// `Envelope::decode_any`), without a database. Messages per second.
async fn read_and_decode(js: &jetstream::Context, total: u64, decode: bool) -> anyhow::Result<f64> {
    let stream = js.get_stream(stream_name(PROVINCE, DISTRICT)?).await?;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::Config {
            filter_subject: district_events_filter(PROVINCE, DISTRICT)?,
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ack_policy: jetstream::consumer::AckPolicy::None,
            inactive_threshold: Duration::from_secs(60),
            ..Default::default()
        })
        .await?;
    let decoder = district_aggregator::decode::Decoder {
        province: PROVINCE.into(),
        district: DISTRICT.into(),
        max_message_bytes: IngestSettings::default().max_message_bytes,
    };
    let started = Instant::now();
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(rebuild::READ_BATCH)
        .messages()
        .await?;
    let mut n = 0_u64;
    let mut refused = 0_u64;
    while n < total {
        let mut message = messages
            .next()
            .await
            .context("the consumer ended")?
            .map_err(|e| anyhow::anyhow!("reading the stream: {e}"))?;
        n += 1;
        if !decode {
            continue;
        }
        let received = district_aggregator::decode::Received::from_message(&mut message)
            .map_err(|e| anyhow::anyhow!(e))?;
        match decoder.decode(received) {
            district_aggregator::decode::Decoded::Candidate(c) => {
                if c.envelope.decode_any().is_err() {
                    refused += 1;
                }
            }
            district_aggregator::decode::Decoded::Rejected(_) => refused += 1,
        }
    }
    ensure!(refused == 0, "{refused} messages did not decode");
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

// ---------------------------------------------------------------------------------------
// The ingest, as a process.

struct IngestReport {
    messages: u64,
    elapsed: Duration,
    /// From the first applied school event to the end (start-up excluded).
    steady: Duration,
    peak_rss_kib: u64,
    max_sampled_rss_kib: u64,
    cpu: String,
    stop: Duration,
    /// `(batches, messages, mean ms per batch)` from the aggregator's log.
    batches: Option<(usize, u64, f64)>,
}

fn write_config(dir: &Path, db_url: &str, nats_url: &str) -> anyhow::Result<PathBuf> {
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
"#
        ),
    )?;
    Ok(path)
}

async fn positions(pool: &PgPool) -> anyhow::Result<BTreeMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT author, applied_seq FROM live.positions")
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().collect())
}

async fn run_ingest(
    dir: &Path,
    config: &Path,
    pool: &PgPool,
    heads: &BTreeMap<String, i64>,
    accounts: &Accounts,
) -> anyhow::Result<IngestReport> {
    let total: i64 = heads.values().sum();
    let log = dir.join("aggregator.log");
    let started = Instant::now();
    let mut process = AggregatorProcess::spawn(config, &log)?;
    let pid = process.pid();
    println!(
        "  aggregator process pid {pid}, log {} (RUST_LOG={})",
        log.display(),
        child_log_filter()
    );
    let cpu_before = accounts.sample(Some(pid));
    let mut first_applied = None;
    let mut max_rss = 0;
    let mut last_report = Instant::now();
    let mut last_applied = 0_i64;
    let hwm;
    loop {
        process.check_alive()?;
        if let Some(rss) = proc_status_kib(pid, "VmRSS:") {
            max_rss = max_rss.max(rss);
        }
        let now = positions(pool).await?;
        let applied: i64 = heads
            .iter()
            .map(|(a, head)| now.get(a).copied().unwrap_or(0).min(*head))
            .sum();
        let schools_applied: i64 = heads
            .iter()
            .filter(|(a, _)| *a != Author::DISTRICT_TOKEN)
            .map(|(a, _)| now.get(a).copied().unwrap_or(0))
            .sum();
        if first_applied.is_none() && schools_applied > 0 {
            first_applied = Some(Instant::now());
        }
        if heads.iter().all(|(a, head)| now.get(a) == Some(head)) {
            hwm = proc_status_kib(pid, "VmHWM:").unwrap_or(0);
            break;
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            let rate = (applied - last_applied) as f64 / last_report.elapsed().as_secs_f64();
            println!(
                "  … {} / {} applied ({} ev/s over the last 10 s; RSS {} MiB)",
                thousands(applied as u64),
                thousands(total as u64),
                thousands(rate as u64),
                max_rss / 1024
            );
            last_report = Instant::now();
            last_applied = applied;
        }
        if started.elapsed() > INGEST_TIMEOUT {
            bail!("the ingest did not finish in {INGEST_TIMEOUT:?}: {applied} of {total}");
        }
        tokio::time::sleep(POLL).await;
    }
    let elapsed = started.elapsed();
    let cpu_after = accounts.sample(Some(pid));
    let steady = first_applied.map_or(elapsed, |t| t.elapsed());
    let stop = process.stop().await?;
    let batches = batch_stats(&log);
    Ok(IngestReport {
        batches,
        messages: total as u64,
        elapsed,
        steady,
        peak_rss_kib: hwm,
        max_sampled_rss_kib: max_rss,
        cpu: cpu_before.describe(&cpu_after, "aggregator"),
        stop,
    })
}

// ---------------------------------------------------------------------------------------
// `BENCH_EXPERIMENTS=1`: what the ingest's write pattern costs PostgreSQL.

type SchoolEventRow = (
    String,
    i64,
    Uuid,
    String,
    i32,
    DateTime<Utc>,
    DateTime<Utc>,
    chrono::NaiveDate,
    chrono::NaiveDate,
    i32,
    String,
    String,
    String,
);

/// The same `school_events` rows written into two fresh projections, 500 per transaction:
/// one `INSERT` per row (as the ingest once wrote) and one `INSERT … SELECT FROM unnest(…)` per
/// transaction; then the cost of the activities' search (GIN) index, server-side.
async fn write_experiments(pool: &PgPool, accounts: &Accounts) -> anyhow::Result<()> {
    const N: i64 = 100_000;
    println!(
        "  experiments (BENCH_EXPERIMENTS=1): the projection's write pattern, {N} rows, 500 per transaction"
    );
    for schema in ["exp_rows", "exp_unnest"] {
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(pool)
            .await?;
        sqlx::query("SELECT public.create_projection($1)")
            .bind(schema)
            .execute(pool)
            .await?;
    }
    let rows: Vec<SchoolEventRow> = sqlx::query_as(
        "SELECT school, seq, event_id, type, schema, occurred_at, recorded_at, occurred_on, recorded_on,          delay_days, actor_role, actor_person, data FROM live.school_events ORDER BY school, seq LIMIT $1",
    )
    .bind(N)
    .fetch_all(pool)
    .await?;
    let n = rows.len() as f64;

    let cpu0 = accounts.sample(None);
    let t = Instant::now();
    for chunk in rows.chunks(500) {
        let mut tx = pool.begin().await?;
        for r in chunk {
            sqlx::query(
                "INSERT INTO exp_rows.school_events (school, seq, event_id, type, schema, occurred_at, recorded_at,                  occurred_on, recorded_on, delay_days, actor_role, actor_person, data)                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(&r.0)
            .bind(r.1)
            .bind(r.2)
            .bind(&r.3)
            .bind(r.4)
            .bind(r.5)
            .bind(r.6)
            .bind(r.7)
            .bind(r.8)
            .bind(r.9)
            .bind(&r.10)
            .bind(&r.11)
            .bind(&r.12)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
    let per_row = t.elapsed();
    let cpu1 = accounts.sample(None);
    println!(
        "    school_events, one INSERT per row: {:.0} rows/s ({:.0} µs per row); {}",
        n / per_row.as_secs_f64(),
        per_row.as_secs_f64() * 1e6 / n,
        cpu0.describe(&cpu1, "")
    );

    let cpu0 = accounts.sample(None);
    let t = Instant::now();
    for chunk in rows.chunks(500) {
        let col = |f: &dyn Fn(&SchoolEventRow) -> String| chunk.iter().map(f).collect::<Vec<_>>();
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO exp_unnest.school_events (school, seq, event_id, type, schema, occurred_at, recorded_at,              occurred_on, recorded_on, delay_days, actor_role, actor_person, data)              SELECT * FROM unnest($1::text[], $2::int8[], $3::uuid[], $4::text[], $5::int4[], $6::timestamptz[],              $7::timestamptz[], $8::date[], $9::date[], $10::int4[], $11::text[], $12::text[], $13::text[])",
        )
        .bind(col(&|r| r.0.clone()))
        .bind(chunk.iter().map(|r| r.1).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.2).collect::<Vec<_>>())
        .bind(col(&|r| r.3.clone()))
        .bind(chunk.iter().map(|r| r.4).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.5).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.6).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.7).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.8).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.9).collect::<Vec<_>>())
        .bind(col(&|r| r.10.clone()))
        .bind(col(&|r| r.11.clone()))
        .bind(chunk.iter().map(|r| r.12.clone()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    let unnest = t.elapsed();
    let cpu1 = accounts.sample(None);
    println!(
        "    school_events, one INSERT … unnest per transaction: {:.0} rows/s ({:.0} µs per row); {}",
        n / unnest.as_secs_f64(),
        unnest.as_secs_f64() * 1e6 / n,
        cpu0.describe(&cpu1, "")
    );

    // The activities' search (GIN) index, server-side (no client in the way).
    let copy = |schema: &str| {
        format!(
            "INSERT INTO {schema}.activities SELECT * FROM live.activities ORDER BY school, activity_id LIMIT {N}"
        )
    };
    let t = Instant::now();
    let copied = sqlx::query(&copy("exp_rows"))
        .execute(pool)
        .await?
        .rows_affected() as f64;
    let with_gin = t.elapsed();
    let gin: String = sqlx::query_scalar(
        "SELECT format('%I.%I', schemaname, indexname) FROM pg_indexes          WHERE schemaname = 'exp_unnest' AND tablename = 'activities' AND indexdef LIKE '%gin%'",
    )
    .fetch_one(pool)
    .await?;
    sqlx::query(&format!("DROP INDEX {gin}"))
        .execute(pool)
        .await?;
    let t = Instant::now();
    sqlx::query(&copy("exp_unnest")).execute(pool).await?;
    let without_gin = t.elapsed();
    println!(
        "    activities, INSERT … SELECT server-side: {:.1} µs per row with the search (GIN) index, {:.1} µs without",
        with_gin.as_secs_f64() * 1e6 / copied.max(1.0),
        without_gin.as_secs_f64() * 1e6 / copied.max(1.0)
    );
    for schema in ["exp_rows", "exp_unnest"] {
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Which projection tables were read by sequential scan, and how many rows that read: the
/// ingest should look rows up by key only.
async fn scans_during_ingest(pool: &PgPool) -> anyhow::Result<String> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT relname::text, seq_scan, seq_tup_read, coalesce(idx_scan, 0) FROM pg_stat_user_tables \
         WHERE schemaname = $1 AND seq_tup_read > 0 ORDER BY seq_tup_read DESC LIMIT 6",
    )
    .bind(LIVE_SCHEMA)
    .fetch_all(pool)
    .await?;
    let tables: Vec<String> = rows
        .iter()
        .map(|(t, scans, read, idx)| format!("{t} {scans} scans / {read} rows ({idx} index scans)"))
        .collect();
    Ok(format!(
        "sequential scans of projection tables: {}",
        if tables.is_empty() {
            "none".to_owned()
        } else {
            tables.join("; ")
        }
    ))
}

// ---------------------------------------------------------------------------------------
// Filling the projection to ≥ 1M events by copying rows under other school codes.

async fn clone_schools(pool: &PgPool, codes: &[&str], copies: u32) -> anyhow::Result<()> {
    let codes: Vec<String> = codes.iter().map(|c| (*c).to_owned()).collect();
    let mut tx = pool.begin().await?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns \
         WHERE table_schema = $1 AND column_name = 'school' ORDER BY table_name",
    )
    .bind(LIVE_SCHEMA)
    .fetch_all(&mut *tx)
    .await?;
    for (table, key) in tables
        .iter()
        .map(|t| (t.as_str(), "school"))
        .chain([("schools", "code"), ("positions", "author")])
    {
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
        )
        .bind(LIVE_SCHEMA)
        .bind(table)
        .fetch_all(&mut *tx)
        .await?;
        let list: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
        let exprs: Vec<String> = columns
            .iter()
            .map(|c| {
                if c == key {
                    format!("t.\"{c}\" || '-' || k::text")
                } else {
                    format!("t.\"{c}\"")
                }
            })
            .collect();
        let sql = format!(
            "INSERT INTO {LIVE_SCHEMA}.\"{table}\" ({}) SELECT {} FROM {LIVE_SCHEMA}.\"{table}\" t \
             CROSS JOIN generate_series(2, $2::int + 1) AS k WHERE t.\"{key}\" = ANY($1)",
            list.join(", "),
            exprs.join(", ")
        );
        sqlx::query(&sql)
            .bind(&codes)
            .bind(copies as i32)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("copying {table}"))?;
    }
    tx.commit().await?;
    let analyse: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = $1",
    )
    .bind(LIVE_SCHEMA)
    .fetch_all(pool)
    .await?;
    sqlx::query(&format!("ANALYZE {}", analyse.join(", ")))
        .execute(pool)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Queries.

fn periods() -> Vec<Vec<Period>> {
    let quarters = [(2017, 4)]
        .into_iter()
        .chain((2018..=2020).flat_map(|y| (1..=4).map(move |q| (y, q))))
        .map(|(year, quarter)| Period::Quarter { year, quarter })
        .collect();
    let semesters = (2017..=2020)
        .flat_map(|start_year| (1..=2).map(move |half| Period::Semester { start_year, half }))
        .filter(|p| {
            *p != Period::Semester {
                start_year: 2020,
                half: 2,
            }
        })
        .collect();
    let years = (2017..=2020)
        .map(|start_year| Period::SchoolYear { start_year })
        .collect();
    vec![quarters, semesters, years, vec![Period::WholePlan]]
}

/// `n` periods: a kind (quarter, semester, school year, plan) uniformly, then one of that
/// kind uniformly; deterministic.
fn mixed_periods(n: usize) -> Vec<Period> {
    let kinds = periods();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|_| {
            let kind = &kinds[(next() % kinds.len() as u64) as usize];
            kind[(next() % kind.len() as u64) as usize]
        })
        .collect()
}

struct Latency {
    hist: Histogram<u64>,
}

impl Latency {
    fn new() -> Self {
        Self {
            hist: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds"),
        }
    }
    fn record(&mut self, d: Duration) {
        self.hist.saturating_record(d.as_micros().max(1) as u64);
    }
    fn ms(&self, q: f64) -> f64 {
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }
    fn describe(&self) -> String {
        format!(
            "n={} p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms, mean {:.2} ms",
            self.hist.len(),
            self.ms(0.5),
            self.ms(0.9),
            self.ms(0.99),
            self.ms(0.999),
            self.hist.max() as f64 / 1000.0,
            self.hist.mean() / 1000.0
        )
    }
}

fn kind(p: &Period) -> usize {
    match p {
        Period::Quarter { .. } => 0,
        Period::Semester { .. } => 1,
        Period::SchoolYear { .. } => 2,
        _ => 3,
    }
}

const KINDS: [&str; 4] = ["quarter", "semester", "school year", "plan"];

async fn time_views(views: &Views, periods: &[Period]) -> anyhow::Result<Latency> {
    Ok(time_views_by_kind(views, periods).await?.0)
}

async fn time_views_by_kind(
    views: &Views,
    periods: &[Period],
) -> anyhow::Result<(Latency, [Latency; 4])> {
    let mut latency = Latency::new();
    let mut by_kind = [
        Latency::new(),
        Latency::new(),
        Latency::new(),
        Latency::new(),
    ];
    for period in periods {
        let t = Instant::now();
        let view = views.plan_view(*period).await?;
        let elapsed = t.elapsed();
        latency.record(elapsed);
        by_kind[kind(period)].record(elapsed);
        ensure!(!view.rows.is_empty(), "an empty plan view for {period}");
    }
    Ok((latency, by_kind))
}

/// PostgreSQL round trips on one connection: `SELECT 1`.
async fn round_trips(pool: &PgPool, n: usize) -> anyhow::Result<Latency> {
    let mut conn = pool.acquire().await?;
    let mut latency = Latency::new();
    for _ in 0..n {
        let t = Instant::now();
        sqlx::query("SELECT 1").execute(&mut *conn).await?;
        latency.record(t.elapsed());
    }
    Ok(latency)
}

/// Where a plan view's time goes: its snapshot transaction, the district state, the index's
/// counts (its positions query included), the commit; the rest is assembling the view.
async fn breakdown(views: &Views, periods: &[Period]) -> anyhow::Result<String> {
    let index = views
        .activity_index()
        .context("the views have no activity index")?;
    let mut parts = [
        Latency::new(),
        Latency::new(),
        Latency::new(),
        Latency::new(),
    ];
    for period in periods {
        let t = Instant::now();
        let mut tx = views.begin().await?;
        let begun = t.elapsed();
        let state = district_aggregator::projection::restore_district(&mut tx).await?;
        let restored = t.elapsed();
        let range = domain::district::resolve_period(state.plan(), *period)?;
        let counts = index.counts(&mut tx, range).await?;
        ensure!(counts.is_some(), "the index did not serve the snapshot");
        let counted = t.elapsed();
        tx.commit().await?;
        let committed = t.elapsed();
        parts[0].record(begun);
        parts[1].record(restored - begun);
        parts[2].record(counted - restored);
        parts[3].record(committed - counted);
    }
    let names = [
        "BEGIN + search_path",
        "restore_district (2 queries)",
        "ActivityIndex::counts (positions query + in memory)",
        "COMMIT",
    ];
    Ok(names
        .iter()
        .zip(&parts)
        .map(|(name, l)| format!("{name} p50 {:.2} / p99 {:.2} ms", l.ms(0.5), l.ms(0.99)))
        .collect::<Vec<_>>()
        .join("; "))
}

async fn time_grpc(
    client: &mut DistrictAggregatorClient<tonic::transport::Channel>,
    periods: &[Period],
) -> anyhow::Result<Latency> {
    let mut latency = Latency::new();
    for period in periods {
        let t = Instant::now();
        let view = client
            .get_plan_view(pb::GetPlanViewRequest {
                period: period.to_string(),
            })
            .await?
            .into_inner();
        latency.record(t.elapsed());
        ensure!(!view.rows.is_empty(), "an empty plan view for {period}");
    }
    Ok(latency)
}

struct QueryReport {
    events: i64,
    how: String,
    warm_up: Duration,
    direct: Latency,
    grpc: Latency,
    sql_only: Option<Latency>,
}

async fn run_queries(
    settings: &Settings,
    knobs: &Knobs,
    how: String,
) -> anyhow::Result<QueryReport> {
    let pool = db::connect(&settings.database).await?;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM live.school_events")
        .fetch_one(&pool)
        .await?;
    let (activities, live_activities, schools): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM live.activities), (SELECT count(*) FROM live.activities WHERE live), \
         (SELECT count(*) FROM live.schools)",
    )
    .fetch_one(&pool)
    .await?;
    println!(
        "  projection: {} school events, {} activities ({} live), {} enrolled schools",
        thousands(events as u64),
        thousands(activities as u64),
        thousands(live_activities as u64),
        schools
    );
    let periods = mixed_periods(knobs.queries);
    let kinds = periods.iter().fold([0; 4], |mut n, p| {
        n[kind(p)] += 1;
        n
    });
    println!(
        "  {} queries: {} quarters, {} semesters, {} school years, {} `plan` (25 distinct periods)",
        periods.len(),
        kinds[0],
        kinds[1],
        kinds[2],
        kinds[3]
    );

    // 1. The function the gRPC service calls, with the service's own `Views::new`.
    let views = Views::new(pool.clone(), LIVE_SCHEMA);
    let t = Instant::now();
    views.warm_up().await?;
    let warm_up = t.elapsed();
    let distinct: Vec<Period> = periods.iter().copied().flatten_distinct();
    time_views(&views, &distinct).await?;
    let rtt = round_trips(&pool, 2_000).await?;
    println!(
        "  PostgreSQL round trip now (SELECT 1 on one connection, 2000×): p50 {:.3} ms, p99 {:.3} ms",
        rtt.ms(0.5),
        rtt.ms(0.99)
    );
    let (direct, by_kind) = time_views_by_kind(&views, &periods).await?;
    println!("  Views::plan_view (activity index): {}", direct.describe());
    println!(
        "    by kind: {}",
        KINDS
            .iter()
            .zip(&by_kind)
            .map(|(k, l)| format!("{k} p50 {:.2} / p99 {:.2} ms", l.ms(0.5), l.ms(0.99)))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let some: Vec<Period> = periods.iter().copied().take(500).collect();
    println!(
        "    breakdown over {} of them: {}",
        some.len(),
        breakdown(&views, &some).await?
    );
    if let Some(index) = views.activity_index() {
        let (builds, fallbacks) = index.stats();
        println!("    index builds {builds}, SQL fallbacks {fallbacks}");
    }

    // 2. Through gRPC: the service, in this process, on loopback TCP; as `run` serves it
    // (TCP_NODELAY on the accepted sockets).
    let grpc = grpc_phase(settings, &distinct, &periods).await?;
    println!("  gRPC GetPlanView, as served:       {}", grpc.describe());

    // 3. For comparison: counting in SQL each time.
    let sql_only = if knobs.sql_queries > 0 {
        let sql_views = Views::sql_only(pool.clone(), LIVE_SCHEMA);
        let some = mixed_periods(knobs.sql_queries);
        let latency = time_views(&sql_views, &some).await?;
        println!(
            "  Views::sql_only (GROUP BY):        {}",
            latency.describe()
        );
        Some(latency)
    } else {
        None
    };
    pool.close().await;
    Ok(QueryReport {
        events,
        how,
        warm_up,
        direct,
        grpc,
        sql_only,
    })
}

/// The aggregator's gRPC server as `run` serves it, on a fresh listener, without the ingest
/// (nothing writes the projection while it is timed).
async fn grpc_phase(
    settings: &Settings,
    warm: &[Period],
    periods: &[Period],
) -> anyhow::Result<Latency> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let aggregator = district_aggregator::Aggregator::connect(settings.clone()).await?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(aggregator.serve_without_ingest(listener, async move {
        let _ = stopped.await;
    }));
    let mut grpc_client = DistrictAggregatorClient::connect(format!("http://{addr}")).await?;
    time_grpc(&mut grpc_client, warm).await?;
    let latency = time_grpc(&mut grpc_client, periods).await?;
    let _ = stop.send(());
    drop(grpc_client);
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    Ok(latency)
}

trait FlattenDistinct {
    fn flatten_distinct(self) -> Vec<Period>;
}

impl<I: Iterator<Item = Period>> FlattenDistinct for I {
    fn flatten_distinct(self) -> Vec<Period> {
        let mut out: Vec<Period> = Vec::new();
        for p in self {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// The run.

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

async fn bench() -> anyhow::Result<()> {
    let run_started = Instant::now();
    let knobs = Knobs::from_env()?;
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("district-aggregator benchmark");
    println!(
        "  machine: {cpus} CPUs, load average {} at start",
        loadavg()
    );
    println!("  knobs: {knobs:?}");

    // --- Services -------------------------------------------------------------------------
    let nats = NatsServer::start().await?;
    let pg = Postgres::start().await?;
    let accounts = Accounts::find(&pg, &nats);
    let db_url = pg.fresh_database().await?;
    let raw_url = pg.fresh_database().await?;
    let admin = PgPool::connect(&db_url).await?;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&admin)
        .await?;
    let pg_settings: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN \
         ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'work_mem', \
          'max_wal_size', 'max_connections') ORDER BY name",
    )
    .fetch_all(&admin)
    .await?;
    admin.close().await;
    println!(
        "  PostgreSQL {version} ({}), settings as test-harness makes them: {}",
        if pg.is_local() {
            "throwaway cluster of test-harness"
        } else {
            "the server at DATABASE_URL"
        },
        pg_settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let nats_version = Command::new("nats-server")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    println!(
        "  {nats_version} (JetStream file store in a temporary directory), pids: postmaster {:?}, nats-server {:?}",
        accounts.postmaster, accounts.nats
    );
    let client = async_nats::connect(nats.url()).await?;
    let js = jetstream::new(client.clone());
    event_bus::stream::ensure_district_stream(&js, PROVINCE, DISTRICT).await?;

    // --- Data -----------------------------------------------------------------------------
    let schools: Vec<&'static DemoSchool> = TAM_NONG_SCHOOLS.iter().take(10).collect();
    let per_school = (knobs.events / schools.len() as u64) as usize;
    let t = Instant::now();
    let handles: Vec<_> = schools
        .iter()
        .map(|s| {
            let s: &'static DemoSchool = s;
            tokio::task::spawn_blocking(move || school_log_of_len(s, per_school, SEED))
        })
        .collect();
    let mut logs = Vec::new();
    for h in handles {
        logs.push(h.await?);
    }
    let school_events: usize = logs.iter().map(Vec::len).sum();
    let mut office = DistrictOfficeLog::new();
    office.adopt_plan();
    if !knobs.enrol_last {
        for s in &schools {
            office.enrol_as(s, s.code);
        }
    }
    let mut types: BTreeMap<&str, usize> = BTreeMap::new();
    for e in logs.iter().flatten() {
        *types.entry(e.event_type.as_str()).or_default() += 1;
    }
    let bytes: usize = logs.iter().flatten().map(|e| e.to_json().len()).sum();
    println!(
        "\nData: {} school events ({} per school, {} schools) decided and sealed in {:.1} s; mean body {} B",
        thousands(school_events as u64),
        thousands(per_school as u64),
        schools.len(),
        t.elapsed().as_secs_f64(),
        bytes / school_events.max(1)
    );
    println!(
        "  types: {}",
        types
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // --- Publish --------------------------------------------------------------------------
    publish_all(&js, &[office.envelopes().to_vec()]).await?;
    let rate = publish_all(&js, &logs).await?;
    if knobs.enrol_last {
        let before = office.envelopes().len();
        for s in &schools {
            office.enrol_as(s, s.code);
        }
        publish_all(&js, &[office.envelopes()[before..].to_vec()]).await?;
    }
    let total = stream_messages(&js).await?;
    ensure!(
        total as usize == school_events + office.envelopes().len(),
        "the stream holds {total} messages, expected {}",
        school_events + office.envelopes().len()
    );
    println!(
        "Published {} messages ({} school events at {} ev/s, 10 schools concurrently, runs of {PUBLISH_RUN}; the district office's {} {})",
        thousands(total),
        thousands(school_events as u64),
        thousands(rate as u64),
        office.envelopes().len(),
        if knobs.enrol_last {
            "events: the plan first, the enrolments after the school events"
        } else {
            "events first"
        }
    );

    let dir = tempfile::tempdir()?;
    let config = write_config(dir.path(), &db_url, &nats.url())?;
    let settings = Settings::load(Some(&config))?;
    println!(
        "  aggregator settings: production defaults (batch_size {}, batch_wait {} ms, max_ack_pending {}, {} PostgreSQL connections)",
        settings.ingest.batch_size,
        settings.ingest.batch_wait_ms,
        settings.ingest.max_ack_pending,
        settings.database.max_connections
    );

    // --- 1a. Raw baseline -----------------------------------------------------------------
    println!(
        "\n[1] Ingest of {} messages (load average {})",
        thousands(total),
        loadavg()
    );
    {
        let pool = PgPool::connect(&raw_url).await?;
        let rtt = round_trips(&pool, 2_000).await?;
        pool.close().await;
        println!(
            "  PostgreSQL round trip (SELECT 1 through sqlx on one connection, 2000×): p50 {:.3} ms, p99 {:.3} ms",
            rtt.ms(0.5),
            rtt.ms(0.99)
        );
    }
    let cpu0 = accounts.sample(None);
    let raw = raw_baseline(&js, &raw_url, total, &settings.ingest).await?;
    let cpu1 = accounts.sample(None);
    let raw_rate = raw.messages as f64 / raw.elapsed.as_secs_f64();
    println!(
        "  raw baseline (pull consumer → INSERT … unnest into (school, seq, body jsonb), {} batches): {} msgs in {:.2} s = {} ev/s",
        raw.batches,
        thousands(raw.messages),
        raw.elapsed.as_secs_f64(),
        thousands(raw_rate as u64)
    );
    println!("    {}", cpu0.describe(&cpu1, ""));

    // --- 1b. The aggregator -----------------------------------------------------------------
    // Migrated beforehand, so the clock measures consuming, not creating tables.
    let pool = db::connect(&settings.database).await?;
    let mut heads: BTreeMap<String, i64> = logs
        .iter()
        .map(|log| (log[0].school.as_str().to_owned(), log.len() as i64))
        .collect();
    heads.insert(
        Author::DISTRICT_TOKEN.to_owned(),
        office.envelopes().len() as i64,
    );
    let ingest = run_ingest(dir.path(), &config, &pool, &heads, &accounts).await?;
    let ingest_rate = ingest.messages as f64 / ingest.elapsed.as_secs_f64();
    let (dead, held): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM live.dead_letters), (SELECT count(*) FROM live.held)",
    )
    .fetch_one(&pool)
    .await?;
    println!(
        "  aggregator: {} msgs in {:.2} s from spawn = {} ev/s ({} ev/s from its first applied school event; {dead} dead letters, {held} held)",
        thousands(ingest.messages),
        ingest.elapsed.as_secs_f64(),
        thousands(ingest_rate as u64),
        thousands((ingest.messages as f64 / ingest.steady.as_secs_f64()) as u64)
    );
    println!("    {}", ingest.cpu);
    println!(
        "    peak RSS (VmHWM of the aggregator process when every head was reached): {:.1} MiB (highest VmRSS sampled: {:.1} MiB); graceful stop took {} ms",
        ingest.peak_rss_kib as f64 / 1024.0,
        ingest.max_sampled_rss_kib as f64 / 1024.0,
        ingest.stop.as_millis()
    );
    if let Some((n, messages, ms)) = ingest.batches {
        println!(
            "    {n} commits (a pipelined batch commits in parallel parts), {:.0} messages per commit, one every {ms:.1} ms ({:.0} µs per message)",
            messages as f64 / n.max(1) as f64,
            1000.0 * ms / (messages as f64 / n.max(1) as f64).max(1.0)
        );
    }
    println!("    {}", scans_during_ingest(&pool).await?);
    let ratio = ingest_rate / raw_rate;
    println!("  ratio ingest / raw = {ratio:.3}");
    if knobs.experiments {
        write_experiments(&pool, &accounts).await?;
    }

    // --- 2. Rebuild (and the replay fill) -----------------------------------------------------
    let codes: Vec<&str> = schools.iter().map(|s| s.code).collect();
    if knobs.fill == Fill::Replay && knobs.copies > 0 {
        let t = Instant::now();
        let before = office.envelopes().len();
        let mut copies = Vec::new();
        for k in 2..=knobs.copies + 1 {
            for (s, log) in schools.iter().zip(&logs) {
                let code = copy_code(s.code, k);
                office.enrol_as(s, &code);
                copies.push(copy_as(log, &code));
            }
        }
        publish_all(&js, &[office.envelopes()[before..].to_vec()]).await?;
        let rate = publish_all(&js, &copies).await?;
        println!(
            "\n  (fill) published {} copies under {} more school codes at {} ev/s in {:.1} s",
            thousands(copies.iter().map(|c| c.len() as u64).sum()),
            copies.len(),
            thousands(rate as u64),
            t.elapsed().as_secs_f64()
        );
    }
    let stream_total = stream_messages(&js).await?;
    println!(
        "\n[2] Rebuild (rebuild::run, default options: batch {}) of {} messages (load average {})",
        RebuildOptions::default().batch_size,
        thousands(stream_total),
        loadavg()
    );
    let before_read = accounts.sample(None);
    let read_only = read_and_decode(&js, stream_total, false).await?;
    let after_read = accounts.sample(None);
    let ceiling = read_and_decode(&js, stream_total, true).await?;
    let after_decode = accounts.sample(None);
    println!(
        "  ceiling without a database: reading the stream as the rebuild reads it {} ev/s; reading and decoding each message as the ingest does {} ev/s",
        thousands(read_only as u64),
        thousands(ceiling as u64)
    );
    let read_cost = before_read.per_message_us(&after_read, stream_total);
    let decode_cost = after_read.per_message_us(&after_decode, stream_total);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let busy = |us: f64| us * TARGET_REBUILD / 1e6;
    println!(
        "  CPU per message: reading {:.1} µs (this process {:.1}, nats-server {:.1}); reading and decoding {:.1} µs. \
         At {} ev/s that is {:.2} and {:.2} of this machine's {cores} cores before PostgreSQL does anything",
        read_cost.total(),
        read_cost.me,
        read_cost.nats,
        decode_cost.total(),
        thousands(TARGET_REBUILD as u64),
        busy(read_cost.total()),
        busy(decode_cost.total()),
    );
    let cpu0 = accounts.sample(None);
    let mut trace: Vec<String> = Vec::new();
    let rebuild_result = rebuild::run(&settings, RebuildOptions::default(), |p| match p {
        Progress::Replay { applied, rate, .. } => {
            trace.push(format!("{}k@{}", applied / 1000, thousands(*rate as u64)))
        }
        other => trace.push(other.to_string()),
    })
    .await;
    let cpu1 = accounts.sample(None);
    let rebuild_rate = match &rebuild_result {
        Ok(report) => {
            println!(
                "  replayed {} in {:.2} s = {} ev/s; indexes + analyse {:.2} s; total {:.2} s (tail {}, live ingest held {} ms)",
                thousands(report.replayed),
                report.replay_elapsed.as_secs_f64(),
                thousands(report.replay_rate() as u64),
                report.indexing_elapsed.as_secs_f64(),
                report.total_elapsed.as_secs_f64(),
                report.tail,
                report.ingest_held.as_millis()
            );
            println!(
                "    batches: {} pipelined (prepared while the one before committed), {} careful; {:.2} s of the replay waiting for the stream",
                report.batches_pipelined,
                report.batches_careful,
                report.stream_wait.as_secs_f64()
            );
            println!(
                "    progress (applied@ev/s per interval): {}",
                trace.join(" ")
            );
            println!("    {}", cpu0.describe(&cpu1, ""));
            Some(report.replay_rate())
        }
        Err(e) => {
            println!("  the rebuild path is not usable: {e:#}");
            None
        }
    };

    // --- 3. Queries at ≥ 1M events ----------------------------------------------------------
    let how = match knobs.fill {
        Fill::Sql => {
            let t = Instant::now();
            if knobs.copies > 0 {
                clone_schools(&pool, &codes, knobs.copies).await?;
            }
            format!(
                "the rebuilt projection of the {} streamed events, its 10 schools' rows copied in SQL under {} more codes each (`<code>-2`…), enrolled, with positions; copy + ANALYZE {:.1} s",
                thousands(total),
                knobs.copies,
                t.elapsed().as_secs_f64()
            )
        }
        Fill::Replay => format!(
            "the rebuild of the {} -message stream: the {} events re-published under {} more codes per school, all replayed through the ingest code path",
            thousands(stream_total),
            thousands(school_events as u64),
            knobs.copies
        ),
    };
    pool.close().await;
    println!("\n[3] Plan view latency (load average {})", loadavg());
    println!("  fill: {how}");
    let queries = run_queries(&settings, &knobs, how).await?;

    // --- Summary ------------------------------------------------------------------------------
    let rss_mib = ingest.peak_rss_kib as f64 / 1024.0;
    println!("\n================ SUMMARY (district-aggregator) ================");
    println!(
        "machine: {cpus} CPUs, load average at end {}; run took {:.0} s; PostgreSQL {}",
        loadavg(),
        run_started.elapsed().as_secs_f64(),
        if pg.is_local() {
            "test-harness throwaway cluster (fsync=off, synchronous_commit=off, full_page_writes=off)"
        } else {
            "from DATABASE_URL"
        }
    );
    println!(
        "[{}] ingest / raw = {ratio:.2} (target ≥ {TARGET_RATIO}): aggregator {} ev/s vs raw {} ev/s on {} messages",
        verdict(ratio >= TARGET_RATIO),
        thousands(ingest_rate as u64),
        thousands(raw_rate as u64),
        thousands(total)
    );
    match rebuild_rate {
        Some(r) => println!(
            "[{}] rebuild replay {} ev/s (target ≥ {}) on {} messages (reading + decoding the stream alone: {} ev/s)",
            verdict(r >= TARGET_REBUILD),
            thousands(r as u64),
            thousands(TARGET_REBUILD as u64),
            thousands(stream_total),
            thousands(ceiling as u64)
        ),
        None => println!("[MISS] rebuild: not usable in this tree (see above)"),
    }
    let enough = queries.events >= QUERY_EVENTS_MIN;
    println!(
        "[{}] plan view p99 {:.2} ms, p50 {:.2} ms (target p99 < {TARGET_P99_MS} ms) — Views::plan_view, {} queries, {} school events{}",
        verdict(queries.direct.ms(0.99) < TARGET_P99_MS && enough),
        queries.direct.ms(0.99),
        queries.direct.ms(0.5),
        queries.direct.hist.len(),
        thousands(queries.events as u64),
        if enough {
            ""
        } else {
            " (BELOW 1M: not a valid measurement)"
        }
    );
    println!(
        "[{}] plan view over gRPC as `run` serves it: p99 {:.2} ms, p50 {:.2} ms ({} queries)",
        verdict(queries.grpc.ms(0.99) < TARGET_P99_MS && enough),
        queries.grpc.ms(0.99),
        queries.grpc.ms(0.5),
        queries.grpc.hist.len(),
    );
    println!(
        "       (index build at first use {:.0} ms{})",
        queries.warm_up.as_secs_f64() * 1000.0,
        queries
            .sql_only
            .as_ref()
            .map(|l| format!(
                "; without the index, SQL GROUP BY: p50 {:.1} ms, p99 {:.1} ms",
                l.ms(0.5),
                l.ms(0.99)
            ))
            .unwrap_or_default()
    );
    println!("       fill: {}", queries.how);
    println!(
        "[{}] aggregator peak RSS {rss_mib:.1} MiB during ingest (target < {TARGET_RSS_MIB} MiB; VmHWM of the separate aggregator process)",
        verdict(rss_mib < TARGET_RSS_MIB)
    );
    println!("===============================================================");
    std::io::stdout().flush()?;
    Ok(())
}
