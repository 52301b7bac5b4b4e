//! The views of `docs/district-views.md`, answered from the reference model. Each function
//! obtains the view's rows by reading the folded events, then derives the view from them with
//! [`super::assemble`], the same functions the aggregator calls on its SQL rows; the types and
//! their exact meaning are in [`super::views`].

use std::collections::BTreeMap;

use crate::calendar::Period;
use crate::codes::Slug;
use crate::district::assemble::{
    self, ActivityCounts, AwardRecord, BudgetAmounts, Case, CaseLimits, NominationRecord,
    SearchRequest, Timeliness, ViewPeriod,
};
use crate::district::facts::Enrolment;
use crate::district::folding;
use crate::district::model::{CaseRow, DistrictModel, SchoolData};
use crate::district::views::{
    ActivityFilter, ActivityLine, ActivityPage, BudgetView, CaseKind, CommendationView,
    CompletenessView, EnrolledSchool, PlanView, ResponsivenessView,
};
use crate::error::{DomainError, Rule};

impl DistrictModel {
    fn period(&self, period: Period) -> Result<ViewPeriod, DomainError> {
        ViewPeriod::resolve(self.district_plan(), period)
    }

    fn enrolments(&self) -> impl Iterator<Item = &Enrolment> {
        self.office.enrolments()
    }

    /// Enrolled schools with their data, by code.
    fn enrolled(&self) -> impl Iterator<Item = (&Slug, &SchoolData)> {
        self.office
            .enrolments()
            .filter_map(|e| self.schools.get(&e.code).map(|data| (&e.code, data)))
    }

    /// The enrolled schools as they now stand, by code.
    pub fn schools(&self) -> Vec<EnrolledSchool> {
        assemble::schools(self.enrolments())
    }

    /// Schools × content areas × period, with targets met or missed.
    pub fn plan_view(&self, period: Period) -> Result<PlanView, DomainError> {
        let period = self.period(period)?;
        let mut counts = ActivityCounts::new();
        for (code, data) in self.enrolled() {
            for row in data.activities.values() {
                let d = &row.details;
                if row.live && period.range.contains(d.date) {
                    counts.add(code.as_str(), d.area.number(), d.channel.code(), 1);
                }
            }
        }
        Ok(assemble::plan_view(
            period,
            self.district_plan(),
            self.enrolments(),
            &counts,
        ))
    }

    /// Which schools reported in a period, and how late their events arrived.
    pub fn completeness(&self, period: Period) -> Result<CompletenessView, DomainError> {
        let period = self.period(period)?;
        let mut activities = BTreeMap::new();
        let mut timeliness = BTreeMap::new();
        for (code, data) in self.enrolled() {
            let live = data
                .activities
                .values()
                .filter(|a| a.live && period.range.contains(a.details.date))
                .count();
            activities.insert(code.to_string(), assemble::count(live));
            let mut events = Timeliness::default();
            for timing in data
                .timings
                .iter()
                .filter(|t| period.range.contains(t.occurred_on))
            {
                events.add(timing.delay_days);
            }
            timeliness.insert(code.to_string(), events);
        }
        Ok(assemble::completeness(
            period,
            self.enrolments(),
            &activities,
            &timeliness,
        ))
    }

    /// Feedback and press issues opened in a period, judged as of `as_of` (default: the
    /// period's end; a later date is refused, field `as_of`).
    pub fn responsiveness(
        &self,
        period: Period,
        as_of: Option<chrono::NaiveDate>,
    ) -> Result<ResponsivenessView, DomainError> {
        let period = self.period(period)?;
        let as_of = assemble::resolve_as_of(&period, as_of)?;
        let limits = CaseLimits::in_force(self.district_plan());
        let mut cases = Vec::new();
        for (code, data) in self.enrolled() {
            let of_kind = |kind: CaseKind, rows: &BTreeMap<uuid::Uuid, CaseRow>| {
                rows.iter()
                    .map(|(id, case)| Case {
                        school: code.to_string(),
                        kind,
                        id: id.to_string(),
                        subject: case.subject.clone(),
                        opened_on: case.opened_on,
                        answered_on: case.answered_on,
                    })
                    .collect::<Vec<_>>()
            };
            cases.extend(of_kind(CaseKind::Feedback, &data.feedback));
            cases.extend(of_kind(CaseKind::Press, &data.press));
        }
        let tallies = assemble::tally_cases(&period, as_of, limits, &cases);
        Ok(assemble::responsiveness(
            period,
            as_of,
            limits,
            self.enrolments(),
            &tallies,
            &cases,
        ))
    }

    /// Nominations and awards of a period, by school and level, with the listing.
    pub fn commendation(&self, period: Period) -> Result<CommendationView, DomainError> {
        let period = self.period(period)?;
        let records: Vec<NominationRecord> = self
            .enrolled()
            .flat_map(|(code, data)| {
                data.nominations.values().map(move |row| {
                    let n = &row.nomination;
                    NominationRecord {
                        school: code.to_string(),
                        nomination_id: n.nomination_id.to_string(),
                        date: n.date,
                        nominee_kind: n.nominee_kind.code().to_string(),
                        nominee: n.nominee.clone(),
                        achievement: n.achievement.clone(),
                        proposed_level: n.proposed_level.code().to_string(),
                        award: row.award.as_ref().map(|a| AwardRecord {
                            level: a.level.code().to_string(),
                            decision_number: a.decision_number.clone(),
                            decision_date: a.decision_date,
                        }),
                    }
                })
            })
            .collect();
        Ok(assemble::commendation(period, self.enrolments(), &records))
    }

    /// Estimate, spending and settlement of one calendar year. With a district plan the year
    /// must be one of the plan period's years (field `year`).
    pub fn budget(&self, year: i32) -> Result<BudgetView, DomainError> {
        assemble::check_budget_year(self.district_plan(), year)?;
        let amounts: BTreeMap<String, BudgetAmounts> = self
            .enrolled()
            .map(|(code, data)| {
                let amounts = BudgetAmounts {
                    estimated: data.estimates.get(&year).copied().unwrap_or(0),
                    spent: data
                        .expenses
                        .iter()
                        .filter(|(on, _)| chrono::Datelike::year(on) == year)
                        .map(|(_, amount)| amount)
                        .sum(),
                    settled: data.settlements.get(&year).copied(),
                };
                (code.to_string(), amounts)
            })
            .collect();
        Ok(assemble::budget(year, self.enrolments(), &amounts))
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
    /// page at a time (see [`super::views::page_size`] and
    /// [`super::views::ActivityCursor`]).
    pub fn search_activities(
        &self,
        filter: &ActivityFilter,
        page_size_requested: Option<u32>,
        page_token: Option<&str>,
    ) -> Result<ActivityPage, DomainError> {
        let request = SearchRequest::resolve(
            self.district_plan(),
            filter,
            page_size_requested,
            page_token,
        )?;
        let mut found = Vec::new();
        for (code, data) in self.enrolled() {
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
                    && request.range.is_none_or(|r| r.contains(d.date))
                    && folding::matches_all_words(&request.words, &row.words)
                    && request
                        .cursor
                        .as_ref()
                        .is_none_or(|c| c.precedes(d.date, code.as_str(), *id));
                if keep {
                    found.push((
                        *id,
                        ActivityLine {
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
                        },
                    ));
                }
            }
        }
        Ok(assemble::activity_page(found, request.size))
    }
}
