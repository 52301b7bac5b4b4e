//! How a table goes on A4 paper, decided once for the Word file and the printable page: the
//! page's orientation and the width of every column, computed from what the cells hold.
//!
//! Decree 30/2020/NĐ-CP sets portrait A4 for the text and lets a document whose tables do not
//! fit turn the page ("định hướng bản in theo chiều rộng"). So a table stays on a portrait
//! page unless it needs the width: when its columns cannot all keep their longest word whole
//! there, or when a landscape page saves a whole page of paper (a landscape table starts and
//! ends a section, which costs the rest of a page on each side).
//!
//! Widths come from the text, measured in Times New Roman ([`times`]) as paper shows it
//! (long free text shortened, [`crate::model::Column::on_paper`]): the ordinal column narrow;
//! every column at least as wide as its longest word or number, so that no word breaks; then
//! the room left goes where it saves the most lines — a row is as tall as its tallest cell, so
//! a long text column gets room only while that shortens rows, and a short column that makes
//! every row two lines high gets the few millimetres that make it one.

use super::times;
use crate::model::Table;

/// Table text: 12 pt, in half-points.
pub const TABLE_SIZE: usize = 24;

/// One side of a page, in twentieths of a point (dxa).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// The paper: A4 either way round.
    pub width: u32,
    pub height: u32,
    pub margin_top: i32,
    pub margin_bottom: i32,
    pub margin_left: i32,
    pub margin_right: i32,
}

impl Page {
    /// Between the left and right margins.
    pub const fn text_width(&self) -> usize {
        (self.width as i32 - self.margin_left - self.margin_right) as usize
    }

    /// Between the top and bottom margins.
    pub const fn text_height(&self) -> usize {
        (self.height as i32 - self.margin_top - self.margin_bottom) as usize
    }
}

/// Portrait A4 with the margins of Decree 30/2020/NĐ-CP: 20 mm top and bottom, 30 mm left
/// (the bound edge), 20 mm right.
pub const PORTRAIT: Page = Page {
    width: 11_906,
    height: 16_838,
    margin_top: 1_134,
    margin_bottom: 1_134,
    margin_left: 1_701,
    margin_right: 1_134,
};

/// Landscape A4 bound with the portrait pages: the bound long edge is the landscape page's
/// top, so the 30 mm margin goes there and the others are 20 mm. Its text is as wide as the
/// portrait page's is tall (257 mm) and as tall as that is wide (160 mm).
pub const LANDSCAPE: Page = Page {
    width: 16_838,
    height: 11_906,
    margin_top: 1_701,
    margin_bottom: 1_134,
    margin_left: 1_134,
    margin_right: 1_134,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    Portrait,
    Landscape,
}

impl Orientation {
    pub fn page(self) -> Page {
        match self {
            Orientation::Portrait => PORTRAIT,
            Orientation::Landscape => LANDSCAPE,
        }
    }
}

/// A table's place on paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub orientation: Orientation,
    /// The ordinal ("TT") column's width, then one per column, in dxa; they add up to the
    /// page's text width.
    pub widths: Vec<usize>,
}

/// The ordinal ("TT") column: three digits and the cell's margins.
pub const ORDINAL_W: usize = 600;
/// A cell's left and right margin, and its top and bottom one.
pub const CELL_MARGIN_X: usize = 85;
pub const CELL_MARGIN_Y: usize = 30;
/// What a line of text leaves free, for the estimate's sake (see [`text_width_of`]).
const LINE_SLACK: usize = 40;
/// Room a column needs beyond its longest word: both margins, and slack for the estimate.
const CELL_PAD: usize = 2 * CELL_MARGIN_X + 60;
/// The narrowest a numeric column gets, so that its header wraps at most a few times.
const NUMBER_MIN: usize = 700;
/// A line of 12 pt text (single spacing is 1.15 lines in Word and LibreOffice), and what a
/// row adds: its top and bottom margins and a border.
const LINE_H: usize = 276;
const ROW_PAD: usize = 2 * CELL_MARGIN_Y + 10;

/// The words of one cell: their widths, and the width of a space, in dxa.
struct Words {
    words: Vec<usize>,
    space: usize,
}

