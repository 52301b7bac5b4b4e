//! End-to-end benchmark of the district aggregator against a real `nats-server` (JetStream,
//! file store) and a real PostgreSQL, both started by `test-harness` (PostgreSQL: a throwaway
//! cluster with `fsync=off`, `synchronous_commit=off`, `full_page_writes=off`, or the server
//! at `DATABASE_URL` when set; the run prints the settings it got).
//!
//! Run: `cargo bench -p district-aggregator --bench aggregator` (release profile,
//! `harness = false`). It measures, in one run:
//!
//! 1. **Ingest** ([`ingest`]). The district stream is pre-filled with `BENCH_EVENTS` (default
//!    200,000) school events of the ten demo schools ([`data`]): `demo_data::history`
//!    requests, decided by `domain::decide` and sealed with `Envelope::seal` as a school agent
//!    does (recorded a few days after they happen), published per school with
//!    `publish_in_order` (the ten schools concurrently, so the stream interleaves them as a
//!    district's does). The district office's own events (the plan 1442/KH-PGDĐT and the ten
//!    enrolments) come first in the stream (`BENCH_ENROL_LAST=1` puts the enrolments after the
//!    school events instead, which sends everything through the held path). Then the real
//!    aggregator runs as a **separate process** ([`process`]) — this bench binary re-executed,
//!    running exactly what `main.rs` runs (`Settings::load` of a TOML file with production
//!    defaults, then `district_aggregator::run`) — and the clock runs from its spawn until
//!    every author's `applied_seq` in `live.positions` reaches its head (polled every 50 ms).
//!    **Raw baseline**, same run, same stream, same PostgreSQL server: a plain async-nats
//!    durable pull consumer with explicit acks, batches of the ingest's `batch_size` gathered
//!    with its `batch_wait`, each inserted into `raw_events (school text, seq bigint, body
//!    jsonb)` with one multi-row `INSERT … SELECT FROM unnest(…)` in one transaction, acked
//!    after the commit.
//! 2. **Rebuild** ([`rebuild`]). `district_aggregator::rebuild::run` (the `rebuild`
//!    subcommand's code) over the same stream, with its default options; its replay rate is
//!    the figure.
//! 3. **Plan view latency** ([`queries`], HDR histogram) over ≥ 1,000,000 events in the
//!    projection: 2,000 queries over mixed periods (quarters, semesters, school years, `plan`)
//!    through `queries::Views::plan_view` — what the gRPC service's `GetPlanView` calls — and
//!    through gRPC (`Aggregator::serve_without_ingest`, in this process, over loopback TCP):
//!    2,000 as `run` serves it (TCP_NODELAY, `service_runtime::GrpcServer`); plus a few
//!    through `Views::sql_only` (no activity index) for comparison. How the projection gets to
//!    1M is `BENCH_FILL`:
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
//! CPU time per phase and process comes from `/proc` ([`accounts`]). It ends with a summary
//! block: PASS/MISS per target. Other knobs ([`knobs`]): `BENCH_QUERIES` (2000),
//! `BENCH_SQL_QUERIES` (20), `BENCH_COPIES` (4: extra copies for the query fill; `0` for a
//! short run, whose plan-view figures then say they are below 1M events),
//! `BENCH_CHILD_LOG` (the aggregator's `RUST_LOG`, default
//! `info,district_aggregator::ingest=debug`, whose one line per committed batch gives the
//! batch sizes and cycle times; the log goes to a file whose path is printed). What the bench
//! once measured beside its targets (one `INSERT` per row against one `INSERT … unnest`, the
//! search index's cost, gRPC without TCP_NODELAY) is in `docs/performance.md`.

#![allow(clippy::unwrap_used)]

mod accounts;
mod data;
mod ingest;
mod knobs;
mod process;
mod queries;
mod rebuild;
mod services;

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use bench_measure::{machine, verdict_line};
use demo_data::{DISTRICT, PROVINCE};
use district_aggregator::config::Settings;
use district_aggregator::db;
use district_aggregator::rebuild::thousands;

use data::Data;
use ingest::IngestFigures;
use knobs::Knobs;
use queries::{QueryReport, Streamed};
use rebuild::RebuildFigures;
use services::Services;

/// The allocator the aggregator binary uses (this binary also runs as the aggregator process,
/// and the rebuild and the raw baseline run here): both sides measured alike.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SEED: u64 = 2017;

const TARGET_RATIO: f64 = 0.6;
const TARGET_REBUILD: f64 = 100_000.0;
const TARGET_P99_MS: f64 = 10.0;
const TARGET_RSS_MIB: f64 = 256.0;
const QUERY_EVENTS_MIN: i64 = 1_000_000;

fn main() -> anyhow::Result<()> {
    if let Some(config) = std::env::var_os(process::CHILD_ENV) {
        return process::aggregator_process(PathBuf::from(config));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench())
}

