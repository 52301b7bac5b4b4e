//! Accent-insensitive search text: district staff type "an hoa" and expect "An Hòa".
//!
//! Folding lowercases, decomposes to NFD and drops the combining marks (tones and the
//! circumflex, breve and horn of â, ă, ơ, ư), and maps `đ` to `d` (đ is a letter of its own,
//! not d with a mark, so NFD leaves it alone). The aggregator stores the folded text of each
//! activity and folds the query with this same function, so both sides match alike.

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

use crate::event::ActivityDetails;

/// Lowercase, without Vietnamese diacritics, `đ`/`Đ` → `d`: "Đồng Tháp" → "dong thap".
pub fn fold_vietnamese(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            folded.push(c.to_ascii_lowercase());
            continue;
        }
        // Character by character: dropping every combining mark makes NFD's reordering of
        // marks irrelevant, and lowercasing the base letter after decomposing equals
        // decomposing the lowercase letter for every letter Vietnamese uses.
        decompose_canonical(c, |d| {
            if is_combining_mark(d) {
                return;
            }
            for lower in d.to_lowercase() {
                if is_combining_mark(lower) {
                    continue;
                }
                folded.push(if lower == 'đ' { 'd' } else { lower });
            }
        });
    }
    folded
}

/// Longest word kept, in characters. PostgreSQL refuses lexemes over 2 KiB; no Vietnamese
/// word comes near this, and the query is cut the same way, so nothing findable is lost.
pub const MAX_WORD_CHARS: usize = 64;

/// The folded words of `text`: split at every character that is not a letter or a digit
/// (spaces, punctuation, `-`, `/`), each cut to [`MAX_WORD_CHARS`].
fn folded_words(text: &str) -> impl Iterator<Item = String> {
    fold_vietnamese(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(MAX_WORD_CHARS).collect::<String>())
        .collect::<Vec<_>>()
        .into_iter()
}

/// The words an activity is found by: those of its title, summary, audience and partner,
/// folded, each once, in byte order (as PostgreSQL's `tsvector` keeps them).
///
/// The search matches words, not arbitrary substrings: a word index costs PostgreSQL a
/// fraction of a trigram index at ingest (one entry per distinct word rather than one per
/// three-letter window), which is what kept the ingest far below the raw baseline.
pub fn activity_search_words(details: &ActivityDetails) -> Vec<String> {
    let mut words: Vec<String> = [
        details.title.as_str(),
        details.summary.as_str(),
        details.audience.as_deref().unwrap_or(""),
        details.partner.as_deref().unwrap_or(""),
    ]
    .into_iter()
    .flat_map(folded_words)
    .collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// The words of a free-text query, folded and split like [`activity_search_words`]; empty
/// when the query has no letter or digit.
pub fn query_words(query: &str) -> Vec<String> {
    folded_words(query).collect()
}

/// Whether every query word begins some word of the activity (`words`, as
/// [`activity_search_words`] makes them): "an hoa" finds "An Hòa", "huong" finds
/// "hướng nghiệp", "nghi" finds "nghiệp" too; "oa" does not find "hòa".
pub fn matches_all_words(query: &[String], words: &[String]) -> bool {
    query
        .iter()
        .all(|q| words.iter().any(|w| w.starts_with(q.as_str())))
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
    fn folding_by_character_equals_lowercase_nfd_without_marks() {
        use unicode_normalization::UnicodeNormalization;
        let plain = |text: &str| -> String {
            text.to_lowercase()
                .nfd()
                .filter(|c| !is_combining_mark(*c))
                .map(|c| if c == 'đ' { 'd' } else { c })
                .collect()
        };
        let vietnamese =
            "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ";
        for text in [
            vietnamese.to_owned(),
            vietnamese.to_uppercase(),
            "Trường THCS An Hòa — Kế hoạch 114/KH-THCS, năm học 2017-2018!".to_owned(),
            "Ω İstanbul ß ﬁ Å\u{212B} e\u{301}\u{323}".to_owned(),
        ] {
            assert_eq!(fold_vietnamese(&text), plain(&text), "{text}");
        }
    }

    #[test]
    fn every_query_word_must_begin_a_word_of_the_activity() {
        let words = query_words("  Hướng   an-hoa ");
        assert_eq!(words, ["huong", "an", "hoa"]);
        let activity = |text: &str| {
            let mut w: Vec<String> = folded_words(text).collect();
            w.sort_unstable();
            w.dedup();
            w
        };
        assert!(matches_all_words(
            &words,
            &activity("Giáo dục hướng nghiệp\nTHCS An Hòa")
        ));
        assert!(!matches_all_words(
            &words,
            &activity("giáo dục hướng nghiệp")
        ));
        assert!(matches_all_words(
            &query_words("nghi"),
            &activity("hướng nghiệp")
        ));
        assert!(!matches_all_words(&query_words("oa"), &activity("An Hòa")));
        assert!(matches_all_words(&[], &activity("bất kỳ")));
    }

    #[test]
    fn words_split_at_punctuation_and_are_cut_to_a_bound() {
        assert_eq!(
            query_words("Năm học 2017-2018: \"Tuyên truyền\"/ATGT"),
            ["nam", "hoc", "2017", "2018", "tuyen", "truyen", "atgt"]
        );
        let long = "a".repeat(MAX_WORD_CHARS + 10);
        assert_eq!(query_words(&long)[0].chars().count(), MAX_WORD_CHARS);
        assert!(query_words(" - / ").is_empty());
    }
}