impl Words {
    fn new(text: &str, bold: bool) -> Self {
        Self {
            words: text
                .split_whitespace()
                .map(|w| times::width(w, TABLE_SIZE, bold))
                .collect(),
            space: times::width(" ", TABLE_SIZE, bold),
        }
    }

    fn longest(&self) -> usize {
        self.words.iter().copied().max().unwrap_or(0)
    }

    #[cfg(test)]
    fn one_line(&self) -> usize {
        self.words.iter().sum::<usize>() + self.space * self.words.len().saturating_sub(1)
    }

    /// How many lines the words take at `width` of text, wrapped at spaces; a word wider
    /// than the line is broken over as many lines as it needs.
    fn lines(&self, width: usize) -> usize {
        let width = width.max(1);
        let (mut lines, mut used) = (0, 0);
        for &w in &self.words {
            if used > 0 && used + self.space + w <= width {
                used += self.space + w;
            } else {
                lines += w.div_ceil(width).max(1);
                used = if w > width { w % width } else { w };
            }
        }
        lines.max(1)
    }
}

/// A table's text measured: per column its header and its cells (rows, then totals).
struct Measured {
    numeric: Vec<bool>,
    headers: Vec<Words>,
    /// `cells[column][row]`.
    cells: Vec<Vec<Words>>,
}

impl Measured {
    fn new(t: &Table) -> Self {
        let lines: Vec<(&Vec<crate::model::Cell>, bool)> = t
            .rows
            .iter()
            .map(|r| (r, false))
            .chain(t.totals.iter().map(|r| (r, true)))
            .collect();
        Self {
            numeric: t.columns.iter().map(|c| c.numeric).collect(),
            headers: t
                .columns
                .iter()
                .map(|c| Words::new(&c.header, true))
                .collect(),
            cells: (0..t.columns.len())
                .map(|i| {
                    lines
                        .iter()
                        .map(|(cells, bold)| {
                            let text = cells.get(i).map(|c| t.paper_text(i, c));
                            Words::new(text.as_deref().unwrap_or(""), *bold)
                        })
                        .collect()
                })
                .collect(),
        }
    }

    /// Below this a word or a number of column `i` would break.
    fn floor(&self, i: usize) -> usize {
        let longest = self.cells[i]
            .iter()
            .map(Words::longest)
            .chain([self.headers[i].longest()])
            .max()
            .unwrap_or(0);
        let floor = longest + CELL_PAD;
        if self.numeric[i] {
            floor.max(NUMBER_MIN)
        } else {
            floor
        }
    }

    /// How tall the table is with these column widths (the ordinal's first), in dxa.
    fn height(&self, widths: &[usize]) -> usize {
        let text = text_width_of;
        let row = |lines: usize| lines * LINE_H + ROW_PAD;
        let header = self
            .headers
            .iter()
            .zip(&widths[1..])
            .map(|(h, w)| h.lines(text(*w)))
            .max()
            .unwrap_or(1);
        let rows = self.cells.first().map_or(0, Vec::len);
        let body: usize = (0..rows)
            .map(|r| {
                let lines = self
                    .cells
                    .iter()
                    .zip(&widths[1..])
                    .map(|(column, w)| column[r].lines(text(*w)))
                    .max()
                    .unwrap_or(1);
                row(lines)
            })
            .sum();
        row(header) + body
    }
}

/// The table's height in lines (each row, the header first, as tall as its tallest cell)
/// and the lines of all its cells, with `lines[column][row]` — and, when `replaced` is
/// given, one column's lines replaced.
fn totals(lines: &[Vec<usize>], replaced: Option<(usize, &[usize])>) -> (usize, usize) {
    let rows = lines.first().map_or(0, Vec::len);
    let (mut height, mut cells) = (0, 0);
    for r in 0..rows {
        let mut tallest = 0;
        for (c, column) in lines.iter().enumerate() {
            let l = match replaced {
                Some((changed, new)) if changed == c => new[r],
                _ => column[r],
            };
            tallest = tallest.max(l);
            cells += l;
        }
        height += tallest;
    }
    (height, cells)
}

/// Column widths for one table and one text width: how many lines each choice costs, and
/// the ways of choosing.
struct Fitter<'m> {
    m: &'m Measured,
    floors: Vec<usize>,
    room: usize,
}

