//! Part II, items 1–4: results per content area (with channels and highlights), per channel,
//! per school, and the schools and areas that lag the plan's targets.

use domain::district::views::TargetStatus;
use domain::vi;

use super::facts::Facts;
use super::{Ctx, totals, words};
use crate::model::{Block, Cell, Column, Series};

/// Vietnamese list letters: a), b), c), d), đ), e).
const LETTERS: [&str; 6] = ["a", "b", "c", "d", "đ", "e"];

fn area_label(area: u8) -> String {
    format!("{area}. {}", vi::area_short(i64::from(area)))
}

fn status_words(status: Option<TargetStatus>) -> &'static str {
    match status {
        Some(TargetStatus::Met) => "Đạt",
        Some(TargetStatus::Missed) => "Chưa đạt",
        Some(TargetStatus::NoTarget) | None => "Không có chỉ tiêu",
    }
}

fn channel_list(channels: &[(String, i64)], limit: usize) -> String {
    let named: Vec<String> = channels
        .iter()
        .take(limit)
        .map(|(c, n)| format!("{} ({})", vi::channel(c), vi::int(*n)))
        .collect();
    let rest = channels.len().saturating_sub(limit);
    if rest > 0 {
        format!("{} và {rest} kênh khác", named.join(", "))
    } else {
        words::join(&named)
    }
}

pub fn by_area(f: &Facts<'_>, ctx: &mut Ctx) -> Vec<Block> {
    let n_schools = f.schools.len();
    let mut blocks = vec![ctx.heading("Kết quả theo nội dung truyền thông trọng tâm")];
    let (columns, rows): (Vec<Column>, Vec<Vec<Cell>>) = if f.scoped() {
        (
            vec![
                Column::text("Nội dung"),
                Column::summed("Số hoạt động"),
                Column::summed("Chỉ tiêu"),
                Column::text("Kết quả"),
                Column::text("Kênh đã sử dụng"),
            ],
            f.areas
                .iter()
                .map(|a| {
                    vec![
                        Cell::text(area_label(a.area)),
                        Cell::Int(a.activities),
                        Cell::opt_int(a.target),
                        Cell::text(status_words(a.status)),
                        Cell::text(
                            a.channels
                                .iter()
                                .map(|(c, _)| vi::channel(c))
                                .collect::<Vec<_>>()
                                .join(", "),
                        ),
                    ]
                })
                .collect(),
        )
    } else {
        (
            vec![
                Column::text("Nội dung"),
                Column::summed("Số hoạt động"),
                Column::number("Số trường có hoạt động"),
                Column::number("Số trường đạt chỉ tiêu"),
                Column::number("Số trường chưa đạt chỉ tiêu"),
                Column::text("Kênh sử dụng nhiều nhất"),
            ],
            f.areas
                .iter()
                .map(|a| {
                    vec![
                        Cell::text(area_label(a.area)),
                        Cell::Int(a.activities),
                        Cell::Int(a.schools_active),
                        Cell::Int(a.schools_met),
                        Cell::Int(a.schools_missed),
                        Cell::text(
                            a.channels
                                .first()
                                .map(|(c, _)| vi::channel(c))
                                .unwrap_or_default(),
                        ),
                    ]
                })
                .collect(),
        )
    };
    let total = totals("Tổng cộng", &columns, &rows);
    blocks.push(ctx.table(
        "theo-noi-dung",
        "Số hoạt động truyền thông theo nội dung",
        "Theo nội dung",
        columns,
        rows,
        Some(total),
    ));
    blocks.push(ctx.figure(
        "hoat-dong-theo-noi-dung",
        "Số hoạt động truyền thông theo nội dung so với chỉ tiêu",
        "hoạt động",
        f.areas.iter().map(|a| area_label(a.area)).collect(),
        vec![
            Series {
                name: "Số hoạt động".into(),
                values: f.areas.iter().map(|a| a.activities as f64).collect(),
            },
            Series {
                name: "Chỉ tiêu".into(),
                values: f.areas.iter().map(|a| a.target.unwrap_or(0) as f64).collect(),
            },
        ],
    ));

    for (a, letter) in f.areas.iter().zip(LETTERS) {
        blocks.push(Block::Heading(format!(
            "{letter}) Nội dung {}. {}",
            a.area,
            vi::area(i64::from(a.area))
        )));
        if a.activities == 0 {
            let target = match (f.scoped(), a.target) {
                (_, None) => String::new(),
                (true, Some(t)) => format!(" (chỉ tiêu {} hoạt động)", vi::int(t)),
                (false, Some(_)) => {
                    format!("; {} trường chưa đạt chỉ tiêu", vi::int(a.schools_missed))
                }
            };
            blocks.push(Block::Paragraph(format!(
                "Chưa có hoạt động nào được ghi nhận trong kỳ{target}."
            )));
            continue;
        }
        let mut text = format!("Thực hiện {} hoạt động", vi::int(a.activities));
        if !f.scoped() {
            text.push_str(&format!(" tại {}/{n_schools} trường", a.schools_active));
        }
        text.push_str(&format!("; kênh: {}", channel_list(&a.channels, 4)));
        if a.reach > 0 {
            text.push_str(&format!(
                "; tiếp cận khoảng {} lượt người",
                vi::int(a.reach)
            ));
        }
        match (f.scoped(), a.target) {
            (_, None) => text.push_str(". Nội dung không có chỉ tiêu trong kỳ."),
            (true, Some(t)) => text.push_str(&format!(
                ". Chỉ tiêu {} hoạt động: {}.",
                vi::int(t),
                status_words(a.status).to_lowercase()
            )),
            (false, Some(_)) => text.push_str(&format!(
                ". {} trường đạt, {} trường chưa đạt chỉ tiêu.",
                vi::int(a.schools_met),
                vi::int(a.schools_missed)
            )),
        }
        blocks.push(Block::Paragraph(text));
        if !a.highlights.is_empty() {
            blocks.push(Block::Paragraph("Hoạt động tiêu biểu:".into()));
            blocks.push(Block::Bullets(
                a.highlights
                    .iter()
                    .map(|h| {
                        let mut details = Vec::new();
                        if !f.scoped() {
                            details.push(f.data.school_name(&h.school).to_string());
                        }
                        details.push(vi::date(h.date));
                        details.push(vi::channel(&h.channel));
                        if let Some(audience) = &h.audience {
                            details.push(audience.clone());
                        }
                        if let Some(reach) = h.reach {
                            details.push(format!("{} lượt người", vi::int(reach)));
                        }
                        format!("«{}» ({})", h.title, details.join("; "))
                    })
                    .collect(),
            ));
        }
    }
    blocks
}

