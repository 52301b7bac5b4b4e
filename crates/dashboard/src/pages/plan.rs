//! `/`: the plan view as a heat map of schools × content areas for a period.
//!
//! Reads `GetDistrictPlan` (to check the period), then `GetPlanView` and `ListSchools`.
//! Each cell is coloured by the share of its target met and carries the row of the view as
//! `data-*` attributes (`data-school`, `data-area`, `data-activities`, `data-target`,
//! `data-status`, `data-channels`), so that a browser test can compare the page with the
//! aggregator's answer; totals per school (`data-total-activities`, `data-areas-missed`) and
//! per area (`data-area-activities`, `data-schools-missed`) likewise.

use std::collections::HashMap;

use maud::{Markup, html};

use domain::district::DistrictPlan;
use domain::vi;
use wire::pb;

use crate::error::PageError;
use crate::format;
use crate::labels;
use crate::layout::{self, Nav};
use crate::pages::{Params, ParamsQuery, SchoolNames, school_href};
use crate::periods::{self, Chosen};
use crate::session::Viewer;

pub async fn show(viewer: Viewer, query: ParamsQuery) -> Result<Markup, PageError> {
    let params = Params::read(query)?;
    let plan = viewer.aggregator.district_plan().await?;
    let chosen = periods::choose(Params::given(&params.ky), plan.as_ref())?;
    let (view, schools) = tokio::try_join!(
        viewer.aggregator.plan_view(chosen.period),
        viewer.aggregator.schools()
    )?;
    Ok(render(&viewer, &chosen, plan.as_ref(), &view, &schools))
}

/// The status code of a row, as the event JSON and the `data-status` attribute spell it.
pub fn status_code(status: i32) -> &'static str {
    match pb::TargetStatus::try_from(status) {
        Ok(pb::TargetStatus::Met) => "met",
        Ok(pb::TargetStatus::Missed) => "missed",
        Ok(pb::TargetStatus::NoTarget) => "no_target",
        _ => "unknown",
    }
}

/// The status in words.
pub fn status_label(status: i32) -> &'static str {
    match status_code(status) {
        "met" => "đạt chỉ tiêu",
        "missed" => "chưa đạt chỉ tiêu",
        "no_target" => "không có chỉ tiêu trong kỳ",
        _ => "không rõ",
    }
}

/// The colour class of a cell: met, or how far below its target, or no target.
pub fn shade(row: &pb::PlanRow) -> &'static str {
    match row.target {
        None => "s-none",
        _ if status_code(row.status) == "met" => "s-met",
        Some(target) if target > 0 => {
            let share = row.activities as f64 / target as f64;
            if share >= 0.75 {
                "s-m3"
            } else if share >= 0.5 {
                "s-m2"
            } else if row.activities > 0 {
                "s-m1"
            } else {
                "s-m0"
            }
        }
        Some(_) => "s-met",
    }
}

/// The legend of [`shade`].
const LEGEND: [(&str, &str); 6] = [
    ("s-met", "Đạt chỉ tiêu"),
    ("s-m3", "Đạt 75% đến dưới 100%"),
    ("s-m2", "Đạt 50% đến dưới 75%"),
    ("s-m1", "Dưới 50%"),
    ("s-m0", "Chưa có hoạt động nào"),
    ("s-none", "Không có chỉ tiêu trong kỳ"),
];

