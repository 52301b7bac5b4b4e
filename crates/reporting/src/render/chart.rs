//! Charts laid out once, drawn twice: [`layout`] turns a [`Figure`] into a [`Scene`] of
//! rectangles, lines and text in pixels; `chart_svg` writes the scene as inline SVG for the
//! printable page and `chart_png` rasterises it for Word. Both formats therefore show the
//! same chart.
//!
//! Every figure of a report is a horizontal grouped bar chart: categories (areas, channels,
//! schools) down the left with their labels, one bar per series, values at the bar ends, a
//! legend on top and a value axis with gridlines at "nice" steps.

use domain::vi;

use crate::model::Figure;

use super::font;

/// An RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// Series colours: dark blue, orange, grey — distinct in print and in grey scale.
const PALETTE: [Rgb; 3] = [
    Rgb(0x1f, 0x4e, 0x79),
    Rgb(0xe0, 0x7b, 0x22),
    Rgb(0x8c, 0x8c, 0x8c),
];
const TEXT: Rgb = Rgb(0x20, 0x20, 0x20);
const GRID: Rgb = Rgb(0xd9, 0xd9, 0xd9);
const AXIS: Rgb = Rgb(0x59, 0x59, 0x59);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Rgb,
    },
    /// Axis-parallel lines only.
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        stroke: Rgb,
    },
    /// `y` is the baseline.
    Text {
        x: f32,
        y: f32,
        size: f32,
        anchor: Anchor,
        fill: Rgb,
        text: String,
    },
}

/// A laid-out chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub width: f32,
    pub height: f32,
    pub shapes: Vec<Shape>,
}

/// The pixel width charts are laid out at (≈ 16 cm at 190 dpi).
pub const WIDTH: f32 = 1200.0;
const FONT: f32 = 20.0;
const BAR: f32 = 20.0;
const GROUP_GAP: f32 = 14.0;
const PAD: f32 = 12.0;

/// A value as a chart label: whole numbers plain, others with one decimal and a comma.
pub fn value_label(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        vi::int(v.round() as i64)
    } else {
        vi::decimal(v, 1)
    }
}

/// The axis maximum and step: the smallest of 1, 2, 2.5, 5 × 10^k steps with at most five
/// intervals covering `max`.
fn nice_axis(max: f64) -> (f64, f64) {
    if max <= 0.0 {
        return (1.0, 0.25);
    }
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| s * 5.0 >= max)
        .unwrap_or(10.0 * magnitude);
    ((max / step).ceil() * step, step)
}

