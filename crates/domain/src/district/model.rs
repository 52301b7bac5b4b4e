//! The reference model of the district: a pure fold of the envelopes the district stream
//! carries, answering every view of `docs/district-views.md` (the queries are in
//! `district/queries.rs`).
//!
//! It exists to define the aggregator's answers by a second, obviously correct
//! implementation: tests feed both the same envelopes and compare the views with `==`. It
//! keeps everything in memory and favours clarity over speed.
//!
//! Delivery rules, the same as the aggregator's:
//! - each `(author, seq)` is applied once, in seq order; a repeated seq with the id of the
//!   event that took it is a duplicate and ignored; a seq beyond the next one is **held**
//!   until the gap is filled;
//! - a repeated seq with **another** id is a **divergence** (the author's log was restored
//!   from an old copy or re-created): recorded ([`DistrictModel::divergences`]), never
//!   applied; every new seq of that author is then held — it follows a history the district
//!   does not have;
//! - an event whose type or schema version this build does not know is held when due, and
//!   what follows waits behind it;
//! - a school's events are held until the school is enrolled, then applied in order;
//! - an applied event that does not decode, a district office event whose actor is not the
//!   district office ([`check_district_actor`]), or one that [`SchoolState::check`] /
//!   [`DistrictState::check`] refuses as of the local date of its `recorded_at`, is
//!   **dead-lettered**: it uses up its seq (the next seq applies) and is part of no view;
//! - an envelope of another province or district is dead-lettered without using a seq.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::calendar::local_date;
use crate::codes::{Author, Slug};
use crate::district::decide::{DistrictState, check_district_actor};
use crate::district::event::DistrictEvent;
use crate::district::facts::{DistrictPlan, Enrolment};
use crate::district::folding::{SearchWords, activity_search_words};
use crate::envelope::{AnyEvent, Envelope};
use crate::event::{ActivityDetails, CommendationAwarded, Event, NomineeNominated};
use crate::evidence::{EvidenceFile, EvidenceTarget};
use crate::school::{DecisionContext, SchoolState};

/// What [`DistrictModel::apply`] did with an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its seq was the next one: it was applied (or dead-lettered), and so were any held
    /// envelopes it unblocked.
    Applied,
    /// Its seq was applied or held already.
    Duplicate,
    /// Held: an earlier seq of its author is missing.
    HeldForGap { missing_seq: u64 },
    /// Held: its school is not enrolled.
    HeldUnenrolled,
    /// Its seq was taken by another event: recorded as a divergence, not applied.
    Divergence,
    /// Held: its author's log diverged before.
    HeldDiverged,
    /// Held: its type or schema version is newer than this build knows.
    HeldUnknownVersion,
    /// Another province's or district's envelope: dead-lettered.
    WrongDistrict,
}

/// Where an author's stream stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    /// The last seq applied (or dead-lettered); 0 before the first.
    pub applied_seq: u64,
    /// Seqs received but not applied, ascending.
    pub held_seqs: Vec<u64>,
    /// `applied_seq + 1` when envelopes are held behind a gap (the author is enrolled, or is
    /// the district office, and something is held); `None` otherwise.
    pub first_missing_seq: Option<u64>,
}

/// An envelope that was not applied, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The envelope's `school`: a school code or `_district`.
    pub author: String,
    pub seq: u64,
    pub id: Uuid,
    pub event_type: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
struct Stream {
    applied: u64,
    held: BTreeMap<u64, Envelope>,
    /// The id of the event that took each seq (applied or dead-lettered).
    ids: BTreeMap<u64, Uuid>,
    /// A divergence of this author is on record.
    diverged: bool,
}

/// An activity as it now stands.
#[derive(Debug, Clone)]
pub(super) struct ActivityRow {
    pub(super) details: ActivityDetails,
    pub(super) live: bool,
    /// [`activity_search_words`] of `details`.
    pub(super) words: SearchWords,
}

/// A citizen's feedback or a press issue.
#[derive(Debug, Clone)]
pub(super) struct CaseRow {
    pub(super) opened_on: NaiveDate,
    pub(super) answered_on: Option<NaiveDate>,
    pub(super) subject: String,
}

#[derive(Debug, Clone)]
pub(super) struct NominationRow {
    pub(super) nomination: NomineeNominated,
    pub(super) award: Option<CommendationAwarded>,
}

