//! Writing dates, periods and lists the way Vietnamese administrative documents do:
//! "từ ngày 01/01/2018 đến ngày 31/03/2018", "quý I năm 2018", "Tam Nông, ngày 05 tháng 02
//! năm 2018", "A, B và C".
//!
//! Numbers, money, rates, dates and the labels of codes come from `domain::vi`, the one
//! formatter the dashboard and the command line use too; this module only adds what is the
//! report's own.

use chrono::{Datelike, NaiveDate};
use domain::{DateRange, Period, vi};

/// "từ ngày 01/01/2018 đến ngày 31/03/2018".
pub fn range(r: DateRange) -> String {
    format!(
        "từ ngày {} đến ngày {}",
        vi::date(r.start()),
        vi::date(r.end())
    )
}

/// The date line of Decree 30/2020/NĐ-CP: "Tam Nông, ngày 05 tháng 02 năm 2018" (days 1–9
/// and months 1–2 with a leading zero, [`vi::date_in_words`]).
pub fn place_date(place: &str, d: NaiveDate) -> String {
    format!("{place}, {}", vi::date_in_words(d))
}

/// A Roman numeral for section and quarter numbers (1..=39 is all a report needs).
pub fn roman(n: usize) -> String {
    const PARTS: [(usize, &str); 6] =
        [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"), (0, "")];
    let mut n = n;
    let mut out = String::new();
    for (value, numeral) in PARTS {
        if value == 0 {
            break;
        }
        while n >= value {
            out.push_str(numeral);
            n -= value;
        }
    }
    out
}

/// The period in words, as a report's title ends: "quý I năm 2018", "học kỳ I năm học
/// 2017-2018", "năm học 2017-2018", "năm 2018", "tháng 3 năm 2018", "giai đoạn 2017-2020"
/// (the plan's period, `plan` its dates).
pub fn period(p: Period, plan: DateRange) -> String {
    match p {
        Period::Month { year, month } => format!("tháng {month} năm {year}"),
        Period::Quarter { year, quarter } => {
            format!("quý {} năm {year}", roman(quarter as usize))
        }
        Period::Semester { start_year, half } => format!(
            "học kỳ {} năm học {start_year}-{}",
            roman(half as usize),
            start_year + 1
        ),
        Period::SchoolYear { start_year } => {
            format!("năm học {start_year}-{}", start_year + 1)
        }
        Period::CalendarYear { year } => format!("năm {year}"),
        Period::WholePlan => format!("giai đoạn {}-{}", plan.start().year(), plan.end().year()),
    }
}

/// Names joined the Vietnamese way: "A", "A và B", "A, B và C".
pub fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} và {last}", init.join(", ")),
    }
}

/// The first letter in lower case ("Truyền thông …" → "truyền thông …"), to run a title into
/// a sentence.
pub fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods_read_as_in_a_report_title() {
        let plan = DateRange::new(d(2017, 10, 18), d(2020, 12, 31)).unwrap();
        let cases = [
            (
                Period::Quarter {
                    year: 2018,
                    quarter: 1,
                },
                "quý I năm 2018",
            ),
            (
                Period::Quarter {
                    year: 2019,
                    quarter: 4,
                },
                "quý IV năm 2019",
            ),
            (
                Period::Semester {
                    start_year: 2017,
                    half: 1,
                },
                "học kỳ I năm học 2017-2018",
            ),
            (
                Period::Semester {
                    start_year: 2018,
                    half: 2,
                },
                "học kỳ II năm học 2018-2019",
            ),
            (Period::SchoolYear { start_year: 2017 }, "năm học 2017-2018"),
            (Period::CalendarYear { year: 2018 }, "năm 2018"),
            (
                Period::Month {
                    year: 2018,
                    month: 3,
                },
                "tháng 3 năm 2018",
            ),
            (Period::WholePlan, "giai đoạn 2017-2020"),
        ];
        for (p, words) in cases {
            assert_eq!(period(p, plan), words, "{p}");
        }
    }

    #[test]
    fn the_date_line_pads_early_days_and_months() {
        assert_eq!(
            place_date("Tam Nông", d(2018, 2, 5)),
            "Tam Nông, ngày 05 tháng 02 năm 2018"
        );
        assert_eq!(
            place_date("Tam Nông", d(2018, 11, 26)),
            "Tam Nông, ngày 26 tháng 11 năm 2018"
        );
        assert_eq!(
            place_date("Tam Nông", d(2018, 3, 15)),
            "Tam Nông, ngày 15 tháng 3 năm 2018"
        );
    }

    #[test]
    fn lists_and_numerals() {
        assert_eq!(join(&["A".into()]), "A");
        assert_eq!(join(&["A".into(), "B".into(), "C".into()]), "A, B và C");
        assert_eq!(roman(4), "IV");
        assert_eq!(roman(9), "IX");
        assert_eq!(roman(14), "XIV");
    }
}
