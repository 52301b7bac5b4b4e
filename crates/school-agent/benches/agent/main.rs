//! End-to-end benchmark of the school agent: the real agent in-process (gRPC on port 0, its
//! SQLite log on the real disk with `synchronous = FULL` on the writer) against a real
//! `nats-server` with JetStream.
//!
//! Run: `cargo bench -p school-agent --bench agent` (release profile, `harness = false`).
//! `AGENT_BENCH_QUICK=1` divides every count by 10 for a smoke run;
//! `AGENT_BENCH_RELAY_BATCH=n` sets the relay's `batch_size` (default 256, as in
//! deploy/agent.example.toml; the report then says it is not the agent as deployed).
//!
//! It measures, in one run:
//! 1. `RecordActivity` over gRPC: one sequential client, then 16 concurrent clients (one
//!    shared HTTP/2 channel, then 16 channels), with the relay publishing alongside as in
//!    production; latencies in an HDR histogram (µs) ([`load`]).
//! 2. The relay draining a 20,000-event outbox after NATS comes back ([`drain`]), against a
//!    raw pipelined JetStream publish of the same bodies and headers to another stream on the
//!    same server ([`raw`]).
//! 3. Machine facts: CPUs, load, and the write+fsync latency of the log's disk ([`disk`]).
//! 4. The same drain and raw baseline against a secured nats-server — TLS and nkey
//!    identities, configured by `district_admin` as the district office does — with a second
//!    agent connecting as a school does in production ([`secured`]); the report prints the
//!    relay/raw ratio of both and secured/plain (target: no regression beyond 10%).
//!
//! A tracing layer listens to the agent's own debug events (`batch committed`, `published`)
//! to report the writer's group-commit batch sizes and the relay's batch cycle time, without
//! touching the agent's code ([`probe`]). CPU time per command comes from `/proc`
//! ([`cpu`]). The report ([`report`]) ends with a summary: PASS/MISS per target.

#![allow(clippy::unwrap_used)]

#[allow(dead_code, unused_imports)]
#[path = "../../tests/it/support.rs"]
mod support;

mod agent;
mod cpu;
mod disk;
mod drain;
mod load;
mod probe;
mod raw;
mod report;
mod secured;

use std::time::Instant;

use anyhow::{Context as _, ensure};
use bench_measure::knobs::{env_flag, env_or};
use bench_measure::machine;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use agent::Agent;
use probe::ProbeLayer;
use support::{adopt_seed_plan, connect};
use test_harness::NatsServer;

const TARGET_P99_MS: f64 = 5.0;
const TARGET_CONCURRENT_CPS: f64 = 5_000.0;
const TARGET_RATIO: f64 = 0.5;
/// The relay on the secured server, as a share of the relay on the plain one.
const TARGET_SECURED: f64 = 0.9;

/// The relay's `batch_size` as deployed (deploy/agent.example.toml).
const DEPLOYED_RELAY_BATCH: u32 = 256;

/// How many commands each phase sends.
struct Counts {
    warmup: u64,
    sequential: u64,
    concurrent: u64,
    relay: u64,
}

fn counts() -> Counts {
    let d = if env_flag("AGENT_BENCH_QUICK") { 10 } else { 1 };
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

/// What the run ran on, measured before the load starts.
pub(crate) struct Machine {
    pub(crate) cpus: usize,
    pub(crate) cpu_model: String,
    pub(crate) load_before: String,
    pub(crate) filesystem: String,
    pub(crate) log_dir: String,
    pub(crate) fsync: disk::Fsync,
}

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
    let relay_batch = env_or("AGENT_BENCH_RELAY_BATCH", DEPLOYED_RELAY_BATCH);
    let bench_started = Instant::now();
    eprintln!("agent bench: pid {}", std::process::id());
    let load_before = machine::loadavg();

    let mut nats = NatsServer::start().await?;
    let nats_conf = nats
        .log_path()
        .context("a managed nats-server")?
        .with_file_name("nats.conf");
    let agent = Agent::start(&nats.url(), relay_batch).await?;
    let client = connect(agent.grpc).await?;

    // The temp dir the log lives in.
    let machine = Machine {
        cpus: machine::cpus(),
        cpu_model: machine::cpu_model(),
        load_before,
        filesystem: machine::filesystem_of(agent.dir.path()),
        log_dir: agent.dir.path().display().to_string(),
        fsync: disk::fsync_probe(agent.dir.path())?,
    };

    let mut c = client.clone();
    let adopted = adopt_seed_plan(&mut c).await?;
    ensure!(adopted.seq == 1, "the plan is the first event");
    let phases = load::Phases {
        client: &client,
        addr: agent.grpc,
        probe: &probe,
        nats_conf: &nats_conf,
        started: bench_started,
    };
    let mut next = 0u64;
    load::warm_up(&phases, &mut next, n.warmup).await?;
    // 1. RecordActivity over gRPC, NATS up and the relay publishing alongside.
    let up = load::nats_up(&phases, &mut next, &n).await?;
    // 2. NATS down: record 1 client then 16, then restart NATS and time the drain.
    nats.stop().await?;
    let down = load::nats_down(&phases, &mut next, &n).await?;
    let head = 1 + next;
    let drain = drain::after_restart(&phases, &mut nats, head, n.relay).await?;
    // The same events published raw, for the ratio.
    let raw_client = async_nats::connect(nats.url()).await?;
    let raw = raw::baseline(&phases, &agent, raw_client, head, n.relay).await?;
    agent.shutdown().await?;

    // 4. The same against the secured district's NATS, with an agent of its own.
    let (secured_drain, secured_raw) =
        secured_phase(&probe, &n, relay_batch, bench_started).await?;

    let load_after = machine::loadavg();
    let total = bench_started.elapsed();
    let mut runs = up.runs;
    runs.extend(down.runs);
    let mut problems = up.problems;
    problems.extend(down.problems);
    report::machine(&machine, &load_after, relay_batch);
    report::runs(&runs, &up.catch_up, &problems);
    report::drain(&drain, &raw, n.relay, head);
    report::summary(&machine, &load_after, &runs, &drain, &raw, total);
    report::secured((&drain, &raw), (&secured_drain, &secured_raw));
    drop(nats);
    Ok(())
}

/// The secured server and a second agent: the plan delivered, NATS stopped, the outbox filled
/// as in the plain phase, NATS restarted and the drain timed, then the raw baseline.
async fn secured_phase(
    probe: &ProbeLayer,
    n: &Counts,
    relay_batch: u32,
    started: Instant,
) -> anyhow::Result<(drain::Drain, raw::Raw)> {
    let mut secured = secured::SecuredNats::start().await?;
    let conf = secured.config_file();
    let agent = Agent::start_with(&secured.school_section()?, relay_batch, false).await?;
    let client = connect(agent.grpc).await?;
    let mut c = client.clone();
    let adopted = adopt_seed_plan(&mut c).await?;
    ensure!(adopted.seq == 1, "the plan is the first event");
    agent::wait_backlog_zero(&client, 1, std::time::Duration::from_secs(30)).await?;
    let phases = load::Phases {
        client: &client,
        addr: agent.grpc,
        probe,
        nats_conf: &conf,
        started,
    };
    probe.take();
    secured.nats.stop().await?;
    let mut next = 0u64;
    load::nats_down(&phases, &mut next, n).await?;
    let head = 1 + next;
    let drain = drain::after_restart(&phases, &mut secured.nats, head, n.relay).await?;
    let raw = raw::baseline(&phases, &agent, secured.admin().await?, head, n.relay).await?;
    agent.shutdown().await?;
    Ok((drain, raw))
}
