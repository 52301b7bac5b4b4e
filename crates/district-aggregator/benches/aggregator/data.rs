//! The district's history: the ten demo schools' events, decided by `domain::decide` and
//! sealed as their agents do, the district office's own (the plan, the enrolments), and
//! publishing them to the district stream as the relays publish.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use async_nats::jetstream;
use demo_data::sealed::{DistrictOfficeLog, school_log_of_len};
use demo_data::{DemoSchool, TAM_NONG_SCHOOLS};
use district_aggregator::rebuild::thousands;
use domain::{Author, Envelope, Slug};
use event_bus::publish::{OutgoingEvent, publish_in_order};
use event_bus::subjects::stream_name;
use futures::StreamExt;
use uuid::Uuid;

use crate::knobs::Knobs;
use crate::{DISTRICT, PROVINCE, SEED};

/// Events per `publish_in_order` call (one subject each), as a relay batch.
pub const PUBLISH_RUN: usize = 500;

/// How many relays publish at once. Each holds up to `PIPELINE_WINDOW` (256) unacknowledged
/// publishes, and async-nats lets a client hold 5,000: more relays than 5,000 / 256 at once
/// would each wait for a permit while holding acks nobody awaits.
const PUBLISHERS: usize = 10;

/// The histories of the run.
pub struct Data {
    pub schools: Vec<&'static DemoSchool>,
    /// Each school's log, in the order of `schools`.
    pub logs: Vec<Vec<Envelope>>,
    pub office: DistrictOfficeLog,
    pub school_events: usize,
}

impl Data {
    /// `knobs.events` school events shared by the ten schools, decided and sealed (in
    /// parallel), and the district office's plan — with the enrolments unless they come last.
    pub async fn generate(knobs: &Knobs) -> anyhow::Result<Self> {
        let schools: Vec<&'static DemoSchool> = TAM_NONG_SCHOOLS.iter().take(10).collect();
        let per_school = (knobs.events / schools.len() as u64) as usize;
        let t = Instant::now();
        let handles: Vec<_> = schools
            .iter()
            .map(|s| {
                let s: &'static DemoSchool = s;
                tokio::task::spawn_blocking(move || school_log_of_len(s, per_school, SEED))
            })
            .collect();
        let mut logs = Vec::new();
        for h in handles {
            logs.push(h.await?);
        }
        let school_events: usize = logs.iter().map(Vec::len).sum();
        let mut office = DistrictOfficeLog::new();
        office.adopt_plan();
        if !knobs.enrol_last {
            for s in &schools {
                office.enrol_as(s, s.code);
            }
        }
        let mut types: BTreeMap<&str, usize> = BTreeMap::new();
        for e in logs.iter().flatten() {
            *types.entry(e.event_type.as_str()).or_default() += 1;
        }
        let bytes: usize = logs.iter().flatten().map(|e| e.to_json().len()).sum();
        println!(
            "\nData: {} school events ({} per school, {} schools) decided and sealed in {:.1} s; mean body {} B",
            thousands(school_events as u64),
            thousands(per_school as u64),
            schools.len(),
            t.elapsed().as_secs_f64(),
            bytes / school_events.max(1)
        );
        println!(
            "  types: {}",
            types
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(Self {
            schools,
            logs,
            office,
            school_events,
        })
    }

    /// Publishes the office's events, then the schools' (ten relays at once), then the
    /// enrolments when they come last; returns the stream's message count.
    pub async fn publish(&mut self, js: &jetstream::Context, knobs: &Knobs) -> anyhow::Result<u64> {
        publish_all(js, &[self.office.envelopes().to_vec()]).await?;
        let rate = publish_all(js, &self.logs).await?;
        if knobs.enrol_last {
            let before = self.office.envelopes().len();
            for s in &self.schools {
                self.office.enrol_as(s, s.code);
            }
            publish_all(js, &[self.office.envelopes()[before..].to_vec()]).await?;
        }
        let total = stream_messages(js).await?;
        let expected = self.school_events + self.office.envelopes().len();
        ensure!(
            total as usize == expected,
            "the stream holds {total} messages, expected {expected}"
        );
        println!(
            "Published {} messages ({} school events at {} ev/s, 10 schools concurrently, runs of {PUBLISH_RUN}; the district office's {} {})",
            thousands(total),
            thousands(self.school_events as u64),
            thousands(rate as u64),
            self.office.envelopes().len(),
            if knobs.enrol_last {
                "events: the plan first, the enrolments after the school events"
            } else {
                "events first"
            }
        );
        Ok(total)
    }

    /// Each author's head: how far its `applied_seq` must get.
    pub fn heads(&self) -> BTreeMap<String, i64> {
        let mut heads: BTreeMap<String, i64> = self
            .logs
            .iter()
            .map(|log| (log[0].school.as_str().to_owned(), log.len() as i64))
            .collect();
        heads.insert(
            Author::DISTRICT_TOKEN.to_owned(),
            self.office.envelopes().len() as i64,
        );
        heads
    }

    /// The school codes of the run.
    pub fn codes(&self) -> Vec<&'static str> {
        self.schools.iter().map(|s| s.code).collect()
    }

