//! The load: `RecordActivity` commands over gRPC from one sequential client or sixteen
//! concurrent ones, each run timed per call and summed up as one row of the report.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_measure::Latency;

use crate::Counts;
use crate::agent::wait_backlog_zero;
use crate::cpu::Cpu;
use crate::probe::{BatchFigures, ProbeLayer};
use crate::support::{Client, activity, connect};

/// Concurrent clients in the concurrent runs.
const CLIENTS: usize = 16;

/// What every phase needs: the agent's client and address, the probe, where nats-server's
/// configuration is (to find its process), and when the bench started (for progress lines).
pub struct Phases<'a> {
    pub client: &'a Client,
    pub addr: SocketAddr,
    pub probe: &'a ProbeLayer,
    pub nats_conf: &'a Path,
    pub started: Instant,
}

impl Phases<'_> {
    fn announce(&self, label: &str, count: u64) {
        eprintln!(
            "[{:>6.1} s] {label}: {count} commands",
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// One run of commands: a row of the report.
#[derive(Debug)]
pub struct Run {
    pub label: String,
    pub commands: u64,
    pub elapsed: Duration,
    pub latency: Latency,
    pub batches: BatchFigures,
    pub cpu: Cpu,
}

impl Run {
    pub fn per_sec(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64()
    }

    pub fn row(&self) -> String {
        let h = &self.latency;
        format!(
            "{:<34} {:>7} {:>8.2} {:>9.0} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>8.2} {:>6}   {}",
            self.label,
            self.commands,
            self.elapsed.as_secs_f64(),
            self.per_sec(),
            h.ms(0.50),
            h.ms(0.90),
            h.ms(0.99),
            h.ms(0.999),
            h.max_ms(),
            h.count_at_least(Duration::from_millis(30)),
            self.batches,
        )
    }

    pub fn cpu_row(&self) -> String {
        format!(
            "{:<34} CPU per command: {}",
            "",
            self.cpu.per_item_us(self.commands)
        )
    }
}

/// How the commands of a run are sent.
#[derive(Debug, Clone, Copy)]
enum Clients {
    Sequential,
    /// Sixteen clients on the one HTTP/2 channel of the bench's client.
    SharedChannel,
    /// Sixteen clients, each on its own channel.
    OwnChannels,
}

/// Commands before the measured runs, until the relay has caught up; what the probe saw
/// meanwhile is dropped.
pub async fn warm_up(phases: &Phases<'_>, next: &mut u64, count: u64) -> anyhow::Result<()> {
    sequential(phases.client, *next, count).await?;
    *next += count;
    wait_backlog_zero(phases.client, 1 + *next, Duration::from_secs(60)).await?;
    phases.probe.take();
    Ok(())
}

/// The runs with NATS up, and how long the relay took to catch up after each.
pub struct Up {
    pub runs: Vec<Run>,
    pub catch_up: Vec<Duration>,
    pub problems: Vec<String>,
}

/// 1 client, then 16 on a shared channel, then 16 on their own, with the relay publishing
/// alongside; after each, waits until the relay has caught up.
pub async fn nats_up(phases: &Phases<'_>, next: &mut u64, n: &Counts) -> anyhow::Result<Up> {
    let mut runs = Vec::new();
    let mut catch_up = Vec::new();
    for (label, clients, count) in [
        ("1 client, sequential", Clients::Sequential, n.sequential),
        (
            "16 clients, 1 shared channel",
            Clients::SharedChannel,
            n.concurrent,
        ),
        (
            "16 clients, 16 channels",
            Clients::OwnChannels,
            n.concurrent,
        ),
    ] {
        // What the agent warned of during the run itself is not kept: only what it says
        // while the relay catches up after the last run (as the bench always counted).
        let (run, _) = timed(phases, label, clients, *next, count).await?;
        runs.push(run);
        *next += count;
        catch_up.push(wait_backlog_zero(phases.client, 1 + *next, Duration::from_secs(120)).await?);
    }
    Ok(Up {
        runs,
        catch_up,
        problems: phases.probe.take().problems,
    })
}

/// The runs with NATS down: the outbox fills.
pub struct Down {
    pub runs: Vec<Run>,
    pub problems: Vec<String>,
}

/// With NATS down, `n.relay` commands in all: a tenth (at most a sequential run's worth)
/// from 1 client, the rest from 16 on their own channels.
pub async fn nats_down(phases: &Phases<'_>, next: &mut u64, n: &Counts) -> anyhow::Result<Down> {
    let down_sequential = n.sequential.min(n.relay / 10);
    let down_concurrent = n.relay - down_sequential;
    let mut runs = Vec::new();
    let mut problems = Vec::new();
    for (label, clients, count) in [
        (
            "1 client, sequential, NATS down",
            Clients::Sequential,
            down_sequential,
        ),
        (
            "16 clients, 16 ch., NATS down",
            Clients::OwnChannels,
            down_concurrent,
        ),
    ] {
        let (run, said) = timed(phases, label, clients, *next, count).await?;
        *next += count;
        problems.extend(said);
        runs.push(run);
    }
    Ok(Down { runs, problems })
}

/// Sends `count` commands numbered from `first` as `clients` says: what they cost, and the
/// warnings the agent logged meanwhile.
async fn timed(
    phases: &Phases<'_>,
    label: &str,
    clients: Clients,
    first: u64,
    count: u64,
) -> anyhow::Result<(Run, Vec<String>)> {
    phases.announce(label, count);
    let cpu_before = Cpu::now(phases.nats_conf);
    let (elapsed, latency) = match clients {
        Clients::Sequential => sequential(phases.client, first, count).await?,
        Clients::SharedChannel => {
            concurrent(
                channels(phases.addr, Some(phases.client)).await?,
                first,
                count,
            )
            .await?
        }
        Clients::OwnChannels => {
            concurrent(channels(phases.addr, None).await?, first, count).await?
        }
    };
    let cpu = Cpu::now(phases.nats_conf).since(cpu_before);
    let said = phases.probe.take();
    let run = Run {
        label: label.into(),
        commands: count,
        elapsed,
        latency,
        batches: said.writer_figures(),
        cpu,
    };
    Ok((run, said.problems))
}

async fn sequential(client: &Client, first: u64, n: u64) -> anyhow::Result<(Duration, Latency)> {
    let mut c = client.clone();
    let mut h = Latency::new();
    let started = Instant::now();
    for i in 0..n {
        let request = activity(first + i);
        let t = Instant::now();
        c.record_activity(request).await?;
        h.record(t.elapsed());
    }
    Ok((started.elapsed(), h))
}

/// `clients.len()` tasks sharing `total` commands; returns the wall time and merged latencies.
async fn concurrent(
    clients: Vec<Client>,
    first: u64,
    total: u64,
) -> anyhow::Result<(Duration, Latency)> {
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
            let mut h = Latency::new();
            barrier.wait().await;
            for i in 0..per {
                let request = activity(base + i);
                let t = Instant::now();
                c.record_activity(request).await?;
                h.record(t.elapsed());
            }
            anyhow::Ok(h)
        });
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut all = Latency::new();
    while let Some(joined) = tasks.join_next().await {
        all.merge(&joined??);
    }
    Ok((started.elapsed(), all))
}

async fn channels(addr: SocketAddr, shared: Option<&Client>) -> anyhow::Result<Vec<Client>> {
    let mut out = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        out.push(match shared {
            Some(c) => c.clone(),
            None => connect(addr).await?,
        });
    }
    Ok(out)
}
