//! The plan view from its rows: live activities of the period per school, area and channel.
//!
//! From those counts and the district plan follow every other figure of the view: each row's
//! channel list, target and status; the per-school summaries (`areas_missed`,
//! `total_activities`); the per-area summaries (`schools_missed`); the lagging schools in
//! their order.

use std::collections::{BTreeMap, BTreeSet};

use crate::calendar::DateRange;
use crate::district::facts::{DistrictPlan, Enrolment, SchoolLevel};
use crate::district::periods::target_periods_within;
use crate::district::views::{PlanAreaSummary, PlanRow, PlanSchoolSummary, PlanView, TargetStatus};
use crate::roles::ContentArea;

use super::{ViewPeriod, count};

/// Live activities dated in the period, per school, content area and channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityCounts {
    /// School code → area number → the cell.
    schools: BTreeMap<String, BTreeMap<u8, Cell>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Cell {
    activities: i64,
    channels: BTreeSet<String>,
}

impl ActivityCounts {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts `activities` live activities of `school` in `area` through `channel`. A count
    /// of zero or less adds nothing: a channel is listed only when an activity used it.
    pub fn add(&mut self, school: &str, area: u8, channel: &str, activities: i64) {
        if activities <= 0 {
            return;
        }
        let areas = match self.schools.get_mut(school) {
            Some(areas) => areas,
            None => self.schools.entry(school.to_owned()).or_default(),
        };
        let cell = areas.entry(area).or_default();
        cell.activities += activities;
        if !cell.channels.contains(channel) {
            cell.channels.insert(channel.to_owned());
        }
    }

    fn cell(&self, school: &str, area: u8) -> Option<&Cell> {
        self.schools.get(school)?.get(&area)
    }
}

/// The target of a school of `level` in `area` for the dates `range`: Σ over the district
/// plan's targets matching the level (or none) and the area (or none) of `min_activities` ×
/// the target periods lying entirely inside `range` and overlapping the plan's period.
/// `None` when that sum has no positive term: no plan, no matching target, no period fits.
pub fn target_for(
    plan: Option<&DistrictPlan>,
    level: SchoolLevel,
    area: ContentArea,
    range: DateRange,
) -> Option<i64> {
    let plan = plan?;
    let terms: Vec<i64> = plan
        .targets
        .iter()
        .filter(|t| t.applies_to(level, area))
        .map(|t| i64::from(t.min_activities) * target_periods_within(t.per, range, plan.period))
        .filter(|term| *term > 0)
        .collect();
    (!terms.is_empty()).then(|| terms.iter().sum())
}

/// `Met` when there is a target and the activities reach it, `Missed` when they do not,
/// `NoTarget` without a target.
pub fn target_status(activities: i64, target: Option<i64>) -> TargetStatus {
    match target {
        None => TargetStatus::NoTarget,
        Some(t) if activities >= t => TargetStatus::Met,
        Some(_) => TargetStatus::Missed,
    }
}

/// A school's summary from its rows: rows `missed`, and the Σ of their activities.
pub fn school_summary(school: &str, rows: &[PlanRow]) -> PlanSchoolSummary {
    let own = rows.iter().filter(|r| r.school == school);
    PlanSchoolSummary {
        school: school.to_owned(),
        areas_missed: count(
            own.clone()
                .filter(|r| r.status == TargetStatus::Missed)
                .count(),
        ),
        total_activities: own.map(|r| r.activities).sum(),
    }
}

/// One summary per content area 1..=6: the rows of the area `missed`.
pub fn area_summaries(rows: &[PlanRow]) -> Vec<PlanAreaSummary> {
    ContentArea::ALL
        .iter()
        .map(|area| PlanAreaSummary {
            area: area.number(),
            schools_missed: count(
                rows.iter()
                    .filter(|r| r.area == area.number() && r.status == TargetStatus::Missed)
                    .count(),
            ),
        })
        .collect()
}

