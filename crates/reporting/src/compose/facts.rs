//! What the report's text is written from: the aggregator's answers narrowed to the report's
//! scope and summed up the ways the sections and the directions need (per area, per channel,
//! the lagging schools, the late reporters, the overdue cases, the pending nominations, the
//! budgets that lag). Derived once, so the overview, the assessment and the directions can
//! never tell different stories.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use domain::Channel;
use domain::district::views::{
    ActivityLine, CaseLine, CaseStatus, EnrolledSchool, PlanRow, TargetStatus,
};

use crate::data::ReportData;

/// Below this share of events recorded within 7 days, a school is named as a late reporter.
/// The district expects most facts on record within the week; 80% leaves room for the odd
/// late entry without hiding a school that reports in batches.
pub const ON_TIME_EXPECTED: f64 = 0.8;
/// Below this share of its estimate spent in a year that has ended, a school's budget is
/// named as under-used.
pub const BUDGET_EXPECTED: f64 = 0.5;
/// Highlights shown per content area.
pub const HIGHLIGHTS: usize = 3;

/// The scoped, summed-up data of one report.
#[derive(Debug)]
pub struct Facts<'a> {
    pub data: &'a ReportData,
    /// The schools in scope, by code.
    pub schools: Vec<&'a EnrolledSchool>,
    /// The plan view's rows in scope.
    pub rows: Vec<&'a PlanRow>,
    /// Areas 1..=6.
    pub areas: Vec<AreaFacts<'a>>,
    /// Every channel, most used first (then by code), unused ones included.
    pub channels: Vec<ChannelFacts>,
    pub total_activities: i64,
    /// Schools that missed at least one area: most missed first (the aggregator's order).
    pub lagging: Vec<Lagging<'a>>,
    /// Schools with a target in some area and none missed.
    pub met_all: Vec<&'a str>,
    /// Schools (names) with no activity in the period.
    pub not_reported: Vec<&'a str>,
    /// Schools that recorded fewer than [`ON_TIME_EXPECTED`] of their events on time.
    pub late_reporters: Vec<LateReporter<'a>>,
    /// Open cases past their limit, by school (in scope).
    pub overdue: Vec<&'a CaseLine>,
    /// Cases answered after their limit (in scope).
    pub late_answers: Vec<&'a CaseLine>,
    /// Nominations without an award yet, per school name.
    pub pending_nominations: Vec<(&'a str, i64)>,
    /// Budgets of ended years spent below [`BUDGET_EXPECTED`].
    pub low_budgets: Vec<(&'a str, i32, f64)>,
    /// Ended years with an estimate and no settlement.
    pub unsettled: Vec<(&'a str, i32)>,
}

#[derive(Debug)]
pub struct AreaFacts<'a> {
    pub area: u8,
    pub activities: i64,
    /// Schools with at least one activity in the area.
    pub schools_active: i64,
    pub schools_met: i64,
    pub schools_missed: i64,
    /// Σ targets of the schools in scope; `None` when no target applies to any.
    pub target: Option<i64>,
    /// The status of the one school, in a school's report.
    pub status: Option<TargetStatus>,
    /// Channel codes with their activity counts, most used first.
    pub channels: Vec<(String, i64)>,
    /// Σ of the known reach of the area's activities.
    pub reach: i64,
    /// The activities with the widest reach (then the newest).
    pub highlights: Vec<&'a ActivityLine>,
}

#[derive(Debug, Clone)]
pub struct ChannelFacts {
    pub code: &'static str,
    pub activities: i64,
    pub schools: i64,
}

#[derive(Debug)]
pub struct Lagging<'a> {
    pub name: &'a str,
    /// (area, activities, target) of each missed area.
    pub missed: Vec<(u8, i64, i64)>,
}

#[derive(Debug)]
pub struct LateReporter<'a> {
    pub name: &'a str,
    pub on_time_rate: f64,
    pub max_delay_days: Option<i64>,
}

