//! The answers of `docs/district-views.md`, as plain data: the contract between the reference
//! model ([`super::model::DistrictModel`]) and the aggregator's SQL, which tests compare with
//! `==`.
//!
//! Conventions, so that SQL rows map one to one:
//! - codes are strings (`thcs-an-hoa`, `district_radio`, `thcs`, `province`), content areas
//!   `u8` 1..=6, counts and amounts (integer đồng) `i64`, dates `NaiveDate` (Vietnam local);
//! - `Option` is SQL `NULL`;
//! - `f64` only for rates and means, always produced by [`rounded_ratio`]: the exact quotient
//!   of two integers rounded half away from zero, rates ([`rate`]) to 4 decimal places
//!   (`0.8333`), means ([`mean`]) to 1 (`4.5`). In PostgreSQL that is
//!   `round(numerator::numeric / denominator, places)::float8`.
//! - rows are in the order each doc comment gives, schools always by code.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::calendar::Period;
use crate::codes::Slug;
use crate::error::{DomainError, Rule};
use crate::roles::{Channel, ContentArea, Role};

/// Decimal places of a rate (share of schools, of events, of the budget).
pub const RATE_DECIMALS: u32 = 4;
/// Decimal places of a mean number of days.
pub const MEAN_DECIMALS: u32 = 1;
/// An event arrives on time when its `delay_days` is at most this.
pub const ON_TIME_DAYS: i64 = 7;

/// `numerator / denominator` rounded to `decimals` places, half away from zero, computed
/// exactly on integers; `None` when `denominator` is 0.
pub fn rounded_ratio(numerator: i64, denominator: i64, decimals: u32) -> Option<f64> {
    if denominator == 0 {
        return None;
    }
    let scale = 10_i128.pow(decimals);
    let n = i128::from(numerator) * scale;
    let d = i128::from(denominator);
    let negative = (n < 0) != (d < 0);
    let (n, d) = (n.abs(), d.abs());
    let mut q = n / d;
    if 2 * (n % d) >= d {
        q += 1;
    }
    let q = if negative { -q } else { q };
    // Both are exact in f64 for every realistic value; the quotient is then the double
    // nearest to the decimal, as PostgreSQL's numeric → float8 gives.
    Some(q as f64 / scale as f64)
}

/// A rate: `part / whole` to 4 decimals; `None` when `whole` is 0.
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    rounded_ratio(part, whole, RATE_DECIMALS)
}

/// A mean: `sum / count` to 1 decimal; `None` when `count` is 0.
pub fn mean(sum: i64, count: i64) -> Option<f64> {
    rounded_ratio(sum, count, MEAN_DECIMALS)
}

/// An enrolled school as it now stands. Listed by code.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrolledSchool {
    pub code: String,
    pub name: String,
    /// `mam_non`, `tieu_hoc` or `thcs`.
    pub level: String,
    pub commune: String,
    /// The date of the first enrolment.
    pub enrolled_on: NaiveDate,
}

/// The period a view answers for.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodRange {
    /// As `Period` displays it: `2018-Q1`, `2017-2018-HK1`, `plan`, …
    pub period: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

// ---------------------------------------------------------------------------------------------
// Plan view

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetStatus {
    /// `target` is set and `activities >= target`.
    Met,
    /// `target` is set and `activities < target`.
    Missed,
    /// No target applies.
    NoTarget,
}

impl TargetStatus {
    pub fn code(&self) -> &'static str {
        match self {
            TargetStatus::Met => "met",
            TargetStatus::Missed => "missed",
            TargetStatus::NoTarget => "no_target",
        }
    }
}