fn render(
    viewer: &Viewer,
    chosen: &Chosen,
    plan: Option<&DistrictPlan>,
    view: &pb::PlanView,
    schools: &[pb::EnrolledSchool],
) -> Markup {
    let names = SchoolNames::new(schools);
    let ky = chosen.period.to_string();
    let mut by_school: HashMap<&str, Vec<&pb::PlanRow>> = HashMap::new();
    for row in &view.rows {
        by_school.entry(row.school.as_str()).or_default().push(row);
    }
    let with_target = view.rows.iter().filter(|r| r.target.is_some()).count();
    let met = view
        .rows
        .iter()
        .filter(|r| status_code(r.status) == "met")
        .count();
    let total_activities: i64 = view.schools.iter().map(|s| s.total_activities).sum();
    let target_sum = |rows: &mut dyn Iterator<Item = &pb::PlanRow>| -> Option<i64> {
        rows.filter_map(|r| r.target).reduce(|a, b| a + b)
    };
    let title = format!("Thực hiện kế hoạch – {}", periods::title(chosen.period));
    let body = html! {
        h1 { (title) }
        p.lead {
            "Từ " (format::date(&chosen.range.start().to_string()))
            " đến " (format::date(&chosen.range.end().to_string()))
            @if let Some(plan) = plan {
                " · Kế hoạch số " (plan.number) " của " (plan.issuer)
            }
        }
        (layout::period_form("/", chosen.period, plan.map(|p| &p.period), html! {}))
        (layout::figures(&[
            (vi::int(view.schools.len() as i64), "trường"),
            (vi::int(total_activities), "hoạt động trong kỳ"),
            (format!("{} / {}", vi::int(met as i64), vi::int(with_target as i64)), "ô đạt chỉ tiêu / ô có chỉ tiêu"),
            (vi::int(view.lagging.len() as i64), "trường chưa đạt ở ít nhất một nội dung"),
        ]))
        div.scroll {
            table.heat id="ban-do-ke-hoach" {
                caption.muted { "Số hoạt động / chỉ tiêu của từng trường theo nội dung truyền thông trọng tâm" }
                thead {
                    tr {
                        th { "Trường" }
                        @for area in labels::area_numbers() {
                            th.num title=(labels::area(area)) { (labels::area_short(area)) }
                        }
                        th.num { "Tổng" }
                    }
                }
                tbody {
                    @for summary in &view.schools {
                        @let rows = by_school.get(summary.school.as_str()).map(Vec::as_slice).unwrap_or(&[]);
                        @let school_target = target_sum(&mut rows.iter().copied());
                        tr data-school=(summary.school)
                            data-total-activities=(summary.total_activities)
                            data-areas-missed=(summary.areas_missed) {
                            th {
                                a href=(school_href(&summary.school, &ky)) { (names.name(&summary.school)) }
                                @if let Some(s) = names.get(&summary.school) {
                                    br; small.muted { (labels::level(&s.level)) " · " (s.commune) }
                                }
                            }
                            @for area in labels::area_numbers() {
                                @match rows.iter().find(|r| r.area == area) {
                                    Some(row) => (cell(row, &names, &ky)),
                                    None => td.cell.s-none data-school=(summary.school) data-area=(area) { (format::DASH) },
                                }
                            }
                            td.num {
                                b { (vi::int(summary.total_activities)) }
                                @if let Some(t) = school_target { " / " (vi::int(t)) }
                                br;
                                @if summary.areas_missed > 0 {
                                    span.badge.bad { (summary.areas_missed) " nội dung chưa đạt" }
                                } @else if school_target.is_some() {
                                    span.badge.ok { "đạt tất cả" }
                                }
                            }
                        }
                    }
                }
                tfoot {
                    tr {
                        th { (layout::total_label(viewer)) }
                        @for area in labels::area_numbers() {
                            @let activities: i64 = view.rows.iter().filter(|r| r.area == area).map(|r| r.activities).sum();
                            @let target = target_sum(&mut view.rows.iter().filter(|r| r.area == area));
                            @let missed = view.areas.iter().find(|a| a.area == area).map_or(0, |a| a.schools_missed);
                            td.num data-area=(area) data-area-activities=(activities) data-schools-missed=(missed) {
                                (vi::int(activities))
                                @if let Some(t) = target { " / " (vi::int(t)) }
                                br;
                                small { (missed) " trường chưa đạt" }
                            }
                        }
                        td.num data-district-activities=(total_activities) {
                            (vi::int(total_activities))
                            @if let Some(t) = target_sum(&mut view.rows.iter()) { " / " (vi::int(t)) }
                        }
                    }
                }
            }
        }
        ul.legend aria-label="Chú giải" {
            @for (class, label) in LEGEND {
                li { i class=(class) {} (label) }
            }
            li.muted { "Mỗi ô: số hoạt động / chỉ tiêu của kỳ" }
        }
        h2 { "Trường chưa đạt chỉ tiêu" }
        @if view.lagging.is_empty() {
            p { "Không có trường nào chưa đạt chỉ tiêu trong kỳ này." }
        } @else {
            ol id="truong-cham" {
                @for s in &view.lagging {
                    li data-school=(s.school) {
                        a href=(school_href(&s.school, &ky)) { (names.name(&s.school)) }
                        ": " (s.areas_missed) " nội dung chưa đạt, " (vi::int(s.total_activities)) " hoạt động"
                    }
                }
            }
        }
    };
    layout::page_for(&title, Nav::Plan, Some(viewer), Some(chosen.period), body)
}

