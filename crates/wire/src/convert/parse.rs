//! Parsing of the scalar forms protobuf carries — date strings, UUID strings, area numbers,
//! optional text — into domain values, naming the field on failure.

use chrono::NaiveDate;
use uuid::Uuid;

use domain::codes::Slug;
use domain::{ContentArea, DomainError, Rule, Vnd};

/// The longest prefix of a refused value echoed back in an error.
const ECHO_MAX: usize = 64;

/// A refused value as it is echoed in an error: at most [`ECHO_MAX`] characters, so a
/// megabyte sent as a date does not come back as a megabyte of error.
fn echo(value: &str) -> String {
    if value.chars().count() <= ECHO_MAX {
        value.to_string()
    } else {
        let mut shown: String = value.chars().take(ECHO_MAX).collect();
        shown.push('…');
        shown
    }
}

fn invalid_value(field: &str, value: &str, expected: &'static str) -> DomainError {
    DomainError::invalid(
        field,
        Rule::InvalidValue {
            value: echo(value),
            expected,
        },
    )
}

/// A required date `YYYY-MM-DD` (a Vietnam local date).
pub fn date(field: &str, value: &str) -> Result<NaiveDate, DomainError> {
    optional_date(field, value)?.ok_or_else(|| DomainError::invalid(field, Rule::Required))
}

/// An optional date `YYYY-MM-DD`; empty (or blank) is `None`.
pub fn optional_date(field: &str, value: &str) -> Result<Option<NaiveDate>, DomainError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    // Exactly ten characters: chrono alone would also take `2017-1-5` or `+2017-01-05`.
    let well_formed = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    well_formed
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten()
        .map(Some)
        .ok_or_else(|| invalid_value(field, value, "a date YYYY-MM-DD"))
}

/// A date as the wire writes it: `YYYY-MM-DD`.
pub fn date_string(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A required UUID, naming the thing it refers to.
pub fn uuid(field: &str, value: &str) -> Result<Uuid, DomainError> {
    optional_uuid(field, value)?.ok_or_else(|| DomainError::invalid(field, Rule::Required))
}

/// An optional UUID; empty (or blank) is `None`.
pub fn optional_uuid(field: &str, value: &str) -> Result<Option<Uuid>, DomainError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    Uuid::try_parse(value)
        .map(Some)
        .map_err(|_| invalid_value(field, value, "a UUID"))
}

/// A client-chosen id, or a fresh one from `new_id` when the client left it empty.
pub fn id_or_new(
    field: &str,
    value: &str,
    new_id: &mut dyn FnMut() -> Uuid,
) -> Result<Uuid, DomainError> {
    Ok(optional_uuid(field, value)?.unwrap_or_else(new_id))
}

/// A required content area, 1..=6.
pub fn area(field: &str, number: u32) -> Result<ContentArea, DomainError> {
    ContentArea::from_number(field, i64::from(number))
}

/// An optional content area: 0 is `None`, 1..=6 an area.
pub fn optional_area(field: &str, number: u32) -> Result<Option<ContentArea>, DomainError> {
    match number {
        0 => Ok(None),
        n => area(field, n).map(Some),
    }
}

/// The wire form of an optional area: 0 for none.
pub fn area_number(area: Option<ContentArea>) -> u32 {
    area.map_or(0, |a| u32::from(a.number()))
}

/// An optional slug (a topic code); empty is `None`.
pub fn optional_slug(field: &str, value: &str) -> Result<Option<Slug>, DomainError> {
    if value.is_empty() {
        Ok(None)
    } else {
        Slug::parse(field, value).map(Some)
    }
}

/// An amount in đồng: 0 up to [`Vnd::MAX`].
pub fn vnd(field: &str, amount: i64) -> Result<Vnd, DomainError> {
    Vnd::parse(field, amount)
}

/// Optional text: the empty string is `None`. Blank text is left for the domain to judge
/// (it normalises and drops it).
pub fn optional_text(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

/// The wire form of optional text: empty for none.
pub fn text_or_empty(value: Option<&String>) -> String {
    value.cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict_iso() {
        assert_eq!(
            date("d", "2017-10-20").unwrap(),
            NaiveDate::from_ymd_opt(2017, 10, 20).unwrap()
        );
        assert_eq!(
            date("d", " 2017-10-20 ").unwrap(),
            NaiveDate::from_ymd_opt(2017, 10, 20).unwrap()
        );
        for bad in [
            "2017-1-5",
            "+2017-01-05",
            "20/10/2017",
            "2017-02-30",
            "2017-13-01",
            "yesterday",
        ] {
            let err = date("activity.date", bad).unwrap_err();
            assert_eq!(err.field, "activity.date", "{bad}");
            assert!(matches!(err.rule, Rule::InvalidValue { .. }), "{bad}");
        }
        assert_eq!(date("d", "").unwrap_err().rule, Rule::Required);
        assert_eq!(optional_date("d", "").unwrap(), None);
    }

    #[test]
    fn long_refused_values_are_cut_in_the_message() {
        let err = date("d", &"9".repeat(10_000)).unwrap_err();
        assert!(err.to_string().len() < 200, "{err}");
    }

    #[test]
    fn ids_are_uuids_or_fresh() {
        let mut calls = 0;
        let mut fresh = || {
            calls += 1;
            Uuid::from_u128(7)
        };
        assert_eq!(id_or_new("x", "", &mut fresh).unwrap(), Uuid::from_u128(7));
        let given = "0192b7a0-0000-7000-8000-000000000001";
        assert_eq!(
            id_or_new("x", given, &mut fresh).unwrap(),
            Uuid::parse_str(given).unwrap()
        );
        let err = id_or_new("feedback.feedback_id", "abc", &mut fresh).unwrap_err();
        assert_eq!(err.field, "feedback.feedback_id");
        assert_eq!(calls, 1);
        assert_eq!(uuid("x", "").unwrap_err().rule, Rule::Required);
    }

    #[test]
    fn areas() {
        assert_eq!(optional_area("a", 0).unwrap(), None);
        assert_eq!(
            optional_area("a", 4).unwrap(),
            Some(ContentArea::EmulationCommendation)
        );
        assert_eq!(area("visit.area", 0).unwrap_err().field, "visit.area");
        assert_eq!(area("visit.area", 70_000).unwrap_err().field, "visit.area");
        assert_eq!(area_number(None), 0);
        assert_eq!(area_number(Some(ContentArea::Other)), 6);
    }
}