/// When an applied event happened and how late it arrived.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timing {
    pub(super) occurred_on: NaiveDate,
    pub(super) delay_days: i64,
}

/// One enrolled school's facts, as the views read them.
#[derive(Debug, Clone, Default)]
pub(super) struct SchoolData {
    pub(super) state: SchoolState,
    pub(super) activities: BTreeMap<Uuid, ActivityRow>,
    pub(super) feedback: BTreeMap<Uuid, CaseRow>,
    pub(super) press: BTreeMap<Uuid, CaseRow>,
    pub(super) nominations: BTreeMap<Uuid, NominationRow>,
    /// Year → total of the latest estimate.
    pub(super) estimates: BTreeMap<i32, i64>,
    /// (spent_on, amount) of every expense.
    pub(super) expenses: Vec<(NaiveDate, i64)>,
    /// Year → settled amount.
    pub(super) settlements: BTreeMap<i32, i64>,
    /// Each record's evidence files, in the order attached.
    pub(super) evidence: BTreeMap<EvidenceTarget, Vec<EvidenceFile>>,
    pub(super) timings: Vec<Timing>,
}

impl SchoolData {
    fn apply(&mut self, envelope: &Envelope, event: &Event) {
        let occurred_on = local_date(envelope.occurred_at);
        let delay = (local_date(envelope.recorded_at) - occurred_on).num_days();
        self.timings.push(Timing {
            occurred_on,
            delay_days: delay.max(0),
        });
        match event {
            Event::ActivityRecorded(e) => {
                self.activities.insert(
                    e.activity_id,
                    ActivityRow {
                        words: activity_search_words(&e.details),
                        details: e.details.clone(),
                        live: true,
                    },
                );
            }
            Event::ActivityCorrected(e) => {
                if let Some(row) = self.activities.get_mut(&e.activity_id) {
                    row.words = activity_search_words(&e.details);
                    row.details = e.details.clone();
                }
            }
            Event::ActivityRetracted(e) => {
                if let Some(row) = self.activities.get_mut(&e.activity_id) {
                    row.live = false;
                }
            }
            Event::FeedbackReceived(e) => {
                self.feedback.insert(
                    e.feedback_id,
                    CaseRow {
                        opened_on: e.received_on,
                        answered_on: None,
                        subject: e.subject.clone(),
                    },
                );
            }
            Event::FeedbackAnswered(e) => {
                if let Some(case) = self.feedback.get_mut(&e.feedback_id) {
                    case.answered_on = Some(e.answered_on);
                }
            }
            Event::PressIssueRaised(e) => {
                self.press.insert(
                    e.issue_id,
                    CaseRow {
                        opened_on: e.raised_on,
                        answered_on: None,
                        subject: e.title.clone(),
                    },
                );
            }
            Event::PressIssueAnswered(e) => {
                if let Some(case) = self.press.get_mut(&e.issue_id) {
                    case.answered_on = Some(e.answered_on);
                }
            }
            Event::NomineeNominated(e) => {
                self.nominations.insert(
                    e.nomination_id,
                    NominationRow {
                        nomination: e.clone(),
                        award: None,
                    },
                );
            }
            Event::CommendationAwarded(e) => {
                if let Some(row) = self.nominations.get_mut(&e.nomination_id) {
                    row.award = Some(e.clone());
                }
            }
            Event::BudgetEstimated(e) => {
                self.estimates.insert(e.year, e.total().dong());
            }
            Event::ExpenseRecorded(e) => self.expenses.push((e.spent_on, e.amount.dong())),
            Event::BudgetSettled(e) => {
                self.settlements.insert(e.year, e.settled_amount.dong());
            }
            Event::EvidenceAttached(e) => {
                self.evidence
                    .entry(e.record)
                    .or_default()
                    .push(e.file.clone());
            }
            Event::PlanAdopted(_)
            | Event::PlanAmended(_)
            | Event::DutyAssigned(_)
            | Event::ReporterVisitHosted(_)
            | Event::EmulationCriteriaAdopted(_) => {}
        }
        self.state.apply(event);
    }
}