pub fn by_channel(f: &Facts<'_>, ctx: &mut Ctx) -> Vec<Block> {
    let mut blocks = vec![ctx.heading("Kênh truyền thông")];
    let used: Vec<_> = f.used_channels().collect();
    let unused: Vec<String> = f
        .channels
        .iter()
        .filter(|c| c.activities == 0)
        .map(|c| vi::channel(c.code))
        .collect();
    let mut text = match used.first() {
        Some(top) => format!(
            "Sử dụng {} kênh; nhiều nhất là {} ({} hoạt động, {}% tổng số).",
            used.len(),
            vi::channel(top.code),
            vi::int(top.activities),
            if f.total_activities > 0 {
                (top.activities * 100 + f.total_activities / 2) / f.total_activities
            } else {
                0
            }
        ),
        None => "Chưa có hoạt động truyền thông nào trong kỳ.".into(),
    };
    if !unused.is_empty() && !used.is_empty() {
        text.push_str(&format!(" Chưa sử dụng: {}.", words::join(&unused)));
    }
    blocks.push(Block::Paragraph(text));
    let mut columns = vec![Column::text("Kênh"), Column::summed("Số hoạt động")];
    if !f.scoped() {
        columns.push(Column::number("Số trường sử dụng"));
    }
    let rows: Vec<Vec<Cell>> = f
        .channels
        .iter()
        .map(|c| {
            let mut row = vec![Cell::text(vi::channel(c.code)), Cell::Int(c.activities)];
            if !f.scoped() {
                row.push(Cell::Int(c.schools));
            }
            row
        })
        .collect();
    let total = totals("Tổng cộng", &columns, &rows);
    blocks.push(ctx.table(
        "theo-kenh",
        "Số hoạt động theo kênh truyền thông",
        "Theo kênh",
        columns,
        rows,
        Some(total),
    ));
    if !used.is_empty() {
        blocks.push(ctx.figure(
            "hoat-dong-theo-kenh",
            "Số hoạt động theo kênh truyền thông",
            "hoạt động",
            used.iter().map(|c| vi::channel(c.code)).collect(),
            vec![Series {
                name: "Số hoạt động".into(),
                values: used.iter().map(|c| c.activities as f64).collect(),
            }],
        ));
    }
    blocks
}

