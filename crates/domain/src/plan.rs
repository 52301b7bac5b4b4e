//! The school's plan (Kế hoạch) and its amendments.
//!
//! A plan has a number/symbol (`114/KH-THCSAH`), place and date, legal bases ("Căn cứ"), a
//! period, purposes and requirements, the content areas it covers with their topics, and the
//! duties of each role. A plan is adopted once and then only amended: activities recorded
//! against a topic stay meaningful for the life of the plan.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::DateRange;
use crate::codes::Slug;
use crate::error::{DomainError, Rule, Warning};
use crate::roles::{ContentArea, Role};
use crate::text::{self, MAX_BODY, MAX_LINE};

/// Most entries a plan's lists may hold; real plans have a handful.
const MAX_ITEMS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Number and symbol, e.g. `114/KH-THCSAH`.
    pub number: String,
    /// The issuing body, e.g. `Trường THCS An Hòa`.
    pub issuer: String,
    /// Its parent agency, e.g. `Phòng GD-ĐT Tam Nông`.
    pub parent_agency: String,
    pub place: String,
    pub date: NaiveDate,
    pub title: String,
    pub period: DateRange,
    pub legal_bases: Vec<LegalBasis>,
    pub purposes: String,
    pub requirements: String,
    pub content_areas: Vec<AreaPlan>,
    pub duties: Vec<RoleDuties>,
}

/// A document the plan is based on ("Căn cứ").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalBasis {
    pub number: String,
    pub date: NaiveDate,
    pub issuer: String,
    pub title: String,
}

/// A content area as this plan covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaPlan {
    pub area: ContentArea,
    /// The plan's own wording of the area; the canonical label when left empty.
    pub title: String,
    pub topics: Vec<Topic>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    /// A short code, unique within the area, that activities refer to (`nq-29`).
    pub code: Slug,
    pub title: String,
}

/// The duties the plan gives one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDuties {
    pub role: Role,
    pub duties: Vec<String>,
}

/// A change to an adopted plan. Everything it carries is added; nothing is taken away, so the
/// history of activities stays valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanAmendment {
    /// The amending document's number, if it has one.
    pub number: Option<String>,
    pub date: NaiveDate,
    pub reason: String,
    pub legal_bases: Vec<LegalBasis>,
    pub topics: Vec<AddedTopic>,
    /// A new end of the plan period, if the plan is extended or shortened.
    pub period_end: Option<NaiveDate>,
    pub duties: Vec<RoleDuties>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedTopic {
    pub area: ContentArea,
    pub topic: Topic,
}

/// Checks `value` has the form of a Vietnamese document number: digits, '/', a symbol.
pub fn document_number(field: &str, value: &str) -> Result<String, DomainError> {
    let number = text::required_line(field, value, 60)?;
    let compact: String = number.chars().filter(|c| !c.is_whitespace()).collect();
    // `114/KH-THCSAH`, `29-NQ/TW`, `88/2014/QH13`, `1442/KH-PGDĐT`: a number first, then at
    // least one '/' and a symbol.
    let valid = compact.starts_with(|c: char| c.is_ascii_digit())
        && compact.split('/').count() >= 2
        && compact.split('/').all(|part| !part.is_empty())
        && compact
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '/' | '.'));
    if !valid {
        return Err(DomainError::invalid(
            field,
            Rule::InvalidDocumentNumber { value: number },
        ));
    }
    Ok(compact)
}

fn check_count(field: &str, actual: usize) -> Result<(), DomainError> {
    if actual > MAX_ITEMS {
        return Err(DomainError::invalid(
            field,
            Rule::TooMany {
                max: MAX_ITEMS,
                actual,
            },
        ));
    }
    Ok(())
}

impl LegalBasis {
    fn validated(&self, field: &str) -> Result<Self, DomainError> {
        Ok(Self {
            number: document_number(&format!("{field}.number"), &self.number)?,
            date: self.date,
            issuer: text::required_line(&format!("{field}.issuer"), &self.issuer, MAX_LINE)?,
            title: text::required_body(&format!("{field}.title"), &self.title, 2_000)?,
        })
    }
}

impl Topic {
    fn validated(&self, field: &str) -> Result<Self, DomainError> {
        Ok(Self {
            code: self.code.clone(),
            title: text::required_body(&format!("{field}.title"), &self.title, 2_000)?,
        })
    }
}