/// The phases in order, each printing its figures as it goes, then the summary.
async fn bench() -> anyhow::Result<()> {
    let run_started = Instant::now();
    let knobs = Knobs::from_env()?;
    println!("district-aggregator benchmark");
    println!(
        "  machine: {} CPUs, load average {} at start",
        machine::cpus(),
        machine::loadavg()
    );
    println!("  knobs: {knobs:?}");

    let services = Services::start().await?;
    let mut data = Data::generate(&knobs).await?;
    let total = data.publish(&services.js, &knobs).await?;

    let dir = tempfile::tempdir()?;
    let config = process::write_config(dir.path(), &services.db_url, &services.nats.url())?;
    let settings = Settings::load(Some(&config))?;
    println!(
        "  aggregator settings: production defaults (batch_size {}, batch_wait {} ms, max_ack_pending {}, {} PostgreSQL connections)",
        settings.ingest.batch_size,
        settings.ingest.batch_wait_ms,
        settings.ingest.max_ack_pending,
        settings.database.max_connections
    );

    // [1] The raw baseline, then the aggregator on a database migrated beforehand, so the
    // clock measures consuming, not creating tables.
    let raw_rate = ingest::raw_phase(&services, &settings, total).await?;
    let pool = db::connect(&settings.database).await?;
    let ingest = ingest::aggregator_phase(
        &services,
        &pool,
        dir.path(),
        &config,
        &data.heads(),
        raw_rate,
    )
    .await?;
    // [2]
    let rebuild = rebuild::phase(&services, &settings, &mut data, &knobs).await?;
    // [3]
    let streamed = Streamed {
        ingested: total,
        stream_total: rebuild.stream_total,
        school_events: data.school_events,
    };
    let queries = queries::phase(&settings, pool, &data.codes(), &knobs, streamed).await?;

    summary(&services, run_started, &ingest, &rebuild, &queries);
    std::io::stdout().flush()?;
    Ok(())
}

/// One line per target, PASS or MISS, with the figure beside it.
fn summary(
    services: &Services,
    run_started: Instant,
    ingest: &IngestFigures,
    rebuild: &RebuildFigures,
    queries: &QueryReport,
) {
    let rss_mib = ingest.peak_rss_kib as f64 / 1024.0;
    println!("\n================ SUMMARY (district-aggregator) ================");
    println!(
        "machine: {} CPUs, load average at end {}; run took {:.0} s; PostgreSQL {}",
        machine::cpus(),
        machine::loadavg(),
        run_started.elapsed().as_secs_f64(),
        if services.pg.is_local() {
            "test-harness throwaway cluster (fsync=off, synchronous_commit=off, full_page_writes=off)"
        } else {
            "from DATABASE_URL"
        }
    );
    let ratio = ingest.ratio;
    println!(
        "{}",
        verdict_line(
            ratio >= TARGET_RATIO,
            format!(
                "ingest / raw = {ratio:.2} (target ≥ {TARGET_RATIO}): aggregator {} ev/s vs raw {} ev/s on {} messages",
                thousands(ingest.ingest_rate as u64),
                thousands(ingest.raw_rate as u64),
                thousands(ingest.total)
            )
        )
    );
    match rebuild.rate {
        Some(r) => println!(
            "{}",
            verdict_line(
                r >= TARGET_REBUILD,
                format!(
                    "rebuild replay {} ev/s (target ≥ {}) on {} messages (reading + decoding the stream alone: {} ev/s)",
                    thousands(r as u64),
                    thousands(TARGET_REBUILD as u64),
                    thousands(rebuild.stream_total),
                    thousands(rebuild.ceiling as u64)
                )
            )
        ),
        None => println!(
            "{}",
            verdict_line(false, "rebuild: not usable in this tree (see above)")
        ),
    }
    let enough = queries.events >= QUERY_EVENTS_MIN;
    println!(
        "{}",
        verdict_line(
            queries.direct.ms(0.99) < TARGET_P99_MS && enough,
            format!(
                "plan view p99 {:.2} ms, p50 {:.2} ms (target p99 < {TARGET_P99_MS} ms) — Views::plan_view, {} queries, {} school events{}",
                queries.direct.ms(0.99),
                queries.direct.ms(0.5),
                queries.direct.len(),
                thousands(queries.events as u64),
                if enough {
                    ""
                } else {
                    " (BELOW 1M: not a valid measurement)"
                }
            )
        )
    );
    println!(
        "{}",
        verdict_line(
            queries.grpc.ms(0.99) < TARGET_P99_MS && enough,
            format!(
                "plan view over gRPC as `run` serves it: p99 {:.2} ms, p50 {:.2} ms ({} queries)",
                queries.grpc.ms(0.99),
                queries.grpc.ms(0.5),
                queries.grpc.len(),
            )
        )
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
        "{}",
        verdict_line(
            rss_mib < TARGET_RSS_MIB,
            format!(
                "aggregator peak RSS {rss_mib:.1} MiB during ingest (target < {TARGET_RSS_MIB} MiB; VmHWM of the separate aggregator process)"
            )
        )
    );
    println!("===============================================================");
}
