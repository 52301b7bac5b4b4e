//! The school's resilience paths on a large log, measured: a signed bundle exported at the
//! school, imported at the district (verified, put on the stream, applied by the ingest), and
//! a log recovered from the district stream — each in events per second beside the relay's
//! figure (the outbox drained to JetStream by the real agent) measured in the same run, on the
//! same `nats-server` and PostgreSQL (issue 15).
//!
//! Run: `cargo bench -p district-aggregator --bench resilience` (release profile,
//! `harness = false`). `RESILIENCE_BENCH_EVENTS=n` sets the log's size (default 100,000);
//! `RESILIENCE_BENCH_QUICK=1` divides it by 10 for a smoke run.
//!
//! Two schools keep the phases apart: An Hòa's log goes over NATS by its relay, Phú Cường's
//! travels as a bundle and is then recovered into an empty log. Each log is written straight
//! into the agent's SQLite file (`school_agent::store::append`, the writer's own path) so that
//! filling it is not what is measured. Every phase is checked, not only timed: the relay
//! drains to backlog 0 and the district applies every seq; the import reports every event
//! new; the recovered log has every event, in order, with the ids the school wrote.

#![allow(clippy::unwrap_used)]

#[allow(dead_code, unused_imports)]
#[path = "../../tests/it/support.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use bench_measure::knobs::{env_flag, env_or};
use bench_measure::machine;
use domain::Envelope;
use event_bus::subjects::SchoolAddress;
use nkeys::KeyPair;
use school_agent::bundle_export::{self, NoFiles};
use school_agent::store::{self, Store};

use support::{AN_HOA, DISTRICT, DistrictLog, Env, PHU_CUONG, PROVINCE, Running, SchoolLog};

const POLL: Duration = Duration::from_millis(20);
/// Rows per append transaction while filling a log.
const FILL_CHUNK: usize = 5_000;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench())
}

