//! Completeness and timeliness from their rows: per school, the live activities dated in the
//! period and how late the events of the period arrived.

use std::collections::BTreeMap;

use crate::district::facts::Enrolment;
use crate::district::views::{CompletenessView, ON_TIME_DAYS, SchoolCompleteness, rate};

use super::{ViewPeriod, count};

/// Whether an event whose recording was `delay_days` after it happened arrived on time.
pub fn is_on_time(delay_days: i64) -> bool {
    delay_days <= ON_TIME_DAYS
}

/// The events of a school dated in the period: how many, how many on time, the longest delay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeliness {
    pub events: i64,
    pub on_time: i64,
    /// `None` when there are no events.
    pub max_delay_days: Option<i64>,
}

impl Timeliness {
    /// Counts one event recorded `delay_days` after its date.
    pub fn add(&mut self, delay_days: i64) {
        self.events += 1;
        if is_on_time(delay_days) {
            self.on_time += 1;
        }
        self.max_delay_days = self.max_delay_days.max(Some(delay_days));
    }
}

/// A school's line: `reported` when it has an activity, the on-time rate of its events.
pub fn school_completeness(
    school: &str,
    activities: i64,
    timeliness: Timeliness,
) -> SchoolCompleteness {
    SchoolCompleteness {
        school: school.to_owned(),
        activities,
        events: timeliness.events,
        reported: activities > 0,
        on_time: timeliness.on_time,
        on_time_rate: rate(timeliness.on_time, timeliness.events),
        max_delay_days: timeliness.max_delay_days,
    }
}

/// The completeness view of the enrolled schools (by code): their lines from the live
/// activities and the timeliness of each school (by code; missing is zero), and the
/// district's reporting rate.
pub fn completeness<'a>(
    period: ViewPeriod,
    enrolments: impl IntoIterator<Item = &'a Enrolment>,
    activities: &BTreeMap<String, i64>,
    timeliness: &BTreeMap<String, Timeliness>,
) -> CompletenessView {
    let schools: Vec<SchoolCompleteness> = enrolments
        .into_iter()
        .map(|e| {
            let code = e.code.as_str();
            school_completeness(
                code,
                activities.get(code).copied().unwrap_or(0),
                timeliness.get(code).copied().unwrap_or_default(),
            )
        })
        .collect();
    let enrolled = count(schools.len());
    let reported = count(schools.iter().filter(|s| s.reported).count());
    CompletenessView {
        period: period.shown,
        schools,
        enrolled,
        reported,
        reporting_rate: rate(reported, enrolled),
    }
}

#[cfg(test)]
mod tests {
    use super::super::given::*;
    use super::*;
    use crate::district::SchoolLevel;

    #[test]
    fn given_delays_when_counted_then_seven_days_is_still_on_time() {
        let mut t = Timeliness::default();
        for delay in [0, 7, 8, 3, 30] {
            t.add(delay);
        }
        assert_eq!(
            t,
            Timeliness {
                events: 5,
                on_time: 3,
                max_delay_days: Some(30),
            }
        );
        assert!(is_on_time(ON_TIME_DAYS) && !is_on_time(ON_TIME_DAYS + 1));
    }

    #[test]
    fn given_a_school_without_events_when_lined_then_no_rate_and_no_delay() {
        let line = school_completeness("thcs-an-hoa", 0, Timeliness::default());
        assert_eq!(
            line,
            SchoolCompleteness {
                school: "thcs-an-hoa".into(),
                activities: 0,
                events: 0,
                reported: false,
                on_time: 0,
                on_time_rate: None,
                max_delay_days: None,
            }
        );
    }

    #[test]
    fn given_rows_when_assembled_then_lines_by_school_and_the_reporting_rate() {
        let schools = [
            enrolment("mn-phu-tho", SchoolLevel::MamNon),
            enrolment("th-phu-duc", SchoolLevel::TieuHoc),
            enrolment("thcs-an-hoa", SchoolLevel::Thcs),
        ];
        let activities = BTreeMap::from([
            ("thcs-an-hoa".to_string(), 4),
            ("mn-phu-tho".to_string(), 1),
            ("not-enrolled".to_string(), 9),
        ]);
        let timeliness = BTreeMap::from([
            (
                "thcs-an-hoa".to_string(),
                Timeliness {
                    events: 6,
                    on_time: 5,
                    max_delay_days: Some(12),
                },
            ),
            (
                // Events but no activity: a plan adopted, nothing reported.
                "th-phu-duc".to_string(),
                Timeliness {
                    events: 1,
                    on_time: 1,
                    max_delay_days: Some(0),
                },
            ),
        ]);
        let view = completeness(period(None, "2018-Q1"), &schools, &activities, &timeliness);
        assert_eq!(view.period.period, "2018-Q1");
        let lines: Vec<_> = view
            .schools
            .iter()
            .map(|s| {
                (
                    s.school.as_str(),
                    s.activities,
                    s.reported,
                    s.on_time_rate,
                    s.max_delay_days,
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("mn-phu-tho", 1, true, None, None),
                ("th-phu-duc", 0, false, Some(1.0), Some(0)),
                ("thcs-an-hoa", 4, true, Some(0.8333), Some(12)),
            ]
        );
        assert_eq!((view.enrolled, view.reported), (3, 2));
        assert_eq!(view.reporting_rate, Some(0.6667));
    }

    #[test]
    fn given_no_school_enrolled_when_assembled_then_no_reporting_rate() {
        let view = completeness(
            period(None, "2018"),
            std::iter::empty(),
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!((view.enrolled, view.reported), (0, 0));
        assert_eq!(view.reporting_rate, None);
    }
}
