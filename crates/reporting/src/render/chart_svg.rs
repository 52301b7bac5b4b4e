//! A laid-out chart as inline SVG, for the printable page: vector, so it prints sharp.

use std::fmt::Write as _;

use super::chart::{Anchor, Scene, Shape};
use super::font::CSS_FAMILY;
use super::html::escape;

pub fn svg(scene: &Scene, title: &str) -> String {
    let mut out = String::with_capacity(scene.shapes.len() * 80);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{title}" font-family="{CSS_FAMILY}">"#,
        w = scene.width,
        h = scene.height,
        title = escape(title)
    );
    for shape in &scene.shapes {
        match shape {
            Shape::Rect { x, y, w, h, fill } => {
                let _ = write!(
                    out,
                    r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{}"/>"#,
                    fill.hex()
                );
            }
            Shape::Line {
                x1,
                y1,
                x2,
                y2,
                stroke,
            } => {
                let _ = write!(
                    out,
                    r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{}" stroke-width="1.5"/>"#,
                    stroke.hex()
                );
            }
            Shape::Text {
                x,
                y,
                size,
                anchor,
                fill,
                text,
            } => {
                let anchor = match anchor {
                    Anchor::Start => "start",
                    Anchor::Middle => "middle",
                    Anchor::End => "end",
                };
                let _ = write!(
                    out,
                    r#"<text x="{x:.1}" y="{y:.1}" font-size="{size:.1}" text-anchor="{anchor}" fill="{}">{}</text>"#,
                    fill.hex(),
                    escape(text)
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}
