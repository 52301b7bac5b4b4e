//! [`ReportData`]: everything a report says, as the district aggregator answered it.
//!
//! [`crate::gather`] fills it over gRPC; [`crate::compose`] turns it into a
//! [`crate::model::Report`] without any I/O. Keeping the two apart makes the report's
//! wording and arithmetic testable on small hand-built data, and guarantees that every figure
//! comes from one set of answers fetched for one period.
//!
//! The views are the domain's own view types (`domain::district::views`), converted from
//! protobuf at the edge, so the report reads the same shapes the aggregator's contract defines.

use chrono::NaiveDate;
use domain::district::DistrictPlan;
use domain::district::views::{
    ActivityLine, BudgetView, CommendationView, CompletenessView, EnrolledSchool, PlanView,
    ResponsivenessView,
};
use domain::{DateRange, Period};

/// The aggregator's answers for one report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportData {
    /// The period asked for.
    pub period: Period,
    /// Its dates (for `plan`, the district plan's period).
    pub range: DateRange,
    /// The date citizen feedback and press issues are judged at: the period's end, or the day
    /// the data was gathered when the period has not ended yet.
    pub as_of: NaiveDate,
    /// The school the report is scoped to (a code of `schools`); `None` for the district.
    pub school: Option<String>,
    /// The district plan in force (1442/KH-PGDĐT).
    pub district_plan: DistrictPlan,
    /// Every enrolled school, by code.
    pub schools: Vec<EnrolledSchool>,
    /// The plan view of the period, for every school.
    pub plan_view: PlanView,
    /// Completeness and timeliness of the period, for every school.
    pub completeness: CompletenessView,
    /// Responsiveness of the period as of `as_of`, for every school.
    pub responsiveness: ResponsivenessView,
    /// Commendation of the period, for every school.
    pub commendation: CommendationView,
    /// The budget of each calendar year the period touches (inside the plan's years).
    pub budgets: Vec<BudgetView>,
    /// The live activities of the period (of the scoped school only, when scoped), newest
    /// first, as the activity search lists them.
    pub activities: Vec<ActivityLine>,
}

impl ReportData {
    /// The name of an enrolled school, or its code when unknown.
    pub fn school_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.schools
            .iter()
            .find(|s| s.code == code)
            .map_or(code, |s| s.name.as_str())
    }

    /// Whether a row of `school` belongs in the report.
    pub fn in_scope(&self, school: &str) -> bool {
        self.school.as_deref().is_none_or(|s| s == school)
    }
}