struct Phase {
    name: &'static str,
    events: u64,
    elapsed: Duration,
    note: String,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

async fn bench() -> anyhow::Result<()> {
    let divisor = if env_flag("RESILIENCE_BENCH_QUICK") {
        10
    } else {
        1
    };
    let n: u64 = env_or("RESILIENCE_BENCH_EVENTS", 100_000u64) / divisor;
    ensure!(n >= 10, "RESILIENCE_BENCH_EVENTS must be at least 10");
    println!("resilience bench: {n} events per school log");
    println!(
        "machine: {} CPUs ({}), load {}",
        machine::cpus(),
        machine::cpu_model(),
        machine::loadavg()
    );

    let env = Env::start().await?;
    let keys = tempfile::tempdir()?;
    let an_hoa_key = KeyPair::new_user();
    let phu_cuong_key = KeyPair::new_user();
    let aggregator_key = KeyPair::new_user();
    let mut office = DistrictLog::new();
    office.enrol(AN_HOA, "Trường THCS An Hòa");
    office.enrol(PHU_CUONG, "Trường THCS Phú Cường");
    support::publish(&env.js, &office.envelopes).await?;
    let mut settings = env.settings();
    settings.bundles.identities_file = Some(support::identity_registry(
        keys.path(),
        &[(AN_HOA, &an_hoa_key), (PHU_CUONG, &phu_cuong_key)],
        &aggregator_key,
    )?);
    settings.bundles.signing_key_file = Some(support::write_seed(
        keys.path(),
        "_aggregator",
        &aggregator_key,
    )?);
    settings.bundles.import_wait_ms = 900_000;
    let running = Running::start(settings).await?;
    let mut phases = Vec::new();

    // 1. The relay: An Hòa's outbox of n events drained by the real agent.
    let an_hoa_dir = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa")?;
    fill_log(&an_hoa_dir.log_path(), AN_HOA, n).await?;
    let agent = agent_fixture::RunningAgent::start(an_hoa_dir.settings(&env.nats.url())).await?;
    let mut client = agent.client().await?;
    // The relay starts with the agent: timed from the first progress seen to backlog 0, the
    // steady window the agent bench compares with a raw publish.
    let waiting = Instant::now();
    let mut first: Option<(Instant, u64)> = None;
    let relay = loop {
        let status = agent_fixture::status(&mut client).await?;
        let now = Instant::now();
        if first.is_none() && status.last_published_seq > 0 {
            first = Some((now, status.last_published_seq));
        }
        if status.backlog == 0 && status.last_published_seq == n {
            break first.map(|(at, seq)| (now - at, n - seq));
        }
        ensure!(
            waiting.elapsed() < Duration::from_secs(900),
            "the relay did not drain: {status:?}"
        );
        tokio::time::sleep(POLL).await;
    };
    agent.stop().await?;
    let (window, drained) = relay.context("the relay's progress was never seen")?;
    ensure!(
        drained >= n / 2,
        "the relay had published {} of {n} before the first look: too few events to time it",
        n - drained
    );
    phases.push(Phase {
        name: "relay: outbox → JetStream (the agent as deployed)",
        events: drained,
        elapsed: window,
        note: format!("{} published before the first look", n - drained),
    });
    wait_applied(&env, AN_HOA, n).await?;

    // 2. Export: Phú Cường's n events into one signed bundle, as the app's download does.
    let phu_cuong_dir = agent_fixture::SchoolDir::for_school(PHU_CUONG, "Trường THCS Phú Cường")?;
    fill_log(&phu_cuong_dir.log_path(), PHU_CUONG, n).await?;
    let school = SchoolAddress::parse(PROVINCE, DISTRICT, PHU_CUONG)?;
    let store = Store::open(&phu_cuong_dir.log_path()).await?;
    let started = Instant::now();
    let mut bundle = Vec::new();
    let exported = bundle_export::write_bundle(
        &store,
        &school,
        1,
        &phu_cuong_key,
        &NoFiles,
        chrono::Utc::now(),
        &mut bundle,
    )
    .await?;
    let export = started.elapsed();
    ensure!(
        exported.header.to_seq == n,
        "exported to {}",
        exported.header.to_seq
    );
    let mut recorded = Vec::new();
    store
        .for_each_event(|event| {
            recorded.push(event.envelope.id);
            Ok(())
        })
        .await?;
    store.close().await;
    phases.push(Phase {
        name: "bundle export at the school (read, sign)",
        events: n,
        elapsed: export,
        note: format!("{:.1} MiB", bundle.len() as f64 / (1024.0 * 1024.0)),
    });

    // 3. Import: verified, put on the stream, applied by the ingest (the call returns then).
    let started = Instant::now();
    let outcome = running
        .bundles
        .import(&bundle)
        .await
        .map_err(|e| anyhow::anyhow!("import: {e}"))?;
    let import = started.elapsed();
    ensure!(
        outcome.new == n && outcome.refused == 0 && outcome.held == 0,
        "import outcome: {outcome:?}"
    );
    wait_applied(&env, PHU_CUONG, n).await?;
    phases.push(Phase {
        name: "bundle import at the district (verify, publish, applied)",
        events: n,
        elapsed: import,
        note: String::new(),
    });

    // 4. Recovery: Phú Cường's log back from the district stream into an empty log.
    let fresh = agent_fixture::SchoolDir::for_school(PHU_CUONG, "Trường THCS Phú Cường")?;
    let store = Store::create(&fresh.log_path()).await?;
    let client = async_nats::connect(env.nats.url()).await?;
    let js = async_nats::jetstream::new(client);
    let started = Instant::now();
    let report = school_agent::recovery::recover(&js, &school, &store, |_| {}).await?;
    let recovery = started.elapsed();
    ensure!(
        report.events == n && report.divergences.is_empty(),
        "{report:?}"
    );
    let mut recovered = Vec::new();
    store
        .for_each_event(|event| {
            recovered.push(event.envelope.id);
            Ok(())
        })
        .await?;
    store.close().await;
    ensure!(
        recovered == recorded,
        "the recovered log differs from the school's"
    );
    phases.push(Phase {
        name: "recovery from the district stream (read, check, append)",
        events: n,
        elapsed: recovery,
        note: format!("{} messages read", report.messages),
    });

    running.stop().await?;
    print_report(&phases);
    Ok(())
}

fn print_report(phases: &[Phase]) {
    let relay = phases[0].rate();
    println!();
    println!(
        "{:<58} {:>9} {:>9} {:>12} {:>9}  note",
        "phase", "events", "seconds", "events/s", "÷ relay"
    );
    for p in phases {
        println!(
            "{:<58} {:>9} {:>9.2} {:>12.0} {:>9.2}  {}",
            p.name,
            p.events,
            p.elapsed.as_secs_f64(),
            p.rate(),
            p.rate() / relay,
            p.note
        );
    }
}

/// Writes `n` events (the seed plan, then activities) into a new log at `path`, with their
/// outbox entries unsent, exactly as the writer stores them.
async fn fill_log(path: &Path, code: &str, n: u64) -> anyhow::Result<()> {
    let log = SchoolLog::with_plan_and_activities(code, n - 1);
    let store = Store::create(path).await?;
    let mut conn = store.writer_connection().await?;
    let rows: Vec<(Envelope, String)> = log
        .envelopes
        .into_iter()
        .map(|e| {
            let body = String::from_utf8(e.to_json()).expect("serde_json writes UTF-8");
            (e, body)
        })
        .collect();
    for chunk in rows.chunks(FILL_CHUNK) {
        store::append(&mut conn, chunk).await?;
    }
    drop(conn);
    store.close().await;
    Ok(())
}

async fn wait_applied(env: &Env, code: &str, n: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let want = i64::try_from(n)?;
    while env.applied_seq(code).await? != Some(want) {
        ensure!(
            started.elapsed() < Duration::from_secs(900),
            "{code} not applied up to {n}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}
