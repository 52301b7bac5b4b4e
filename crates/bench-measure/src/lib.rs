//! Measuring and judging a benchmark run: the parts the school agent's and the district
//! aggregator's benches (`cargo bench -p school-agent --bench agent`,
//! `cargo bench -p district-aggregator --bench aggregator`) had each written for themselves.
//!
//! - [`process`]: CPU time (utime + stime) of a process, of its children, of this process's
//!   threads, and its peak memory (`VmHWM`), read from Linux's `/proc`;
//! - [`machine`]: what the run ran on (CPUs, load average, the filesystem of a directory);
//! - [`latency`]: latencies in an HDR histogram and their summary line;
//! - [`verdict`]: `PASS` or `MISS` against a target;
//! - [`knobs`]: the environment variables that size a run.
//!
//! Benchmarks only: it reads `/proc` and the environment, and knows nothing of the services.
//! Where `/proc` cannot be read (another OS, a process gone), figures read as zero or `?`
//! rather than failing the run.

pub mod knobs;
pub mod latency;
pub mod machine;
pub mod process;
pub mod verdict;

pub use latency::Latency;
pub use verdict::{verdict, verdict_line};