pub fn by_school(f: &Facts<'_>, ctx: &mut Ctx) -> Vec<Block> {
    if f.scoped() {
        return Vec::new();
    }
    let data = f.data;
    let mut blocks = vec![
        ctx.heading("Kết quả theo từng trường"),
        Block::Paragraph(
            "Số hoạt động của từng trường theo 6 nội dung truyền thông trọng tâm của kế hoạch:"
                .into(),
        ),
    ];
    let mut columns = vec![Column::text("Trường")];
    columns.extend((1..=6).map(|a| Column::summed(&format!("ND{a}"))));
    columns.push(Column::summed("Tổng số"));
    columns.push(Column::summed("Số nội dung chưa đạt"));
    let mut targets = Vec::new();
    let rows: Vec<Vec<Cell>> = data
        .plan_view
        .schools
        .iter()
        .map(|s| {
            let mine: Vec<_> = f.rows.iter().filter(|r| r.school == s.school).collect();
            targets.push(mine.iter().filter_map(|r| r.target).sum::<i64>());
            let mut row = vec![Cell::text(data.school_name(&s.school))];
            row.extend((1..=6u8).map(|area| {
                Cell::Int(
                    mine.iter()
                        .find(|r| r.area == area)
                        .map_or(0, |r| r.activities),
                )
            }));
            row.push(Cell::Int(s.total_activities));
            row.push(Cell::Int(s.areas_missed));
            row
        })
        .collect();
    let total = totals("Toàn huyện", &columns, &rows);
    blocks.push(ctx.table(
        "theo-truong",
        "Số hoạt động theo trường và nội dung (ND: nội dung truyền thông trọng tâm)",
        "Theo trường",
        columns,
        rows,
        Some(total),
    ));
    blocks.push(
        ctx.figure(
            "hoat-dong-theo-truong",
            "Số hoạt động của từng trường so với chỉ tiêu",
            "hoạt động",
            data.plan_view
                .schools
                .iter()
                .map(|s| data.school_name(&s.school).to_string())
                .collect(),
            vec![
                Series {
                    name: "Số hoạt động".into(),
                    values: data
                        .plan_view
                        .schools
                        .iter()
                        .map(|s| s.total_activities as f64)
                        .collect(),
                },
                Series {
                    name: "Chỉ tiêu".into(),
                    values: targets.iter().map(|t| *t as f64).collect(),
                },
            ],
        ),
    );
    blocks
}

pub fn lagging(f: &Facts<'_>, ctx: &mut Ctx) -> Vec<Block> {
    let heading = if f.scoped() {
        "Các nội dung chưa đạt chỉ tiêu"
    } else {
        "Các trường, nội dung chưa đạt chỉ tiêu"
    };
    let mut blocks = vec![ctx.heading(heading)];
    if f.lagging.is_empty() {
        let any_target = f.rows.iter().any(|r| r.target.is_some());
        blocks.push(Block::Paragraph(if any_target {
            if f.scoped() {
                "Trường đạt chỉ tiêu ở tất cả các nội dung có chỉ tiêu trong kỳ.".into()
            } else {
                format!(
                    "Tất cả {} trường đạt chỉ tiêu ở mọi nội dung có chỉ tiêu trong kỳ.",
                    f.schools.len()
                )
            }
        } else {
            "Kỳ báo cáo không có chỉ tiêu nào của kế hoạch đến hạn đánh giá (chỉ tiêu tính theo quý, học kỳ, năm học hoặc năm nằm trọn trong kỳ).".into()
        }));
        return blocks;
    }
    if !f.scoped() {
        let names: Vec<String> = f
            .lagging
            .iter()
            .map(|l| format!("{} ({} nội dung)", l.name, l.missed.len()))
            .collect();
        let mut areas: Vec<_> = f.areas.iter().filter(|a| a.schools_missed > 0).collect();
        areas.sort_by(|a, b| {
            b.schools_missed
                .cmp(&a.schools_missed)
                .then(a.area.cmp(&b.area))
        });
        let areas: Vec<String> = areas
            .iter()
            .map(|a| {
                format!(
                    "nội dung {} – {} ({} trường)",
                    a.area,
                    vi::area_short(i64::from(a.area)),
                    a.schools_missed
                )
            })
            .collect();
        blocks.push(Block::Paragraph(format!(
            "Có {}/{} trường chưa đạt chỉ tiêu ở ít nhất một nội dung: {}. Các nội dung có trường chưa đạt: {}.",
            f.lagging.len(),
            f.schools.len(),
            words::join(&names),
            words::join(&areas)
        )));
    } else {
        let areas: Vec<String> = f
            .lagging
            .iter()
            .flat_map(|l| l.missed.iter())
            .map(|(area, n, t)| format!("nội dung {area} ({n}/{t} hoạt động)"))
            .collect();
        blocks.push(Block::Paragraph(format!(
            "Trường chưa đạt chỉ tiêu ở {}: {}.",
            if areas.len() == 1 {
                "1 nội dung".to_string()
            } else {
                format!("{} nội dung", areas.len())
            },
            words::join(&areas)
        )));
    }
    let columns = vec![
        Column::text("Trường"),
        Column::text("Nội dung"),
        Column::summed("Số hoạt động"),
        Column::summed("Chỉ tiêu"),
        Column::summed("Còn thiếu"),
    ];
    let rows: Vec<Vec<Cell>> = f
        .lagging
        .iter()
        .flat_map(|l| {
            l.missed.iter().map(move |(area, n, t)| {
                vec![
                    Cell::text(l.name),
                    Cell::text(area_label(*area)),
                    Cell::Int(*n),
                    Cell::Int(*t),
                    Cell::Int(t - n),
                ]
            })
        })
        .collect();
    let total = totals("Cộng", &columns, &rows);
    blocks.push(ctx.table(
        "chua-dat-chi-tieu",
        "Các nội dung chưa đạt chỉ tiêu",
        "Chưa đạt chỉ tiêu",
        columns,
        rows,
        Some(total),
    ));
    blocks
}
