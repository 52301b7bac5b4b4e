//! `/phan-hoi`: responsiveness to citizens and the press for a period, judged at an as-of
//! date (`?den-ngay=YYYY-MM-DD`, default the period's end): received, answered, open, overdue
//! and late cases per school, and every overdue or late case.
//!
//! Reads `GetDistrictPlan`, then `GetResponsiveness` and `ListSchools`.

use chrono::NaiveDate;
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
    let agg = &viewer.aggregator;
    let as_of = as_of(Params::given(&params.den_ngay))?;
    let plan = agg.district_plan().await?;
    let chosen = periods::choose(Params::given(&params.ky), plan.as_ref())?;
    let (view, schools) = tokio::try_join!(
        agg.responsiveness(chosen.period, as_of.map(|d| d.to_string())),
        agg.schools()
    )?;
    Ok(render(&viewer, &chosen, plan.as_ref(), &view, &schools))
}

/// The as-of date, `YYYY-MM-DD` (what a date field sends) or `dd/mm/yyyy` (what people type).
fn as_of(text: Option<&str>) -> Result<Option<NaiveDate>, PageError> {
    let Some(text) = text else { return Ok(None) };
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| {
            PageError::bad_request(
                format!("as-of date {text:?} does not parse"),
                format!(
                    "Ngày “{text}” không hợp lệ; hãy viết dạng ngày/tháng/năm, ví dụ 31/12/2018."
                ),
            )
        })
}

fn stats_cells(s: Option<&pb::CaseStats>) -> Markup {
    let s = s.cloned().unwrap_or_default();
    html! {
        td.num { (vi::int(s.received)) } td.num { (vi::int(s.answered)) } td.num { (vi::int(s.open)) }
        td.num { (vi::int(s.overdue)) } td.num { (vi::int(s.late)) }
        td.num { (format::mean_days(s.mean_days_to_answer)) }
    }
}

fn stats_heads() -> Markup {
    html! {
        th.num { "Tiếp nhận" } th.num { "Đã trả lời" } th.num { "Chưa trả lời" }
        th.num { "Quá hạn" } th.num { "Trả lời trễ" } th.num { "TB ngày" }
    }
}

/// The overdue and late cases; with `names`, a school column first.
pub fn case_table(cases: &[&pb::CaseLine], names: Option<(&SchoolNames<'_>, &str)>) -> Markup {
    html! {
        div.scroll { table.cases {
            thead { tr {
                @if names.is_some() { th { "Trường" } }
                th { "Loại" } th { "Nội dung" } th { "Ngày tiếp nhận" } th { "Ngày trả lời" }
                th.num { "Số ngày" } th { "Tình trạng" }
            } }
            tbody {
                @for c in cases {
                    tr data-school=(c.school) data-case=(c.id) {
                        @if let Some((names, ky)) = names {
                            td { a href=(school_href(&c.school, ky)) { (names.name(&c.school)) } }
                        }
                        td { (labels::case_kind(c.kind)) }
                        td { (c.subject) }
                        td { (format::date(&c.opened_on)) }
                        td { (format::date(&c.answered_on)) }
                        td.num { (vi::int(c.days)) }
                        td {
                            @if c.status == i32::from(pb::CaseStatus::Late) {
                                span.badge.warn { (labels::case_status(c.status)) }
                            } @else {
                                span.badge.bad { (labels::case_status(c.status)) }
                            }
                        }
                    }
                }
            }
        } }
    }
}

fn render(
    viewer: &Viewer,
    chosen: &Chosen,
    plan: Option<&DistrictPlan>,
    view: &pb::ResponsivenessView,
    schools: &[pb::EnrolledSchool],
) -> Markup {
    let names = SchoolNames::new(schools);
    let ky = chosen.period.to_string();
    let title = format!("Phản hồi ý kiến – {}", periods::title(chosen.period));
    let feedback = view.feedback.unwrap_or_default();
    let press = view.press.unwrap_or_default();
    let flagged: Vec<&pb::CaseLine> = view.flagged.iter().collect();
    let as_of_field = html! {
        label { "Tính đến ngày" input type="date" name="den-ngay" value=(view.as_of); }
    };
    let body = html! {
        h1 { (title) }
        p.lead {
            "Ý kiến người dân và vấn đề báo chí nêu trong kỳ, tính đến ngày " (format::date(&view.as_of))
            ". Thời hạn trả lời: ý kiến người dân " (view.feedback_within_days) " ngày, báo chí "
            (view.press_within_days) " ngày."
        }
        (layout::period_form("/phan-hoi", chosen.period, plan.map(|p| &p.period), as_of_field))
        (layout::figures(&[
            (format!("{} / {}", vi::int(feedback.answered), vi::int(feedback.received)), "ý kiến người dân đã trả lời / tiếp nhận"),
            (vi::int(feedback.overdue), "ý kiến quá hạn chưa trả lời"),
            (format!("{} / {}", vi::int(press.answered), vi::int(press.received)), "vấn đề báo chí đã trả lời / nêu"),
            (vi::int(press.overdue), "vấn đề báo chí quá hạn"),
            (vi::int(feedback.late + press.late), "trường hợp trả lời trễ"),
        ]))
        div.scroll { table id="phan-hoi" {
            thead {
                tr { th rowspan="2" { "Trường" } th colspan="6" { "Ý kiến người dân" } th colspan="6" { "Báo chí" } }
                tr { (stats_heads()) (stats_heads()) }
            }
            tbody {
                @for s in &view.schools {
                    tr data-school=(s.school) {
                        td { a href=(school_href(&s.school, &ky)) { (names.name(&s.school)) } }
                        (stats_cells(s.feedback.as_ref()))
                        (stats_cells(s.press.as_ref()))
                    }
                }
            }
            tfoot { tr { th { (layout::total_label(viewer)) } (stats_cells(view.feedback.as_ref())) (stats_cells(view.press.as_ref())) } }
        } }
        h2 { "Trường hợp quá hạn, trả lời trễ" }
        @if flagged.is_empty() {
            p { "Không có trường hợp nào quá hạn hay trả lời trễ." }
        } @else {
            (case_table(&flagged, Some((&names, &ky))))
        }
    };
    layout::page_for(
        &title,
        Nav::Responsiveness,
        Some(viewer),
        Some(chosen.period),
        body,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn as_of_dates_in_either_spelling() {
        let d = NaiveDate::from_ymd_opt(2018, 12, 31);
        assert_eq!(as_of(Some("2018-12-31")).unwrap(), d);
        assert_eq!(as_of(Some("31/12/2018")).unwrap(), d);
        assert_eq!(as_of(None).unwrap(), None);
        assert_eq!(
            as_of(Some("31-12")).unwrap_err().status(),
            axum::http::StatusCode::BAD_REQUEST
        );
    }
}
