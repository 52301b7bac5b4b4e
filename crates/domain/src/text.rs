//! Free text coming in from people: normalised to Unicode NFC and checked for length.
//!
//! Vietnamese can be typed precomposed ("ò" as one code point) or decomposed ("o" + a combining
//! grave accent); the two look the same but compare, index and search differently. Every text
//! is normalised to NFC on the way in so that the log holds one spelling of each word.

use unicode_normalization::UnicodeNormalization;

use crate::error::{DomainError, Rule};

/// Longest single-line texts: titles, names, outlets.
pub const MAX_LINE: usize = 300;
/// Longest multi-line texts: summaries, answers, feedback content.
pub const MAX_BODY: usize = 10_000;
/// Longest link.
pub const MAX_URL: usize = 2_000;

/// Normalises to NFC and trims surrounding white space.
pub fn normalise(value: &str) -> String {
    let trimmed = value.trim();
    // Almost all text is NFC already (every event the district re-checks is): the quick check
    // answers that without decomposing and recomposing every character.
    if unicode_normalization::is_nfc_quick(trimmed.chars())
        == unicode_normalization::IsNormalized::Yes
    {
        trimmed.to_owned()
    } else {
        trimmed.nfc().collect()
    }
}

fn check(field: &str, value: &str, max: usize, multiline: bool) -> Result<String, DomainError> {
    // Count before normalising too, so a megabyte of text is refused without being copied.
    if value.len() > max * 4 {
        let actual = value.chars().count();
        return Err(DomainError::invalid(field, Rule::TooLong { max, actual }));
    }
    let text = normalise(value);
    let actual = text.chars().count();
    if actual > max {
        return Err(DomainError::invalid(field, Rule::TooLong { max, actual }));
    }
    let allowed = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'));
    if !text.chars().all(allowed) {
        return Err(DomainError::invalid(field, Rule::ControlCharacter));
    }
    Ok(text)
}

/// A required single-line text of at most `max` characters.
pub fn required_line(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    let text = check(field, value, max, false)?;
    if text.is_empty() {
        return Err(DomainError::invalid(field, Rule::Required));
    }
    Ok(text)
}

/// A required text that may span lines.
pub fn required_body(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    let text = check(field, value, max, true)?;
    if text.is_empty() {
        return Err(DomainError::invalid(field, Rule::Required));
    }
    Ok(text)
}

/// An optional text; empty or blank becomes `None`.
pub fn optional(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match value {
        None => Ok(None),
        Some(v) => {
            let text = check(field, v, max, true)?;
            Ok((!text.is_empty()).then_some(text))
        }
    }
}

/// An optional http(s) link, e.g. evidence of an activity on the school portal.
pub fn optional_url(field: &str, value: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(url) = optional(field, value, MAX_URL)? else {
        return Ok(None);
    };
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !url.chars().any(char::is_whitespace) => Ok(Some(url)),
        _ => Err(DomainError::invalid(field, Rule::InvalidUrl { value: url })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_vietnamese_becomes_precomposed() {
        let decomposed = "An Ho\u{0300}a";
        let text = required_line("title", decomposed, 50).unwrap();
        assert_eq!(text, "An Hòa");
        assert_eq!(text.chars().count(), 6);
    }

    #[test]
    fn blank_is_required_error() {
        let err = required_line("activity.title", "   ", 50).unwrap_err();
        assert_eq!(err.field, "activity.title");
        assert_eq!(err.rule, Rule::Required);
    }

    #[test]
    fn a_megabyte_is_too_long() {
        let big = "a".repeat(1 << 20);
        let err = required_body("activity.summary", &big, MAX_BODY).unwrap_err();
        assert!(matches!(err.rule, Rule::TooLong { max: MAX_BODY, .. }));
    }

    #[test]
    fn newline_in_a_title_is_refused_but_allowed_in_a_body() {
        assert!(required_line("t", "a\nb", 50).is_err());
        assert!(required_body("t", "a\nb", 50).is_ok());
    }

    #[test]
    fn urls_must_be_http() {
        assert!(
            optional_url("u", Some("https://thcsanhoa.edu.vn/tin/1"))
                .unwrap()
                .is_some()
        );
        assert!(optional_url("u", Some("")).unwrap().is_none());
        assert!(optional_url("u", Some("ftp://x")).is_err());
        assert!(optional_url("u", Some("https:// x")).is_err());
    }
}
