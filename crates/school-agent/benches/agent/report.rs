//! The report: the machine and its disk, one row per run of commands, the relay's drain
//! beside the raw publish, the summary of the targets (PASS/MISS), and the secured district's
//! drain beside the plain one, in that order.

use std::time::Duration;

use bench_measure::verdict;

use crate::drain::Drain;
use crate::load::Run;
use crate::raw::{self, Raw};
use crate::{
    DEPLOYED_RELAY_BATCH, Machine, TARGET_CONCURRENT_CPS, TARGET_P99_MS, TARGET_RATIO,
    TARGET_SECURED, agent, disk,
};

pub fn machine(m: &Machine, load_after: &str, relay_batch: u32) {
    println!();
    println!(
        "school-agent benchmark — real nats-server (JetStream, file storage), agent in-process, SQLite WAL on disk"
    );
    println!(
        "========================================================================================================="
    );
    println!(
        "machine : {} CPUs ({}), load average before {} / after {load_after}",
        m.cpus, m.cpu_model, m.load_before
    );
    println!("log dir : {} on {}", m.log_dir, m.filesystem);
    for (label, h) in [
        ("append 4 KiB + fsync            ", &m.fsync.append),
        ("overwrite 4 KiB + fsync         ", &m.fsync.overwrite),
        (
            "overwrite 4 KiB + fdatasync     ",
            &m.fsync.overwrite_fdatasync,
        ),
    ] {
        println!(
            "disk    : {label} p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({} iterations)",
            h.ms(0.5),
            h.ms(0.9),
            h.ms(0.99),
            h.max_ms(),
            disk::FSYNC_ITERS
        );
    }
    println!(
        "agent   : writer synchronous=FULL (SQLite calls fsync on the WAL at every commit), relay batch_size {relay_batch}, publish window {}",
        event_bus::publish::PIPELINE_WINDOW
    );
    if relay_batch != DEPLOYED_RELAY_BATCH {
        println!(
            "EXPERIMENT: relay batch_size {relay_batch} (not the agent as deployed: {DEPLOYED_RELAY_BATCH})"
        );
    }
}

