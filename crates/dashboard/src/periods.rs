//! The reporting period a page shows (`?ky=`): parsing, checking against the district plan,
//! naming, and the choices the period form offers.
//!
//! The check is the aggregator's own (`domain::district::resolve_period`), run on the plan
//! the aggregator returns, so a page refuses exactly the periods the views would refuse, with
//! the same Vietnamese message, before asking for any view.

use std::str::FromStr;

use chrono::Datelike;

use domain::district::{DistrictPlan, resolve_period};
use domain::{DateRange, Period};

use crate::error::PageError;

/// The period shown when the address names none: the whole plan period, the view the office
/// opens first and one that is the same whatever today's date.
pub const DEFAULT: Period = Period::WholePlan;

/// A period the page may show, with its dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chosen {
    pub period: Period,
    pub range: DateRange,
}

/// Parses `?ky=` (absent or blank: [`DEFAULT`]) and checks it against the district plan.
pub fn choose(ky: Option<&str>, plan: Option<&DistrictPlan>) -> Result<Chosen, PageError> {
    let period = parse(ky)?;
    let range = resolve_period(plan, period).map_err(|e| PageError::refused(&e))?;
    Ok(Chosen { period, range })
}

/// Parses `?ky=` without the plan check.
pub fn parse(ky: Option<&str>) -> Result<Period, PageError> {
    match ky.map(str::trim) {
        None | Some("") => Ok(DEFAULT),
        Some(text) => Period::from_str(text).map_err(|_| {
            PageError::bad_request(
                format!("period {text:?} does not parse"),
                format!(
                    "Kỳ báo cáo “{text}” không hợp lệ. Kỳ báo cáo viết dạng 2018-03 (tháng), \
                     2018-Q1 (quý), 2017-2018-HK1 (học kỳ), 2017-2018 (năm học), 2018 (năm) \
                     hoặc plan (cả giai đoạn kế hoạch)."
                ),
            )
        }),
    }
}

/// The Vietnamese name of a period, capitalised as a heading: "Quý I năm 2018".
pub fn title(period: Period) -> String {
    match period {
        Period::WholePlan => "Cả giai đoạn kế hoạch".to_string(),
        other => {
            let label = other.label_vi();
            let mut chars = label.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => label,
            }
        }
    }
}

/// A group of choices in the period form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceGroup {
    pub label: &'static str,
    pub periods: Vec<Period>,
}

/// Every period overlapping the plan period, grouped from the widest to the narrowest.
pub fn choices(plan: &DateRange) -> Vec<ChoiceGroup> {
    let (first, last) = (plan.start().year(), plan.end().year());
    let fits = |p: &Period| p.range(*plan).overlaps(plan);
    let years: Vec<i32> = (first..=last).collect();
    let school_years: Vec<i32> = (first - 1..=last).collect();
    let keep = |periods: Vec<Period>| periods.into_iter().filter(fits).collect::<Vec<_>>();
    vec![
        ChoiceGroup {
            label: "Cả giai đoạn",
            periods: vec![Period::WholePlan],
        },
        ChoiceGroup {
            label: "Năm học",
            periods: keep(
                school_years
                    .iter()
                    .map(|&start_year| Period::SchoolYear { start_year })
                    .collect(),
            ),
        },
        ChoiceGroup {
            label: "Năm",
            periods: keep(
                years
                    .iter()
                    .map(|&year| Period::CalendarYear { year })
                    .collect(),
            ),
        },
        ChoiceGroup {
            label: "Học kỳ",
            periods: keep(
                school_years
                    .iter()
                    .flat_map(|&start_year| {
                        [1, 2].map(|half| Period::Semester { start_year, half })
                    })
                    .collect(),
            ),
        },
        ChoiceGroup {
            label: "Quý",
            periods: keep(
                years
                    .iter()
                    .flat_map(|&year| (1..=4).map(move |quarter| Period::Quarter { year, quarter }))
                    .collect(),
            ),
        },
        ChoiceGroup {
            label: "Tháng",
            periods: keep(
                years
                    .iter()
                    .flat_map(|&year| (1..=12).map(move |month| Period::Month { year, month }))
                    .collect(),
            ),
        },
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::NaiveDate;

    use super::*;

    fn tam_nong() -> DateRange {
        DateRange::new(
            NaiveDate::from_ymd_opt(2017, 10, 18).unwrap(),
            NaiveDate::from_ymd_opt(2020, 12, 31).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn choices_cover_the_plan_and_nothing_outside_it() {
        let groups = choices(&tam_nong());
        let all: Vec<String> = groups
            .iter()
            .flat_map(|g| g.periods.iter().map(ToString::to_string))
            .collect();
        for expected in [
            "plan",
            "2017-2018",
            "2020-2021",
            "2018",
            "2017-2018-HK1",
            "2017-Q4",
        ] {
            assert!(all.contains(&expected.to_string()), "{expected} missing");
        }
        for outside in ["2016-2017", "2017-Q3", "2017-09", "2016-2017-HK2", "2021"] {
            assert!(!all.contains(&outside.to_string()), "{outside} offered");
        }
        assert_eq!(
            groups.iter().map(|g| g.periods.len()).sum::<usize>(),
            1 + 4 + 4 + 7 + 13 + 39
        );
    }

    #[test]
    fn bad_and_default_periods() {
        assert_eq!(parse(None).unwrap(), Period::WholePlan);
        assert_eq!(parse(Some(" ")).unwrap(), Period::WholePlan);
        assert_eq!(parse(Some("2018-Q1")).unwrap().to_string(), "2018-Q1");
        let err = parse(Some("2018-Q5")).unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(
            title(Period::Quarter {
                year: 2018,
                quarter: 1
            }),
            "Quý I năm 2018"
        );
    }
}
