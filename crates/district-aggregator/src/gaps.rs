//! Gap healing: while a school's next seq is missing and later ones are held, ask the school
//! to re-send the missing range, politely.
//!
//! A gap is also recorded when nothing is held but the school's announced head is beyond what
//! the district applied and its stream holds (a **lost tail**, found by [`crate::heads`]):
//! then the range asked for ends at that head. It follows the same schedule, and any commit
//! for the school ends it (the next head finds it again if it still stands).
//!
//! A gap is never skipped (invariant 3): the held events wait in `held` until the missing ones
//! arrive. Most gaps heal by themselves within a moment (a pipelined publish may deliver k+1
//! just before k), so the first request waits `replay_grace`; after that the school is asked
//! at most once per `replay_min_interval`, doubling up to `replay_max_interval` while the gap
//! stays where it is. Progress (the first missing seq moves) starts the schedule afresh.
//!
//! The request goes over the aggregator's own NATS connection
//! ([`event_bus::replay::request_replay`]); the school answers over its connection and
//! re-publishes through its relay, so the events arrive the normal way. The reply is only
//! logged and kept for the operator.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use event_bus::replay::request_replay;
use event_bus::subjects::SchoolAddress;
use tokio::sync::broadcast;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::config::IngestSettings;
use crate::state::IngestState;

/// A school's gap, as the district office sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub school: String,
    pub applied_seq: u64,
    /// `applied_seq + 1`: the seq everything else waits for.
    pub first_missing: u64,
    /// The lowest held seq; `first_missing..first_held` is what is asked for. For a lost
    /// tail, the school's head + 1.
    pub first_held: u64,
    /// How many events are held behind the gap.
    pub held: u64,
    /// When this aggregator noticed the gap at its current first missing seq.
    pub since: DateTime<Utc>,
    /// Re-send requests sent for it so far.
    pub requests: u32,
    pub last_request_at: Option<DateTime<Utc>>,
    /// The school's last answer (or why there was none).
    pub last_reply: Option<String>,
    /// `Some(head)` when nothing is held and the gap is a lost tail: the school announced
    /// `head`, which neither the projection nor the district stream has.
    pub lost_tail_head: Option<u64>,
}

#[derive(Debug)]
struct Entry {
    gap: Gap,
    next_request: Instant,
    interval: Duration,
}

/// The current gaps of every school, shared by ingest (which finds them) and the replayer
/// (which asks for the missing events).
#[derive(Debug)]
pub struct Gaps {
    entries: Mutex<HashMap<String, Entry>>,
    grace: Duration,
    min_interval: Duration,
    max_interval: Duration,
}