/// Schools × content areas × period.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanView {
    pub period: PeriodRange,
    /// One per enrolled school × area 1..=6: by school code, then area.
    pub rows: Vec<PlanRow>,
    /// One per enrolled school, by code.
    pub schools: Vec<PlanSchoolSummary>,
    /// One per area, 1..=6.
    pub areas: Vec<PlanAreaSummary>,
    /// The schools with `areas_missed > 0`, by `areas_missed` descending, then code.
    pub lagging: Vec<PlanSchoolSummary>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanRow {
    pub school: String,
    pub area: u8,
    /// Live activities of the school in the area dated in the period.
    pub activities: i64,
    /// The distinct channel codes of those activities, sorted by code.
    pub channels: Vec<String>,
    /// Σ over targets matching the school's level (or null) and the area (or null) of
    /// `min_activities` × the number of `per` periods entirely inside the query period;
    /// `None` when that sum has no term (no district plan, no matching target, no period fits).
    pub target: Option<i64>,
    pub status: TargetStatus,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanSchoolSummary {
    pub school: String,
    /// Rows of the school with status `missed`.
    pub areas_missed: i64,
    /// Σ of the school's row `activities`.
    pub total_activities: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanAreaSummary {
    pub area: u8,
    /// Rows of the area with status `missed`.
    pub schools_missed: i64,
}

// ---------------------------------------------------------------------------------------------
// Completeness and timeliness

#[derive(Debug, Clone, PartialEq)]
pub struct CompletenessView {
    pub period: PeriodRange,
    /// One per enrolled school, by code.
    pub schools: Vec<SchoolCompleteness>,
    /// Enrolled schools.
    pub enrolled: i64,
    /// Enrolled schools with `reported`.
    pub reported: i64,
    /// `rate(reported, enrolled)`; `None` with no school enrolled.
    pub reporting_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SchoolCompleteness {
    pub school: String,
    /// Live activities dated in the period.
    pub activities: i64,
    /// Applied events (not dead-lettered, not held) whose `occurred_at` local date is in the
    /// period.
    pub events: i64,
    /// `activities > 0`.
    pub reported: bool,
    /// Of `events`, those with `delay_days <= 7`. `delay_days` = `recorded_at` local date −
    /// `occurred_at` local date, in whole days, never below 0.
    pub on_time: i64,
    /// `rate(on_time, events)`; `None` when `events` is 0.
    pub on_time_rate: Option<f64>,
    /// The largest `delay_days` of `events`; `None` when `events` is 0.
    pub max_delay_days: Option<i64>,
}

// ---------------------------------------------------------------------------------------------
// Responsiveness

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CaseKind {
    /// `feedback.received` / `feedback.answered`.
    Feedback,
    /// `press_issue.raised` / `press_issue.answered`.
    Press,
}

impl CaseKind {
    pub fn code(&self) -> &'static str {
        match self {
            CaseKind::Feedback => "feedback",
            CaseKind::Press => "press",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStatus {
    /// Open as of the as-of date, and open longer than the limit.
    Overdue,
    /// Answered (on or before the as-of date), later than the limit.
    Late,
}

impl CaseStatus {
    pub fn code(&self) -> &'static str {
        match self {
            CaseStatus::Overdue => "overdue",
            CaseStatus::Late => "late",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResponsivenessView {
    pub period: PeriodRange,
    /// The date cases are judged at: the query's, or the period's end.
    pub as_of: NaiveDate,
    /// The limits in force: the district plan's `answer_within_days`, or 15 and 7.
    pub feedback_within_days: i64,
    pub press_within_days: i64,
    /// One per enrolled school, by code.
    pub schools: Vec<SchoolResponsiveness>,
    /// District totals: counts summed; mean and max over all answered cases of the kind.
    pub feedback: CaseStats,
    pub press: CaseStats,
    /// Every overdue and late case, by school code, kind (feedback first), opening date, id.
    pub flagged: Vec<CaseLine>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SchoolResponsiveness {
    pub school: String,
    pub feedback: CaseStats,
    pub press: CaseStats,
}

/// Cases whose opening date is in the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseStats {
    pub received: i64,
    /// Answered on or before the as-of date.
    pub answered: i64,
    /// `received − answered`.
    pub open: i64,
    /// Open, and as-of − opening date > the limit.
    pub overdue: i64,
    /// Answered, and answer date − opening date > the limit.
    pub late: i64,
    /// `mean(Σ days_to_answer, answered)`; `None` when nothing is answered.
    pub mean_days_to_answer: Option<f64>,
    /// `None` when nothing is answered.
    pub max_days_to_answer: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseLine {
    pub school: String,
    pub kind: CaseKind,
    /// `feedback_id` or `issue_id`.
    pub id: String,
    /// The feedback's `subject` or the press issue's `title`.
    pub subject: String,
    pub opened_on: NaiveDate,
    /// Set for late cases; `None` for overdue (open) ones.
    pub answered_on: Option<NaiveDate>,
    /// Late: days to answer. Overdue: as-of − opening date.
    pub days: i64,
    pub status: CaseStatus,
}

// ---------------------------------------------------------------------------------------------
// Commendation

#[derive(Debug, Clone, PartialEq)]
pub struct CommendationView {
    pub period: PeriodRange,
    /// One per enrolled school × level (`school`, `district`, `province`, `ministry`,
    /// `government`, in that order), zeros included.
    pub counts: Vec<CommendationCount>,
    /// One per level, same order: the district's totals.
    pub levels: Vec<LevelCount>,
    /// Nominations dated in the period or awarded by a decision dated in the period, by school
    /// code, nomination date, nomination id.
    pub nominations: Vec<NominationLine>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommendationCount {
    pub school: String,
    pub level: String,
    /// Nominations dated in the period with this proposed level.
    pub nominated: i64,
    /// Awards whose decision date is in the period, at this awarded level.
    pub awarded: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LevelCount {
    pub level: String,
    pub nominated: i64,
    pub awarded: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NominationLine {
    pub school: String,
    pub nomination_id: String,
    pub date: NaiveDate,
    /// `individual` or `collective`.
    pub nominee_kind: String,
    pub nominee: String,
    pub achievement: String,
    pub proposed_level: String,
    /// The award's level, number and date when its decision is dated on or before the
    /// period's end; `None` otherwise.
    pub awarded_level: Option<String>,
    pub decision_number: Option<String>,
    pub decision_date: Option<NaiveDate>,
}

// ---------------------------------------------------------------------------------------------
// Budget

#[derive(Debug, Clone, PartialEq)]
pub struct BudgetView {
    pub year: i32,
    /// One per enrolled school, by code.
    pub schools: Vec<BudgetRow>,
    pub total: BudgetTotal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BudgetRow {
    pub school: String,
    /// Total of the latest `budget.estimated` of the year (by seq); 0 if none.
    pub estimated: i64,
    /// Σ `expense.recorded` amounts with `spent_on` in the year.
    pub spent: i64,
    /// `settled_amount` of the year's `budget.settled`, or `None`.
    pub settled: Option<i64>,
    /// `rate(spent, estimated)`; `None` when `estimated` is 0.
    pub execution_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BudgetTotal {
    pub estimated: i64,
    pub spent: i64,
    /// Σ of the schools' settled amounts; `None` when no school has settled the year.
    pub settled: Option<i64>,
    /// Schools that have settled the year.
    pub schools_settled: i64,
    /// `rate(spent, estimated)` of the totals; `None` when `estimated` is 0.
    pub execution_rate: Option<f64>,
}

// ---------------------------------------------------------------------------------------------
// Activity search

/// Every filter optional; all given ones must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityFilter {
    pub school: Option<Slug>,
    pub area: Option<ContentArea>,
    /// A topic code of the activity's area.
    pub topic: Option<Slug>,
    pub channel: Option<Channel>,
    pub responsible: Option<Role>,
    /// Activities dated in the period (refused like every view's period).
    pub period: Option<Period>,
    /// Every word of it, folded, must begin a word of the folded title, summary, audience or
    /// partner ([`super::folding::matches_all_words`]). Blank means no text filter.
    pub text: Option<String>,
}

/// Page size when none (or 0) is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page; larger requests get this many.
pub const MAX_PAGE_SIZE: u32 = 500;

/// The page size to use for a request: 0 or none → 50; above 500 → 500.
pub fn page_size(requested: Option<u32>) -> usize {
    let size = match requested {
        None | Some(0) => DEFAULT_PAGE_SIZE,
        Some(n) => n.min(MAX_PAGE_SIZE),
    };
    size as usize
}

/// A page of live activities, by date descending, then school code, then activity id.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityPage {
    pub activities: Vec<ActivityLine>,
    /// The token of the next page; `None` on the last page.
    pub next_page_token: Option<String>,
}

/// An activity as it now stands (after its corrections).
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityLine {
    pub school: String,
    pub activity_id: String,
    pub date: NaiveDate,
    pub area: u8,
    pub topic: Option<String>,
    pub channel: String,
    pub title: String,
    pub summary: String,
    pub audience: Option<String>,
    pub reach: Option<i64>,
    pub partner: Option<String>,
    pub evidence_url: Option<String>,
    pub responsible: String,
}

/// Where a page ends: the sort key of its last activity. A page token is its text,
/// `<date>.<school>.<activity_id>` (`2018-03-05.thcs-an-hoa.0192…`); clients treat it as
/// opaque. The next page holds the activities sorting strictly after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityCursor {
    pub date: NaiveDate,
    pub school: String,
    pub activity_id: Uuid,
}

impl ActivityCursor {
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.date, self.school, self.activity_id)
    }

    /// Reads a token this service issued; reports field `page_token` otherwise.
    pub fn decode(token: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::invalid(
                "page_token",
                Rule::InvalidValue {
                    value: token.to_string(),
                    expected: "a page token returned with the previous page",
                },
            )
        };
        let mut parts = token.split('.');
        let (Some(date), Some(school), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        Ok(Self {
            date: date.parse().map_err(|_| bad())?,
            school: Slug::parse("page_token", school)
                .map_err(|_| bad())?
                .to_string(),
            activity_id: id.parse().map_err(|_| bad())?,
        })
    }

    /// Whether an activity with this key sorts strictly after the cursor (date descending,
    /// school ascending, id ascending).
    pub fn precedes(&self, date: NaiveDate, school: &str, activity_id: Uuid) -> bool {
        (std::cmp::Reverse(date), school, activity_id)
            > (
                std::cmp::Reverse(self.date),
                self.school.as_str(),
                self.activity_id,
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_round_half_away_from_zero_exactly() {
        assert_eq!(rate(5, 6), Some(0.8333));
        assert_eq!(rate(2, 3), Some(0.6667));
        assert_eq!(rate(1, 8), Some(0.125));
        assert_eq!(rate(0, 4), Some(0.0));
        assert_eq!(rate(3, 0), None);
        assert_eq!(mean(9, 2), Some(4.5));
        assert_eq!(mean(1, 4), Some(0.3), "0.25 rounds up");
        assert_eq!(mean(-1, 4), Some(-0.3));
        assert_eq!(
            rounded_ratio(1, 20_000, 4),
            Some(0.0001),
            "0.00005 rounds up"
        );
        assert_eq!(rate(4_200_000, 4_500_000), Some(0.9333));
    }

    #[test]
    fn page_sizes_and_tokens() {
        assert_eq!(page_size(None), 50);
        assert_eq!(page_size(Some(0)), 50);
        assert_eq!(page_size(Some(7)), 7);
        assert_eq!(page_size(Some(10_000)), 500);
        let cursor = ActivityCursor {
            date: NaiveDate::from_ymd_opt(2018, 3, 5).unwrap(),
            school: "thcs-an-hoa".into(),
            activity_id: Uuid::from_u128(9),
        };
        assert_eq!(ActivityCursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in [
            "",
            "x",
            "2018-03-05.thcs-an-hoa",
            "2018-13-05.a.b",
            "a.b.c.d",
        ] {
            assert_eq!(ActivityCursor::decode(bad).unwrap_err().field, "page_token");
        }
        let d = |day| NaiveDate::from_ymd_opt(2018, 3, day).unwrap();
        assert!(cursor.precedes(d(4), "a", Uuid::nil()), "older sorts later");
        assert!(cursor.precedes(d(5), "thcs-an-hoa", Uuid::from_u128(10)));
        assert!(!cursor.precedes(d(5), "thcs-an-hoa", Uuid::from_u128(9)));
        assert!(!cursor.precedes(d(6), "z", Uuid::nil()));
    }
}
