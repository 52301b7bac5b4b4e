//! Free text coming in from people: normalised to Unicode NFC and checked for length and for
//! characters that do not show.
//!
//! Vietnamese can be typed precomposed ("ò" as one code point) or decomposed ("o" + a combining
//! grave accent); the two look the same but compare, index and search differently. Every text
//! is normalised to NFC on the way in so that the log holds one spelling of each word.
//!
//! A text must also read as what it holds. Control characters are refused (newlines and tabs
//! are allowed where a text may span lines), and so are the invisible format characters of
//! [`is_invisible_format`]: a bidirectional override can make a report print "Đã trả lời"
//! over text stored in another order, and zero-width characters make two equal-looking names
//! differ. The aggregator re-checks every event with these rules, so such a text is refused
//! at the district too.

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

/// Whether `c` is an invisible format character refused in every text: the bidirectional
/// embeddings and overrides U+202A–U+202E, the bidirectional isolates U+2066–U+2069, the
/// zero-width space, non-joiner and joiner and the left-to-right and right-to-left marks
/// U+200B–U+200F, and the zero-width no-break space (byte-order mark) U+FEFF.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}' | '\u{FEFF}'
    )
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
    for c in text.chars() {
        if c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')) {
            return Err(DomainError::invalid(field, Rule::ControlCharacter));
        }
        if is_invisible_format(c) {
            return Err(DomainError::invalid(
                field,
                Rule::InvisibleFormatCharacter { character: c },
            ));
        }
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

    /// Every invisible format character refused, one of each range and both ends.
    const INVISIBLE: [char; 9] = [
        '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{200C}', '\u{200D}',
        '\u{200F}', '\u{FEFF}',
    ];

    #[test]
    fn given_a_bidi_override_in_a_title_when_checked_then_refused_naming_the_character() {
        // "Đã trả lời" shown over text stored the other way round.
        let title = "Phản hồi \u{202E}iờl ảrt ãĐ\u{202C} phụ huynh";
        let err = required_line("activity.title", title, MAX_LINE).unwrap_err();
        assert_eq!(err.field, "activity.title");
        assert_eq!(
            err.rule,
            Rule::InvisibleFormatCharacter {
                character: '\u{202E}'
            }
        );
        assert!(err.to_string().contains("U+202E"), "{err}");
        assert!(err.vietnamese().contains("ký tự định dạng vô hình U+202E"));
    }

    fn refused<T: std::fmt::Debug>(result: Result<T, DomainError>) -> Rule {
        result.unwrap_err().rule
    }

    #[test]
    fn given_any_invisible_format_character_when_checked_then_every_kind_of_text_refuses_it() {
        for c in INVISIBLE {
            let text = format!("An{c} Hòa");
            let rule = Rule::InvisibleFormatCharacter { character: c };
            assert_eq!(refused(required_line("f", &text, 50)), rule, "{c:?} line");
            assert_eq!(refused(required_body("f", &text, 50)), rule, "{c:?} body");
            assert_eq!(refused(optional("f", Some(&text), 50)), rule, "{c:?} opt");
            let url = format!("https://thcsanhoa.edu.vn/{c}tin");
            assert_eq!(refused(optional_url("f", Some(&url))), rule, "{c:?} url");
        }
    }

    #[test]
    fn given_invisible_characters_at_the_ends_when_checked_then_not_trimmed_away_but_refused() {
        // A byte-order mark or a zero-width space is not white space: trimming keeps it.
        for text in ["\u{FEFF}Trường THCS An Hòa", "Trường THCS An Hòa\u{200B}"] {
            assert!(matches!(
                required_line("enrolment.name", text, MAX_LINE)
                    .unwrap_err()
                    .rule,
                Rule::InvisibleFormatCharacter { .. }
            ));
        }
    }

    #[test]
    fn given_neighbours_of_the_refused_ranges_when_checked_then_accepted() {
        // The hair space before U+200B, the en dash of "2017 – 2020", the narrow no-break
        // space after U+202E, the superscript zero after U+2069, the no-break space, and a
        // combining accent of decomposed Vietnamese: visible or plain spacing, kept.
        for c in [
            '\u{200A}', '\u{2013}', '\u{202F}', '\u{2070}', '\u{00A0}', '\u{0301}',
        ] {
            let text = format!("Tam{c}Nông");
            assert!(required_line("f", &text, 50).is_ok(), "{c:?}");
        }
    }

    #[test]
    fn given_line_breaks_when_checked_then_bodies_keep_them_and_lines_refuse_them() {
        let body = "Dòng một\r\nDòng hai\tcó tab";
        assert_eq!(required_body("f", body, 100).unwrap(), body);
        assert_eq!(
            required_line("f", body, 100).unwrap_err().rule,
            Rule::ControlCharacter
        );
        assert_eq!(
            required_body("f", "Dòng\u{0007}", 100).unwrap_err().rule,
            Rule::ControlCharacter,
            "other controls stay refused in bodies"
        );
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
