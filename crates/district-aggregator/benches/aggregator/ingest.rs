//! Phase 1, the ingest: the raw baseline (a plain pull consumer into a plain table) and the
//! aggregator as a separate process, over the same stream on the same PostgreSQL server; the
//! figure is their ratio.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use async_nats::jetstream;
use async_nats::jetstream::consumer::PullConsumer;
use bench_measure::{machine, process};
use district_aggregator::config::{IngestSettings, Settings};
use district_aggregator::db::LIVE_SCHEMA;
use district_aggregator::rebuild::thousands;
use domain::Author;
use event_bus::subjects::{district_events_filter, stream_name};
use futures::StreamExt;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::accounts::Accounts;
use crate::process::{AggregatorProcess, batch_stats, child_log_filter};
use crate::services::{Services, round_trips};
use crate::{DISTRICT, PROVINCE};

/// How often the aggregator's positions are polled.
const POLL: Duration = Duration::from_millis(50);
const INGEST_TIMEOUT: Duration = Duration::from_secs(1_800);

/// What the summary needs of the ingest phase.
pub struct IngestFigures {
    pub total: u64,
    pub ingest_rate: f64,
    pub raw_rate: f64,
    pub ratio: f64,
    pub peak_rss_kib: u64,
}

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
        if let Some(rss) = process::status_kib(pid, "VmRSS:") {
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
            hwm = process::status_kib(pid, "VmHWM:").unwrap_or(0);
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

/// Phase 1a: the raw baseline over the whole stream, after PostgreSQL's round trip; returns
/// its rate.
pub async fn raw_phase(
    services: &Services,
    settings: &Settings,
    total: u64,
) -> anyhow::Result<f64> {
    println!(
        "\n[1] Ingest of {} messages (load average {})",
        thousands(total),
        machine::loadavg()
    );
    {
        let pool = PgPool::connect(&services.raw_url).await?;
        let rtt = round_trips(&pool, 2_000).await?;
        pool.close().await;
        println!(
            "  PostgreSQL round trip (SELECT 1 through sqlx on one connection, 2000×): p50 {:.3} ms, p99 {:.3} ms",
            rtt.ms(0.5),
            rtt.ms(0.99)
        );
    }
    let accounts = &services.accounts;
    let cpu0 = accounts.sample(None);
    let raw = raw_baseline(&services.js, &services.raw_url, total, &settings.ingest).await?;
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
    Ok(raw_rate)
}

/// Phase 1b: the aggregator process from spawn until every author's head is applied, on
/// `pool`'s database (migrated beforehand); then the ratio to the raw baseline.
pub async fn aggregator_phase(
    services: &Services,
    pool: &PgPool,
    dir: &Path,
    config: &Path,
    heads: &BTreeMap<String, i64>,
    raw_rate: f64,
) -> anyhow::Result<IngestFigures> {
    let ingest = run_ingest(dir, config, pool, heads, &services.accounts).await?;
    let ingest_rate = ingest.messages as f64 / ingest.elapsed.as_secs_f64();
    let (dead, held): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM live.dead_letters), (SELECT count(*) FROM live.held)",
    )
    .fetch_one(pool)
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
    println!("    {}", scans_during_ingest(pool).await?);
    let ratio = ingest_rate / raw_rate;
    println!("  ratio ingest / raw = {ratio:.3}");
    Ok(IngestFigures {
        total: ingest.messages,
        ingest_rate,
        raw_rate,
        ratio,
        peak_rss_kib: ingest.peak_rss_kib,
    })
}
