//! The relay's drain: with NATS down the outbox has filled; NATS is restarted and the relay
//! timed until the backlog is empty — from NATS ready, and over its steady window (first
//! progress to backlog 0), which is the figure compared with a raw publish.

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use bench_measure::Latency;
use test_harness::NatsServer;

use crate::agent::POLL;
use crate::cpu::Cpu;
use crate::load::Phases;
use crate::support::status;

/// How the drain went.
pub struct Drain {
    pub restart_to_ready: Duration,
    pub ready_to_connected: Duration,
    pub ready_to_progress: Duration,
    /// The backlog when progress was first seen.
    pub backlog_at_progress: u64,
    /// From first progress to backlog 0.
    pub window: Duration,
    /// Events per second over `window`.
    pub rate: f64,
    /// Events per second from NATS ready (reconnect and retry backoff included).
    pub end_to_end_rate: f64,
    /// Relay batches (`published` events), their mean size and the time between them.
    pub batches: usize,
    pub batch_mean: f64,
    pub cycle: Latency,
    pub cpu: Cpu,
}

/// Checks that `relay` events wait in the outbox up to `head`, restarts NATS and times the
/// drain.
pub async fn after_restart(
    phases: &Phases<'_>,
    nats: &mut NatsServer,
    head: u64,
    relay: u64,
) -> anyhow::Result<Drain> {
    let mut c = phases.client.clone();
    let before = status(&mut c).await?;
    ensure!(
        before.head_seq == head && before.backlog == relay,
        "backlog before restart: {before:?}"
    );

    eprintln!(
        "[{:>6.1} s] restarting NATS; relay drain",
        phases.started.elapsed().as_secs_f64()
    );
    let restart_started = Instant::now();
    nats.restart().await?;
    let ready = Instant::now();
    let cpu_before_drain = Cpu::now(phases.nats_conf);
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
        if s.backlog < relay && first_progress.is_none() {
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
    let cpu = Cpu::now(phases.nats_conf).since(cpu_before_drain);
    let relay_probe = phases.probe.take();
    let connected_at = connected_at.unwrap_or(drained_at);
    let (progress_at, backlog_at_progress) = first_progress.context("no progress observed")?;
    let window = drained_at - progress_at;

    // Relay batch cycle: time between consecutive "published" debug events.
    let mut cycle = Latency::new();
    for pair in relay_probe.relay_batches.windows(2) {
        cycle.record(pair[1].0 - pair[0].0);
    }
    let batches = relay_probe.relay_batches.len();
    let batch_mean = relay_probe
        .relay_batches
        .iter()
        .map(|(_, n)| *n)
        .sum::<u64>() as f64
        / batches.max(1) as f64;
    Ok(Drain {
        restart_to_ready: ready - restart_started,
        ready_to_connected: connected_at - ready,
        ready_to_progress: progress_at - ready,
        backlog_at_progress,
        window,
        rate: backlog_at_progress as f64 / window.as_secs_f64(),
        end_to_end_rate: relay as f64 / (drained_at - ready).as_secs_f64(),
        batches,
        batch_mean,
        cycle,
        cpu,
    })
}