/// One cell of the heat map.
fn cell(row: &pb::PlanRow, names: &SchoolNames<'_>, ky: &str) -> Markup {
    let share = row
        .target
        .filter(|t| *t > 0)
        .map(|t| format!(" ({})", vi::percent(row.activities as f64 / t as f64)))
        .unwrap_or_default();
    let target_text = row.target.map_or_else(
        || "không có chỉ tiêu".to_string(),
        |t| format!("chỉ tiêu {}", vi::int(t)),
    );
    let tooltip = format!(
        "{} – {}: {} hoạt động, {target_text}{share} – {}. Kênh: {}",
        names.name(&row.school),
        labels::area(row.area),
        vi::int(row.activities),
        status_label(row.status),
        labels::channels(&row.channels),
    );
    html! {
        td class={ "cell " (shade(row)) }
            data-school=(row.school)
            data-area=(row.area)
            data-activities=(row.activities)
            data-target=[row.target]
            data-status=(status_code(row.status))
            data-channels=(row.channels.join(","))
            title=(tooltip) {
            a href={ (school_href(&row.school, ky)) "#noi-dung-" (row.area) } {
                (vi::int(row.activities))
                @if let Some(t) = row.target { " / " (vi::int(t)) }
                small { (row.channels.len()) " kênh" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(activities: i64, target: Option<i64>, status: pb::TargetStatus) -> pb::PlanRow {
        pb::PlanRow {
            school: "thcs-an-hoa".into(),
            area: 3,
            activities,
            channels: vec!["district_radio".into(), "facebook".into()],
            target,
            status: status.into(),
        }
    }

    #[test]
    fn cells_are_shaded_by_the_share_of_the_target_met() {
        use pb::TargetStatus::{Met, Missed, NoTarget};
        assert_eq!(shade(&row(4, Some(4), Met)), "s-met");
        assert_eq!(shade(&row(3, Some(4), Missed)), "s-m3");
        assert_eq!(shade(&row(2, Some(4), Missed)), "s-m2");
        assert_eq!(shade(&row(1, Some(4), Missed)), "s-m1");
        assert_eq!(shade(&row(0, Some(4), Missed)), "s-m0");
        assert_eq!(shade(&row(7, None, NoTarget)), "s-none");
    }

    #[test]
    fn a_cell_carries_its_row() {
        let names = SchoolNames::default();
        let html = cell(&row(2, Some(4), pb::TargetStatus::Missed), &names, "2018").into_string();
        for expected in [
            r#"class="cell s-m2""#,
            r#"data-school="thcs-an-hoa""#,
            r#"data-area="3""#,
            r#"data-activities="2""#,
            r#"data-target="4""#,
            r#"data-status="missed""#,
            r#"data-channels="district_radio,facebook""#,
            "2 / 4",
            "(50%)",
            "Đài Truyền thanh huyện, Facebook",
            r#"href="/truong/thcs-an-hoa?ky=2018#noi-dung-3""#,
        ] {
            assert!(html.contains(expected), "{expected} not in {html}");
        }
        let none = cell(&row(2, None, pb::TargetStatus::NoTarget), &names, "2018").into_string();
        assert!(!none.contains("data-target"), "{none}");
    }
}
