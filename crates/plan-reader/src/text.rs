//! Text helpers for reading administrative Vietnamese: cleaning a line, accent-insensitive
//! search that maps back to the original text, numbering prefixes, dates, capitalisation and
//! topic codes.

use chrono::NaiveDate;
use domain::district::fold_vietnamese;
use domain::text::is_invisible_format;
use unicode_normalization::UnicodeNormalization;

/// Longest topic code [`domain::codes::Slug::parse`] accepts.
pub(crate) const MAX_CODE: usize = 63;

/// What cleaning removed, so that the reading can say so.
#[derive(Debug, Default)]
pub(crate) struct Cleaning {
    /// Invisible format characters (zero-width spaces, byte-order marks, bidi controls).
    pub invisible: usize,
    /// Control characters other than tab.
    pub control: usize,
}

/// One line of the document, cleaned: NFC, invisible and control characters removed, runs of
/// white space (tabs, no-break spaces) collapsed to one space, no space before `,;:.!?)` or
/// after `(`, trimmed.
pub(crate) fn clean_line(raw: &str, cleaning: &mut Cleaning) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for c in raw.nfc() {
        if is_invisible_format(c) {
            cleaning.invisible += 1;
            continue;
        }
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if c.is_control() {
            cleaning.control += 1;
            continue;
        }
        if pending_space {
            // "truyền thông , tham mưu" → "truyền thông, tham mưu"; "( nếu có)" → "(nếu có)".
            let glue = matches!(c, ',' | ';' | ':' | '.' | '!' | '?' | ')') || out.ends_with('(');
            if !out.is_empty() && !glue {
                out.push(' ');
            }
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// A text folded for matching (lowercase, no diacritics, `đ` → `d`, by
/// [`domain::district::fold_vietnamese`]), with the way back to the original's byte offsets.
#[derive(Debug)]
pub(crate) struct Folded<'a> {
    original: &'a str,
    pub text: String,
    /// `map[i]`: the original byte offset of the character folded byte `i` comes from.
    map: Vec<usize>,
}

impl<'a> Folded<'a> {
    pub fn new(original: &'a str) -> Self {
        let mut text = String::with_capacity(original.len());
        let mut map = Vec::with_capacity(original.len() + 1);
        let mut buf = [0_u8; 4];
        for (offset, c) in original.char_indices() {
            let folded = fold_vietnamese(c.encode_utf8(&mut buf));
            map.extend(std::iter::repeat_n(offset, folded.len()));
            text.push_str(&folded);
        }
        map.push(original.len());
        Self {
            original,
            text,
            map,
        }
    }

    /// The original byte offset of folded byte offset `i`.
    pub fn at(&self, i: usize) -> usize {
        self.map.get(i).copied().unwrap_or(self.original.len())
    }

    /// The first occurrence of `pattern` (folded, ASCII) at or after folded offset `from`
    /// that starts and ends at word boundaries, as a folded range.
    pub fn find_word(&self, pattern: &str, from: usize) -> Option<(usize, usize)> {
        find_word(&self.text, pattern, from)
    }
}

/// The first occurrence of `pattern` in `haystack` at or after `from`, starting and ending at
/// word boundaries (no letter or digit just before or after).
pub(crate) fn find_word(haystack: &str, pattern: &str, from: usize) -> Option<(usize, usize)> {
    let mut start = from;
    while start <= haystack.len() {
        let rest = haystack.get(start..)?;
        let at = start + rest.find(pattern)?;
        let end = at + pattern.len();
        let before_ok = haystack[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after_ok = haystack[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if before_ok && after_ok {
            return Some((at, end));
        }
        start = at + haystack[at..].chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// Whether `folded` starts with `pattern` followed by a word boundary.
pub(crate) fn starts_with_word(folded: &str, pattern: &str) -> bool {
    folded
        .strip_prefix(pattern)
        .is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric()))
}

/// A line of only rules: `–––––––`, `______`, `-----`, `***`.
pub(crate) fn is_rule(line: &str) -> bool {
    let mut n = 0;
    for c in line.chars() {
        match c {
            '-' | '–' | '—' | '_' | '=' | '*' | '~' | '‐' | '−' => n += 1,
            ' ' => {}
            _ => return false,
        }
    }
    n >= 3
}

/// Whether the text is written in capitals: at least two letters, none lowercase.
pub(crate) fn is_upper(text: &str) -> bool {
    let mut letters = 0;
    for c in text.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_alphabetic() {
            letters += 1;
        }
    }
    letters >= 2
}

/// How a line is numbered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Numbering {
    None,
    /// `I.`, `II.`, `IV)`.
    Roman(u32),
    /// `1.`, `2)`, `1.-`, `2.1.`, `5 `: how many components, and the last one.
    Arabic {
        depth: usize,
        last: u32,
    },
    /// `a)`, `b.`.
    Letter(char),
    /// `-`, `+`, `•`, `–`.
    Bullet,
}

fn roman_value(s: &str) -> Option<u32> {
    let mut total = 0_u32;
    let mut previous = 0_u32;
    for c in s.chars().rev() {
        let v = match c {
            'I' => 1,
            'V' => 5,
            'X' => 10,
            'L' => 50,
            'C' => 100,
            _ => return None,
        };
        if v < previous {
            total = total.checked_sub(v)?;
        } else {
            total += v;
            previous = v;
        }
    }
    (total > 0 && s.len() <= 6).then_some(total)
}

/// Splits a line's numbering from its text: `"2. Phó Hiệu trường:"` → `(Arabic { depth: 1,
/// last: 2 }, "Phó Hiệu trường:")`. A year (`2017 – 2020`) is not numbering.
pub(crate) fn split_numbering(line: &str) -> (Numbering, &str) {
    let trimmed = line.trim_start();
    // Bullets.
    if let Some(c) = trimmed.chars().next()
        && matches!(
            c,
            '-' | '+' | '•' | '–' | '—' | '*' | '·' | '\u{F0B7}' | '\u{F0A7}' | '\u{F0D8}'
        )
    {
        let rest = trimmed[c.len_utf8()..].trim_start();
        if !rest.is_empty() {
            return (Numbering::Bullet, rest);
        }
    }
    // Roman numerals: letters up to '.' or ')'.
    let roman_end = trimmed
        .find(|c: char| !matches!(c, 'I' | 'V' | 'X' | 'L' | 'C'))
        .unwrap_or(trimmed.len());
    if roman_end > 0
        && let Some(value) = roman_value(&trimmed[..roman_end])
        && let Some(rest) = trimmed[roman_end..]
            .strip_prefix('.')
            .or_else(|| trimmed[roman_end..].strip_prefix(')'))
    {
        let rest = rest.trim_start_matches(['-', '–', ' ']);
        if !rest.is_empty() {
            return (Numbering::Roman(value), rest);
        }
    }
    // Arabic: components of one or two digits separated by dots.
    let mut last = None;
    let mut depth = 0;
    let mut i = 0;
    let bytes = trimmed.as_bytes();
    loop {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || digits > 2 {
            if digits > 2 {
                last = None;
            }
            break;
        }
        last = trimmed[start..i].parse::<u32>().ok();
        depth += 1;
        if i < bytes.len() && bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
            continue;
        }
        break;
    }
    if let Some(n) = last {
        let after = &trimmed[i..];
        let (marked, rest) = match after.strip_prefix('.').or_else(|| after.strip_prefix(')')) {
            Some(rest) => (true, rest),
            None => (false, after),
        };
        let rest = rest.trim_start_matches(['-', '–']).trim_start();
        // "5 Công đoàn:" is numbered; "5%" or "10 ngày" are not: unmarked numbering needs a
        // capital letter after it.
        if !rest.is_empty()
            && (marked || rest.starts_with(char::is_uppercase))
            && after.starts_with(['.', ')', ' '])
        {
            return (Numbering::Arabic { depth, last: n }, rest);
        }
    }
    // Letters: "a)", "b.".
    let mut chars = trimmed.chars();
    if let (Some(letter), Some(mark)) = (chars.next(), chars.next())
        && (letter.is_ascii_lowercase() || letter == 'đ')
        && (mark == ')' || (mark == '.' && chars.clone().next() == Some(' ')))
    {
        let rest = chars.as_str().trim_start();
        if !rest.is_empty() {
            return (Numbering::Letter(letter), rest);
        }
    }
    (Numbering::None, trimmed)
}