    /// `BENCH_FILL=replay`: the same envelopes re-published under `copies` more codes per
    /// school (`<code>-2` …), each enrolled first.
    pub async fn publish_copies(
        &mut self,
        js: &jetstream::Context,
        copies: u32,
    ) -> anyhow::Result<()> {
        let t = Instant::now();
        let before = self.office.envelopes().len();
        let mut logs = Vec::new();
        for k in 2..=copies + 1 {
            for (s, log) in self.schools.iter().zip(&self.logs) {
                let code = copy_code(s.code, k);
                self.office.enrol_as(s, &code);
                logs.push(copy_as(log, &code));
            }
        }
        publish_all(js, &[self.office.envelopes()[before..].to_vec()]).await?;
        let rate = publish_all(js, &logs).await?;
        println!(
            "\n  (fill) published {} copies under {} more school codes at {} ev/s in {:.1} s",
            thousands(logs.iter().map(|c| c.len() as u64).sum()),
            logs.len(),
            thousands(rate as u64),
            t.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

/// `log` under another school code: the same events, fresh ids.
fn copy_as(log: &[Envelope], code: &str) -> Vec<Envelope> {
    let author = Author::School(Slug::parse("code", code).expect("valid code"));
    log.iter()
        .map(|e| Envelope {
            id: Uuid::now_v7(),
            school: author.clone(),
            ..e.clone()
        })
        .collect()
}

fn copy_code(code: &str, k: u32) -> String {
    format!("{code}-{k}")
}

async fn publish_log(js: &jetstream::Context, log: &[Envelope]) -> anyhow::Result<()> {
    let head = log.last().map_or(0, |e| e.seq);
    for chunk in log.chunks(PUBLISH_RUN) {
        let run: Vec<OutgoingEvent> = chunk
            .iter()
            .map(|e| district_fixture::outgoing(e, Some(head)))
            .collect::<anyhow::Result<_>>()?;
        let outcome = publish_in_order(js, &run, Duration::from_secs(30)).await;
        if let Some(error) = outcome.error {
            bail!("publishing failed after {} acks: {error}", outcome.acked);
        }
    }
    Ok(())
}

/// Publishes the logs, `PUBLISHERS` at a time (one relay per log); returns the rate.
async fn publish_all(js: &jetstream::Context, logs: &[Vec<Envelope>]) -> anyhow::Result<f64> {
    let total: usize = logs.iter().map(Vec::len).sum();
    let t = Instant::now();
    futures::stream::iter(logs.iter().map(|log| publish_log(js, log)))
        .buffer_unordered(PUBLISHERS)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<()>>>()?;
    Ok(total as f64 / t.elapsed().as_secs_f64())
}

/// Messages in the district stream.
pub async fn stream_messages(js: &jetstream::Context) -> anyhow::Result<u64> {
    let mut stream = js.get_stream(stream_name(PROVINCE, DISTRICT)?).await?;
    Ok(stream.info().await?.state.messages)
}
