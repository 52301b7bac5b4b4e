//! How wide text is in Times New Roman, the font of the Word report and of its printable
//! page, so that tables can be laid out from what their cells hold before Word or
//! LibreOffice sets them.
//!
//! The widths are the advance widths of the Times regular and bold faces in thousandths of
//! an em, as in the PostScript core fonts' metrics, which Times New Roman and its
//! metric-compatible twin Liberation Serif (what LibreOffice sets Times New Roman with when
//! it is not installed) share. A Vietnamese letter is as wide as its base letter (the marks
//! sit above or below), ơ and ư a little wider for the horn; đ and Đ are d and D. Anything
//! else counts as a digit, which is about the average letter.

use unicode_normalization::UnicodeNormalization as _;

/// Widths of the printable ASCII characters, space (32) to tilde (126), regular face.
const REGULAR: [u16; 95] = [
    250, 333, 408, 500, 500, 833, 778, 180, 333, 333, 500, 564, 250, 333, 250,
    278, // space … /
    500, 500, 500, 500, 500, 500, 500, 500, 500, 500, // 0 … 9
    278, 278, 564, 564, 564, 444, 921, // : … @
    722, 667, 667, 722, 611, 556, 722, 722, 333, 389, 722, 611, 889, 722, 722, 556, 722, 667, 556,
    611, 722, 722, 944, 722, 722, 611, // A … Z
    333, 278, 333, 469, 500, 333, // [ … `
    444, 500, 444, 500, 444, 333, 500, 500, 278, 278, 500, 278, 778, 500, 500, 500, 500, 333, 389,
    278, 500, 500, 722, 500, 500, 444, // a … z
    480, 200, 480, 541, // { … ~
];

/// The same for the bold face.
const BOLD: [u16; 95] = [
    250, 333, 555, 500, 500, 1000, 833, 278, 333, 333, 500, 570, 250, 333, 250,
    278, // space … /
    500, 500, 500, 500, 500, 500, 500, 500, 500, 500, // 0 … 9
    333, 333, 570, 570, 570, 500, 930, // : … @
    722, 667, 722, 722, 667, 611, 778, 778, 389, 500, 778, 667, 944, 722, 778, 611, 778, 722, 556,
    667, 722, 722, 1000, 722, 722, 667, // A … Z
    333, 278, 333, 581, 500, 333, // [ … `
    500, 556, 444, 556, 444, 333, 500, 556, 278, 333, 556, 278, 833, 556, 500, 556, 556, 444, 389,
    333, 556, 500, 722, 500, 500, 444, // a … z
    394, 220, 394, 520, // { … ~
];

/// The width of one character in thousandths of an em.
fn advance(c: char, bold: bool) -> u16 {
    let table = if bold { &BOLD } else { &REGULAR };
    let ascii = |c: char| {
        let i = (c as usize).wrapping_sub(32);
        table.get(i).copied()
    };
    if let Some(w) = ascii(c) {
        return w;
    }
    match c {
        'đ' => return ascii('d').unwrap_or(500),
        'Đ' => return ascii('D').unwrap_or(722),
        '–' | '«' | '»' => return 500,
        '—' | '…' => return 1000,
        '“' | '”' => return if bold { 500 } else { 444 },
        '‘' | '’' => return 333,
        _ => {}
    }
    // A letter with marks: its base letter, and the horn of ơ and ư.
    let mut parts = std::iter::once(c).nfd();
    match parts.next().and_then(ascii) {
        Some(base) => {
            let horn = parts.any(|m| m == '\u{31B}');
            base + if horn { 60 } else { 0 }
        }
        None => 500,
    }
}

/// The width of `text` in twentieths of a point (dxa) at `half_points` (Word's unit of font
/// size: 24 is 12 pt), regular or bold.
pub fn width(text: &str, half_points: usize, bold: bool) -> usize {
    let thousandths: usize = text.chars().map(|c| usize::from(advance(c, bold))).sum();
    // An em of `half_points` half-points is `half_points * 10` dxa.
    (thousandths * half_points * 10).div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_the_times_metrics() {
        // Ten digits at 12 pt: half an em each, 120 dxa.
        assert_eq!(width("0123456789", 24, false), 1_200);
        assert_eq!(width("0123456789", 24, true), 1_200);
        // Capitals are wider than small letters, bold wider than regular.
        assert!(width("TRƯỜNG", 24, false) > width("trường", 24, false));
        assert!(width("Trường", 24, true) > width("Trường", 24, false));
    }

    #[test]
    fn vietnamese_letters_are_as_wide_as_their_base_letters() {
        assert_eq!(width("ệ", 24, false), width("e", 24, false));
        assert_eq!(width("Ấ", 24, true), width("A", 24, true));
        assert_eq!(width("đ", 24, false), width("d", 24, false));
        assert!(width("ư", 24, false) > width("u", 24, false));
        assert_eq!(width("", 24, false), 0);
    }
}
