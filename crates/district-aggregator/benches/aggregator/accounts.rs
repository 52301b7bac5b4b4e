//! Whose CPU time a phase is charged: PostgreSQL (the postmaster and its backends),
//! nats-server, this bench process and, during the ingest, the aggregator process — sampled
//! from `/proc` before and after each phase.

use std::time::Instant;

use bench_measure::process::{self, CLOCK_TICKS};
use test_harness::{NatsServer, Postgres};

/// The processes of the run whose CPU time is counted.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    pub postmaster: Option<u32>,
    pub nats: Option<u32>,
}

impl Accounts {
    /// PostgreSQL's postmaster from its pid file, nats-server by its store directory on its
    /// command line.
    pub fn find(pg: &Postgres, nats: &NatsServer) -> Self {
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
        let nats = nats_dir.and_then(|dir| process::find_pid(|cmdline| cmdline.contains(&dir)));
        Self { postmaster, nats }
    }

    /// CPU ticks of `(postgres: postmaster and its children, nats-server, this process,
    /// extra)`.
    pub fn sample(&self, extra: Option<u32>) -> CpuSample {
        CpuSample {
            at: Instant::now(),
            pg: self.postmaster.map_or(0, process::cpu_ticks_with_children),
            nats: self.nats.map_or(0, process::cpu_ticks),
            me: process::cpu_ticks(std::process::id()),
            extra: extra.map_or(0, process::cpu_ticks),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    at: Instant,
    pg: u64,
    nats: u64,
    me: u64,
    extra: u64,
}

/// CPU microseconds per message of the processes of the run, between two samples.
#[derive(Debug, Clone, Copy)]
pub struct CpuPerMessage {
    pub me: f64,
    pub nats: f64,
    pub pg: f64,
}

impl CpuPerMessage {
    pub fn total(&self) -> f64 {
        self.me + self.nats + self.pg
    }
}

impl CpuSample {
    /// What each process spent per message of `messages` between `self` and `later`.
    pub fn per_message_us(&self, later: &CpuSample, messages: u64) -> CpuPerMessage {
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
    pub fn describe(&self, later: &CpuSample, extra_name: &str) -> String {
        let wall = later.at.duration_since(self.at).as_secs_f64().max(1e-9);
        let part = |name: &str, a: u64, b: u64| {
            let secs = process::ticks_to_secs(b.saturating_sub(a));
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
