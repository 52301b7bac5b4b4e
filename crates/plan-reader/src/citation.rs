//! Reading a cited document: "Kế hoạch số 1442/KH-PGDĐT ngày 18 tháng 10 năm 2017 của Phòng
//! Giáo dục và Đào tạo Tam Nông về việc Truyền thông …" into its number, date, issuer and
//! title, and finding such citations in running text.

use chrono::NaiveDate;

use crate::text::{
    DateText, Folded, capitalise_first, date_after_ngay, lowercase_first, trim_end_of,
};

/// Kinds of document a plan cites, folded, longest first where one begins another.
const KINDS: [&str; 16] = [
    "nghi quyet lien tich",
    "thong tu lien tich",
    "nghi quyet",
    "quyet dinh",
    "ke hoach",
    "chi thi",
    "thong tu",
    "nghi dinh",
    "cong van",
    "huong dan",
    "thong bao",
    "chuong trinh",
    "dieu le",
    "luat",
    "de an",
    "ket luan",
];

/// What follows an issuer and begins the subject, folded: "về việc" (left out of the title),
/// "về" (left out when a capital follows, as in "về Thực hiện …", kept in "về đổi mới …"), or
/// a verb that begins the subject ("phê duyệt …").
const SUBJECT_MARKERS: [&str; 8] = [
    "ve viec",
    "v/v",
    "ve",
    "phe duyet",
    "ban hanh",
    "huong dan",
    "quy dinh",
    "trien khai",
];

/// A citation as read. Every part is optional; `glued_subject` says the text ran the issuer
/// into "Về" without a space ("Tam NôngVề kế hoạch").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Citation {
    pub number: Option<String>,
    /// The number as written when it is not a valid document number.
    pub invalid_number: Option<String>,
    pub date: Option<NaiveDate>,
    pub invalid_date: Option<String>,
    pub issuer: Option<String>,
    pub title: Option<String>,
    pub glued_subject: bool,
}

/// The kind at the start of `folded` (a citation's text, folded), if any: its folded length.
fn kind_at(folded: &str) -> Option<usize> {
    KINDS
        .iter()
        .find(|k| crate::text::starts_with_word(folded, k))
        .map(|k| k.len())
}

/// Reads one citation: `text` begins with the document's kind ("Kế hoạch", "Nghị quyết") —
/// "Căn cứ" already removed — and runs to the end of the citation.
pub(crate) fn read_citation(text: &str) -> Citation {
    let text = trim_end_of(text, &[';', '.', ',']);
    let folded = Folded::new(text);
    let mut citation = Citation::default();
    // The kind and the number: "<kind> số[:] <number>".
    let Some((so_start, so_end)) = folded.find_word("so", 0) else {
        citation.title = Some(capitalise_first(text));
        return citation;
    };
    let kind = text[..folded.at(so_start)].trim();
    // "Căn cứ Luật Giáo dục số 43/2019/QH14": a kind of a few words, then "số".
    if kind.is_empty() || kind.split_whitespace().count() > 8 {
        citation.title = Some(capitalise_first(text));
        return citation;
    }
    let after_so = text[folded.at(so_end)..].trim_start();
    let after_so = after_so.strip_prefix(':').unwrap_or(after_so).trim_start();
    let number_end = after_so
        .find(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')'))
        .unwrap_or(after_so.len());
    let written_number = trim_end_of(&after_so[..number_end], &['.', ':']);
    match domain::plan::document_number("number", written_number) {
        Ok(number) => citation.number = Some(number),
        Err(_) if !written_number.is_empty() => {
            citation.invalid_number = Some(written_number.to_string());
        }
        Err(_) => {}
    }
    let mut rest = &after_so[number_end..];
    // The date: "ngày …" right after the number.
    let folded_rest = crate::text::Folded::new(rest);
    if let Some((ngay_start, ngay_end)) = folded_rest.find_word("ngay", 0)
        && rest[..folded_rest.at(ngay_start)].trim().is_empty()
    {
        let after = &rest[folded_rest.at(ngay_end)..];
        if let Some((date, taken)) = date_after_ngay(after) {
            match date {
                DateText::Valid(d) => citation.date = Some(d),
                DateText::Invalid(written) => citation.invalid_date = Some(written),
            }
            rest = &after[taken..];
        }
    }
    // The issuer: "của <issuer>" up to the subject.
    let rest = rest.trim_start();
    let folded_rest = Folded::new(rest);
    let subject = if crate::text::starts_with_word(&folded_rest.text, "cua") {
        let issuer_text = &rest[folded_rest.at(3)..];
        let (issuer, subject, glued) = split_issuer(issuer_text);
        citation.glued_subject = glued;
        let issuer = trim_end_of(issuer, &[',', ';']).trim_start();
        if !issuer.is_empty() {
            citation.issuer = Some(issuer.to_string());
        }
        subject
    } else {
        // No issuer written: what follows is the subject ("về việc …"), if anything.
        let (_, subject, _) = split_issuer(rest);
        subject.or_else(|| (!rest.is_empty()).then_some(rest))
    };
    citation.title = Some(match subject.map(str::trim).filter(|s| !s.is_empty()) {
        Some(subject) => title_of(kind, subject),
        None => kind.to_string(),
    });
    citation
}