/// The schools with `areas_missed > 0`, by `areas_missed` descending, then code.
pub fn lagging(schools: &[PlanSchoolSummary]) -> Vec<PlanSchoolSummary> {
    let mut lagging: Vec<PlanSchoolSummary> = schools
        .iter()
        .filter(|s| s.areas_missed > 0)
        .cloned()
        .collect();
    lagging.sort_by(|a, b| {
        b.areas_missed
            .cmp(&a.areas_missed)
            .then_with(|| a.school.cmp(&b.school))
    });
    lagging
}

/// The plan view of the enrolled schools (by code) for `period`, from the live activity
/// counts of the period.
pub fn plan_view<'a>(
    period: ViewPeriod,
    plan: Option<&DistrictPlan>,
    enrolments: impl IntoIterator<Item = &'a Enrolment>,
    counts: &ActivityCounts,
) -> PlanView {
    // Targets depend only on the level and the area: computed once for each.
    let mut targets: BTreeMap<(SchoolLevel, ContentArea), Option<i64>> = BTreeMap::new();
    let mut rows = Vec::new();
    let mut schools = Vec::new();
    for enrolment in enrolments {
        let code = enrolment.code.as_str();
        let first = rows.len();
        for area in ContentArea::ALL.iter().copied() {
            let target = *targets
                .entry((enrolment.level, area))
                .or_insert_with(|| target_for(plan, enrolment.level, area, period.range));
            let cell = counts.cell(code, area.number());
            let activities = cell.map_or(0, |c| c.activities);
            rows.push(PlanRow {
                school: code.to_owned(),
                area: area.number(),
                activities,
                channels: cell.map_or_else(Vec::new, |c| c.channels.iter().cloned().collect()),
                target,
                status: target_status(activities, target),
            });
        }
        schools.push(school_summary(code, &rows[first..]));
    }
    PlanView {
        period: period.shown,
        areas: area_summaries(&rows),
        lagging: lagging(&schools),
        rows,
        schools,
    }
}

#[cfg(test)]
mod tests {
    use super::super::given::*;
    use super::*;
    use crate::district::facts::TargetPer;
    use crate::district::views::PeriodRange;

    use ContentArea::*;
    use SchoolLevel::*;

    fn summary(school: &str, areas_missed: i64, total_activities: i64) -> PlanSchoolSummary {
        PlanSchoolSummary {
            school: school.into(),
            areas_missed,
            total_activities,
        }
    }

    fn row(school: &str, area: u8, activities: i64, target: Option<i64>) -> PlanRow {
        PlanRow {
            school: school.into(),
            area,
            activities,
            channels: vec![],
            target,
            status: target_status(activities, target),
        }
    }

    #[test]
    fn given_a_target_when_activities_reach_it_then_met_and_below_it_missed() {
        assert_eq!(target_status(2, Some(2)), TargetStatus::Met);
        assert_eq!(target_status(3, Some(2)), TargetStatus::Met);
        assert_eq!(target_status(1, Some(2)), TargetStatus::Missed);
        assert_eq!(target_status(0, Some(1)), TargetStatus::Missed);
        assert_eq!(
            target_status(0, Some(0)),
            TargetStatus::Met,
            "nothing asked"
        );
        assert_eq!(target_status(5, None), TargetStatus::NoTarget);
        assert_eq!(target_status(0, None), TargetStatus::NoTarget);
    }

    #[test]
    fn given_matching_targets_when_summed_then_each_counts_its_periods_inside_the_query() {
        let plan = district_plan(vec![
            target(None, None, TargetPer::Quarter, 2),
            target(Some(Thcs), Some(Tasks), TargetPer::Semester, 3),
            target(Some(MamNon), None, TargetPer::SchoolYear, 5),
        ]);
        let plan = Some(&plan);
        let q1 = range(d(2018, 1, 1), d(2018, 3, 31));
        // One quarter; no semester or school year lies inside a quarter.
        assert_eq!(target_for(plan, Thcs, Tasks, q1), Some(2));
        assert_eq!(target_for(plan, MamNon, Tasks, q1), Some(2));
        // 2018-2019: quarters Q4 2018, Q1 and Q2 2019 → 3 × 2 (Q3 2018 began in July, Q3 2019
        // ends in September);
        // HK I and HK II → 2 × 3; the school year itself → 1 × 5.
        let year = range(d(2018, 9, 1), d(2019, 8, 31));
        assert_eq!(target_for(plan, Thcs, Tasks, year), Some(3 * 2 + 2 * 3));
        assert_eq!(target_for(plan, Thcs, Other, year), Some(3 * 2));
        assert_eq!(target_for(plan, MamNon, Other, year), Some(3 * 2 + 5));
        // 2017: the plan began on 18 Oct, so only Q4 is due.
        let y2017 = range(d(2017, 1, 1), d(2017, 12, 31));
        assert_eq!(target_for(plan, TieuHoc, Tasks, y2017), Some(2));
    }

