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
    fold_into(&mut folded, text);
    folded
}

/// [`fold_vietnamese`] of `text`, appended to `out`.
fn fold_into(out: &mut String, text: &str) {
    let table = &*FOLD_TABLE;
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        match table.get(c as usize).copied().unwrap_or(SLOW) {
            DROP => {}
            SLOW => fold_char(out, c),
            ascii => out.push(char::from(ascii)),
        }
    }
}

/// Table entries: an ASCII byte is what the character folds to.
const SLOW: u8 = 0;
const DROP: u8 = 0xFF;

/// What each character below U+1F00 (Latin, its supplements and Vietnamese's extended block,
/// the combining marks) folds to when that is one ASCII letter or nothing; [`fold_char`]
/// decides the rest, and made the table.
static FOLD_TABLE: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    (0..0x1F00_u32)
        .map(|code| {
            let Some(c) = char::from_u32(code) else {
                return SLOW;
            };
            let mut folded = String::new();
            fold_char(&mut folded, c);
            match folded.as_bytes() {
                [] => DROP,
                [b] if b.is_ascii() && *b != 0 => *b,
                _ => SLOW,
            }
        })
        .collect()
});

/// The definition: decompose, drop every combining mark, lowercase, `đ` → `d`. Character by
/// character: dropping every mark makes NFD's reordering of marks irrelevant, and lowercasing
/// the base letter after decomposing equals decomposing the lowercase letter for every letter
/// Vietnamese uses.
fn fold_char(out: &mut String, c: char) {
    decompose_canonical(c, |d| {
        if is_combining_mark(d) {
            return;
        }
        for lower in d.to_lowercase() {
            if is_combining_mark(lower) {
                continue;
            }
            out.push(if lower == 'đ' { 'd' } else { lower });
        }
    });
}

/// Longest word kept, in characters. PostgreSQL refuses lexemes over 2 KiB; no Vietnamese
/// word comes near this, and the query is cut the same way, so nothing findable is lost.
pub const MAX_WORD_CHARS: usize = 64;

/// The words of folded text: split at every character that is not a letter or a digit
/// (spaces, punctuation, `-`, `/`), each cut to [`MAX_WORD_CHARS`].
fn words_of(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.char_indices()
                .nth(MAX_WORD_CHARS)
                .map_or(w, |(end, _)| &w[..end])
        })
}

/// The words an activity is found by, each once, in byte order (as PostgreSQL's `tsvector`
/// keeps them), joined by single spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchWords(String);

impl SearchWords {
    /// The words joined by spaces, as the aggregator stores them.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.0.split(' ').filter(|w| !w.is_empty())
    }
}

/// The words an activity is found by: those of its title, summary, audience and partner,
/// folded.
///
/// The search matches words, not arbitrary substrings: a word index costs PostgreSQL a
/// fraction of a trigram index at ingest (one entry per distinct word rather than one per
/// three-letter window), which is what kept the ingest far below the raw baseline.
pub fn activity_search_words(details: &ActivityDetails) -> SearchWords {
    let mut folded = String::with_capacity(
        details.title.len()
            + details.summary.len()
            + 2 * details.audience.as_ref().map_or(0, String::len),
    );
    for field in [
        details.title.as_str(),
        details.summary.as_str(),
        details.audience.as_deref().unwrap_or(""),
        details.partner.as_deref().unwrap_or(""),
    ] {
        fold_into(&mut folded, field);
        folded.push(' ');
    }
    let mut words: Vec<&str> = words_of(&folded).collect();
    words.sort_unstable();
    words.dedup();
    SearchWords(words.join(" "))
}

/// The words of a free-text query, folded and split like [`activity_search_words`]; empty
/// when the query has no letter or digit.
pub fn query_words(query: &str) -> Vec<String> {
    words_of(&fold_vietnamese(query))
        .map(str::to_owned)
        .collect()
}

/// Whether every query word begins some word of the activity: "an hoa" finds "An Hòa",
/// "huong" finds "hướng nghiệp", "nghi" finds "nghiệp" too; "oa" does not find "hòa".
pub fn matches_all_words(query: &[String], words: &SearchWords) -> bool {
    query
        .iter()
        .all(|q| words.words().any(|w| w.starts_with(q.as_str())))
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
        let every_char: String = (0x80..0x2000_u32).filter_map(char::from_u32).collect();
        for text in [
            every_char,
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
            let folded = fold_vietnamese(text);
            let mut w: Vec<&str> = words_of(&folded).collect();
            w.sort_unstable();
            w.dedup();
            SearchWords(w.join(" "))
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