fn validated_duties(field: &str, duties: &[RoleDuties]) -> Result<Vec<RoleDuties>, DomainError> {
    check_count(field, duties.len())?;
    let mut seen = HashSet::new();
    duties
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let f = format!("{field}[{i}]");
            if !seen.insert(d.role) {
                return Err(DomainError::invalid(
                    format!("{f}.role"),
                    Rule::Duplicate {
                        value: d.role.code().into(),
                    },
                ));
            }
            check_count(&format!("{f}.duties"), d.duties.len())?;
            let duties = d
                .duties
                .iter()
                .enumerate()
                .map(|(j, text)| text::required_body(&format!("{f}.duties[{j}]"), text, 2_000))
                .collect::<Result<_, _>>()?;
            Ok(RoleDuties {
                role: d.role,
                duties,
            })
        })
        .collect()
}

impl Plan {
    /// Validates and normalises a plan to be adopted, returning it with its warnings.
    pub fn validated(&self) -> Result<(Plan, Vec<Warning>), DomainError> {
        let f = |name: &str| format!("plan.{name}");
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
        check_count(&f("legal_bases"), self.legal_bases.len())?;
        let mut warnings = Vec::new();
        let legal_bases = self
            .legal_bases
            .iter()
            .enumerate()
            .map(|(i, basis)| {
                let field = f(&format!("legal_bases[{i}]"));
                let basis = basis.validated(&field)?;
                if basis.date > self.date {
                    warnings.push(Warning::LegalBasisAfterPlan {
                        field: format!("{field}.date"),
                        number: basis.number.clone(),
                        basis_date: basis.date,
                        plan_date: self.date,
                    });
                }
                Ok(basis)
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        let purposes = text::required_body(&f("purposes"), &self.purposes, MAX_BODY)?;
        let requirements = text::required_body(&f("requirements"), &self.requirements, MAX_BODY)?;
        if self.content_areas.is_empty() {
            return Err(DomainError::invalid(f("content_areas"), Rule::Required));
        }
        let mut seen_areas = HashSet::new();
        let content_areas = self
            .content_areas
            .iter()
            .enumerate()
            .map(|(i, area)| {
                let field = f(&format!("content_areas[{i}]"));
                if !seen_areas.insert(area.area) {
                    return Err(DomainError::invalid(
                        format!("{field}.area"),
                        Rule::Duplicate {
                            value: area.area.to_string(),
                        },
                    ));
                }
                let title =
                    match text::optional(&format!("{field}.title"), Some(&area.title), 1_000)? {
                        Some(t) => t,
                        None => area.area.label_vi().to_string(),
                    };
                check_count(&format!("{field}.topics"), area.topics.len())?;
                let mut codes = HashSet::new();
                let topics = area
                    .topics
                    .iter()
                    .enumerate()
                    .map(|(j, topic)| {
                        let tf = format!("{field}.topics[{j}]");
                        if !codes.insert(topic.code.clone()) {
                            return Err(DomainError::invalid(
                                format!("{tf}.code"),
                                Rule::Duplicate {
                                    value: topic.code.to_string(),
                                },
                            ));
                        }
                        topic.validated(&tf)
                    })
                    .collect::<Result<_, _>>()?;
                Ok(AreaPlan {
                    area: area.area,
                    title,
                    topics,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let duties = validated_duties(&f("duties"), &self.duties)?;
        let plan = Plan {
            number,
            issuer,
            parent_agency,
            place,
            date: self.date,
            title,
            period: self.period,
            legal_bases,
            purposes,
            requirements,
            content_areas,
            duties,
        };
        Ok((plan, warnings))
    }

    pub fn area(&self, area: ContentArea) -> Option<&AreaPlan> {
        self.content_areas.iter().find(|a| a.area == area)
    }

    /// Checks an area and topic against the plan: the area must be in the plan, and the topic
    /// one of its topics (required when the area has topics). Reports under `field.area` and
    /// `field.topic`.
    pub fn check_topic(
        &self,
        field: &str,
        area: ContentArea,
        topic: Option<&Slug>,
    ) -> Result<(), DomainError> {
        let Some(planned) = self.area(area) else {
            return Err(DomainError::invalid(
                format!("{field}.area"),
                Rule::AreaNotInPlan {
                    area: area.number(),
                },
            ));
        };
        match topic {
            Some(code) if planned.topics.iter().any(|t| &t.code == code) => Ok(()),
            Some(code) => Err(DomainError::invalid(
                format!("{field}.topic"),
                Rule::UnknownTopic {
                    area: area.number(),
                    topic: code.to_string(),
                },
            )),
            None if planned.topics.is_empty() => Ok(()),
            None => Err(DomainError::invalid(
                format!("{field}.topic"),
                Rule::TopicRequired {
                    area: area.number(),
                },
            )),
        }
    }

    /// Validates an amendment against this plan.
    pub fn validate_amendment(
        &self,
        amendment: &PlanAmendment,
    ) -> Result<PlanAmendment, DomainError> {
        let f = |name: &str| format!("amendment.{name}");
        let number = match &amendment.number {
            Some(n) if !n.trim().is_empty() => Some(document_number(&f("number"), n)?),
            _ => None,
        };
        if amendment.date < self.date {
            return Err(DomainError::invalid(
                f("date"),
                Rule::Before {
                    date: amendment.date,
                    other_field: "plan.date".into(),
                    other: self.date,
                },
            ));
        }
        self.period.check(&f("date"), amendment.date)?;
        let reason = text::required_body(&f("reason"), &amendment.reason, MAX_BODY)?;
        check_count(&f("legal_bases"), amendment.legal_bases.len())?;
        let legal_bases = amendment
            .legal_bases
            .iter()
            .enumerate()
            .map(|(i, b)| b.validated(&f(&format!("legal_bases[{i}]"))))
            .collect::<Result<_, _>>()?;
        check_count(&f("topics"), amendment.topics.len())?;
        let mut added = HashSet::new();
        let topics = amendment
            .topics
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let field = f(&format!("topics[{i}]"));
                let exists = self
                    .area(t.area)
                    .is_some_and(|a| a.topics.iter().any(|x| x.code == t.topic.code));
                if exists || !added.insert((t.area, t.topic.code.clone())) {
                    return Err(DomainError::invalid(
                        format!("{field}.code"),
                        Rule::Duplicate {
                            value: t.topic.code.to_string(),
                        },
                    ));
                }
                Ok(AddedTopic {
                    area: t.area,
                    topic: t.topic.validated(&field)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(end) = amendment.period_end {
            DateRange::new(self.period.start(), end).map_err(|e| e.within("amendment.period"))?;
            if end < amendment.date {
                return Err(DomainError::invalid(
                    f("period_end"),
                    Rule::Before {
                        date: end,
                        other_field: "amendment.date".into(),
                        other: amendment.date,
                    },
                ));
            }
        }
        let duties = validated_duties(&f("duties"), &amendment.duties)?;
        let amendment = PlanAmendment {
            number,
            date: amendment.date,
            reason,
            legal_bases,
            topics,
            period_end: amendment.period_end,
            duties,
        };
        if amendment.legal_bases.is_empty()
            && amendment.topics.is_empty()
            && amendment.period_end.is_none()
            && amendment.duties.is_empty()
        {
            return Err(DomainError::invalid("amendment", Rule::NothingToAmend));
        }
        Ok(amendment)
    }

    /// The plan with an (already validated) amendment applied. Cannot fail.
    pub fn amended(&mut self, amendment: &PlanAmendment) {
        self.legal_bases
            .extend(amendment.legal_bases.iter().cloned());
        for added in &amendment.topics {
            match self.content_areas.iter_mut().find(|a| a.area == added.area) {
                Some(area) => area.topics.push(added.topic.clone()),
                None => {
                    self.content_areas.push(AreaPlan {
                        area: added.area,
                        title: added.area.label_vi().to_string(),
                        topics: vec![added.topic.clone()],
                    });
                    self.content_areas.sort_by_key(|a| a.area);
                }
            }
        }
        if let Some(end) = amendment.period_end {
            // Validation guarantees end >= start; keep the old period if it somehow does not.
            if let Ok(period) = DateRange::new(self.period.start(), end) {
                self.period = period;
            }
        }
        for duties in &amendment.duties {
            match self.duties.iter_mut().find(|d| d.role == duties.role) {
                Some(existing) => existing.duties.extend(duties.duties.iter().cloned()),
                None => self.duties.push(duties.clone()),
            }
        }
    }
}
