//! System tests: the whole of truyenthong with real processes, checked against the reference
//! model.
//!
//! Every scenario runs a real `nats-server` and a real PostgreSQL (test-harness), the district
//! aggregator as a real process of its binary (built by [`binaries`]), and real school agents
//! in this process (`school_agent::run`) fed deterministic 2017–2020 histories
//! (`demo_data::history`) through their gRPC. The district office enrols the schools and adopts
//! its plan through the aggregator's gRPC. At the end, the oracle ([`oracle`]) reads the whole
//! district stream back with a plain ordered consumer, folds it into
//! `domain::district::DistrictModel`, and requires every view the aggregator answers over gRPC
//! to equal the model's (as protobuf messages), and every author applied up to its head,
//! each `(author, seq)` exactly once.
//!
//! Scenarios run one at a time (a process-wide lock): each drives two servers, a child process
//! and several agents, and a 2-core machine gives honest timings only to one at a time.

mod binaries;
mod faults;
mod gap;
mod offline;
mod oracle;
mod resend;
mod scale;
mod system;

use std::time::Instant;

/// Held for the whole of a scenario.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Takes the scenario lock and reports the scenario's time when dropped. The aggregator's
/// binary is built (when stale) before the clock starts.
pub async fn scenario(name: &'static str) -> Scenario {
    let lock = ONE_AT_A_TIME.lock().await;
    tokio::task::spawn_blocking(binaries::aggregator)
        .await
        .expect("building the aggregator");
    Scenario {
        name,
        started: Instant::now(),
        _lock: lock,
    }
}

#[derive(Debug)]
pub struct Scenario {
    name: &'static str,
    started: Instant,
    _lock: tokio::sync::MutexGuard<'static, ()>,
}

impl Scenario {
    /// Logs a step with the time since the scenario began.
    pub fn step(&self, what: impl std::fmt::Display) {
        eprintln!(
            "[{} +{:.1}s] {what}",
            self.name,
            self.started.elapsed().as_secs_f64()
        );
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        let outcome = if std::thread::panicking() {
            "FAILED"
        } else {
            "passed"
        };
        eprintln!(
            "[{}] {outcome} in {:.1} s",
            self.name,
            self.started.elapsed().as_secs_f64()
        );
    }
}
