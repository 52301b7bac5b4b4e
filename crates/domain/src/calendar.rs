//! Dates and reporting periods as the district uses them.
//!
//! Business dates are Vietnam local dates (Asia/Ho_Chi_Minh, UTC+7 with no daylight saving
//! since 1975, so a fixed offset is exact for every date this system handles); instants are
//! UTC. Reporting periods are the month, quarter, semester (HK I / HK II), school year
//! (September–August), calendar year and the whole plan period.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Rule};

/// Vietnam's offset from UTC: +07:00, all year.
pub fn vietnam_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("+07:00 is a valid offset")
}

/// The Vietnam local date of an instant.
pub fn local_date(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&vietnam_offset()).date_naive()
}

/// The instant a Vietnam local date begins (00:00 +07:00), in UTC.
pub fn start_of_local_day(date: NaiveDate) -> DateTime<Utc> {
    vietnam_offset()
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .expect("a fixed offset has exactly one local midnight")
        .with_timezone(&Utc)
}

/// A date as Vietnamese documents write it: `20/10/2017` (the one formatter, [`crate::vi::date`],
/// under the name the domain's messages use).
pub use crate::vi::date as vn_date;

/// An inclusive range of local dates. Exists only with `start <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawRange", into = "RawRange")]
pub struct DateRange {
    start: NaiveDate,
    end: NaiveDate,
}

#[derive(Serialize, Deserialize)]
struct RawRange {
    start: NaiveDate,
    end: NaiveDate,
}

impl TryFrom<RawRange> for DateRange {
    type Error = DomainError;
    fn try_from(raw: RawRange) -> Result<Self, Self::Error> {
        DateRange::new(raw.start, raw.end)
    }
}

impl From<DateRange> for RawRange {
    fn from(r: DateRange) -> Self {
        RawRange {
            start: r.start,
            end: r.end,
        }
    }
}

impl DateRange {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, DomainError> {
        if end < start {
            return Err(DomainError::invalid(
                "end",
                Rule::EndBeforeStart { start, end },
            ));
        }
        Ok(Self { start, end })
    }

    pub fn start(&self) -> NaiveDate {
        self.start
    }

    pub fn end(&self) -> NaiveDate {
        self.end
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }

    pub fn overlaps(&self, other: &DateRange) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// The part of `self` inside `other`, if any.
    pub fn intersect(&self, other: &DateRange) -> Option<DateRange> {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end);
        (start <= end).then_some(DateRange { start, end })
    }

    pub fn years(&self) -> std::ops::RangeInclusive<i32> {
        self.start.year()..=self.end.year()
    }

    /// Checks that `date` lies in this range, reporting `field` otherwise.
    pub fn check(&self, field: &str, date: NaiveDate) -> Result<(), DomainError> {
        if self.contains(date) {
            Ok(())
        } else {
            Err(DomainError::invalid(
                field,
                Rule::OutsidePeriod {
                    date,
                    period: *self,
                },
            ))
        }
    }
}

impl fmt::Display for DateRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A reporting period. Its dates come from [`Period::range`]; the plan period needs the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Month {
        year: i32,
        month: u32,
    },
    Quarter {
        year: i32,
        quarter: u32,
    },
    /// A semester of the school year starting in September of `start_year`.
    /// HK I runs 1 September – 15 January, HK II 16 January – 31 May (the split the district's
    /// calendars use; January belongs to both in everyday speech).
    Semester {
        start_year: i32,
        half: u32,
    },
    /// 1 September of `start_year` to 31 August of the next year.
    SchoolYear {
        start_year: i32,
    },
    CalendarYear {
        year: i32,
    },
    /// The whole period of the plan (2017–2020 for the first plans).
    WholePlan,
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("calendar arithmetic stays in range")
}

fn last_day_of_month(year: i32, month: u32) -> NaiveDate {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    ymd(ny, nm, 1)
        .pred_opt()
        .expect("there is a day before the first of a month")
}

impl Period {
    /// The dates of the period; `plan` is the plan period, used for [`Period::WholePlan`].
    pub fn range(&self, plan: DateRange) -> DateRange {
        let (start, end) = match *self {
            Period::Month { year, month } => (ymd(year, month, 1), last_day_of_month(year, month)),
            Period::Quarter { year, quarter } => {
                let first = (quarter - 1) * 3 + 1;
                (ymd(year, first, 1), last_day_of_month(year, first + 2))
            }
            Period::Semester {
                start_year,
                half: 1,
            } => (ymd(start_year, 9, 1), ymd(start_year + 1, 1, 15)),
            Period::Semester { start_year, .. } => {
                (ymd(start_year + 1, 1, 16), ymd(start_year + 1, 5, 31))
            }
            Period::SchoolYear { start_year } => {
                (ymd(start_year, 9, 1), ymd(start_year + 1, 8, 31))
            }
            Period::CalendarYear { year } => (ymd(year, 1, 1), ymd(year, 12, 31)),
            Period::WholePlan => (plan.start(), plan.end()),
        };
        DateRange { start, end }
    }

