//! Commendation from its rows: the nominations of the enrolled schools, each with its award
//! when there is one.
//!
//! Both counts of the view come from the same rows as the listing: a nomination counts as
//! nominated when it is dated in the period, and its award as awarded when the decision is
//! dated in the period — exactly the nominations the listing needs, so the aggregator reads
//! them once.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;

use crate::district::facts::Enrolment;
use crate::district::views::{CommendationCount, CommendationView, LevelCount, NominationLine};
use crate::roles::CommendationLevel;

use super::ViewPeriod;

/// The award of a nomination (`commendation.awarded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardRecord {
    /// The awarded level's code.
    pub level: String,
    pub decision_number: String,
    pub decision_date: NaiveDate,
}

/// A nomination as it now stands (`nominee.nominated`, then its award).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NominationRecord {
    pub school: String,
    pub nomination_id: String,
    pub date: NaiveDate,
    /// `individual` or `collective`.
    pub nominee_kind: String,
    pub nominee: String,
    pub achievement: String,
    /// The proposed level's code.
    pub proposed_level: String,
    pub award: Option<AwardRecord>,
}

/// The commendation view of the enrolled schools (by code) from their nominations. Any
/// nomination may be given: those neither dated nor awarded in the period, and those of
/// schools not enrolled, count nowhere.
pub fn commendation<'a>(
    period: ViewPeriod,
    enrolments: impl IntoIterator<Item = &'a Enrolment>,
    records: impl IntoIterator<Item = &'a NominationRecord>,
) -> CommendationView {
    let range = period.range;
    let codes: Vec<&str> = enrolments.into_iter().map(|e| e.code.as_str()).collect();
    let enrolled: HashSet<&str> = codes.iter().copied().collect();
    // (school, level) → (nominated, awarded)
    let mut tallies: BTreeMap<(&str, &str), (i64, i64)> = BTreeMap::new();
    let mut nominations = Vec::new();
    for record in records
        .into_iter()
        .filter(|r| enrolled.contains(r.school.as_str()))
    {
        let nominated_in_period = range.contains(record.date);
        let awarded_in_period = record
            .award
            .as_ref()
            .filter(|a| range.contains(a.decision_date));
        if nominated_in_period {
            let key = (record.school.as_str(), record.proposed_level.as_str());
            tallies.entry(key).or_default().0 += 1;
        }
        if let Some(award) = awarded_in_period {
            let key = (record.school.as_str(), award.level.as_str());
            tallies.entry(key).or_default().1 += 1;
        }
        if !nominated_in_period && awarded_in_period.is_none() {
            continue;
        }
        // The award shows when its decision is dated on or before the period's end.
        let award = record
            .award
            .as_ref()
            .filter(|a| a.decision_date <= range.end());
        nominations.push(NominationLine {
            school: record.school.clone(),
            nomination_id: record.nomination_id.clone(),
            date: record.date,
            nominee_kind: record.nominee_kind.clone(),
            nominee: record.nominee.clone(),
            achievement: record.achievement.clone(),
            proposed_level: record.proposed_level.clone(),
            awarded_level: award.map(|a| a.level.clone()),
            decision_number: award.map(|a| a.decision_number.clone()),
            decision_date: award.map(|a| a.decision_date),
        });
    }
    nominations.sort_by(|a, b| {
        (&a.school, a.date, &a.nomination_id).cmp(&(&b.school, b.date, &b.nomination_id))
    });
    let mut counts = Vec::new();
    for code in &codes {
        for level in CommendationLevel::ALL {
            let (nominated, awarded) = tallies
                .get(&(*code, level.code()))
                .copied()
                .unwrap_or_default();
            counts.push(CommendationCount {
                school: (*code).to_owned(),
                level: level.code().to_owned(),
                nominated,
                awarded,
            });
        }
    }
    let levels = CommendationLevel::ALL
        .iter()
        .map(|level| {
            let of_level = counts.iter().filter(|c| c.level == level.code());
            LevelCount {
                level: level.code().to_owned(),
                nominated: of_level.clone().map(|c| c.nominated).sum(),
                awarded: of_level.map(|c| c.awarded).sum(),
            }
        })
        .collect();
    CommendationView {
        period: period.shown,
        counts,
        levels,
        nominations,
    }
}

#[cfg(test)]
mod tests {
    use super::super::given::*;
    use super::*;
    use crate::district::SchoolLevel;