    #[test]
    fn given_no_target_period_fits_when_summed_then_no_target_rather_than_zero() {
        let plan = district_plan(vec![target(
            Some(Thcs),
            Some(Tasks),
            TargetPer::Semester,
            3,
        )]);
        let q1 = range(d(2018, 1, 1), d(2018, 3, 31));
        assert_eq!(target_for(Some(&plan), Thcs, Tasks, q1), None, "0 periods");
        assert_eq!(
            target_for(Some(&plan), TieuHoc, Tasks, q1),
            None,
            "level differs"
        );
        assert_eq!(
            target_for(Some(&plan), Thcs, Other, q1),
            None,
            "area differs"
        );
        assert_eq!(target_for(None, Thcs, Tasks, q1), None, "no district plan");
        let before = range(d(2016, 1, 1), d(2016, 12, 31));
        let quarterly = district_plan(vec![target(None, None, TargetPer::Quarter, 2)]);
        assert_eq!(
            target_for(Some(&quarterly), Thcs, Tasks, before),
            None,
            "before the plan"
        );
    }

    #[test]
    fn given_rows_when_summarised_then_missed_rows_and_activities_of_the_school_only() {
        let rows = vec![
            row("a", 1, 3, Some(2)),
            row("a", 2, 1, Some(2)),
            row("a", 3, 0, Some(2)),
            row("a", 4, 4, None),
            row("b", 1, 0, Some(2)),
        ];
        assert_eq!(school_summary("a", &rows), summary("a", 2, 8));
        assert_eq!(school_summary("b", &rows), summary("b", 1, 0));
        assert_eq!(school_summary("c", &rows), summary("c", 0, 0));
        let areas = area_summaries(&rows);
        let missed: Vec<(u8, i64)> = areas.iter().map(|a| (a.area, a.schools_missed)).collect();
        assert_eq!(missed, [(1, 1), (2, 1), (3, 1), (4, 0), (5, 0), (6, 0)]);
    }

    #[test]
    fn given_ties_when_ordered_then_most_areas_missed_first_and_ties_by_code() {
        let schools = vec![
            summary("th-phu-duc", 2, 10),
            summary("mn-phu-tho", 0, 4),
            summary("thcs-an-hoa", 2, 3),
            summary("mn-tan-cong-sinh", 5, 0),
            summary("th-an-phong", 1, 50),
        ];
        let lagging_schools = lagging(&schools);
        let order: Vec<&str> = lagging_schools.iter().map(|s| s.school.as_str()).collect();
        assert_eq!(
            order,
            [
                "mn-tan-cong-sinh",
                "th-phu-duc",
                "thcs-an-hoa",
                "th-an-phong"
            ],
            "byte order of codes: th-phu-duc < thcs-an-hoa since '-' < 'c'"
        );
        assert_eq!(lagging(&[summary("a", 0, 9)]), vec![]);
    }

