//! Part II, commendation and budget: the emulation movement's nominations and awards, and
//! the money estimated, spent and settled for communication.

use std::collections::BTreeMap;

use domain::vi;

use super::facts::Facts;
use super::{Ctx, totals, words};
use crate::model::{Block, Cell, Column, Series};

/// Commendation levels from the school up, as the aggregator orders them.
const LEVELS: [&str; 5] = ["school", "district", "province", "ministry", "government"];

/// How much of a nomination's free text the list shows on paper (the Excel file keeps it
/// all). An achievement may hold 10,000 characters; 160 are three lines of the list's widest
/// column on a landscape page, enough to say what was achieved. A nominee (a person, or a
/// collective with its school) needs at most two lines, a decision number one.
const ACHIEVEMENT_ON_PAPER: usize = 160;
const NOMINEE_ON_PAPER: usize = 80;
const DECISION_ON_PAPER: usize = 40;

pub fn commendation(f: &Facts<'_>, ctx: &mut Ctx) -> Vec<Block> {
    let data = f.data;
    let c = &data.commendation;
    let mut blocks = vec![ctx.heading("Công tác thi đua, khen thưởng")];
    let mut by_level: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    let mut by_school: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for count in c.counts.iter().filter(|x| data.in_scope(&x.school)) {
        let l = by_level.entry(count.level.as_str()).or_default();
        l.0 += count.nominated;
        l.1 += count.awarded;
        let s = by_school.entry(count.school.as_str()).or_default();
        s.0 += count.nominated;
        s.1 += count.awarded;
    }
    let (nominated, awarded) = by_level
        .values()
        .fold((0, 0), |(n, a), (x, y)| (n + x, a + y));
    let awards: Vec<String> = LEVELS
        .iter()
        .filter_map(|l| {
            let (_, a) = by_level.get(l).copied().unwrap_or_default();
            (a > 0).then(|| format!("{} ({})", vi::commendation_level(l), vi::int(a)))
        })
        .collect();
    let mut text = format!(
        "Trong kỳ có {} đề nghị khen thưởng và {} quyết định khen thưởng",
        vi::int(nominated),
        vi::int(awarded)
    );
    if awards.is_empty() {
        text.push('.');
    } else {
        text.push_str(&format!(": {}.", words::join(&awards)));
    }
    let pending: i64 = f.pending_nominations.iter().map(|(_, n)| n).sum();
    if pending > 0 {
        text.push_str(&format!(
            " Còn {} hồ sơ đề nghị chưa có quyết định khen thưởng.",
            vi::int(pending)
        ));
    }
    blocks.push(Block::Paragraph(text));

    let columns = vec![
        Column::text("Hình thức khen thưởng"),
        Column::summed("Số đề nghị"),
        Column::summed("Số được khen thưởng"),
    ];
    let rows: Vec<Vec<Cell>> = LEVELS
        .iter()
        .map(|l| {
            let (n, a) = by_level.get(l).copied().unwrap_or_default();
            vec![
                Cell::text(vi::commendation_level(l)),
                Cell::Int(n),
                Cell::Int(a),
            ]
        })
        .collect();
    let total = totals("Tổng cộng", &columns, &rows);
    blocks.push(ctx.table(
        "khen-thuong-theo-cap",
        "Đề nghị và quyết định khen thưởng theo hình thức",
        "Khen thưởng theo cấp",
        columns,
        rows,
        Some(total),
    ));
    if !f.scoped() {
        let columns = vec![
            Column::text("Trường"),
            Column::summed("Số đề nghị"),
            Column::summed("Số được khen thưởng"),
        ];
        let rows: Vec<Vec<Cell>> = f
            .schools
            .iter()
            .map(|s| {
                let (n, a) = by_school.get(s.code.as_str()).copied().unwrap_or_default();
                vec![Cell::text(s.name.clone()), Cell::Int(n), Cell::Int(a)]
            })
            .collect();
        let total = totals("Toàn huyện", &columns, &rows);
        blocks.push(ctx.table(
            "khen-thuong-theo-truong",
            "Đề nghị và quyết định khen thưởng theo trường",
            "Khen thưởng theo trường",
            columns,
            rows,
            Some(total),
        ));
    }
    let listed: Vec<_> = c
        .nominations
        .iter()
        .filter(|n| data.in_scope(&n.school))
        .collect();
    if !listed.is_empty() {
        let columns = vec![
            Column::text("Trường"),
            Column::text("Ngày đề nghị"),
            Column::long_text("Cá nhân, tập thể", NOMINEE_ON_PAPER),
            Column::long_text("Thành tích", ACHIEVEMENT_ON_PAPER),
            Column::text("Hình thức đề nghị"),
            Column::text("Hình thức được khen"),
            Column::long_text("Số quyết định", DECISION_ON_PAPER),
        ];
        let rows = listed
            .iter()
            .map(|n| {
                vec![
                    Cell::text(data.school_name(&n.school)),
                    Cell::text(vi::date(n.date)),
                    Cell::text(n.nominee.clone()),
                    Cell::text(n.achievement.clone()),
                    Cell::text(vi::commendation_level(&n.proposed_level)),
                    n.awarded_level
                        .as_deref()
                        .map_or(Cell::Empty, |l| Cell::text(vi::commendation_level(l))),
                    n.decision_number.clone().map_or(Cell::Empty, Cell::Text),
                ]
            })
            .collect();
        blocks.push(ctx.table(
            "danh-sach-khen-thuong",
            "Danh sách đề nghị, khen thưởng",
            "Danh sách khen thưởng",
            columns,
            rows,
            None,
        ));
    }
    blocks
}