/// Removes trailing characters of `chars` and white space.
pub(crate) fn trim_end_of<'a>(text: &'a str, chars: &[char]) -> &'a str {
    text.trim_end_matches(|c: char| c.is_whitespace() || chars.contains(&c))
}

/// The text with its first letter in upper case.
pub(crate) fn capitalise_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The text with its first letter in lower case, unless the first word is an acronym
/// (`GDĐT`) or has a capital past its first letter.
pub(crate) fn lowercase_first(text: &str) -> String {
    let first_word = text.split_whitespace().next().unwrap_or("");
    if first_word.chars().skip(1).any(char::is_uppercase) {
        return text.to_string();
    }
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Whether a word in capitals is an acronym to keep as it is: no vowel (`THCS`, `GD-ĐT`,
/// `PGDĐT`), an ampersand (`GD&ĐT`) or a known one with vowels (`UBND`, `HĐND`).
fn is_acronym(word: &str) -> bool {
    const WITH_VOWELS: [&str; 5] = ["ubnd", "hdnd", "ptdtbt", "ptdtnt", "ubmttq"];
    let folded = fold_vietnamese(word);
    let letters: String = folded.chars().filter(char::is_ascii_alphabetic).collect();
    letters.is_empty()
        || word.contains('&')
        || !letters
            .chars()
            .any(|c| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y'))
        || WITH_VOWELS.contains(&letters.as_str())
}

/// Administrative units, lowercase before the unit's name as running text writes them
/// ("Ủy ban nhân dân huyện Tam Nông").
const UNITS: [&str; 4] = ["tinh", "huyen", "xa", "phuong"];

/// Common nouns of agency names and which of their words stay lowercase (by position).
const AGENCY_PHRASES: [(&[&str], &[usize]); 9] = [
    (&["giao", "duc", "va", "dao", "tao"], &[1, 2, 4]),
    (&["uy", "ban", "nhan", "dan"], &[1, 2, 3]),
    (&["hoi", "dong", "nhan", "dan"], &[1, 2, 3]),
    (&["trung", "hoc", "co", "so"], &[1, 2, 3]),
    (&["trung", "hoc", "pho", "thong"], &[1, 2, 3]),
    (&["tieu", "hoc"], &[1]),
    (&["mam", "non"], &[1]),
    (&["mau", "giao"], &[1]),
    (&["nha", "tre"], &[1]),
];

/// An agency name written in capitals, as running text writes it: `TRƯỜNG THCS AN HÒA` →
/// `Trường THCS An Hòa`, `TRƯỜNG MẦM NON PHÚ ĐỨC` → `Trường Mầm non Phú Đức`. Every word is
/// capitalised except acronyms, `và` and the inner words of common nouns; the reading notes
/// that the case was converted, because proper names cannot be told from common nouns.
pub(crate) fn agency_case(upper: &str) -> String {
    let words: Vec<&str> = upper.split(' ').filter(|w| !w.is_empty()).collect();
    let folded: Vec<String> = words.iter().map(|w| fold_vietnamese(w)).collect();
    let mut lower = vec![false; words.len()];
    for (i, f) in folded.iter().enumerate() {
        // A unit word only before a name: "TRƯỜNG THCS AN HÒA" has none, "UBND XÃ PHÚ ĐỨC" one.
        if f == "va" || (i > 0 && i + 1 < words.len() && UNITS.contains(&f.as_str())) {
            lower[i] = true;
        }
    }
    for (phrase, keep_lower) in AGENCY_PHRASES {
        for start in 0..words.len() {
            if folded.len() >= start + phrase.len()
                && phrase
                    .iter()
                    .enumerate()
                    .all(|(k, p)| folded[start + k] == *p)
            {
                for k in keep_lower {
                    lower[start + k] = true;
                }
            }
        }
    }
    let cased: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, word)| {
            if is_acronym(word) {
                (*word).to_string()
            } else if lower[i] {
                word.to_lowercase()
            } else {
                capitalise_first(&word.to_lowercase())
            }
        })
        .collect();
    cased.join(" ")
}

/// A date as the text wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DateText {
    /// A date that exists.
    Valid(NaiveDate),
    /// Written like a date but no such day (31/02/2018): the text is kept.
    Invalid(String),
}