    #[test]
    fn given_counts_when_assembled_then_rows_channels_targets_and_summaries() {
        let plan = district_plan(vec![
            target(None, None, TargetPer::Quarter, 2),
            target(Some(Thcs), Some(Tasks), TargetPer::Quarter, 1),
        ]);
        let schools = [
            enrolment("mn-phu-tho", MamNon),
            enrolment("thcs-an-hoa", Thcs),
        ];
        let mut counts = ActivityCounts::new();
        counts.add("thcs-an-hoa", 3, "school_portal", 1);
        counts.add("thcs-an-hoa", 3, "district_radio", 1);
        counts.add("thcs-an-hoa", 3, "school_portal", 1);
        counts.add("thcs-an-hoa", 1, "meeting", 2);
        counts.add("mn-phu-tho", 4, "facebook", 0);
        counts.add("not-enrolled", 1, "meeting", 9);

        let view = plan_view(
            period(Some(&plan), "2018-Q1"),
            Some(&plan),
            &schools,
            &counts,
        );

        assert_eq!(
            view.period,
            PeriodRange {
                period: "2018-Q1".into(),
                start: d(2018, 1, 1),
                end: d(2018, 3, 31),
            }
        );
        assert_eq!(view.rows.len(), 12, "2 schools × 6 areas");
        let an_hoa_tasks = &view.rows[6 + 2];
        assert_eq!(
            an_hoa_tasks,
            &PlanRow {
                school: "thcs-an-hoa".into(),
                area: 3,
                activities: 3,
                channels: vec!["district_radio".into(), "school_portal".into()],
                target: Some(3),
                status: TargetStatus::Met,
            }
        );
        assert_eq!(
            view.rows[6].status,
            TargetStatus::Met,
            "an hoa area 1: 2 of 2"
        );
        assert_eq!(
            view.rows[3].channels,
            Vec::<String>::new(),
            "zero adds no channel"
        );
        assert_eq!(
            view.schools,
            vec![summary("mn-phu-tho", 6, 0), summary("thcs-an-hoa", 4, 5)]
        );
        let missed: Vec<i64> = view.areas.iter().map(|a| a.schools_missed).collect();
        assert_eq!(missed, [1, 2, 1, 2, 2, 2]);
        assert_eq!(
            view.lagging,
            vec![summary("mn-phu-tho", 6, 0), summary("thcs-an-hoa", 4, 5)]
        );
    }

    #[test]
    fn given_no_plan_when_assembled_then_no_target_anywhere_and_nobody_lags() {
        let schools = [enrolment("thcs-an-hoa", Thcs)];
        let mut counts = ActivityCounts::new();
        counts.add("thcs-an-hoa", 2, "meeting", 1);
        let view = plan_view(period(None, "2018-Q1"), None, &schools, &counts);
        assert!(view.rows.iter().all(|r| r.target.is_none()));
        assert!(view.rows.iter().all(|r| r.status == TargetStatus::NoTarget));
        assert_eq!(view.schools, vec![summary("thcs-an-hoa", 0, 1)]);
        assert!(view.areas.iter().all(|a| a.schools_missed == 0));
        assert_eq!(view.lagging, vec![]);
    }

    #[test]
    fn given_an_empty_period_when_assembled_then_zeros_and_every_target_missed() {
        let plan = district_plan(vec![target(None, None, TargetPer::Quarter, 1)]);
        let schools = [
            enrolment("th-phu-duc", TieuHoc),
            enrolment("thcs-an-hoa", Thcs),
        ];
        let view = plan_view(
            period(Some(&plan), "2019-Q2"),
            Some(&plan),
            &schools,
            &ActivityCounts::new(),
        );
        assert!(
            view.rows
                .iter()
                .all(|r| r.activities == 0 && r.channels.is_empty())
        );
        assert!(view.rows.iter().all(|r| r.status == TargetStatus::Missed));
        assert_eq!(
            view.lagging,
            vec![summary("th-phu-duc", 6, 0), summary("thcs-an-hoa", 6, 0)],
            "a tie on six areas: by code"
        );
        assert!(view.areas.iter().all(|a| a.schools_missed == 2));
    }

    #[test]
    fn given_no_school_enrolled_when_assembled_then_empty_lists_and_six_area_lines() {
        let view = plan_view(
            period(None, "2018"),
            None,
            std::iter::empty(),
            &ActivityCounts::new(),
        );
        assert_eq!(view.rows, vec![]);
        assert_eq!(view.schools, vec![]);
        assert_eq!(view.areas.len(), 6);
        assert_eq!(view.lagging, vec![]);
    }
}
