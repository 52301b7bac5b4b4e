//! A laid-out chart rasterised to PNG, for Word: rectangles and axis lines filled directly,
//! text drawn with the embedded font's glyph outlines (anti-aliased), encoded with `png`.

use ab_glyph::{Font, PxScale, ScaleFont, point};

use super::chart::{Anchor, Rgb, Scene, Shape};
use super::font;

/// Renders `scene` at its own pixel size.
pub fn png(scene: &Scene) -> Result<Vec<u8>, png::EncodingError> {
    let (w, h) = (scene.width as u32, scene.height as u32);
    let mut canvas = Canvas {
        w: w as usize,
        h: h as usize,
        pixels: vec![255; w as usize * h as usize * 3],
    };
    for shape in &scene.shapes {
        match shape {
            Shape::Rect { x, y, w, h, fill } => canvas.fill(*x, *y, *w, *h, *fill),
            Shape::Line {
                x1,
                y1,
                x2,
                y2,
                stroke,
            } => {
                let (x, y) = (x1.min(*x2), y1.min(*y2));
                let (w, h) = ((x2 - x1).abs().max(1.5), (y2 - y1).abs().max(1.5));
                canvas.fill(x - 0.75, y - 0.75, w + 0.75, h + 0.75, *stroke);
            }
            Shape::Text {
                x,
                y,
                size,
                anchor,
                fill,
                text,
            } => canvas.text(*x, *y, *size, *anchor, *fill, text),
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        // 190 dpi, so a viewer that honours it shows the chart at about 16 cm.
        encoder.set_pixel_dims(Some(png::PixelDimensions {
            xppu: 7_480,
            yppu: 7_480,
            unit: png::Unit::Meter,
        }));
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&canvas.pixels)?;
        writer.finish()?;
    }
    Ok(out)
}

struct Canvas {
    w: usize,
    h: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn blend(&mut self, x: i64, y: i64, colour: Rgb, alpha: f32) {
        if x < 0 || y < 0 || x as usize >= self.w || y as usize >= self.h || alpha <= 0.0 {
            return;
        }
        let i = (y as usize * self.w + x as usize) * 3;
        let a = alpha.min(1.0);
        for (k, c) in [colour.0, colour.1, colour.2].into_iter().enumerate() {
            let old = f32::from(self.pixels[i + k]);
            self.pixels[i + k] = (old + (f32::from(c) - old) * a).round() as u8;
        }
    }

    fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, colour: Rgb) {
        let (x0, y0) = (x.round() as i64, y.round() as i64);
        let (x1, y1) = ((x + w).round() as i64, (y + h).round() as i64);
        for py in y0..y1 {
            for px in x0..x1 {
                self.blend(px, py, colour, 1.0);
            }
        }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, anchor: Anchor, colour: Rgb, text: &str) {
        let font = font::font();
        let scaled = font.as_scaled(PxScale::from(size));
        let width = font::text_width(text, size);
        let mut caret = match anchor {
            Anchor::Start => x,
            Anchor::Middle => x - width / 2.0,
            Anchor::End => x - width,
        };
        let mut previous = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = previous {
                caret += scaled.kern(p, id);
            }
            let glyph = id.with_scale_and_position(size, point(caret, y));
            caret += scaled.h_advance(id);
            previous = Some(id);
            if let Some(outlined) = font.outline_glyph(glyph) {
                let bounds = outlined.px_bounds();
                outlined.draw(|gx, gy, coverage| {
                    self.blend(
                        bounds.min.x as i64 + i64::from(gx),
                        bounds.min.y as i64 + i64::from(gy),
                        colour,
                        coverage,
                    );
                });
            }
        }
    }
}
