//! The raw JetStream baseline: the very events the relay published, read back from the
//! agent's log (same bodies, same headers), published again with async-nats alone to fresh
//! streams of the district stream's configuration on the same server — pipelined with a
//! sliding window, and in the relay's own pattern (a whole window's acks awaited before
//! sending more), without SQLite.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::ensure;
use async_nats::jetstream;
use event_bus::publish::{OUTBOX_HEAD_HEADER, OutgoingEvent};
use event_bus::subjects::SchoolAddress;

use crate::agent::Agent;
use crate::cpu::Cpu;
use crate::load::Phases;
use crate::support::{DISTRICT, PROVINCE, SCHOOL};

/// Publishes in flight at once, as the relay's pipeline window.
pub const WINDOW: usize = 256;

/// What the raw publishes did, beside what the relay left in the district stream.
pub struct Raw {
    pub mean_body_bytes: usize,
    pub district_stream: String,
    pub district_stored: u64,
    /// Sliding window.
    pub stream: String,
    pub stored: u64,
    pub elapsed: Duration,
    pub rate: f64,
    pub cpu: Cpu,
    /// A whole window's acks awaited before sending more.
    pub drain_elapsed: Duration,
    pub drain_rate: f64,
}

/// Reads the last `relay` events up to `head` back from the agent's log, checks the relay
/// delivered the whole log, and publishes them raw over `raw_client` (a connection of its
/// own to the same server, plain or secured as the agent's is, allowed to create streams).
pub async fn baseline(
    phases: &Phases<'_>,
    agent: &Agent,
    raw_client: async_nats::Client,
    head: u64,
    relay: u64,
) -> anyhow::Result<Raw> {
    // The same bodies and headers, read back from the agent's log.
    let store = school_agent::store::Store::open(&agent.log_path()).await?;
    let stored = store
        .outgoing_between(head - relay + 1, head, u32::try_from(relay)?)
        .await?;
    store.close().await;
    ensure!(
        stored.len() as u64 == relay,
        "read {} events back",
        stored.len()
    );
    let address = SchoolAddress::parse(PROVINCE, DISTRICT, SCHOOL)?;
    let outgoing: Vec<OutgoingEvent> = stored
        .into_iter()
        .map(|e| school_agent::relay::outgoing(&address, e, Some(head)))
        .collect();
    let body_bytes: usize = outgoing.iter().map(|o| o.body.len()).sum();

    let js = jetstream::new(raw_client.clone());
    let district_stream = event_bus::subjects::stream_name(PROVINCE, DISTRICT)?;
    let district_stored = stream_messages(&js, &district_stream).await?;
    ensure!(
        district_stored == head,
        "the district stream holds {district_stored} messages, the log {head}"
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
    publish(&js, &warm_subject, &warm, WINDOW, false).await?;

    eprintln!(
        "[{:>6.1} s] raw JetStream baseline",
        phases.started.elapsed().as_secs_f64()
    );
    let (stream, subject) = fresh_stream(&js, "raw").await?;
    let cpu_before = Cpu::now(phases.nats_conf);
    let (elapsed, duplicates) = publish(&js, &subject, &outgoing, WINDOW, false).await?;
    let cpu = Cpu::now(phases.nats_conf).since(cpu_before);
    let raw_stored = stream_messages(&js, &stream).await?;
    ensure!(
        raw_stored == relay && duplicates == 0,
        "raw stream holds {raw_stored} ({duplicates} duplicates)"
    );

    let (drain_stream, drain_subject) = fresh_stream(&js, "drain").await?;
    let (drain_elapsed, drain_dups) = publish(&js, &drain_subject, &outgoing, WINDOW, true).await?;
    let drain_stored = stream_messages(&js, &drain_stream).await?;
    ensure!(
        drain_stored == relay && drain_dups == 0,
        "drain stream holds {drain_stored} ({drain_dups} duplicates)"
    );
    raw_client.flush().await?;
    drop(raw_client);
    Ok(Raw {
        mean_body_bytes: body_bytes / outgoing.len().max(1),
        district_stream,
        district_stored,
        stream,
        stored: raw_stored,
        elapsed,
        rate: relay as f64 / elapsed.as_secs_f64(),
        cpu,
        drain_elapsed,
        drain_rate: relay as f64 / drain_elapsed.as_secs_f64(),
    })
}

/// Publishes `events` pipelined: `window` publishes in flight; `drain` waits for the whole
/// window's acks before sending more (the relay's batch pattern), otherwise a sliding window.
async fn publish(
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