/// (year, estimated, spent, settled, execution rate, schools settled) of the scope.
type YearBudget = (i32, i64, i64, Option<i64>, Option<f64>, i64);

pub fn budget(f: &Facts<'_>, ctx: &mut Ctx) -> Vec<Block> {
    let data = f.data;
    let mut blocks = vec![ctx.heading("Kinh phí thực hiện")];
    if data.budgets.is_empty() {
        blocks.push(Block::Paragraph("Không có số liệu kinh phí của kỳ.".into()));
        return blocks;
    }
    let years: Vec<YearBudget> = data
        .budgets
        .iter()
        .map(|b| match &data.school {
            None => (
                b.year,
                b.total.estimated,
                b.total.spent,
                b.total.settled,
                b.total.execution_rate,
                b.total.schools_settled,
            ),
            Some(code) => b.schools.iter().find(|r| &r.school == code).map_or(
                (b.year, 0, 0, None, None, 0),
                |r| {
                    (
                        b.year,
                        r.estimated,
                        r.spent,
                        r.settled,
                        r.execution_rate,
                        i64::from(r.settled.is_some()),
                    )
                },
            ),
        })
        .collect();
    let sentences: Vec<String> = years
        .iter()
        .map(|(year, est, spent, settled, rate, n_settled)| {
            let mut s = format!(
                "năm {year}: dự toán {}, đã chi {}",
                vi::money(*est),
                vi::money(*spent)
            );
            if let Some(rate) = rate {
                s.push_str(&format!(" ({} dự toán)", vi::percent(*rate)));
            }
            match (settled, f.scoped()) {
                (Some(v), true) => s.push_str(&format!(", đã quyết toán {}", vi::money(*v))),
                (Some(v), false) => s.push_str(&format!(
                    ", {n_settled}/{} trường đã quyết toán {}",
                    f.schools.len(),
                    vi::money(*v)
                )),
                (None, _) => s.push_str(", chưa quyết toán"),
            }
            s
        })
        .collect();
    let whole_years = matches!(
        data.period,
        domain::Period::CalendarYear { .. } | domain::Period::WholePlan
    );
    let period_note = if whole_years {
        ""
    } else {
        " (số liệu cả năm)"
    };
    blocks.push(Block::Paragraph(format!(
        "Kinh phí truyền thông{period_note}: {}.",
        sentences.join("; ")
    )));

    let columns = vec![
        Column::text("Năm"),
        Column::summed("Dự toán (đồng)"),
        Column::summed("Đã chi (đồng)"),
        Column::summed("Quyết toán (đồng)"),
        Column::number("Tỷ lệ thực hiện"),
    ];
    let rows: Vec<Vec<Cell>> = years
        .iter()
        .map(|(year, est, spent, settled, rate, _)| {
            vec![
                Cell::text(year.to_string()),
                Cell::Money(*est),
                Cell::Money(*spent),
                Cell::opt_money(*settled),
                Cell::opt_rate(*rate),
            ]
        })
        .collect();
    let total = totals("Cộng", &columns, &rows);
    blocks.push(ctx.table(
        "kinh-phi-theo-nam",
        "Kinh phí truyền thông theo năm",
        "Kinh phí theo năm",
        columns,
        rows,
        Some(total),
    ));

    if !f.scoped() {
        let columns = vec![
            Column::text("Năm"),
            Column::text("Trường"),
            Column::summed("Dự toán (đồng)"),
            Column::summed("Đã chi (đồng)"),
            Column::summed("Quyết toán (đồng)"),
            Column::number("Tỷ lệ thực hiện"),
        ];
        let rows: Vec<Vec<Cell>> = data
            .budgets
            .iter()
            .flat_map(|b| {
                b.schools.iter().map(move |r| {
                    vec![
                        Cell::text(b.year.to_string()),
                        Cell::text(data.school_name(&r.school)),
                        Cell::Money(r.estimated),
                        Cell::Money(r.spent),
                        Cell::opt_money(r.settled),
                        Cell::opt_rate(r.execution_rate),
                    ]
                })
            })
            .collect();
        let total = totals("Cộng", &columns, &rows);
        blocks.push(ctx.table(
            "kinh-phi-theo-truong",
            "Kinh phí truyền thông theo trường",
            "Kinh phí theo trường",
            columns,
            rows,
            Some(total),
        ));
        let mut per_school: Vec<(String, i64, i64)> =
            f.schools.iter().map(|s| (s.name.clone(), 0, 0)).collect();
        for b in &data.budgets {
            for r in &b.schools {
                if let Some(entry) = per_school
                    .iter_mut()
                    .find(|(name, _, _)| name == data.school_name(&r.school))
                {
                    entry.1 += r.estimated;
                    entry.2 += r.spent;
                }
            }
        }
        blocks.push(ctx.figure(
            "kinh-phi-du-toan-da-chi",
            "Kinh phí dự toán và đã chi của từng trường (triệu đồng)",
            "triệu đồng",
            per_school.iter().map(|(n, _, _)| n.clone()).collect(),
            vec![
                Series {
                    name: "Dự toán".into(),
                    values: per_school.iter().map(|(_, e, _)| *e as f64 / 1e6).collect(),
                },
                Series {
                    name: "Đã chi".into(),
                    values: per_school.iter().map(|(_, _, s)| *s as f64 / 1e6).collect(),
                },
            ],
        ));
    }
    blocks
}