impl Gaps {
    pub fn new(settings: &IngestSettings) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            grace: settings.replay_grace(),
            min_interval: settings.replay_min_interval(),
            max_interval: settings.replay_max_interval(),
        }
    }

    /// Records where `school` stands after a commit: `held` is `(lowest held seq, count)` of
    /// the events held behind a gap, or `None` when nothing is.
    pub fn update(&self, school: &str, applied_seq: u64, held: Option<(u64, u64)>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let Some((first_held, count)) = held.filter(|(_, count)| *count > 0) else {
            if let Some(entry) = entries.remove(school) {
                info!(
                    school,
                    applied_seq,
                    first_missing = entry.gap.first_missing,
                    "gap healed"
                );
            }
            return;
        };
        let first_missing = applied_seq + 1;
        match entries.get_mut(school) {
            Some(entry) if entry.gap.first_missing == first_missing => {
                entry.gap.first_held = first_held;
                entry.gap.held = count;
                entry.gap.lost_tail_head = None;
            }
            _ => {
                warn!(
                    school,
                    first_missing,
                    first_held,
                    held = count,
                    "gap: events held until the missing ones arrive"
                );
                entries.insert(
                    school.to_owned(),
                    Entry {
                        gap: Gap {
                            school: school.to_owned(),
                            applied_seq,
                            first_missing,
                            first_held,
                            held: count,
                            since: Utc::now(),
                            requests: 0,
                            last_request_at: None,
                            last_reply: None,
                            lost_tail_head: None,
                        },
                        next_request: Instant::now() + self.grace,
                        interval: self.min_interval,
                    },
                );
            }
        }
    }

    /// Records that `school` announced `head_seq` while the district applied only
    /// `applied_seq`, holds nothing of it, and its stream lacks the head: a lost tail, asked
    /// for after the grace period. A gap with held events keeps its own range; the same tail
    /// heard again keeps its schedule (and only moves its end).
    pub fn lost_tail(&self, school: &str, applied_seq: u64, head_seq: u64) {
        let first_missing = applied_seq + 1;
        if head_seq < first_missing {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get_mut(school) {
            Some(entry) if entry.gap.lost_tail_head.is_none() => {}
            Some(entry) if entry.gap.first_missing == first_missing => {
                entry.gap.first_held = head_seq + 1;
                entry.gap.lost_tail_head = Some(head_seq);
            }
            _ => {
                warn!(
                    school,
                    first_missing,
                    head_seq,
                    "lost tail: the school has events the district neither applied nor stores"
                );
                entries.insert(
                    school.to_owned(),
                    Entry {
                        gap: Gap {
                            school: school.to_owned(),
                            applied_seq,
                            first_missing,
                            first_held: head_seq + 1,
                            held: 0,
                            since: Utc::now(),
                            requests: 0,
                            last_request_at: None,
                            last_reply: None,
                            lost_tail_head: Some(head_seq),
                        },
                        next_request: Instant::now() + self.grace,
                        interval: self.min_interval,
                    },
                );
            }
        }
    }

    /// Forgets `school`'s lost tail, if that is what its gap is: its head showed the district
    /// caught up, or catching up from its own stream, or holding events that explain it.
    pub fn no_lost_tail(&self, school: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries
            .get(school)
            .is_some_and(|e| e.gap.lost_tail_head.is_some())
        {
            entries.remove(school);
            info!(school, "lost tail no longer suspected");
        }
    }

    /// Every current gap, ordered by school.
    pub fn snapshot(&self) -> Vec<Gap> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let mut gaps: Vec<Gap> = entries.values().map(|e| e.gap.clone()).collect();
        gaps.sort_by(|a, b| a.school.cmp(&b.school));
        gaps
    }

    /// The gap of one school, if it has one.
    #[cfg(test)]
    fn get(&self, school: &str) -> Option<Gap> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(school).map(|e| e.gap.clone())
    }

    /// The re-send requests due at `now`: `(school, from_seq, to_seq)`. Each is scheduled
    /// again at once, so a slow request is never sent twice in a row.
    fn due(&self, now: Instant) -> Vec<(String, u64, u64)> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let mut due = Vec::new();
        for entry in entries.values_mut() {
            if entry.next_request <= now {
                due.push((
                    entry.gap.school.clone(),
                    entry.gap.first_missing,
                    entry.gap.first_held.saturating_sub(1),
                ));
                entry.next_request = now + entry.interval;
                entry.interval = (entry.interval * 2).min(self.max_interval);
                entry.gap.requests += 1;
                entry.gap.last_request_at = Some(Utc::now());
            }
        }
        due.sort();
        due
    }

    fn replied(&self, school: &str, from_seq: u64, reply: String) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = entries
            .get_mut(school)
            .filter(|e| e.gap.first_missing == from_seq)
        {
            entry.gap.last_reply = Some(reply);
        }
    }
}

