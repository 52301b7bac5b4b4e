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

/// Who published an event: a school (by its code) or the district office itself.
///
/// On the wire it is the envelope's `school` field and the last token of the subject: the
/// school's slug, or `_district` for the district office (a leading underscore can never
/// begin a slug, so the two cannot collide).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Author {
    School(Slug),
    DistrictOffice,
}

impl Author {
    /// The token that stands for the district office.
    pub const DISTRICT_TOKEN: &'static str = "_district";

    /// Reads `_district` or a school's slug, reporting `field` when it is neither.
    pub fn parse(field: &str, value: &str) -> Result<Self, DomainError> {
        if value == Self::DISTRICT_TOKEN {
            Ok(Author::DistrictOffice)
        } else {
            Slug::parse(field, value).map(Author::School)
        }
    }

    /// The slug, or `_district`.
    pub fn as_str(&self) -> &str {
        match self {
            Author::School(slug) => slug.as_str(),
            Author::DistrictOffice => Self::DISTRICT_TOKEN,
        }
    }

    /// The school's code, when a school published it.
    pub fn school(&self) -> Option<&Slug> {
        match self {
            Author::School(slug) => Some(slug),
            Author::DistrictOffice => None,
        }
    }
}

impl TryFrom<String> for Author {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Author::parse("school", &value)
    }
}

impl From<Author> for String {
    fn from(author: Author) -> Self {
        author.as_str().to_string()
    }
}

impl From<Slug> for Author {
    fn from(slug: Slug) -> Self {
        Author::School(slug)
    }
}

impl fmt::Display for Author {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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

    #[test]
    fn authors_are_a_slug_or_the_district_token() {
        let school = Author::parse("school", "thcs-an-hoa").unwrap();
        assert_eq!(school.school().map(Slug::as_str), Some("thcs-an-hoa"));
        assert_eq!(
            Author::parse("school", "_district").unwrap(),
            Author::DistrictOffice
        );
        assert_eq!(
            serde_json::to_string(&Author::DistrictOffice).unwrap(),
            "\"_district\""
        );
        let back: Author = serde_json::from_str("\"thcs-an-hoa\"").unwrap();
        assert_eq!(back, school);
        assert!(Author::parse("school", "_other").is_err());
    }
}