    /// The Vietnamese name of the period, as a report title uses it.
    pub fn label_vi(&self) -> String {
        match *self {
            Period::Month { year, month } => format!("tháng {month} năm {year}"),
            Period::Quarter { year, quarter } => {
                let roman = ["I", "II", "III", "IV"][(quarter - 1) as usize];
                format!("quý {roman} năm {year}")
            }
            Period::Semester { start_year, half } => {
                let roman = if half == 1 { "I" } else { "II" };
                format!("học kỳ {roman} năm học {start_year}–{}", start_year + 1)
            }
            Period::SchoolYear { start_year } => format!("năm học {start_year}–{}", start_year + 1),
            Period::CalendarYear { year } => format!("năm {year}"),
            Period::WholePlan => "giai đoạn thực hiện kế hoạch".into(),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Period::Month { year, month } => write!(f, "{year}-{month:02}"),
            Period::Quarter { year, quarter } => write!(f, "{year}-Q{quarter}"),
            Period::Semester { start_year, half } => {
                write!(f, "{start_year}-{}-HK{half}", start_year + 1)
            }
            Period::SchoolYear { start_year } => write!(f, "{start_year}-{}", start_year + 1),
            Period::CalendarYear { year } => write!(f, "{year}"),
            Period::WholePlan => f.write_str("plan"),
        }
    }
}

/// The accepted spellings, each the `Display` form: `2018-03`, `2018-Q1`, `2017-2018-HK1`,
/// `2017-2018`, `2018`, `plan`.
impl FromStr for Period {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            DomainError::invalid(
                "period",
                Rule::InvalidValue {
                    value: s.to_string(),
                    expected: "2018-03, 2018-Q1, 2017-2018-HK1, 2017-2018, 2018 or plan",
                },
            )
        };
        let year = |t: &str| -> Result<i32, DomainError> {
            match t.parse::<i32>() {
                Ok(y) if (1900..=2200).contains(&y) && t.len() == 4 => Ok(y),
                _ => Err(bad()),
            }
        };
        let s_trim = s.trim();
        if s_trim.eq_ignore_ascii_case("plan") {
            return Ok(Period::WholePlan);
        }
        let parts: Vec<&str> = s_trim.split('-').collect();
        match parts.as_slice() {
            [y] => Ok(Period::CalendarYear { year: year(y)? }),
            [y, q] if q.len() == 2 && (q.starts_with('Q') || q.starts_with('q')) => {
                let quarter = q[1..].parse::<u32>().map_err(|_| bad())?;
                if !(1..=4).contains(&quarter) {
                    return Err(bad());
                }
                Ok(Period::Quarter {
                    year: year(y)?,
                    quarter,
                })
            }
            [y, m] if m.len() == 2 => {
                let month = m.parse::<u32>().map_err(|_| bad())?;
                if !(1..=12).contains(&month) {
                    return Err(bad());
                }
                Ok(Period::Month {
                    year: year(y)?,
                    month,
                })
            }
            [a, b] => {
                let start_year = year(a)?;
                if year(b)? != start_year + 1 {
                    return Err(bad());
                }
                Ok(Period::SchoolYear { start_year })
            }
            [a, b, h] => {
                let start_year = year(a)?;
                if year(b)? != start_year + 1 {
                    return Err(bad());
                }
                let half = match h.to_ascii_uppercase().as_str() {
                    "HK1" => 1,
                    "HK2" => 2,
                    _ => return Err(bad()),
                };
                Ok(Period::Semester { start_year, half })
            }
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> DateRange {
        DateRange::new(ymd(2017, 10, 20), ymd(2020, 12, 31)).unwrap()
    }

    #[test]
    fn periods_cover_the_expected_dates() {
        let cases = [
            ("2018-02", ymd(2018, 2, 1), ymd(2018, 2, 28)),
            ("2020-02", ymd(2020, 2, 1), ymd(2020, 2, 29)),
            ("2018-Q4", ymd(2018, 10, 1), ymd(2018, 12, 31)),
            ("2017-2018-HK1", ymd(2017, 9, 1), ymd(2018, 1, 15)),
            ("2017-2018-HK2", ymd(2018, 1, 16), ymd(2018, 5, 31)),
            ("2018-2019", ymd(2018, 9, 1), ymd(2019, 8, 31)),
            ("2019", ymd(2019, 1, 1), ymd(2019, 12, 31)),
            ("plan", ymd(2017, 10, 20), ymd(2020, 12, 31)),
        ];
        for (text, start, end) in cases {
            let period: Period = text.parse().unwrap();
            let range = period.range(plan());
            assert_eq!((range.start(), range.end()), (start, end), "{text}");
            assert_eq!(period.to_string(), text, "round trip of {text}");
        }
    }

    #[test]
    fn bad_period_names_the_field() {
        for bad in [
            "2018-13",
            "2018-Q5",
            "2017-2019",
            "18",
            "2017-2018-HK3",
            "soon",
            "",
        ] {
            let err = bad.parse::<Period>().unwrap_err();
            assert_eq!(err.field, "period", "{bad}");
        }
    }

    #[test]
    fn vietnam_midnight_is_seventeen_utc_the_day_before() {
        let instant = start_of_local_day(ymd(2018, 3, 5));
        assert_eq!(instant.to_rfc3339(), "2018-03-04T17:00:00+00:00");
        assert_eq!(local_date(instant), ymd(2018, 3, 5));
    }

    #[test]
    fn range_rejects_end_before_start() {
        assert!(DateRange::new(ymd(2020, 1, 2), ymd(2020, 1, 1)).is_err());
    }
}