/// Reads a number of at most `max` digits at the start of `s`, after white space.
fn number_at(s: &str, max: usize) -> Option<(u32, &str)> {
    let s = s.trim_start();
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 || end > max {
        return None;
    }
    Some((s[..end].parse().ok()?, &s[end..]))
}

/// Reads the date after the word "ngày": `20  tháng 10  năm 2017`, `04/11/2013`,
/// `05-9-2018`, `5.9.2018`. Returns the date and the length (bytes of `s`) it took.
pub(crate) fn date_after_ngay(s: &str) -> Option<(DateText, usize)> {
    let (day, rest) = number_at(s, 2)?;
    let (month, year, rest) = if let Some(after) = rest
        .strip_prefix('/')
        .or_else(|| rest.strip_prefix('-'))
        .or_else(|| rest.strip_prefix('.'))
    {
        let separator = &rest[..1];
        let (month, after) = number_at(after, 2)?;
        let after = after.strip_prefix(separator)?;
        let (year, after) = number_at(after, 4)?;
        (month, year, after)
    } else {
        let folded_rest = fold_vietnamese(rest.trim_start());
        if !starts_with_word(&folded_rest, "thang") {
            return None;
        }
        let after = skip_word(rest)?;
        let (month, after) = number_at(after, 2)?;
        let folded_after = fold_vietnamese(after.trim_start());
        if !starts_with_word(&folded_after, "nam") {
            return None;
        }
        let after = skip_word(after)?;
        let (year, after) = number_at(after, 4)?;
        (month, year, after)
    };
    if !(1900..=2200).contains(&year) {
        return None;
    }
    // Every slice read is a suffix of `s`: what is left says how much the date took.
    let consumed = s.len() - rest.len();
    let written = s[..consumed].trim().to_string();
    let date = match NaiveDate::from_ymd_opt(year as i32, month, day) {
        Some(d) => DateText::Valid(d),
        None => DateText::Invalid(written),
    };
    Some((date, consumed))
}

/// The first word of `s` (after white space) skipped: the rest after it.
fn skip_word(s: &str) -> Option<&str> {
    let s = s.trim_start();
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some(&s[end..])
}

/// A topic code from a title: folded, words of letters and digits joined by '-', cut at a
/// word boundary to `max` characters. Empty when the title has no letter or digit.
pub(crate) fn slug(title: &str, max: usize) -> String {
    let folded = fold_vietnamese(title);
    let mut out = String::new();
    for word in folded.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        let extra = usize::from(!out.is_empty()) + word.len();
        if out.len() + extra > max {
            if out.is_empty() {
                out.push_str(&word[..max]);
            }
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(word);
    }
    out
}

/// Cuts `text` to at most `max` characters for a message, with an ellipsis.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{}…", cut.trim_end())
}
