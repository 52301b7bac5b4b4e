//! Accent-insensitive search text: district staff type "an hoa" and expect "An Hòa".
//!
//! Folding lowercases, decomposes to NFD and drops the combining marks (tones and the
//! circumflex, breve and horn of â, ă, ơ, ư), and maps `đ` to `d` (đ is a letter of its own,
//! not d with a mark, so NFD leaves it alone). The aggregator stores the folded text of each
//! activity and folds the query with this same function, so both sides match alike.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::event::ActivityDetails;

/// Lowercase, without Vietnamese diacritics, `đ`/`Đ` → `d`: "Đồng Tháp" → "dong thap".
pub fn fold_vietnamese(text: &str) -> String {
    text.to_lowercase()
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect()
}

/// The folded text an activity is searched in: its title, summary, audience and partner,
/// each folded, joined by `\n` (absent ones as empty). A query word never holds white space,
/// so "the word is in this text" is "the word is in one of the four fields".
pub fn activity_search_text(details: &ActivityDetails) -> String {
    [
        details.title.as_str(),
        details.summary.as_str(),
        details.audience.as_deref().unwrap_or(""),
        details.partner.as_deref().unwrap_or(""),
    ]
    .map(fold_vietnamese)
    .join("\n")
}

/// The words of a free-text query, folded; empty when the query is blank.
pub fn query_words(query: &str) -> Vec<String> {
    fold_vietnamese(query)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Whether every word appears (as a substring) in the folded `text`.
pub fn matches_all_words(words: &[String], text: &str) -> bool {
    words.iter().all(|w| text.contains(w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese_as_people_type_it() {
        assert_eq!(fold_vietnamese("An Hòa"), "an hoa");
        assert_eq!(fold_vietnamese("Đồng Tháp"), "dong thap");
        assert_eq!(fold_vietnamese("hướng nghiệp"), "huong nghiep");
        assert_eq!(
            fold_vietnamese("TRƯỜNG THCS ĐỐC BINH KIỀU"),
            "truong thcs doc binh kieu"
        );
        // Decomposed input folds the same as precomposed.
        assert_eq!(fold_vietnamese("An Ho\u{0300}a"), "an hoa");
    }

    #[test]
    fn every_word_must_appear_somewhere() {
        let words = query_words("  Hướng   an hoa ");
        assert_eq!(words, ["huong", "an", "hoa"]);
        assert!(matches_all_words(
            &words,
            "giao duc huong nghiep\nthcs an hoa"
        ));
        assert!(!matches_all_words(&words, "giao duc huong nghiep"));
        assert!(matches_all_words(&[], "anything"));
    }
}