/// The district, folded from its stream. See the module documentation for the rules.
#[derive(Debug, Clone)]
pub struct DistrictModel {
    province: Slug,
    district: Slug,
    streams: BTreeMap<Author, Stream>,
    pub(super) office: DistrictState,
    /// Every enrolled school's data, by code.
    pub(super) schools: BTreeMap<Slug, SchoolData>,
    dead_letters: Vec<DeadLetter>,
    divergences: Vec<DeadLetter>,
}

/// Whether this build reads the envelope's type at its schema version (`crate::upcast`).
fn known_version(envelope: &Envelope) -> bool {
    crate::upcast::current_schema(&envelope.event_type)
        .is_ok_and(|current| envelope.schema <= current)
}

impl DistrictModel {
    /// An empty model of one district.
    pub fn new(province: Slug, district: Slug) -> Self {
        Self {
            province,
            district,
            streams: BTreeMap::new(),
            office: DistrictState::default(),
            schools: BTreeMap::new(),
            dead_letters: Vec::new(),
            divergences: Vec::new(),
        }
    }

    /// Folds envelopes in the order given (the order they arrive in).
    pub fn apply_all<'a>(&mut self, envelopes: impl IntoIterator<Item = &'a Envelope>) {
        for envelope in envelopes {
            self.apply(envelope);
        }
    }

    /// Takes one envelope as it arrives.
    pub fn apply(&mut self, envelope: &Envelope) -> Outcome {
        if envelope.province != self.province || envelope.district != self.district {
            self.dead_letter(
                envelope,
                format!(
                    "{}/{} is not this district {}/{}",
                    envelope.province, envelope.district, self.province, self.district
                ),
            );
            return Outcome::WrongDistrict;
        }
        let author = envelope.school.clone();
        let eligible = self.eligible(&author);
        let stream = self.streams.entry(author.clone()).or_default();
        if envelope.seq <= stream.applied || stream.held.contains_key(&envelope.seq) {
            let recorded = stream
                .ids
                .get(&envelope.seq)
                .copied()
                .or_else(|| stream.held.get(&envelope.seq).map(|e| e.id));
            let again = self.divergences.iter().any(|d| {
                d.author == author.as_str() && d.seq == envelope.seq && d.id == envelope.id
            });
            return match recorded {
                Some(id) if id != envelope.id && !again => {
                    stream.diverged = true;
                    self.divergences.push(DeadLetter {
                        author: author.to_string(),
                        seq: envelope.seq,
                        id: envelope.id,
                        event_type: envelope.event_type.clone(),
                        reason: format!(
                            "divergence: seq {} was already taken by event {id}",
                            envelope.seq
                        ),
                    });
                    Outcome::Divergence
                }
                _ => Outcome::Duplicate,
            };
        }
        if !eligible {
            stream.held.insert(envelope.seq, envelope.clone());
            return Outcome::HeldUnenrolled;
        }
        if stream.diverged {
            stream.held.insert(envelope.seq, envelope.clone());
            return Outcome::HeldDiverged;
        }
        if envelope.seq > stream.applied + 1 {
            let missing_seq = stream.applied + 1;
            stream.held.insert(envelope.seq, envelope.clone());
            return Outcome::HeldForGap { missing_seq };
        }
        if !known_version(envelope) {
            stream.held.insert(envelope.seq, envelope.clone());
            return Outcome::HeldUnknownVersion;
        }
        let mut ready = vec![author];
        self.consume(envelope, &mut ready);
        self.drain(ready);
        Outcome::Applied
    }

    /// Applies what was held behind authors that became ready, and behind those they enrol.
    fn drain(&mut self, mut ready: Vec<Author>) {
        while let Some(author) = ready.pop() {
            loop {
                if !self.eligible(&author) {
                    break;
                }
                let Some(stream) = self.streams.get_mut(&author) else {
                    break;
                };
                let next = stream.applied + 1;
                if stream.diverged || !stream.held.get(&next).is_some_and(known_version) {
                    break;
                }
                let Some(envelope) = stream.held.remove(&next) else {
                    break;
                };
                self.consume(&envelope, &mut ready);
            }
        }
    }

    fn eligible(&self, author: &Author) -> bool {
        match author {
            Author::DistrictOffice => true,
            Author::School(code) => self.office.is_enrolled(code),
        }
    }

    /// Applies (or dead-letters) the next envelope of its author. An enrolment pushes the
    /// enrolled school onto `ready`, so that its held envelopes follow.
    fn consume(&mut self, envelope: &Envelope, ready: &mut Vec<Author>) {
        let stream = self.streams.entry(envelope.school.clone()).or_default();
        stream.applied = envelope.seq;
        stream.ids.insert(envelope.seq, envelope.id);
        let ctx = DecisionContext {
            today: local_date(envelope.recorded_at),
        };
        let result = match envelope.decode_any() {
            Err(e) => Err(e.to_string()),
            Ok(AnyEvent::District(event)) => match check_district_actor(&envelope.actor)
                .and_then(|()| self.office.check(&event, ctx))
            {
                Err(e) => Err(e.to_string()),
                Ok(()) => {
                    self.apply_district(&event, ready);
                    Ok(())
                }
            },
            Ok(AnyEvent::School(event)) => {
                // decode_any only returns a school event for a school author, and only an
                // enrolled school's envelopes get here, so its data exists.
                match envelope
                    .school
                    .school()
                    .and_then(|code| self.schools.get_mut(code))
                {
                    None => Err("the school is not enrolled".to_string()),
                    Some(data) => match data.state.check(&event, ctx) {
                        Err(e) => Err(e.to_string()),
                        Ok(()) => {
                            data.apply(envelope, &event);
                            Ok(())
                        }
                    },
                }
            }
        };
        if let Err(reason) = result {
            self.dead_letter(envelope, reason);
        }
    }

    fn apply_district(&mut self, event: &DistrictEvent, ready: &mut Vec<Author>) {
        self.office.apply(event);
        if let DistrictEvent::SchoolEnrolled(e) = event {
            self.schools.entry(e.code.clone()).or_default();
            ready.push(Author::School(e.code.clone()));
        }
    }

    fn dead_letter(&mut self, envelope: &Envelope, reason: String) {
        self.dead_letters.push(DeadLetter {
            author: envelope.school.to_string(),
            seq: envelope.seq,
            id: envelope.id,
            event_type: envelope.event_type.clone(),
            reason,
        });
    }

    /// Where an author's stream stands.
    pub fn position(&self, author: &Author) -> Position {
        let Some(stream) = self.streams.get(author) else {
            return Position::default();
        };
        let held_seqs: Vec<u64> = stream.held.keys().copied().collect();
        // When the next seq is itself held (an unknown version), or the author's log diverged,
        // nothing is missing: the author is blocked.
        let blocked = stream.diverged || stream.held.contains_key(&(stream.applied + 1));
        let first_missing_seq = (!held_seqs.is_empty() && !blocked && self.eligible(author))
            .then_some(stream.applied + 1);
        Position {
            applied_seq: stream.applied,
            held_seqs,
            first_missing_seq,
        }
    }

    /// Envelopes that were not applied, in the order they were refused.
    pub fn dead_letters(&self) -> &[DeadLetter] {
        &self.dead_letters
    }

    /// Envelopes that came at a seq already taken by another event, in arrival order.
    pub fn divergences(&self) -> &[DeadLetter] {
        &self.divergences
    }

    /// The district's plan now in force.
    pub fn district_plan(&self) -> Option<&DistrictPlan> {
        self.office.plan()
    }

    /// The district office's decision state, for [`super::decide_district`].
    pub fn district_state(&self) -> &DistrictState {
        &self.office
    }

    /// The enrolment of a school as it now stands.
    pub fn enrolment(&self, code: &Slug) -> Option<&Enrolment> {
        self.office.enrolment(code)
    }

    /// An enrolled school's evidence files (name, media type, size, hash), by record in
    /// record order, each record's files in the order attached: what the district's
    /// `live.evidence` rows must list.
    pub fn evidence(&self, code: &Slug) -> Vec<(EvidenceTarget, EvidenceFile)> {
        self.schools
            .get(code)
            .map(|d| {
                d.evidence
                    .iter()
                    .flat_map(|(record, files)| files.iter().map(|f| (*record, f.clone())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// An enrolled school's decision state, folded from its applied events.
    pub fn school_state(&self, code: &Slug) -> Option<&SchoolState> {
        self.schools.get(code).map(|d| &d.state)
    }
}
