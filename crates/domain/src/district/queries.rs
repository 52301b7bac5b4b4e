//! The views of `docs/district-views.md`, answered from the reference model. Each function
//! follows the page's definition line by line; the types and their exact meaning are in
//! [`super::views`].

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};

use crate::calendar::{DateRange, Period};
use crate::codes::Slug;
use crate::district::facts::AnswerWithinDays;
use crate::district::model::{CaseRow, DistrictModel, SchoolData};
use crate::district::periods::{resolve_period, target_periods_within};
use crate::district::views::{
    ActivityCursor, ActivityFilter, ActivityLine, ActivityPage, BudgetRow, BudgetTotal, BudgetView,
    CaseKind, CaseLine, CaseStats, CaseStatus, CommendationCount, CommendationView,
    CompletenessView, EnrolledSchool, LevelCount, NominationLine, PeriodRange, PlanAreaSummary,
    PlanRow, PlanSchoolSummary, PlanView, ResponsivenessView, SchoolCompleteness,
    SchoolResponsiveness, TargetStatus, mean, page_size, rate,
};
use crate::district::{facts::SchoolLevel, folding};
use crate::error::{DomainError, Rule};
use crate::roles::{CommendationLevel, ContentArea};

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl DistrictModel {
    fn range(&self, period: Period) -> Result<(DateRange, PeriodRange), DomainError> {
        let range = resolve_period(self.district_plan(), period)?;
        let shown = PeriodRange {
            period: period.to_string(),
            start: range.start(),
            end: range.end(),
        };
        Ok((range, shown))
    }

    /// Enrolled schools with their data and level, by code.
    fn enrolled(&self) -> impl Iterator<Item = (&Slug, SchoolLevel, &SchoolData)> {
        self.office.enrolments().filter_map(|e| {
            self.schools
                .get(&e.code)
                .map(|data| (&e.code, e.level, data))
        })
    }

    /// The enrolled schools as they now stand, by code.
    pub fn schools(&self) -> Vec<EnrolledSchool> {
        self.office
            .enrolments()
            .map(|e| EnrolledSchool {
                code: e.code.to_string(),
                name: e.name.clone(),
                level: e.level.code().to_string(),
                commune: e.commune.clone(),
                enrolled_on: e.enrolled_on,
            })
            .collect()
    }

    /// Schools × content areas × period, with targets met or missed.
    pub fn plan_view(&self, period: Period) -> Result<PlanView, DomainError> {
        let (range, shown) = self.range(period)?;
        let targets = self
            .district_plan()
            .map(|p| p.targets.as_slice())
            .unwrap_or_default();
        // Targets run only while the district plan does: a 2017 query counts the quarter the
        // plan started in, not the ones before it existed.
        let plan_period = self.district_plan().map(|p| p.period);
        let mut rows = Vec::new();
        let mut schools = Vec::new();
        for (code, level, data) in self.enrolled() {
            let mut summary = PlanSchoolSummary {
                school: code.to_string(),
                areas_missed: 0,
                total_activities: 0,
            };
            for area in ContentArea::ALL {
                let live: Vec<_> = data
                    .activities
                    .values()
                    .filter(|a| a.live && a.details.area == area && range.contains(a.details.date))
                    .collect();
                let channels: BTreeSet<&str> =
                    live.iter().map(|a| a.details.channel.code()).collect();
                let terms: Vec<i64> = targets
                    .iter()
                    .filter(|t| t.applies_to(level, area))
                    .map(|t| {
                        let periods =
                            plan_period.map_or(0, |plan| target_periods_within(t.per, range, plan));
                        i64::from(t.min_activities) * periods
                    })
                    .filter(|term| *term > 0)
                    .collect();
                let target = (!terms.is_empty()).then(|| terms.iter().sum::<i64>());
                let activities = count(live.len());
                let status = match target {
                    None => TargetStatus::NoTarget,
                    Some(t) if activities >= t => TargetStatus::Met,
                    Some(_) => TargetStatus::Missed,
                };
                if status == TargetStatus::Missed {
                    summary.areas_missed += 1;
                }
                summary.total_activities += activities;
                rows.push(PlanRow {
                    school: code.to_string(),
                    area: area.number(),
                    activities,
                    channels: channels.into_iter().map(str::to_string).collect(),
                    target,
                    status,
                });
            }
            schools.push(summary);
        }
        let areas = ContentArea::ALL
            .iter()
            .map(|area| PlanAreaSummary {
                area: area.number(),
                schools_missed: count(
                    rows.iter()
                        .filter(|r| r.area == area.number() && r.status == TargetStatus::Missed)
                        .count(),
                ),
            })
            .collect();
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
        Ok(PlanView {
            period: shown,
            rows,
            schools,
            areas,
            lagging,
        })
    }

    /// Which schools reported in a period, and how late their events arrived.
    pub fn completeness(&self, period: Period) -> Result<CompletenessView, DomainError> {
        let (range, shown) = self.range(period)?;
        let schools: Vec<SchoolCompleteness> = self
            .enrolled()
            .map(|(code, _, data)| {
                let activities = count(
                    data.activities
                        .values()
                        .filter(|a| a.live && range.contains(a.details.date))
                        .count(),
                );
                let delays: Vec<i64> = data
                    .timings
                    .iter()
                    .filter(|t| range.contains(t.occurred_on))
                    .map(|t| t.delay_days)
                    .collect();
                let events = count(delays.len());
                let on_time = count(
                    delays
                        .iter()
                        .filter(|d| **d <= super::views::ON_TIME_DAYS)
                        .count(),
                );
                SchoolCompleteness {
                    school: code.to_string(),
                    activities,
                    events,
                    reported: activities > 0,
                    on_time,
                    on_time_rate: rate(on_time, events),
                    max_delay_days: delays.iter().copied().max(),
                }
            })
            .collect();
        let enrolled = count(schools.len());
        let reported = count(schools.iter().filter(|s| s.reported).count());
        Ok(CompletenessView {
            period: shown,
            schools,
            enrolled,
            reported,
            reporting_rate: rate(reported, enrolled),
        })
    }

    /// Feedback and press issues opened in a period, judged as of `as_of` (default: the
    /// period's end; a later date is refused, field `as_of`).
    pub fn responsiveness(
        &self,
        period: Period,
        as_of: Option<NaiveDate>,
    ) -> Result<ResponsivenessView, DomainError> {
        let (range, shown) = self.range(period)?;
        let as_of = as_of.unwrap_or(range.end());
        if as_of > range.end() {
            return Err(DomainError::invalid(
                "as_of",
                Rule::AfterPeriodEnd {
                    date: as_of,
                    period: shown.period.clone(),
                    end: range.end(),
                },
            ));
        }
        let limits = self
            .district_plan()
            .map_or(AnswerWithinDays::DEFAULT, |p| p.answer_within_days);
        let (feedback_limit, press_limit) = (i64::from(limits.feedback), i64::from(limits.press));
        let mut flagged = Vec::new();
        let mut all = [Tally::default(), Tally::default()];
        let mut schools = Vec::new();
        for (code, _, data) in self.enrolled() {
            let mut judge = |kind: CaseKind,
                             cases: &std::collections::BTreeMap<uuid::Uuid, CaseRow>,
                             limit: i64| {
                let mut tally = Tally::default();
                for (id, case) in cases.iter().filter(|(_, c)| range.contains(c.opened_on)) {
                    let line = tally.add(case, as_of, limit);
                    if let Some((status, days)) = line {
                        flagged.push(CaseLine {
                            school: code.to_string(),
                            kind,
                            id: id.to_string(),
                            subject: case.subject.clone(),
                            opened_on: case.opened_on,
                            answered_on: (status == CaseStatus::Late)
                                .then_some(case.answered_on)
                                .flatten(),
                            days,
                            status,
                        });
                    }
                }
                tally
            };
            let feedback = judge(CaseKind::Feedback, &data.feedback, feedback_limit);
            let press = judge(CaseKind::Press, &data.press, press_limit);
            all[0].merge(&feedback);
            all[1].merge(&press);
            schools.push(SchoolResponsiveness {
                school: code.to_string(),
                feedback: feedback.stats(),
                press: press.stats(),
            });
        }
        flagged.sort_by(|a, b| {
            (&a.school, a.kind, a.opened_on, &a.id).cmp(&(&b.school, b.kind, b.opened_on, &b.id))
        });
        Ok(ResponsivenessView {
            period: shown,
            as_of,
            feedback_within_days: feedback_limit,
            press_within_days: press_limit,
            schools,
            feedback: all[0].stats(),
            press: all[1].stats(),
            flagged,
        })
    }

    /// Nominations and awards of a period, by school and level, with the listing.
    pub fn commendation(&self, period: Period) -> Result<CommendationView, DomainError> {
        let (range, shown) = self.range(period)?;
        let mut counts = Vec::new();
        let mut nominations = Vec::new();
        for (code, _, data) in self.enrolled() {
            for level in CommendationLevel::ALL {
                let nominated = data
                    .nominations
                    .values()
                    .filter(|n| {
                        n.nomination.proposed_level == *level && range.contains(n.nomination.date)
                    })
                    .count();
                let awarded = data
                    .nominations
                    .values()
                    .filter_map(|n| n.award.as_ref())
                    .filter(|a| a.level == *level && range.contains(a.decision_date))
                    .count();
                counts.push(CommendationCount {
                    school: code.to_string(),
                    level: level.code().to_string(),
                    nominated: count(nominated),
                    awarded: count(awarded),
                });
            }
            for row in data.nominations.values() {
                let n = &row.nomination;
                let award_in_period = row
                    .award
                    .as_ref()
                    .is_some_and(|a| range.contains(a.decision_date));
                if !range.contains(n.date) && !award_in_period {
                    continue;
                }
                let award = row
                    .award
                    .as_ref()
                    .filter(|a| a.decision_date <= range.end());
                nominations.push(NominationLine {
                    school: code.to_string(),
                    nomination_id: n.nomination_id.to_string(),
                    date: n.date,
                    nominee_kind: n.nominee_kind.code().to_string(),
                    nominee: n.nominee.clone(),
                    achievement: n.achievement.clone(),
                    proposed_level: n.proposed_level.code().to_string(),
                    awarded_level: award.map(|a| a.level.code().to_string()),
                    decision_number: award.map(|a| a.decision_number.clone()),
                    decision_date: award.map(|a| a.decision_date),
                });
            }
        }
        nominations.sort_by(|a, b| {
            (&a.school, a.date, &a.nomination_id).cmp(&(&b.school, b.date, &b.nomination_id))
        });
        let levels = CommendationLevel::ALL
            .iter()
            .map(|level| {
                let of_level = counts.iter().filter(|c| c.level == level.code());
                LevelCount {
                    level: level.code().to_string(),
                    nominated: of_level.clone().map(|c| c.nominated).sum(),
                    awarded: of_level.map(|c| c.awarded).sum(),
                }
            })
            .collect();
        Ok(CommendationView {
            period: shown,
            counts,
            levels,
            nominations,
        })
    }

    /// Estimate, spending and settlement of one calendar year. With a district plan the year
    /// must be one of the plan period's years (field `year`).
    pub fn budget(&self, year: i32) -> Result<BudgetView, DomainError> {
        if let Some(plan) = self.district_plan()
            && !plan.period.years().contains(&year)
        {
            return Err(DomainError::invalid(
                "year",
                Rule::YearOutsidePlan {
                    year,
                    period: plan.period,
                },
            ));
        }
        let schools: Vec<BudgetRow> = self
            .enrolled()
            .map(|(code, _, data)| {
                let estimated = data.estimates.get(&year).copied().unwrap_or(0);
                let spent = data
                    .expenses
                    .iter()
                    .filter(|(on, _)| on.year() == year)
                    .map(|(_, amount)| amount)
                    .sum();
                BudgetRow {
                    school: code.to_string(),
                    estimated,
                    spent,
                    settled: data.settlements.get(&year).copied(),
                    execution_rate: rate(spent, estimated),
                }
            })
            .collect();
        let estimated = schools.iter().map(|s| s.estimated).sum();
        let spent = schools.iter().map(|s| s.spent).sum();
        let settled: Vec<i64> = schools.iter().filter_map(|s| s.settled).collect();
        let total = BudgetTotal {
            estimated,
            spent,
            settled: (!settled.is_empty()).then(|| settled.iter().sum()),
            schools_settled: count(settled.len()),
            execution_rate: rate(spent, estimated),
        };
        Ok(BudgetView {
            year,
            schools,
            total,
        })
    }

    /// [`DistrictModel::budget`] of every calendar year of the district plan's period, in
    /// order. Needs a district plan (field `year`, [`Rule::NoDistrictPlan`]).
    pub fn budget_years(&self) -> Result<Vec<BudgetView>, DomainError> {
        let plan = self
            .district_plan()
            .ok_or_else(|| DomainError::precondition("year", Rule::NoDistrictPlan))?;
        plan.period.years().map(|year| self.budget(year)).collect()
    }

    /// Live activities matching `filter`, by date descending, school code, activity id, one
    /// page at a time (see [`page_size`] and [`ActivityCursor`]).
    pub fn search_activities(
        &self,
        filter: &ActivityFilter,
        page_size_requested: Option<u32>,
        page_token: Option<&str>,
    ) -> Result<ActivityPage, DomainError> {
        let range = filter
            .period
            .map(|p| resolve_period(self.district_plan(), p))
            .transpose()?;
        let cursor = page_token
            .filter(|t| !t.is_empty())
            .map(ActivityCursor::decode)
            .transpose()?;
        let words = folding::query_words(filter.text.as_deref().unwrap_or(""));
        let mut found = Vec::new();
        for (code, _, data) in self.enrolled() {
            if filter.school.as_ref().is_some_and(|s| s != code) {
                continue;
            }
            for (id, row) in &data.activities {
                let d = &row.details;
                let keep = row.live
                    && filter.area.is_none_or(|a| a == d.area)
                    && filter
                        .topic
                        .as_ref()
                        .is_none_or(|t| d.topic.as_ref() == Some(t))
                    && filter.channel.is_none_or(|c| c == d.channel)
                    && filter.responsible.is_none_or(|r| r == d.responsible)
                    && range.is_none_or(|r| r.contains(d.date))
                    && folding::matches_all_words(&words, &row.words)
                    && cursor
                        .as_ref()
                        .is_none_or(|c| c.precedes(d.date, code.as_str(), *id));
                if keep {
                    found.push((code, *id, d));
                }
            }
        }
        found.sort_by(|a, b| {
            (std::cmp::Reverse(a.2.date), a.0, a.1).cmp(&(std::cmp::Reverse(b.2.date), b.0, b.1))
        });
        let size = page_size(page_size_requested);
        let next_page_token = (found.len() > size).then(|| {
            let (code, id, d) = found[size - 1];
            ActivityCursor {
                date: d.date,
                school: code.to_string(),
                activity_id: id,
            }
            .encode()
        });
        let activities = found
            .into_iter()
            .take(size)
            .map(|(code, id, d)| ActivityLine {
                school: code.to_string(),
                activity_id: id.to_string(),
                date: d.date,
                area: d.area.number(),
                topic: d.topic.as_ref().map(Slug::to_string),
                channel: d.channel.code().to_string(),
                title: d.title.clone(),
                summary: d.summary.clone(),
                audience: d.audience.clone(),
                reach: d.reach.map(i64::from),
                partner: d.partner.clone(),
                evidence_url: d.evidence_url.clone(),
                responsible: d.responsible.code().to_string(),
            })
            .collect();
        Ok(ActivityPage {
            activities,
            next_page_token,
        })
    }
}