pub fn runs(runs: &[Run], catch_up: &[Duration], problems: &[String]) {
    println!();
    println!(
        "RecordActivity over gRPC (latency in ms, client-side, per call; NATS up = the relay publishes alongside)"
    );
    println!(
        "{:<34} {:>7} {:>8} {:>9} {:>7} {:>7} {:>7} {:>7} {:>8} {:>6}   writer group commit",
        "", "cmds", "secs", "cmd/s", "p50", "p90", "p99", "p99.9", "max", "≥30ms"
    );
    for run in runs {
        println!("{}", run.row());
        println!("{}", run.cpu_row());
    }
    println!(
        "relay caught up (backlog 0, polled every {} ms) {} s after each NATS-up run",
        agent::POLL.as_millis(),
        catch_up
            .iter()
            .map(|d| format!("{:.2}", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" / ")
    );
    let mut said: Vec<&String> = problems.iter().collect();
    said.dedup();
    println!(
        "agent warnings: {} during the gRPC runs (relay retries while NATS was down are expected)",
        said.len()
    );
    for p in said.iter().take(2) {
        println!("  e.g. {p}");
    }
}

pub fn drain(d: &Drain, raw: &Raw, relay: u64, head: u64) {
    println!();
    println!(
        "Relay drain of {relay} events after NATS restart (avg body {} B)",
        raw.mean_body_bytes
    );
    println!(
        "  restart → NATS ready             {:>7.0} ms",
        d.restart_to_ready.as_secs_f64() * 1000.0
    );
    println!(
        "  ready → agent connected (seen)   {:>7.0} ms  (client reconnect backoff)",
        d.ready_to_connected.as_secs_f64() * 1000.0
    );
    println!(
        "  ready → first progress (seen)    {:>7.0} ms  (+ relay retry backoff; backlog then {})",
        d.ready_to_progress.as_secs_f64() * 1000.0,
        d.backlog_at_progress
    );
    println!(
        "  first progress → backlog 0       {:>7.0} ms",
        d.window.as_secs_f64() * 1000.0
    );
    println!(
        "  relay, steady                    {:>7.0} ev/s  ({} events / {:.3} s)",
        d.rate,
        d.backlog_at_progress,
        d.window.as_secs_f64()
    );
    println!(
        "  relay, from NATS ready           {:>7.0} ev/s  (includes reconnect and retry backoff)",
        d.end_to_end_rate
    );
    println!(
        "  relay batches                    {:>7} × {:.0} ev, cycle p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        d.batches,
        d.batch_mean,
        d.cycle.ms(0.5),
        d.cycle.ms(0.9),
        d.cycle.ms(0.99),
        d.cycle.max_ms()
    );
    println!(
        "  relay CPU per event (from ready) {}",
        d.cpu.per_item_us(relay)
    );
    println!(
        "  raw JetStream, sliding {:<8} {:>7.0} ev/s  ({:.3} s, stream {}: {} msgs)",
        raw::WINDOW,
        raw.rate,
        raw.elapsed.as_secs_f64(),
        raw.stream,
        raw.stored
    );
    println!(
        "  raw CPU per event                {}",
        raw.cpu.per_item_us(relay)
    );
    println!(
        "  raw JetStream, drain per {:<6} {:>7.0} ev/s  ({:.3} s; the relay's batch pattern, without SQLite)",
        raw::WINDOW,
        raw.drain_rate,
        raw.drain_elapsed.as_secs_f64()
    );
    println!(
        "  district stream {}: {} msgs = log head {head}",
        raw.district_stream, raw.district_stored
    );
}

pub fn summary(
    m: &Machine,
    load_after: &str,
    runs: &[Run],
    drain: &Drain,
    raw: &Raw,
    total: Duration,
) {
    println!();
    let one = &runs[0];
    let p99 = one.latency.ms(0.99);
    println!(
        "Summary (one run, {:.0} s wall in total)",
        total.as_secs_f64()
    );
    println!("-----------------------------------------");
    println!(
        "RecordActivity 1 client      : {:>6.0} cmd/s  p50 {:.2} ms  p99 {:.2} ms   (target p99 < {TARGET_P99_MS} ms: {})",
        one.per_sec(),
        one.latency.ms(0.5),
        p99,
        verdict(p99 < TARGET_P99_MS)
    );
    for run in &runs[1..3] {
        println!(
            "RecordActivity {:<14}: {:>6.0} cmd/s  p50 {:.2} ms  p99 {:.2} ms   (target ≥ 5,000 cmd/s: {})",
            if run.label.contains("shared") {
                "16 cl. shared"
            } else {
                "16 cl. own ch."
            },
            run.per_sec(),
            run.latency.ms(0.5),
            run.latency.ms(0.99),
            verdict(run.per_sec() >= TARGET_CONCURRENT_CPS)
        );
    }
    let ratio = drain.rate / raw.rate;
    println!(
        "Relay publish                : {:>6.0} ev/s   raw JetStream {:.0} ev/s   ratio {ratio:.2} (target ≥ {TARGET_RATIO}: {})",
        drain.rate,
        raw.rate,
        verdict(ratio >= TARGET_RATIO)
    );
    let f = &m.fsync;
    println!(
        "fsync (4 KiB)                : append p50 {:.2} ms p99 {:.2} ms; overwrite p50 {:.2} ms p99 {:.2} ms (fdatasync p50 {:.2} p99 {:.2})",
        f.append.ms(0.5),
        f.append.ms(0.99),
        f.overwrite.ms(0.5),
        f.overwrite.ms(0.99),
        f.overwrite_fdatasync.ms(0.5),
        f.overwrite_fdatasync.ms(0.99)
    );
    println!(
        "load average                 : before {}, after {load_after} ({} CPUs, shared machine)",
        m.load_before, m.cpus
    );
}

/// The relay against the raw publish on the plain server and on the secured one (TLS, nkey
/// identities with their permission sets), and what securing costs each.
pub fn secured(plain: (&Drain, &Raw), secured: (&Drain, &Raw)) {
    let ((pd, pr), (sd, sr)) = (plain, secured);
    println!();
    println!("Secured district (TLS + nkey, district-admin's configuration) beside plain:");
    for (label, d, r) in [("plain  ", pd, pr), ("secured", sd, sr)] {
        println!(
            "  {label}: relay {:>6.0} ev/s (end to end {:>6.0})   raw JetStream {:>6.0} ev/s (relay's pattern {:>6.0})   relay/raw {:.2}",
            d.rate,
            d.end_to_end_rate,
            r.rate,
            r.drain_rate,
            d.rate / r.rate
        );
    }
    let relay = sd.rate / pd.rate;
    println!(
        "  secured/plain: relay {relay:.2}   raw {:.2}   relay/raw ratio {:.2} (target: relay ≥ {TARGET_SECURED} of plain: {})",
        sr.rate / pr.rate,
        (sd.rate / sr.rate) / (pd.rate / pr.rate),
        verdict(relay >= TARGET_SECURED)
    );
}
