//! Where the agent's CPU goes, per command: this process's threads by name — tokio's
//! workers (gRPC client and server, the writer task, the relay, the NATS client) and sqlx's
//! SQLite worker threads (statements, commits, fsync calls) — and nats-server, sampled from
//! `/proc` before and after each run.

use std::path::Path;

use bench_measure::process;

#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    /// tokio workers and blocking threads: gRPC client and server, writer task, relay, NATS client.
    tokio: f64,
    /// sqlx's SQLite worker threads (one per connection): statements, commits, fsync calls.
    sqlite: f64,
    other: f64,
    nats_server: f64,
    /// Context switches (voluntary + involuntary) of the SQLite worker threads: each statement
    /// sqlx runs is a hand-off to its connection's thread and back.
    sqlite_switches: f64,
}

impl Cpu {
    /// CPU seconds so far of this process's threads and of the nats-server started with
    /// `nats_conf`.
    pub fn now(nats_conf: &Path) -> Cpu {
        let mut cpu = Cpu::default();
        for thread in process::own_threads() {
            if let Some(stat) = process::stat_at(&thread) {
                let secs = stat.cpu_secs();
                if stat.name.starts_with("tokio") {
                    cpu.tokio += secs;
                } else if stat.name.starts_with("sqlx-sqlite") {
                    cpu.sqlite += secs;
                    cpu.sqlite_switches += process::context_switches_at(&thread) as f64;
                } else {
                    cpu.other += secs;
                }
            }
        }
        if let Some(pid) = nats_pid(nats_conf) {
            cpu.nats_server = process::stat(pid).map_or(0.0, |s| s.cpu_secs());
        }
        cpu
    }

    pub fn since(self, before: Cpu) -> Cpu {
        Cpu {
            tokio: self.tokio - before.tokio,
            sqlite: self.sqlite - before.sqlite,
            other: self.other - before.other,
            nats_server: self.nats_server - before.nats_server,
            sqlite_switches: self.sqlite_switches - before.sqlite_switches,
        }
    }

    pub fn per_item_us(self, items: u64) -> String {
        let per = |s: f64| s * 1e6 / items.max(1) as f64;
        format!(
            "agent+client {:>4.0} µs (tokio {:>3.0}, sqlite {:>3.0}), nats-server {:>3.0} µs; sqlite thread switches {:>5.1}",
            per(self.tokio + self.sqlite + self.other),
            per(self.tokio),
            per(self.sqlite),
            per(self.nats_server),
            self.sqlite_switches / items.max(1) as f64
        )
    }
}

/// The pid of the nats-server started with `conf` (its command line names the config file).
fn nats_pid(conf: &Path) -> Option<u32> {
    let conf = conf.to_string_lossy();
    process::find_pid(|cmdline| cmdline.contains("nats-server") && cmdline.contains(conf.as_ref()))
}