impl Fitter<'_> {
    /// The lines of column `c`'s cells, its header first, at width `w`.
    fn lines(&self, c: usize, w: usize) -> Vec<usize> {
        std::iter::once(&self.m.headers[c])
            .chain(&self.m.cells[c])
            .map(|words| words.lines(text_width_of(w)))
            .collect()
    }

    /// The table's height in lines and the lines of all its cells at `widths`.
    fn cost(&self, widths: &[usize]) -> (usize, usize) {
        let lines: Vec<Vec<usize>> = widths
            .iter()
            .enumerate()
            .map(|(c, w)| self.lines(c, *w))
            .collect();
        totals(&lines, None)
    }

    /// The narrowest widths that keep `share` of each column's cells to the fewest lines
    /// the room allows; `None` when even one line per cell is out of reach for any count.
    fn uniform(&self, share: f64) -> Option<Vec<usize>> {
        let n = self.floors.len();
        let rows = self.m.cells.first().map_or(0, Vec::len);
        let wanted = ((rows as f64 * share).ceil() as usize).min(rows);
        let fits = |c: usize, w: usize, most: usize| {
            self.m.cells[c]
                .iter()
                .filter(|words| words.lines(text_width_of(w)) <= most)
                .count()
                >= wanted
        };
        let narrowest = |c: usize, most: usize| {
            let (mut lo, mut hi) = (self.floors[c], self.room.max(self.floors[c]));
            if !fits(c, hi, most) {
                return None;
            }
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if fits(c, mid, most) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            Some(lo)
        };
        let tallest = (0..n)
            .flat_map(|c| self.lines(c, self.floors[c]))
            .max()
            .unwrap_or(1);
        (1..tallest).find_map(|most| {
            let needed: Option<Vec<usize>> = (0..n).map(|c| narrowest(c, most)).collect();
            needed.filter(|w| w.iter().sum::<usize>() <= self.room)
        })
    }

    /// The least widening of column `c` (doubling from `step`, then halving back, up to
    /// `left`) that takes a line off the table, with what it takes off per dxa.
    fn widening(
        &self,
        c: usize,
        widths: &[usize],
        lines: &[Vec<usize>],
        step: usize,
        left: usize,
    ) -> Option<Widening> {
        let now = totals(lines, None);
        let gain = |by: usize| {
            let after = self.lines(c, widths[c] + by);
            let (height, cells) = totals(lines, Some((c, &after)));
            let gained = (now.0.saturating_sub(height), now.1.saturating_sub(cells));
            (gained != (0, 0)).then_some((gained, after))
        };
        let (mut short, mut by) = (0, step.min(left));
        let mut found = loop {
            if let Some(g) = gain(by) {
                break g;
            }
            if by >= left {
                return None;
            }
            short = by;
            by = (by * 2).min(left);
        };
        // The least widening between the last that gained nothing and the first that did.
        while by - short > step / 2 {
            let mid = short + (by - short) / 2;
            match gain(mid) {
                Some(g) => (by, found) = (mid, g),
                None => short = mid,
            }
        }
        let ((rows, cells), lines) = found;
        Some(Widening {
            column: c,
            by,
            rate: (rows as f64 / by as f64, cells as f64 / by as f64),
            lines,
        })
    }

    /// `widths` with the room left spent, a little at a time, where it takes the most lines
    /// off the table per dxa — rows first, then cells — and what no column can use shared
    /// alike.
    fn spend(&self, mut widths: Vec<usize>) -> Vec<usize> {
        let mut left = self.room.saturating_sub(widths.iter().sum());
        let step = (self.room / 100).max(20);
        let mut lines: Vec<Vec<usize>> = widths
            .iter()
            .enumerate()
            .map(|(c, w)| self.lines(c, *w))
            .collect();
        while left >= step {
            let best = (0..widths.len())
                .filter_map(|c| self.widening(c, &widths, &lines, step, left))
                .reduce(|best, w| if w.rate > best.rate { w } else { best });
            let Some(w) = best else { break };
            widths[w.column] += w.by;
            left -= w.by;
            lines[w.column] = w.lines;
        }
        let total: usize = widths.iter().sum::<usize>().max(1);
        let now = widths.clone();
        for (w, was) in widths.iter_mut().zip(&now) {
            *w += left * was / total;
        }
        widths
    }
}

