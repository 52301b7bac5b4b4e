//! Phase 2, the rebuild: `rebuild::run` (the `rebuild` subcommand's code, default options)
//! over the whole stream; its replay rate is the figure. Beside it, the ceiling of any
//! replay on this machine: reading the stream as the rebuild reads it, with and without
//! decoding each message as the ingest does, and what that costs in CPU per message.

use std::time::Duration;
use std::time::Instant;

use anyhow::{Context as _, ensure};
use async_nats::jetstream;
use bench_measure::machine;
use district_aggregator::config::{IngestSettings, Settings};
use district_aggregator::decode::{Decoded, Decoder, Received};
use district_aggregator::rebuild::{self, Progress, RebuildOptions, thousands};
use event_bus::subjects::{district_events_filter, stream_name};
use futures::StreamExt;

use crate::data::{Data, stream_messages};
use crate::knobs::{Fill, Knobs};
use crate::services::Services;
use crate::{DISTRICT, PROVINCE, TARGET_REBUILD};

/// What the summary needs of the rebuild phase.
pub struct RebuildFigures {
    /// The replay rate; `None` when the rebuild failed (the run goes on, and says so).
    pub rate: Option<f64>,
    /// Reading and decoding the stream alone.
    pub ceiling: f64,
    pub stream_total: u64,
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
    let decoder = Decoder {
        province: PROVINCE.into(),
        district: DISTRICT.into(),
        max_message_bytes: IngestSettings::default().max_message_bytes,
        unknown_event_types: Vec::new(),
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
        let received = Received::from_message(&mut message).map_err(|e| anyhow::anyhow!(e))?;
        match decoder.decode(received) {
            Decoded::Candidate(c) => {
                if c.envelope.decode_any().is_err() {
                    refused += 1;
                }
            }
            Decoded::Rejected(_) => refused += 1,
        }
    }
    ensure!(refused == 0, "{refused} messages did not decode");
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// The replay fill when asked for, the ceiling, then the rebuild itself.
pub async fn phase(
    services: &Services,
    settings: &Settings,
    data: &mut Data,
    knobs: &Knobs,
) -> anyhow::Result<RebuildFigures> {
    let js = &services.js;
    let accounts = &services.accounts;
    if knobs.fill == Fill::Replay && knobs.copies > 0 {
        data.publish_copies(js, knobs.copies).await?;
    }
    let stream_total = stream_messages(js).await?;
    println!(
        "\n[2] Rebuild (rebuild::run, default options: batch {}) of {} messages (load average {})",
        RebuildOptions::default().batch_size,
        thousands(stream_total),
        machine::loadavg()
    );
    let before_read = accounts.sample(None);
    let read_only = read_and_decode(js, stream_total, false).await?;
    let after_read = accounts.sample(None);
    let ceiling = read_and_decode(js, stream_total, true).await?;
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
    let rebuild_result = rebuild::run(settings, RebuildOptions::default(), |p| match p {
        Progress::Replay { applied, rate, .. } => {
            trace.push(format!("{}k@{}", applied / 1000, thousands(*rate as u64)))
        }
        other => trace.push(other.to_string()),
    })
    .await;
    let cpu1 = accounts.sample(None);
    let rate = match &rebuild_result {
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
    Ok(RebuildFigures {
        rate,
        ceiling,
        stream_total,
    })
}