/// Running counts of one kind of case, for a school or the district.
#[derive(Debug, Clone, Default)]
struct Tally {
    received: i64,
    answered: i64,
    overdue: i64,
    late: i64,
    days_sum: i64,
    days_max: Option<i64>,
}

impl Tally {
    /// Counts a case; returns its flag and days when it is overdue or late.
    fn add(&mut self, case: &CaseRow, as_of: NaiveDate, limit: i64) -> Option<(CaseStatus, i64)> {
        self.received += 1;
        match case.answered_on.filter(|on| *on <= as_of) {
            Some(on) => {
                let days = (on - case.opened_on).num_days();
                self.answered += 1;
                self.days_sum += days;
                self.days_max = self.days_max.max(Some(days));
                (days > limit).then(|| {
                    self.late += 1;
                    (CaseStatus::Late, days)
                })
            }
            None => {
                let age = (as_of - case.opened_on).num_days();
                (age > limit).then(|| {
                    self.overdue += 1;
                    (CaseStatus::Overdue, age)
                })
            }
        }
    }

    fn merge(&mut self, other: &Tally) {
        self.received += other.received;
        self.answered += other.answered;
        self.overdue += other.overdue;
        self.late += other.late;
        self.days_sum += other.days_sum;
        self.days_max = self.days_max.max(other.days_max);
    }

    fn stats(&self) -> CaseStats {
        CaseStats {
            received: self.received,
            answered: self.answered,
            open: self.received - self.answered,
            overdue: self.overdue,
            late: self.late,
            mean_days_to_answer: mean(self.days_sum, self.answered),
            max_days_to_answer: self.days_max,
        }
    }
}