/// Widening one column: by how much, the lines it takes off the table per dxa (rows, then
/// cells), and the column's lines after.
struct Widening {
    column: usize,
    by: usize,
    rate: (f64, f64),
    lines: Vec<usize>,
}

/// The width a cell's text may fill: the column's less the cell's margins, and less a
/// little more, because Word, LibreOffice and Chromium each round and space text their own
/// way and a line that fills the estimate exactly may not fit in one of them.
fn text_width_of(column: usize) -> usize {
    column.saturating_sub(2 * CELL_MARGIN_X + LINE_SLACK)
}

/// Column widths filling `text_width`, the ordinal's first, and whether every word stays
/// whole in them.
///
/// Every column is at least as wide as its longest word. The room left is spent where it
/// takes the most lines off the table per dxa — rows first (a row is as tall as its tallest
/// cell), then cells, so that two columns that wrap in the same rows both widen until the
/// rows shrink. That choice is short-sighted, so it is made from several starts and the
/// shortest table wins: every column at its longest word; and the narrowest widths that keep
/// all, nine in ten or three in four of each column's cells to the fewest lines the room
/// allows (a few long texts then wrap rather than widen their column for every row).
fn widths(m: &Measured, text_width: usize) -> (Vec<usize>, bool) {
    let n = m.headers.len();
    let room = text_width - ORDINAL_W;
    let floors: Vec<usize> = (0..n).map(|i| m.floor(i)).collect();
    let floor_sum: usize = floors.iter().sum();
    let whole = floor_sum <= room;
    let mut widths: Vec<usize> = if !whole {
        // Too many columns to keep every word whole: shrink them all alike.
        floors.iter().map(|f| f * room / floor_sum.max(1)).collect()
    } else {
        let fitter = Fitter {
            m,
            floors: floors.clone(),
            room,
        };
        std::iter::once(Some(floors.clone()))
            .chain([1.0, 0.9, 0.75].map(|share| fitter.uniform(share)))
            .flatten()
            .map(|start| fitter.spend(start))
            .min_by_key(|w| fitter.cost(w))
            .unwrap_or(floors)
    };
    // Rounding: the widest column takes the few dxa left, so the table is exactly the text width.
    let used: usize = widths.iter().sum();
    if let Some(widest) = widths.iter_mut().max() {
        *widest += room.saturating_sub(used);
    }
    (std::iter::once(ORDINAL_W).chain(widths).collect(), whole)
}