    fn nomination(
        school: &str,
        id: &str,
        date: NaiveDate,
        proposed: &str,
        award: Option<(&str, NaiveDate)>,
    ) -> NominationRecord {
        NominationRecord {
            school: school.into(),
            nomination_id: id.into(),
            date,
            nominee_kind: "individual".into(),
            nominee: "Nguyễn Thị Hồng".into(),
            achievement: "Hoàn thành xuất sắc nhiệm vụ truyền thông".into(),
            proposed_level: proposed.into(),
            award: award.map(|(level, decision_date)| AwardRecord {
                level: level.into(),
                decision_number: format!("{id}/QĐ-UBND"),
                decision_date,
            }),
        }
    }

    fn counts_of<'v>(view: &'v CommendationView, school: &str) -> Vec<(&'v str, i64, i64)> {
        view.counts
            .iter()
            .filter(|c| c.school == school)
            .map(|c| (c.level.as_str(), c.nominated, c.awarded))
            .collect()
    }

    #[test]
    fn given_nominations_when_assembled_then_counts_levels_and_listing() {
        let year = period(None, "2018");
        let schools = [
            enrolment("th-phu-duc", SchoolLevel::TieuHoc),
            enrolment("thcs-an-hoa", SchoolLevel::Thcs),
        ];
        let records = [
            // Nominated and awarded (one level lower) in 2018.
            nomination(
                "thcs-an-hoa",
                "n2",
                d(2018, 5, 20),
                "province",
                Some(("district", d(2018, 8, 1))),
            ),
            // Nominated in 2018, awarded in 2019: the award is not shown.
            nomination(
                "thcs-an-hoa",
                "n1",
                d(2018, 5, 20),
                "district",
                Some(("district", d(2019, 1, 10))),
            ),
            // Nominated in 2017, awarded in 2018: listed, counted as awarded only.
            nomination(
                "th-phu-duc",
                "n3",
                d(2017, 12, 1),
                "school",
                Some(("school", d(2018, 1, 5))),
            ),
            // Neither in 2018.
            nomination("th-phu-duc", "n4", d(2019, 2, 1), "school", None),
            nomination("not-enrolled", "n5", d(2018, 3, 1), "school", None),
        ];
        let view = commendation(year, &schools, &records);

        assert_eq!(
            counts_of(&view, "thcs-an-hoa"),
            [
                ("school", 0, 0),
                ("district", 1, 1),
                ("province", 1, 0),
                ("ministry", 0, 0),
                ("government", 0, 0),
            ]
        );
        assert_eq!(
            counts_of(&view, "th-phu-duc"),
            [
                ("school", 0, 1),
                ("district", 0, 0),
                ("province", 0, 0),
                ("ministry", 0, 0),
                ("government", 0, 0),
            ]
        );
        assert_eq!(
            view.counts.len(),
            10,
            "2 schools × 5 levels, zeros included"
        );
        let levels: Vec<(&str, i64, i64)> = view
            .levels
            .iter()
            .map(|l| (l.level.as_str(), l.nominated, l.awarded))
            .collect();
        assert_eq!(
            levels,
            [
                ("school", 0, 1),
                ("district", 1, 1),
                ("province", 1, 0),
                ("ministry", 0, 0),
                ("government", 0, 0),
            ]
        );
        let listed: Vec<(&str, &str, Option<&str>, Option<NaiveDate>)> = view
            .nominations
            .iter()
            .map(|n| {
                (
                    n.school.as_str(),
                    n.nomination_id.as_str(),
                    n.awarded_level.as_deref(),
                    n.decision_date,
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                ("th-phu-duc", "n3", Some("school"), Some(d(2018, 1, 5))),
                ("thcs-an-hoa", "n1", None, None),
                ("thcs-an-hoa", "n2", Some("district"), Some(d(2018, 8, 1))),
            ],
            "by school, date, then id"
        );
        assert_eq!(
            view.nominations[2].decision_number.as_deref(),
            Some("n2/QĐ-UBND")
        );
    }

    #[test]
    fn given_an_empty_period_when_assembled_then_zero_counts_and_no_listing() {
        let schools = [enrolment("thcs-an-hoa", SchoolLevel::Thcs)];
        let view = commendation(period(None, "2018-Q1"), &schools, &[]);
        assert_eq!(view.counts.len(), 5);
        assert!(
            view.counts
                .iter()
                .all(|c| c.nominated == 0 && c.awarded == 0)
        );
        assert!(
            view.levels
                .iter()
                .all(|l| l.nominated == 0 && l.awarded == 0)
        );
        assert_eq!(view.nominations, vec![]);
    }
}