impl<'a> Facts<'a> {
    pub fn new(data: &'a ReportData) -> Self {
        let schools: Vec<&EnrolledSchool> = data
            .schools
            .iter()
            .filter(|s| data.in_scope(&s.code))
            .collect();
        let rows: Vec<&PlanRow> = data
            .plan_view
            .rows
            .iter()
            .filter(|r| data.in_scope(&r.school))
            .collect();
        let activities: Vec<&ActivityLine> = data
            .activities
            .iter()
            .filter(|a| data.in_scope(&a.school))
            .collect();
        let scoped_school = data.school.is_some();

        let areas = (1..=6u8)
            .map(|area| {
                let area_rows: Vec<&&PlanRow> = rows.iter().filter(|r| r.area == area).collect();
                let mut channels: BTreeMap<&str, i64> = BTreeMap::new();
                let mut reach = 0;
                let mut in_area: Vec<&ActivityLine> = Vec::new();
                for a in activities.iter().filter(|a| a.area == area) {
                    *channels.entry(a.channel.as_str()).or_default() += 1;
                    reach += a.reach.unwrap_or(0);
                    in_area.push(a);
                }
                let mut channels: Vec<(String, i64)> = channels
                    .into_iter()
                    .map(|(c, n)| (c.to_string(), n))
                    .collect();
                channels.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                // Widest reach first; the search's order (newest first) breaks ties.
                in_area.sort_by_key(|a| std::cmp::Reverse(a.reach.unwrap_or(0)));
                in_area.truncate(HIGHLIGHTS);
                let targets: Vec<i64> = area_rows.iter().filter_map(|r| r.target).collect();
                AreaFacts {
                    area,
                    activities: area_rows.iter().map(|r| r.activities).sum(),
                    schools_active: area_rows.iter().filter(|r| r.activities > 0).count() as i64,
                    schools_met: count_status(&area_rows, TargetStatus::Met),
                    schools_missed: count_status(&area_rows, TargetStatus::Missed),
                    target: (!targets.is_empty()).then(|| targets.iter().sum()),
                    status: scoped_school
                        .then(|| area_rows.first().map(|r| r.status))
                        .flatten(),
                    channels,
                    reach,
                    highlights: in_area,
                }
            })
            .collect();

        let mut channels: Vec<ChannelFacts> = Channel::ALL
            .iter()
            .map(|c| {
                let used: Vec<&&ActivityLine> = activities
                    .iter()
                    .filter(|a| a.channel == c.code())
                    .collect();
                let mut by_school: Vec<&str> = used.iter().map(|a| a.school.as_str()).collect();
                by_school.sort_unstable();
                by_school.dedup();
                ChannelFacts {
                    code: c.code(),
                    activities: used.len() as i64,
                    schools: by_school.len() as i64,
                }
            })
            .collect();
        channels.sort_by(|a, b| b.activities.cmp(&a.activities).then(a.code.cmp(b.code)));

        let lagging = data
            .plan_view
            .lagging
            .iter()
            .filter(|s| data.in_scope(&s.school))
            .map(|s| Lagging {
                name: data.school_name(&s.school),
                missed: rows
                    .iter()
                    .filter(|r| r.school == s.school && r.status == TargetStatus::Missed)
                    .map(|r| (r.area, r.activities, r.target.unwrap_or(0)))
                    .collect(),
            })
            .collect();
        let met_all = schools
            .iter()
            .filter(|s| {
                let mine = rows.iter().filter(|r| r.school == s.code);
                let mut any_target = false;
                for r in mine {
                    match r.status {
                        TargetStatus::Missed => return false,
                        TargetStatus::Met => any_target = true,
                        TargetStatus::NoTarget => {}
                    }
                }
                any_target
            })
            .map(|s| s.name.as_str())
            .collect();

        let completeness: Vec<_> = data
            .completeness
            .schools
            .iter()
            .filter(|s| data.in_scope(&s.school))
            .collect();
        let not_reported = completeness
            .iter()
            .filter(|s| !s.reported)
            .map(|s| data.school_name(&s.school))
            .collect();
        let late_reporters = completeness
            .iter()
            .filter_map(|s| {
                let rate = s.on_time_rate?;
                (rate < ON_TIME_EXPECTED).then(|| LateReporter {
                    name: data.school_name(&s.school),
                    on_time_rate: rate,
                    max_delay_days: s.max_delay_days,
                })
            })
            .collect();

        let flagged: Vec<&CaseLine> = data
            .responsiveness
            .flagged
            .iter()
            .filter(|c| data.in_scope(&c.school))
            .collect();
        let overdue = flagged
            .iter()
            .copied()
            .filter(|c| c.status == CaseStatus::Overdue)
            .collect();
        let late_answers = flagged
            .iter()
            .copied()
            .filter(|c| c.status == CaseStatus::Late)
            .collect();

        let mut pending: BTreeMap<&str, i64> = BTreeMap::new();
        for n in data
            .commendation
            .nominations
            .iter()
            .filter(|n| data.in_scope(&n.school) && n.awarded_level.is_none())
        {
            *pending.entry(n.school.as_str()).or_default() += 1;
        }
        let pending_nominations = pending
            .into_iter()
            .map(|(code, n)| (data.school_name(code), n))
            .collect();

        let mut low_budgets = Vec::new();
        let mut unsettled = Vec::new();
        for budget in &data.budgets {
            let ended = year_end(budget.year).is_some_and(|end| end <= data.as_of);
            if !ended {
                continue;
            }
            for row in budget.schools.iter().filter(|r| data.in_scope(&r.school)) {
                let name = data.school_name(&row.school);
                if let Some(rate) = row.execution_rate
                    && rate < BUDGET_EXPECTED
                {
                    low_budgets.push((name, budget.year, rate));
                }
                if row.estimated > 0 && row.settled.is_none() {
                    unsettled.push((name, budget.year));
                }
            }
        }

        Facts {
            data,
            total_activities: rows.iter().map(|r| r.activities).sum(),
            schools,
            rows,
            areas,
            channels,
            lagging,
            met_all,
            not_reported,
            late_reporters,
            overdue,
            late_answers,
            pending_nominations,
            low_budgets,
            unsettled,
        }
    }

    /// Whether the report is about one school.
    pub fn scoped(&self) -> bool {
        self.data.school.is_some()
    }

    /// Channels with at least one activity.
    pub fn used_channels(&self) -> impl Iterator<Item = &ChannelFacts> {
        self.channels.iter().filter(|c| c.activities > 0)
    }
}

fn count_status(rows: &[&&PlanRow], status: TargetStatus) -> i64 {
    rows.iter().filter(|r| r.status == status).count() as i64
}

fn year_end(year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, 12, 31).filter(|d| d.year() == year)
}
