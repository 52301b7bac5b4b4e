//! What a rebuild says about itself: its progress as it goes (a line about once a second,
//! for the operator's terminal) and its report at the end.

use std::fmt;
use std::time::Duration;

/// What the rebuild is doing, reported about once per `progress_every`.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Replaying the stream into the new schema: `applied` messages so far, out of the
    /// `total` the stream held when the rebuild started; `rate` over the last interval.
    Replay { applied: u64, total: u64, rate: f64 },
    /// The replay is done: `applied` messages in `elapsed`.
    Replayed { applied: u64, elapsed: Duration },
    /// Recreating the secondary indexes and analysing the tables.
    Indexing { indexes: usize },
    /// Holding the live ingest and replaying what it committed since the replay started.
    CatchUp {
        applied: u64,
        target_stream_seq: u64,
    },
    /// The new projection is live.
    Swapped { retired: Option<String> },
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::Replay {
                applied,
                total,
                rate,
            } => write!(
                f,
                "rebuilt {} / {} events ({} ev/s)",
                thousands(*applied),
                thousands(*total),
                thousands(rate.round() as u64)
            ),
            Progress::Replayed { applied, elapsed } => write!(
                f,
                "replayed {} events in {:.1} s ({} ev/s)",
                thousands(*applied),
                elapsed.as_secs_f64(),
                thousands(rate(*applied, *elapsed).round() as u64)
            ),
            Progress::Indexing { indexes } => {
                write!(f, "recreating {indexes} indexes and analysing the tables")
            }
            Progress::CatchUp {
                applied,
                target_stream_seq,
            } => write!(
                f,
                "live ingest held; catching up: {} events applied, up to stream seq {}",
                thousands(*applied),
                thousands(*target_stream_seq)
            ),
            Progress::Swapped { retired: Some(r) } => {
                write!(
                    f,
                    "swapped: the rebuilt projection is live; the old one is kept as {r}"
                )
            }
            Progress::Swapped { retired: None } => {
                write!(f, "swapped: the rebuilt projection is live")
            }
        }
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq)]
pub struct RebuildReport {
    /// The name the projection was built under (now `live`).
    pub built_as: String,
    /// Where the replaced projection went; `None` when dropped (or there was none).
    pub retired: Option<String>,
    /// Stream messages applied before the ingest was held, and how fast.
    pub replayed: u64,
    pub replay_elapsed: Duration,
    /// How much of the replay was spent waiting for the stream rather than applying.
    pub stream_wait: Duration,
    /// Stream messages applied while the live ingest was held (the tail).
    pub tail: u64,
    /// The last stream sequence the new projection had applied at the swap.
    pub swapped_at_stream_seq: u64,
    /// Batches prepared in memory and committed in parallel parts, and batches applied on the
    /// careful path (the first, district events, dead letters, failed parts).
    pub batches_pipelined: u64,
    pub batches_careful: u64,
    /// How long the live ingest was held in the round that swapped, and how many attempts
    /// to lock the live tables that round took.
    pub ingest_held: Duration,
    pub swap_attempts: u32,
    pub indexing_elapsed: Duration,
    pub total_elapsed: Duration,
}

impl RebuildReport {
    /// Replay throughput, messages per second.
    pub fn replay_rate(&self) -> f64 {
        rate(self.replayed, self.replay_elapsed)
    }
}

pub(super) fn rate(n: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(250_000), "250,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn progress_reads_like_the_brief() {
        let p = Progress::Replay {
            applied: 250_000,
            total: 1_000_000,
            rate: 180_000.4,
        };
        assert_eq!(
            p.to_string(),
            "rebuilt 250,000 / 1,000,000 events (180,000 ev/s)"
        );
    }
}
