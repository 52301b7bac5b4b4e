//! The school's facts, as events: named in the past tense, each with a stable type name and a
//! schema version. `docs/events.md` documents every type; keep the two in step.
//!
//! The payload structs double as the input of the matching commands (see [`crate::command`]):
//! a command is a proposed fact, and deciding it means validating and normalising that fact
//! against the school's state. This keeps one definition of each fact's fields.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::codes::Slug;
use crate::money::Vnd;
use crate::plan::{Plan, PlanAmendment};
use crate::roles::{Channel, CommendationLevel, ContentArea, NomineeKind, Role};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanAdopted {
    pub plan: Plan,
}

/// A named person is given a duty under a role of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DutyAssigned {
    pub role: Role,
    pub person: String,
    pub duty: String,
    pub since: NaiveDate,
}

/// What a communication activity was. Recorded once, possibly corrected (replaced whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityDetails {
    pub date: NaiveDate,
    pub area: ContentArea,
    /// The topic's code within the area; absent only where the plan's area has no topics.
    pub topic: Option<Slug>,
    pub channel: Channel,
    pub title: String,
    pub summary: String,
    /// Who it was for, in words ("phụ huynh học sinh khối 9").
    pub audience: Option<String>,
    /// How many people it reached, where known.
    pub reach: Option<u32>,
    /// The partner organisation (Hội Khuyến học, Đài Truyền thanh huyện, …).
    pub partner: Option<String>,
    /// A link to the evidence: the portal article, the post, the recording.
    pub evidence_url: Option<String>,
    pub responsible: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRecorded {
    pub activity_id: Uuid,
    #[serde(flatten)]
    pub details: ActivityDetails,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityCorrected {
    pub activity_id: Uuid,
    pub reason: String,
    #[serde(flatten)]
    pub details: ActivityDetails,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRetracted {
    pub activity_id: Uuid,
    pub reason: String,
}

/// A citizen's question, complaint or suggestion, received on a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackReceived {
    pub feedback_id: Uuid,
    pub received_on: NaiveDate,
    pub channel: Channel,
    /// The citizen's name, when they gave it.
    pub citizen: Option<String>,
    pub subject: String,
    pub content: String,
    pub area: Option<ContentArea>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackAnswered {
    pub feedback_id: Uuid,
    pub answered_on: NaiveDate,
    pub channel: Channel,
    pub answer: String,
}

/// An issue raised about the school or the sector by a press outlet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PressIssueRaised {
    pub issue_id: Uuid,
    pub raised_on: NaiveDate,
    pub outlet: String,
    pub title: String,
    pub summary: String,
    pub url: Option<String>,
    pub area: Option<ContentArea>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PressIssueAnswered {
    pub issue_id: Uuid,
    pub answered_on: NaiveDate,
    pub channel: Channel,
    pub response: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReporterVisitHosted {
    pub visit_id: Uuid,
    pub date: NaiveDate,
    pub outlet: String,
    pub reporter: String,
    pub purpose: String,
    pub area: Option<ContentArea>,
}

/// An exemplary person or collective proposed for commendation (usually by the trade union).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NomineeNominated {
    pub nomination_id: Uuid,
    pub date: NaiveDate,
    pub nominee_kind: NomineeKind,
    pub nominee: String,
    pub achievement: String,
    pub proposed_level: CommendationLevel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommendationAwarded {
    pub nomination_id: Uuid,
    pub level: CommendationLevel,
    pub decision_number: String,
    pub decision_date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub title: String,
    pub points: u32,
}

/// Communication put into the emulation criteria of a school year (the department heads' duty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmulationCriteriaAdopted {
    /// The school year starting in September of this year.
    pub school_year: i32,
    pub adopted_on: NaiveDate,
    pub criteria: Vec<Criterion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetLine {
    pub item: String,
    pub amount: Vnd,
}

/// The communication budget estimate of a calendar year. A later estimate of the same year
/// supersedes the earlier one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetEstimated {
    pub year: i32,
    pub estimated_on: NaiveDate,
    pub lines: Vec<BudgetLine>,
}

impl BudgetEstimated {
    pub fn total(&self) -> Vnd {
        self.lines.iter().map(|l| l.amount).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpenseRecorded {
    pub expense_id: Uuid,
    pub spent_on: NaiveDate,
    pub item: String,
    pub amount: Vnd,
    /// The activity the money was spent on, if any.
    pub activity_id: Option<Uuid>,
    /// The voucher number (số chứng từ).
    pub voucher: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetSettled {
    pub year: i32,
    pub settled_on: NaiveDate,
    pub settled_amount: Vnd,
    pub note: Option<String>,
}

/// A file attached as evidence to one of the school's records. The bytes travel apart, named
/// by `file.sha256` (see [`crate::evidence`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceAttached {
    pub record: crate::evidence::EvidenceTarget,
    pub file: crate::evidence::EvidenceFile,
}

/// Declares an event enum with its type names and schema versions in one table. Used for the
/// school's events here and for the district office's in [`crate::district::DistrictEvent`].
macro_rules! events {
    ($(#[$meta:meta])* $enum:ident;
     $($variant:ident($payload:ty) = $name:literal, schema $schema:literal;)+) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $enum {
            $($variant($payload),)+
        }

        impl $enum {
            /// Every event type with its current schema version.
            pub const TYPES: &'static [(&'static str, u32)] = &[$(($name, $schema),)+];

            /// The stable type name, as in the envelope's `type`.
            pub fn type_name(&self) -> &'static str {
                match self { $($enum::$variant(_) => $name,)+ }
            }

            /// The schema version this build writes for the event's type.
            pub fn schema(&self) -> u32 {
                match self { $($enum::$variant(_) => $schema,)+ }
            }

            /// The event's `data`, as JSON text.
            pub fn to_data(&self) -> $crate::envelope::EventData {
                match self { $($enum::$variant(p) => $crate::envelope::EventData::of(p),)+ }
            }

            /// Reads `data` written at the current schema of `event_type`.
            pub fn from_data(
                event_type: &str,
                data: serde_json::Value,
            ) -> Result<$enum, $crate::envelope::DecodeError> {
                match event_type {
                    $($name => serde_json::from_value::<$payload>(data)
                        .map($enum::$variant)
                        .map_err(|e| $crate::envelope::DecodeError::Data {
                            event_type: $name.into(),
                            reason: e.to_string(),
                        }),)+
                    other => Err($crate::envelope::DecodeError::UnknownType(other.to_string())),
                }
            }

            /// [`Self::from_data`] of `data` as JSON text, without building a tree.
            pub fn from_json(
                event_type: &str,
                data: &str,
            ) -> Result<$enum, $crate::envelope::DecodeError> {
                match event_type {
                    $($name => serde_json::from_str::<$payload>(data)
                        .map($enum::$variant)
                        .map_err(|e| $crate::envelope::DecodeError::Data {
                            event_type: $name.into(),
                            reason: e.to_string(),
                        }),)+
                    other => Err($crate::envelope::DecodeError::UnknownType(other.to_string())),
                }
            }
        }
    };
}

pub(crate) use events;

events! {
    /// Every fact a school can record.
    Event;
    PlanAdopted(PlanAdopted) = "plan.adopted", schema 1;
    PlanAmended(PlanAmendment) = "plan.amended", schema 1;
    DutyAssigned(DutyAssigned) = "duty.assigned", schema 1;
    ActivityRecorded(ActivityRecorded) = "activity.recorded", schema 1;
    ActivityCorrected(ActivityCorrected) = "activity.corrected", schema 1;
    ActivityRetracted(ActivityRetracted) = "activity.retracted", schema 1;
    FeedbackReceived(FeedbackReceived) = "feedback.received", schema 1;
    FeedbackAnswered(FeedbackAnswered) = "feedback.answered", schema 1;
    PressIssueRaised(PressIssueRaised) = "press_issue.raised", schema 1;
    PressIssueAnswered(PressIssueAnswered) = "press_issue.answered", schema 1;
    ReporterVisitHosted(ReporterVisitHosted) = "reporter_visit.hosted", schema 1;
    NomineeNominated(NomineeNominated) = "nominee.nominated", schema 1;
    CommendationAwarded(CommendationAwarded) = "commendation.awarded", schema 1;
    EmulationCriteriaAdopted(EmulationCriteriaAdopted) = "emulation_criteria.adopted", schema 1;
    BudgetEstimated(BudgetEstimated) = "budget.estimated", schema 1;
    ExpenseRecorded(ExpenseRecorded) = "expense.recorded", schema 1;
    BudgetSettled(BudgetSettled) = "budget.settled", schema 1;
    EvidenceAttached(EvidenceAttached) = "evidence.attached", schema 1;
}

impl Event {
    /// The local date the fact happened on, where the fact has one. The envelope's
    /// `occurred_at` is the start of that day in Vietnam; facts without a date occurred when
    /// they were recorded.
    pub fn occurred_on(&self) -> Option<NaiveDate> {
        match self {
            Event::PlanAdopted(e) => Some(e.plan.date),
            Event::PlanAmended(e) => Some(e.date),
            Event::DutyAssigned(e) => Some(e.since),
            Event::ActivityRecorded(e) => Some(e.details.date),
            Event::ActivityCorrected(_) | Event::ActivityRetracted(_) => None,
            Event::FeedbackReceived(e) => Some(e.received_on),
            Event::FeedbackAnswered(e) => Some(e.answered_on),
            Event::PressIssueRaised(e) => Some(e.raised_on),
            Event::PressIssueAnswered(e) => Some(e.answered_on),
            Event::ReporterVisitHosted(e) => Some(e.date),
            Event::NomineeNominated(e) => Some(e.date),
            Event::CommendationAwarded(e) => Some(e.decision_date),
            Event::EmulationCriteriaAdopted(e) => Some(e.adopted_on),
            Event::BudgetEstimated(e) => Some(e.estimated_on),
            Event::ExpenseRecorded(e) => Some(e.spent_on),
            Event::BudgetSettled(e) => Some(e.settled_on),
            Event::EvidenceAttached(_) => None,
        }
    }
}