pub fn layout(figure: &Figure) -> Scene {
    let mut shapes = Vec::new();
    let n_series = figure.series.len().max(1);
    let label_w = figure
        .categories
        .iter()
        .map(|c| font::text_width(c, FONT))
        .fold(0.0_f32, f32::max)
        .min(WIDTH * 0.38)
        + PAD;

    // Legend across the top.
    let mut x = label_w + PAD;
    let legend_y = PAD + FONT;
    for (i, s) in figure.series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        shapes.push(Shape::Rect {
            x,
            y: legend_y - FONT * 0.8,
            w: FONT * 0.8,
            h: FONT * 0.8,
            fill: colour,
        });
        x += FONT * 0.8 + 6.0;
        shapes.push(Shape::Text {
            x,
            y: legend_y,
            size: FONT,
            anchor: Anchor::Start,
            fill: TEXT,
            text: s.name.clone(),
        });
        x += font::text_width(&s.name, FONT) + 2.0 * PAD;
    }
    shapes.push(Shape::Text {
        x: WIDTH - PAD,
        y: legend_y,
        size: FONT * 0.85,
        anchor: Anchor::End,
        fill: AXIS,
        text: format!("Đơn vị: {}", figure.unit),
    });

    let plot_top = legend_y + PAD * 1.5;
    let plot_left = label_w + PAD;
    let value_room = font::text_width("00.000", FONT) + PAD;
    let plot_right = WIDTH - value_room;
    let group_h = BAR * n_series as f32 + GROUP_GAP;
    let plot_h = group_h * figure.categories.len().max(1) as f32;
    let plot_bottom = plot_top + plot_h;
    let height = plot_bottom + FONT + PAD * 2.0;

    let max = figure
        .series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0_f64, f64::max);
    let (axis_max, step) = nice_axis(max);
    let scale = |v: f64| plot_left + ((v / axis_max) as f32) * (plot_right - plot_left);

    // Gridlines and tick labels.
    let mut tick = 0.0;
    while tick <= axis_max + step / 2.0 {
        let x = scale(tick);
        shapes.push(Shape::Line {
            x1: x,
            y1: plot_top,
            x2: x,
            y2: plot_bottom,
            stroke: if tick == 0.0 { AXIS } else { GRID },
        });
        shapes.push(Shape::Text {
            x,
            y: plot_bottom + FONT + 4.0,
            size: FONT * 0.85,
            anchor: Anchor::Middle,
            fill: AXIS,
            text: value_label(tick),
        });
        tick += step;
    }

    for (c, category) in figure.categories.iter().enumerate() {
        let top = plot_top + c as f32 * group_h + GROUP_GAP / 2.0;
        shapes.push(Shape::Text {
            x: label_w,
            y: top + (BAR * n_series as f32) / 2.0 + FONT * 0.35,
            size: FONT,
            anchor: Anchor::End,
            fill: TEXT,
            text: font::fit(category, FONT, label_w - PAD),
        });
        for (i, s) in figure.series.iter().enumerate() {
            let v = s.values.get(c).copied().unwrap_or(0.0).max(0.0);
            let y = top + i as f32 * BAR;
            let w = scale(v) - plot_left;
            if w > 0.0 {
                shapes.push(Shape::Rect {
                    x: plot_left,
                    y: y + 1.0,
                    w,
                    h: BAR - 2.0,
                    fill: PALETTE[i % PALETTE.len()],
                });
            }
            shapes.push(Shape::Text {
                x: plot_left + w + 5.0,
                y: y + BAR * 0.75,
                size: FONT * 0.8,
                anchor: Anchor::Start,
                fill: TEXT,
                text: value_label(v),
            });
        }
    }
    shapes.push(Shape::Line {
        x1: plot_left,
        y1: plot_bottom,
        x2: plot_right,
        y2: plot_bottom,
        stroke: AXIS,
    });

    Scene {
        width: WIDTH,
        height: height.ceil(),
        shapes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Series;

    #[test]
    fn axes_are_nice_and_cover_the_data() {
        assert_eq!(nice_axis(0.0), (1.0, 0.25));
        assert_eq!(nice_axis(7.0), (8.0, 2.0));
        assert_eq!(nice_axis(10.0), (10.0, 2.0));
        assert_eq!(nice_axis(123.0), (125.0, 25.0));
        assert_eq!(nice_axis(2600.0), (3000.0, 1000.0));
    }

    #[test]
    fn every_value_gets_a_bar_and_a_label() {
        let figure = Figure {
            key: "k".into(),
            caption: "Biểu đồ 1.".into(),
            unit: "hoạt động".into(),
            categories: vec!["Trường THCS An Hòa".into(), "Trường TH Phú Cường".into()],
            series: vec![
                Series {
                    name: "Số hoạt động".into(),
                    values: vec![12.0, 0.0],
                },
                Series {
                    name: "Chỉ tiêu".into(),
                    values: vec![8.0, 8.0],
                },
            ],
        };
        let scene = layout(&figure);
        let bars = scene
            .shapes
            .iter()
            .filter(|s| matches!(s, Shape::Rect { h, .. } if *h == BAR - 2.0))
            .count();
        // A zero value draws no bar but still says 0.
        assert_eq!(bars, 3);
        let texts: Vec<&str> = scene
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        for expected in [
            "12",
            "0",
            "8",
            "Trường THCS An Hòa",
            "Chỉ tiêu",
            "Đơn vị: hoạt động",
        ] {
            assert!(
                texts.contains(&expected),
                "{expected} missing from {texts:?}"
            );
        }
    }
}