/// Asks schools with a gap to re-send, until `shutdown` fires.
pub async fn run_replayer(
    state: Arc<IngestState>,
    client: async_nats::Client,
    province: String,
    district: String,
    timeout: Duration,
    mut shutdown: broadcast::Receiver<()>,
) {
    let gaps = &state.gaps;
    let tick = gaps
        .min_interval
        .min(gaps.grace)
        .clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = shutdown.recv() => break,
        }
        for (school, from_seq, to_seq) in gaps.due(Instant::now()) {
            let address = match SchoolAddress::parse(&province, &district, &school) {
                Ok(address) => address,
                Err(e) => {
                    warn!(school, error = %e, "cannot address a re-send request");
                    continue;
                }
            };
            let reply = tokio::select! {
                reply = request_replay(&client, &address, from_seq, Some(to_seq), timeout) => reply,
                _ = shutdown.recv() => return,
            };
            let summary = match reply {
                Ok(reply) => {
                    info!(
                        school,
                        from_seq,
                        to_seq,
                        accepted = reply.accepted,
                        reply_from_seq = reply.from_seq,
                        reply_to_seq = reply.to_seq,
                        head_seq = reply.head_seq,
                        message = %reply.message,
                        "re-send requested"
                    );
                    format!(
                        "{}: {} (head seq {})",
                        if reply.accepted {
                            "accepted"
                        } else {
                            "refused"
                        },
                        reply.message,
                        reply.head_seq
                    )
                }
                Err(e) => {
                    warn!(school, from_seq, to_seq, error = %e, "re-send request got no answer");
                    e.to_string()
                }
            };
            gaps.replied(&school, from_seq, summary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> IngestSettings {
        IngestSettings {
            replay_grace_ms: 0,
            replay_min_interval_ms: 1_000,
            replay_max_interval_ms: 4_000,
            ..IngestSettings::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn requests_back_off_and_progress_resets_them() {
        let gaps = Gaps::new(&settings());
        gaps.update("thcs-an-hoa", 10, Some((12, 1)));
        let start = Instant::now();
        assert_eq!(gaps.due(start), vec![("thcs-an-hoa".to_owned(), 11, 11)]);
        assert!(gaps.due(start).is_empty(), "not twice in a row");
        assert_eq!(gaps.due(start + Duration::from_millis(1_000)).len(), 1);
        assert!(
            gaps.due(start + Duration::from_millis(2_500)).is_empty(),
            "interval doubled"
        );
        assert_eq!(gaps.due(start + Duration::from_millis(3_000)).len(), 1);
        assert_eq!(gaps.get("thcs-an-hoa").map(|g| g.requests), Some(3));

        // More held behind the same gap: same schedule.
        gaps.update("thcs-an-hoa", 10, Some((12, 3)));
        assert_eq!(
            gaps.get("thcs-an-hoa").map(|g| (g.held, g.requests)),
            Some((3, 3))
        );
        // Progress: a new gap further on, asked for at once (grace 0).
        gaps.update("thcs-an-hoa", 13, Some((15, 2)));
        assert_eq!(
            gaps.due(Instant::now()),
            vec![("thcs-an-hoa".to_owned(), 14, 14)]
        );
        gaps.update("thcs-an-hoa", 20, None);
        assert!(gaps.snapshot().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_lost_tail_is_asked_for_up_to_the_head_and_ends_with_a_commit() {
        let gaps = Gaps::new(&IngestSettings {
            replay_grace_ms: 500,
            ..settings()
        });
        gaps.lost_tail("thcs-an-hoa", 100, 120);
        let start = Instant::now();
        assert!(gaps.due(start).is_empty(), "not within the grace period");
        // Heard again, further on: same schedule, longer range.
        gaps.lost_tail("thcs-an-hoa", 100, 125);
        assert_eq!(
            gaps.due(start + Duration::from_millis(500)),
            vec![("thcs-an-hoa".to_owned(), 101, 125)]
        );
        // A commit for the school ends it (catching up, or the re-send arriving).
        gaps.update("thcs-an-hoa", 110, None);
        assert!(gaps.snapshot().is_empty());

        // A gap with held events is not replaced by a tail.
        gaps.update("thcs-an-hoa", 110, Some((115, 2)));
        gaps.lost_tail("thcs-an-hoa", 110, 130);
        assert_eq!(
            gaps.get("thcs-an-hoa")
                .map(|g| (g.first_held, g.lost_tail_head)),
            Some((115, None))
        );
        gaps.no_lost_tail("thcs-an-hoa");
        assert!(gaps.get("thcs-an-hoa").is_some(), "a held gap stays");

        // A tail that later finds events held becomes a held gap.
        gaps.update("thcs-an-hoa", 120, None);
        gaps.lost_tail("thcs-an-hoa", 120, 130);
        gaps.update("thcs-an-hoa", 120, Some((125, 1)));
        assert_eq!(
            gaps.get("thcs-an-hoa")
                .map(|g| (g.first_held, g.lost_tail_head)),
            Some((125, None))
        );
        gaps.update("thcs-an-hoa", 120, None);
        gaps.lost_tail("thcs-an-hoa", 120, 130);
        gaps.no_lost_tail("thcs-an-hoa");
        assert!(gaps.snapshot().is_empty());
    }
}
