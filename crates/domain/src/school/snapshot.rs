//! A school's decision state as plain data, to restore it without replaying the log.
//!
//! The district aggregator re-checks every arriving school event with
//! [`SchoolState::check`](super::SchoolState::check); after a restart it rebuilds each
//! school's state from its projection rows (the plan as amended, which ids exist, which are
//! retracted, answered, awarded or settled) with [`SchoolState::from_snapshot`] instead of
//! re-reading years of events. `from_snapshot(s.snapshot()) == s` for every state.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{BudgetYear, Case, Nomination, SchoolState};
use crate::evidence::EvidenceTarget;
use crate::money::Vnd;
use crate::plan::Plan;

/// Everything in a [`SchoolState`], each list ordered by id (budget years by year).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchoolStateSnapshot {
    /// The plan with every amendment applied.
    pub plan: Option<Plan>,
    pub activities: Vec<ActivitySnapshot>,
    pub feedback: Vec<CaseSnapshot>,
    pub press_issues: Vec<CaseSnapshot>,
    pub visits: Vec<Uuid>,
    pub nominations: Vec<NominationSnapshot>,
    pub budget_years: Vec<BudgetYearSnapshot>,
    pub expenses: Vec<Uuid>,
    /// Each record's evidence hashes, ordered by record (absent in snapshots written before
    /// evidence existed).
    #[serde(default)]
    pub evidence: Vec<EvidenceSnapshot>,
    /// How many events have been folded in.
    pub event_count: u64,
}

/// The evidence files of one record, by hash, in the order attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceSnapshot {
    pub record: EvidenceTarget,
    pub sha256: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivitySnapshot {
    pub id: Uuid,
    pub retracted: bool,
}

/// A feedback or a press issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSnapshot {
    pub id: Uuid,
    /// `received_on` or `raised_on`.
    pub opened_on: NaiveDate,
    pub answered_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NominationSnapshot {
    pub id: Uuid,
    pub date: NaiveDate,
    pub awarded: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetYearSnapshot {
    pub year: i32,
    /// Total of the latest estimate, if any.
    pub estimate: Option<Vnd>,
    /// Σ of the expenses dated in the year.
    pub spent: Vnd,
    pub settled: bool,
}

fn sorted<T, K: Ord>(mut items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    items.sort_by_key(key);
    items
}

impl SchoolState {
    /// The state as plain data.
    pub fn snapshot(&self) -> SchoolStateSnapshot {
        let case = |(id, c): (&Uuid, &Case)| CaseSnapshot {
            id: *id,
            opened_on: c.opened_on,
            answered_on: c.answered_on,
        };
        SchoolStateSnapshot {
            plan: self.plan.clone(),
            activities: sorted(
                self.activities
                    .iter()
                    .map(|(id, retracted)| ActivitySnapshot {
                        id: *id,
                        retracted: *retracted,
                    })
                    .collect(),
                |a| a.id,
            ),
            feedback: sorted(self.feedback.iter().map(case).collect(), |c| c.id),
            press_issues: sorted(self.press_issues.iter().map(case).collect(), |c| c.id),
            visits: sorted(self.visits.iter().copied().collect(), |id| *id),
            nominations: sorted(
                self.nominations
                    .iter()
                    .map(|(id, n)| NominationSnapshot {
                        id: *id,
                        date: n.date,
                        awarded: n.awarded,
                    })
                    .collect(),
                |n| n.id,
            ),
            budget_years: self
                .budgets
                .iter()
                .map(|(year, b)| BudgetYearSnapshot {
                    year: *year,
                    estimate: b.estimate,
                    spent: b.spent,
                    settled: b.settled,
                })
                .collect(),
            expenses: sorted(self.expenses.iter().copied().collect(), |id| *id),
            evidence: sorted(
                self.evidence
                    .iter()
                    .map(|(record, sha256)| EvidenceSnapshot {
                        record: *record,
                        sha256: sha256.clone(),
                    })
                    .collect(),
                |e| e.record,
            ),
            event_count: self.events,
        }
    }

    /// The state a snapshot describes.
    pub fn from_snapshot(snapshot: SchoolStateSnapshot) -> Self {
        let case = |c: CaseSnapshot| {
            (
                c.id,
                Case {
                    opened_on: c.opened_on,
                    answered_on: c.answered_on,
                },
            )
        };
        Self {
            plan: snapshot.plan,
            activities: snapshot
                .activities
                .into_iter()
                .map(|a| (a.id, a.retracted))
                .collect(),
            feedback: snapshot.feedback.into_iter().map(case).collect(),
            press_issues: snapshot.press_issues.into_iter().map(case).collect(),
            visits: snapshot.visits.into_iter().collect(),
            nominations: snapshot
                .nominations
                .into_iter()
                .map(|n| {
                    (
                        n.id,
                        Nomination {
                            date: n.date,
                            awarded: n.awarded,
                        },
                    )
                })
                .collect(),
            budgets: snapshot
                .budget_years
                .into_iter()
                .map(|b| {
                    (
                        b.year,
                        BudgetYear {
                            estimate: b.estimate,
                            spent: b.spent,
                            settled: b.settled,
                        },
                    )
                })
                .collect(),
            expenses: snapshot.expenses.into_iter().collect(),
            evidence: snapshot
                .evidence
                .into_iter()
                .map(|e| (e.record, e.sha256))
                .collect(),
            events: snapshot.event_count,
        }
    }
}
