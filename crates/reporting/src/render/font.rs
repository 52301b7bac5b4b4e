//! The font charts are measured and drawn with: DejaVu Sans Condensed (Bitstream Vera
//! licence, `assets/fonts/LICENSE-DejaVu.txt`), embedded so that every machine draws the same
//! chart with every Vietnamese letter, whatever fonts it has installed.

use std::sync::LazyLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};

const DEJAVU_SANS_CONDENSED: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed.ttf");

/// The CSS font stack for the same text in SVG, with the embedded font first.
pub const CSS_FAMILY: &str = "'DejaVu Sans Condensed', 'DejaVu Sans', Arial, sans-serif";

static FONT: LazyLock<FontRef<'static>> = LazyLock::new(|| {
    // The bytes are part of the binary and checked by a test; they cannot fail at run time.
    FontRef::try_from_slice(DEJAVU_SANS_CONDENSED).expect("the embedded font parses")
});

/// The embedded font.
pub fn font() -> &'static FontRef<'static> {
    &FONT
}

/// The advance width of `text` at `size` pixels, kerning included.
pub fn text_width(text: &str, size: f32) -> f32 {
    let font = font().as_scaled(PxScale::from(size));
    let mut width = 0.0;
    let mut previous = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = previous {
            width += font.kern(p, id);
        }
        width += font.h_advance(id);
        previous = Some(id);
    }
    width
}

/// `text` cut to fit `max_width` pixels at `size`, with an ellipsis when cut.
pub fn fit(text: &str, size: f32, max_width: f32) -> String {
    if text_width(text, size) <= max_width {
        return text.to_string();
    }
    let mut out: String = text.chars().collect();
    while !out.is_empty() && text_width(&format!("{out}…"), size) > max_width {
        out.pop();
    }
    format!("{}…", out.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_has_vietnamese_letters() {
        for c in "Trường THCS An Hòa – Đài Truyền thanh huyện ệ ỗ ữ".chars() {
            assert!(c == ' ' || font().glyph_id(c).0 != 0, "no glyph for {c:?}");
        }
        assert!(text_width("Trường", 20.0) > 40.0);
        let cut = fit("Trường Mầm non Hoa Sen thị trấn Tràm Chim", 20.0, 120.0);
        assert!(
            cut.ends_with('…') && text_width(&cut, 20.0) <= 120.0,
            "{cut}"
        );
    }
}
