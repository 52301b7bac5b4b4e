//! Codes of provinces, districts and schools: lowercase ASCII slugs (`dong-thap`, `tam-nong`,
//! `thcs-an-hoa`). They appear in NATS subjects, so they are restricted to what a subject token
//! can safely hold. A code is unique only within its parent — Vietnam has two districts named
//! Tam Nông — so a school is always addressed by the full [`SchoolRef`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Rule};

/// A lowercase ASCII slug: letters, digits and single hyphens, 1 to 63 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(field: &str, value: &str) -> Result<Self, DomainError> {
        let invalid = |reason| {
            DomainError::invalid(
                field,
                Rule::InvalidCode {
                    value: value.to_string(),
                    reason,
                },
            )
        };
        if value.is_empty() {
            return Err(DomainError::invalid(field, Rule::Required));
        }
        if value.len() > 63 {
            return Err(invalid("at most 63 characters"));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid("only a-z, 0-9 and '-'"));
        }
        if value.starts_with('-') || value.ends_with('-') || value.contains("--") {
            return Err(invalid("no leading, trailing or double '-'"));
        }
        Ok(Self(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Slug::parse("code", &value)
    }
}

impl From<Slug> for String {
    fn from(slug: Slug) -> Self {
        slug.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A school's full address: province, district, school.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SchoolRef {
    pub province: Slug,
    pub district: Slug,
    pub school: Slug,
}

impl SchoolRef {
    pub fn parse(province: &str, district: &str, school: &str) -> Result<Self, DomainError> {
        Ok(Self {
            province: Slug::parse("province", province)?,
            district: Slug::parse("district", district)?,
            school: Slug::parse("school", school)?,
        })
    }
}

impl fmt::Display for SchoolRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.province, self.district, self.school)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["dong-thap", "tam-nong", "thcs-an-hoa", "a", "mn-1"] {
            assert!(Slug::parse("school", ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "An-Hoa", "an hoa", "an_hoa", "-a", "a-", "a--b", "hòa", "a.b", "a>",
        ] {
            let err = Slug::parse("school", bad).unwrap_err();
            assert_eq!(err.field, "school", "{bad}");
        }
    }
}