/// The title of a document from its kind and subject, as the plan's list of bases writes it:
/// "Kế hoạch" + "Truyền thông về …" → "Kế hoạch truyền thông về …"; a subject that begins with
/// the kind already ("kế hoạch hành động …") only gets its capital.
fn title_of(kind: &str, subject: &str) -> String {
    let folded_kind = domain::district::fold_vietnamese(kind);
    let folded_subject = domain::district::fold_vietnamese(subject);
    if crate::text::starts_with_word(&folded_subject, &folded_kind) {
        capitalise_first(subject)
    } else {
        format!("{} {}", capitalise_first(kind), lowercase_first(subject))
    }
}

/// Splits "Phòng Giáo dục và Đào tạo Tam Nông về việc Truyền thông …" into the issuer and the
/// subject (see [`SUBJECT_MARKERS`]). Also finds a "Về" run into the issuer's last word ("Tam
/// NôngVề"), reported as glued.
fn split_issuer(text: &str) -> (&str, Option<&str>, bool) {
    let folded = Folded::new(text);
    // (where the issuer ends, where the subject begins), in original offsets.
    let mut best: Option<(usize, usize)> = None;
    for marker in SUBJECT_MARKERS {
        let Some((start, end)) = folded.find_word(marker, 0) else {
            continue;
        };
        let (start, end) = (folded.at(start), folded.at(end));
        if best.is_some_and(|(s, _)| s <= start) {
            continue;
        }
        let dropped = match marker {
            "ve viec" | "v/v" => true,
            "ve" => text[end..].trim_start().starts_with(char::is_uppercase),
            _ => false,
        };
        best = Some((start, if dropped { end } else { start }));
    }
    // "NôngVề": a capital V right after a lowercase letter.
    let glued = text
        .match_indices("Về")
        .find(|(i, _)| {
            text[..*i]
                .chars()
                .next_back()
                .is_some_and(char::is_lowercase)
        })
        .map(|(i, m)| (i, i + m.len()));
    match (best, glued) {
        (Some((start, _)), Some((g_start, g_end))) if g_start < start => {
            (&text[..g_start], Some(&text[g_end..]), true)
        }
        (Some((start, subject)), _) => (&text[..start], Some(&text[subject..]), false),
        (None, Some((g_start, g_end))) => (&text[..g_start], Some(&text[g_end..]), true),
        (None, None) => (text, None, false),
    }
}

/// The citations of documents with a number ("Nghị quyết số 29-NQ/TW ngày …") in running
/// text, each as the text from its kind to the end of its clause: the next citation, a ';',
/// or a '.' that ends a sentence.
pub(crate) fn find_citations(text: &str) -> Vec<String> {
    let folded = Folded::new(text);
    let mut starts = Vec::new();
    let mut i = 0;
    while i < folded.text.len() {
        let at_boundary = folded.text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        if at_boundary && let Some(kind_len) = kind_at(&folded.text[i..]) {
            // The kind must be followed by "số" to be a citation.
            let after = folded.text[i + kind_len..].trim_start();
            if crate::text::starts_with_word(after, "so") {
                starts.push(i);
                i += kind_len;
                continue;
            }
        }
        i += folded.text[i..].chars().next().map_or(1, char::len_utf8);
    }
    let mut found = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let limit = starts.get(n + 1).copied().unwrap_or(folded.text.len());
        let original_start = folded.at(start);
        let original_limit = folded.at(limit);
        let segment = &text[original_start..original_limit];
        let end = clause_end(segment);
        let mut clause = segment[..end].trim();
        // "… phổ thông và Nghị quyết số 88 …": the joining word belongs to neither.
        for joiner in [" và", " và các", ","] {
            if let Some(stripped) = clause.strip_suffix(joiner) {
                clause = stripped.trim_end();
            }
        }
        found.push(clause.to_string());
    }
    found
}

/// Where a citation's clause ends in `segment`: a ';' or a '.' followed by white space or the
/// end (not the dots inside "27.3.2015").
fn clause_end(segment: &str) -> usize {
    let bytes = segment.as_bytes();
    for (i, c) in segment.char_indices() {
        match c {
            ';' => return i,
            '.' if bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace()) => return i,
            _ => {}
        }
    }
    segment.len()
}
