//! The district office's own facts: which schools belong to the district (enrolment) and the
//! district's plan (1442/KH-PGDĐT) with its targets and answer deadlines.
//!
//! Like the school's payloads, these structs are both the `data` of the district events and
//! the input of the district commands; `validated` normalises them and names the field of
//! any refusal.

use std::collections::HashSet;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::DateRange;
use crate::codes::Slug;
use crate::error::{DomainError, Rule};
use crate::plan::document_number;
use crate::roles::{ContentArea, vocabulary};
use crate::text::{self, MAX_LINE};

vocabulary! {
    /// The level of a school (cấp học) in the district's care.
    SchoolLevel, "mam_non, tieu_hoc or thcs" {
        /// Mầm non: kindergartens.
        MamNon = "mam_non", "Mầm non";
        /// Tiểu học: primary schools.
        TieuHoc = "tieu_hoc", "Tiểu học";
        /// Trung học cơ sở: lower-secondary schools.
        Thcs = "thcs", "THCS";
    }
}

vocabulary! {
    /// The period a target is counted per.
    TargetPer, "quarter, semester, school_year or calendar_year" {
        /// A calendar quarter.
        Quarter = "quarter", "Quý";
        /// HK I (1 Sep – 15 Jan) or HK II (16 Jan – 31 May).
        Semester = "semester", "Học kỳ";
        /// 1 Sep – 31 Aug.
        SchoolYear = "school_year", "Năm học";
        /// 1 Jan – 31 Dec.
        CalendarYear = "calendar_year", "Năm";
    }
}

/// Most targets a district plan may carry; real plans have a handful.
pub const MAX_TARGETS: usize = 100;
/// Largest `min_activities` of a target.
pub const MAX_MIN_ACTIVITIES: u32 = 1_000;
/// Longest answer deadline, in days.
pub const MAX_ANSWER_DAYS: u32 = 365;

/// A school joining the district's views (`school.enrolled`). Enrolling an enrolled code
/// again updates its name, level and commune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub code: Slug,
    /// The school's name, e.g. `Trường THCS An Hòa`.
    pub name: String,
    pub level: SchoolLevel,
    /// The commune (xã, thị trấn) the school is in.
    pub commune: String,
    pub enrolled_on: NaiveDate,
}

impl Enrolment {
    /// Normalises the texts; reports `enrolment.<field>`.
    pub fn validated(&self) -> Result<Self, DomainError> {
        Ok(Self {
            code: self.code.clone(),
            name: text::required_line("enrolment.name", &self.name, MAX_LINE)?,
            level: self.level,
            commune: text::required_line("enrolment.commune", &self.commune, MAX_LINE)?,
            enrolled_on: self.enrolled_on,
        })
    }
}

/// What each matching school should do: at least `min_activities` live activities in each
/// matching area in each period `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Target {
    /// The school level it applies to; `None` for every level.
    pub level: Option<SchoolLevel>,
    /// The content area it applies to; `None` for each of the six areas (separately).
    pub area: Option<ContentArea>,
    pub per: TargetPer,
    pub min_activities: u32,
}

impl Target {
    /// Whether the target applies to a school of `level` in `area`.
    pub fn applies_to(&self, level: SchoolLevel, area: ContentArea) -> bool {
        self.level.is_none_or(|l| l == level) && self.area.is_none_or(|a| a == area)
    }
}

/// How many days a school has to answer, by kind of case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AnswerWithinDays {
    pub feedback: u32,
    pub press: u32,
}

impl AnswerWithinDays {
    /// The limits used when the district has adopted no plan: feedback 15 days, press 7.
    pub const DEFAULT: AnswerWithinDays = AnswerWithinDays {
        feedback: 15,
        press: 7,
    };
}

impl Default for AnswerWithinDays {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The district's own plan (`district_plan.adopted`). A later adoption replaces the earlier
/// as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistrictPlan {
    /// Number and symbol, e.g. `1442/KH-PGDĐT`.
    pub number: String,
    /// e.g. `Phòng Giáo dục và Đào tạo Tam Nông`.
    pub issuer: String,
    /// e.g. `UBND huyện Tam Nông`.
    pub parent_agency: String,
    pub place: String,
    pub date: NaiveDate,
    pub title: String,
    pub period: DateRange,
    pub targets: Vec<Target>,
    pub answer_within_days: AnswerWithinDays,
}

impl DistrictPlan {
    /// Validates and normalises a plan to be adopted; reports `district_plan.<field>`.
    ///
    /// The area of a target is typed, so 1..=6 is checked where it is read (JSON, protobuf);
    /// the period is a [`DateRange`], so `start <= end` holds by construction.
    pub fn validated(&self) -> Result<Self, DomainError> {
        let f = |name: &str| format!("district_plan.{name}");
        let number = document_number(&f("number"), &self.number)?;
        let issuer = text::required_line(&f("issuer"), &self.issuer, MAX_LINE)?;
        let parent_agency =
            text::required_line(&f("parent_agency"), &self.parent_agency, MAX_LINE)?;
        let place = text::required_line(&f("place"), &self.place, MAX_LINE)?;
        let title = text::required_line(&f("title"), &self.title, 1_000)?;
        if self.date > self.period.end() {
            return Err(DomainError::invalid(
                f("date"),
                Rule::OutsidePeriod {
                    date: self.date,
                    period: self.period,
                },
            ));
        }
        if self.targets.len() > MAX_TARGETS {
            return Err(DomainError::invalid(
                f("targets"),
                Rule::TooMany {
                    max: MAX_TARGETS,
                    actual: self.targets.len(),
                },
            ));
        }
        let mut seen = HashSet::new();
        for (i, target) in self.targets.iter().enumerate() {
            let field = f(&format!("targets[{i}]"));
            check_range(
                &format!("{field}.min_activities"),
                target.min_activities,
                1,
                MAX_MIN_ACTIVITIES,
            )?;
            if !seen.insert((target.level, target.area, target.per)) {
                return Err(DomainError::invalid(
                    field,
                    Rule::Duplicate {
                        value: target.key(),
                    },
                ));
            }
        }
        let days = self.answer_within_days;
        check_range(
            &f("answer_within_days.feedback"),
            days.feedback,
            1,
            MAX_ANSWER_DAYS,
        )?;
        check_range(
            &f("answer_within_days.press"),
            days.press,
            1,
            MAX_ANSWER_DAYS,
        )?;
        Ok(Self {
            number,
            issuer,
            parent_agency,
            place,
            date: self.date,
            title,
            period: self.period,
            targets: self.targets.clone(),
            answer_within_days: days,
        })
    }
}

impl Target {
    /// `thcs/3/quarter`, `*/*/semester`: how a duplicate is named in an error.
    fn key(&self) -> String {
        let level = self.level.map_or("*", |l| l.code());
        let area = self.area.map_or("*".to_string(), |a| a.to_string());
        format!("{level}/{area}/{}", self.per)
    }
}

fn check_range(field: &str, value: u32, min: u32, max: u32) -> Result<(), DomainError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            Rule::OutOfRange {
                value: i64::from(value),
                min: i64::from(min),
                max: i64::from(max),
            },
        ))
    }
}