/// Where `t` goes on paper: portrait unless it needs a landscape page (see the module).
pub fn layout(t: &Table) -> Layout {
    let m = Measured::new(t);
    let (portrait, whole_portrait) = widths(&m, PORTRAIT.text_width());
    let (landscape, whole_landscape) = widths(&m, LANDSCAPE.text_width());
    let pages = |widths: &[usize], page: Page| m.height(widths) as f64 / page.text_height() as f64;
    let saves_a_page = pages(&portrait, PORTRAIT) - pages(&landscape, LANDSCAPE) >= 1.0;
    let keeps_words = !whole_portrait && whole_landscape;
    if keeps_words || saves_a_page {
        Layout {
            orientation: Orientation::Landscape,
            widths: landscape,
        }
    } else {
        Layout {
            orientation: Orientation::Portrait,
            widths: portrait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cell, Column};

    fn table(columns: Vec<Column>, rows: Vec<Vec<Cell>>) -> Table {
        Table {
            key: "k".into(),
            caption: "Bảng 1. Thử".into(),
            sheet: "Thử".into(),
            columns,
            rows,
            totals: None,
            paper_note: None,
        }
    }

    #[test]
    fn a_small_table_stays_portrait_and_fills_the_text_width() {
        let t = table(
            vec![Column::text("Trường"), Column::summed("Số hoạt động")],
            vec![vec![Cell::text("Trường THCS An Hòa"), Cell::Int(1_760)]; 10],
        );
        let l = layout(&t);
        assert_eq!(l.orientation, Orientation::Portrait);
        assert_eq!(l.widths.iter().sum::<usize>(), PORTRAIT.text_width());
        assert_eq!(l.widths[0], ORDINAL_W);
    }

    #[test]
    fn long_text_gets_the_room_and_short_text_what_it_needs() {
        let t = table(
            vec![
                Column::text("Ngày"),
                Column::text("Nội dung"),
                Column::number("Số"),
            ],
            vec![
                vec![
                    Cell::text("05/02/2018"),
                    Cell::text(
                        "Phổ biến Kế hoạch 175/KH-UBND của UBND huyện về nâng cao chất lượng giáo dục cho cha mẹ học sinh toàn trường"
                    ),
                    Cell::Int(3),
                ];
                5
            ],
        );
        let l = layout(&t);
        let date = times::width("05/02/2018", TABLE_SIZE, false) + CELL_PAD;
        assert!(l.widths[1] >= date, "{:?}", l.widths);
        assert!(l.widths[2] > 3 * l.widths[1], "{:?}", l.widths);
    }

    #[test]
    fn a_table_too_wide_for_portrait_turns_the_page() {
        // Seven text columns whose words cannot all stay whole in 160 mm.
        let row: Vec<Cell> = [
            "Trường Mầm non Tân Công Sính",
            "15/05/2018",
            "Cô Nguyễn Thị Hồng Phượng",
            "Vận động 12 học sinh bỏ học trở lại lớp, góp phần duy trì phổ cập giáo dục.",
            "Giấy khen của Chủ tịch UBND huyện",
            "Giấy khen của Chủ tịch UBND huyện",
            "472/QĐ-UBND.TĐKT",
        ]
        .into_iter()
        .map(Cell::text)
        .collect();
        let columns = [
            "Trường",
            "Ngày đề nghị",
            "Cá nhân, tập thể",
            "Thành tích",
            "Hình thức đề nghị",
            "Hình thức được khen",
            "Số quyết định",
        ]
        .into_iter()
        .map(Column::text)
        .collect();
        let t = table(columns, vec![row; 50]);
        let l = layout(&t);
        assert_eq!(l.orientation, Orientation::Landscape);
        assert_eq!(l.widths.iter().sum::<usize>(), LANDSCAPE.text_width());
        // Every word whole: each column at least as wide as its longest word.
        let m = Measured::new(&t);
        for (i, w) in l.widths[1..].iter().enumerate() {
            assert!(*w >= m.floor(i), "column {i}: {w} < {}", m.floor(i));
        }
    }

    #[test]
    fn a_long_table_turns_the_page_when_that_saves_paper() {
        // Portrait wraps every row to three lines; landscape has room for one.
        let row: Vec<Cell> = [
            "Trường Tiểu học Thị trấn Tràm Chim 1",
            "Ý kiến người dân",
            "Góp ý giờ đón trẻ",
            "27/02/2018",
            "21/03/2018",
        ]
        .into_iter()
        .map(Cell::text)
        .chain([Cell::Int(22), Cell::text("Quá hạn, chưa trả lời")])
        .collect();
        let mut columns: Vec<Column> = [
            "Trường",
            "Loại",
            "Nội dung",
            "Ngày tiếp nhận",
            "Ngày trả lời",
        ]
        .into_iter()
        .map(Column::text)
        .collect();
        columns.push(Column::number("Số ngày"));
        columns.push(Column::text("Tình trạng"));
        let t = table(columns.clone(), vec![row.clone(); 130]);
        assert_eq!(layout(&t).orientation, Orientation::Landscape);
        // The same table with a few rows fits a portrait page: no reason to turn it.
        let short = table(columns, vec![row; 4]);
        assert_eq!(layout(&short).orientation, Orientation::Portrait);
    }

    #[test]
    fn wrapping_counts_lines_like_a_word_processor() {
        let w = Words::new("một hai ba", false);
        assert_eq!(w.lines(w.one_line()), 1);
        assert_eq!(w.lines(w.one_line() - 1), 2);
        assert_eq!(w.lines(w.longest()), 3);
        // A word wider than the line breaks over two.
        let long = Words::new("UBND.TĐKT", false);
        assert_eq!(long.lines(long.longest() / 2 + 1), 2);
        assert_eq!(Words::new("", false).lines(100), 1);
    }
}
