//! `/truong/{code}`: one school for a period — its plan-view row per content area,
//! completeness, responsiveness cases, commendation, budget, recent activities and the state
//! of its log at the district.
//!
//! Reads `GetDistrictPlan` and `ListSchools` (an unknown code is the 404 page), then
//! concurrently `GetPlanView`, `GetCompleteness`, `GetResponsiveness`, `GetCommendation`,
//! `SearchActivities` (the school, the period, newest 20), `GetIngestState`, and `GetBudget`
//! for each calendar year the period shares with the plan, and `ListEvidence` (every record's
//! evidence files, `pages/evidence.rs`).

use axum::extract::Path;
use futures::future::try_join_all;
use maud::{Markup, html};

use domain::district::DistrictPlan;
use domain::vi;
use wire::pb;

use crate::error::PageError;
use crate::format::{self, DASH, optional_percent, when};
use crate::labels;
use crate::layout::{self, Nav};
use crate::pages::plan::{shade, status_code, status_label};
use crate::pages::{Params, ParamsQuery};
use crate::periods::{self, Chosen};
use crate::session::Viewer;

/// How many recent activities the page lists.
const RECENT: u32 = 20;

/// Everything the page shows, as the aggregator answered.
struct Views {
    plan: pb::PlanView,
    completeness: pb::CompletenessView,
    responsiveness: pb::ResponsivenessView,
    commendation: pb::CommendationView,
    activities: pb::ActivityPage,
    ingest: pb::IngestState,
    budgets: Vec<pb::BudgetView>,
    evidence: pb::ListEvidenceReply,
}

pub async fn show(
    viewer: Viewer,
    Path(code): Path<String>,
    query: ParamsQuery,
) -> Result<Markup, PageError> {
    let params = Params::read(query)?;
    // A school head's pages are their own school's: another school's is refused, not shown
    // empty (the aggregator would refuse its calls anyway).
    if !viewer.may_see_school(&code) {
        return Err(crate::session::forbidden("trang của trường khác"));
    }
    let agg = &viewer.aggregator;
    let (plan, schools) = tokio::try_join!(agg.district_plan(), agg.schools())?;
    let school = schools
        .iter()
        .find(|s| s.code == code)
        .ok_or_else(|| PageError::UnknownSchool(code.clone()))?;
    let chosen = periods::choose(Params::given(&params.ky), plan.as_ref())?;
    let years = budget_years(&chosen, plan.as_ref());
    let period = chosen.period;
    let (
        plan_view,
        completeness,
        responsiveness,
        commendation,
        activities,
        ingest,
        budgets,
        evidence,
    ) = tokio::try_join!(
        agg.plan_view(period),
        agg.completeness(period),
        agg.responsiveness(period, None),
        agg.commendation(period),
        agg.recent_activities(&school.code, period, RECENT),
        agg.ingest_state(),
        try_join_all(years.into_iter().map(|y| agg.budget(y))),
        agg.evidence(&school.code),
    )?;
    let views = Views {
        plan: plan_view,
        completeness,
        responsiveness,
        commendation,
        activities,
        ingest,
        budgets,
        evidence,
    };
    Ok(render(&viewer, school, &chosen, plan.as_ref(), &views))
}

/// The calendar years of the period that the budget view accepts: those of the plan's
/// period (any year before a district plan).
fn budget_years(chosen: &Chosen, plan: Option<&DistrictPlan>) -> Vec<i32> {
    chosen
        .range
        .years()
        .filter(|y| plan.is_none_or(|p| p.period.years().contains(y)))
        .collect()
}

fn render(
    viewer: &Viewer,
    school: &pb::EnrolledSchool,
    chosen: &Chosen,
    plan: Option<&DistrictPlan>,
    v: &Views,
) -> Markup {
    let code = school.code.as_str();
    let title = format!("{} – {}", school.name, periods::title(chosen.period));
    let rows: Vec<&pb::PlanRow> = v.plan.rows.iter().filter(|r| r.school == code).collect();
    let body = html! {
        h1 { (school.name) }
        p.lead {
            "Mã trường " (code) " · " (labels::level(&school.level)) " · " (school.commune)
            " · tham gia từ " (format::date(&school.enrolled_on))
        }
        (layout::period_form(&format!("/truong/{code}"), chosen.period, plan.map(|p| &p.period), html! {}))
        p.muted {
            (periods::title(chosen.period)) ": từ " (format::date(&chosen.range.start().to_string()))
            " đến " (format::date(&chosen.range.end().to_string()))
        }
        (plan_rows(code, &rows))
        (completeness(code, &v.completeness))
        (responsiveness(code, &v.responsiveness))
        (commendation(code, &v.commendation))
        (budget(code, &v.budgets))
        (recent(&v.activities))
        (super::evidence::section(code, &v.evidence))
        (ingest(code, &v.ingest))
    };
    layout::page_for(&title, Nav::None, Some(viewer), Some(chosen.period), body)
}

fn plan_rows(code: &str, rows: &[&pb::PlanRow]) -> Markup {
    let total: i64 = rows.iter().map(|r| r.activities).sum();
    html! {
        h2 { "Kết quả theo nội dung truyền thông" }
        div.scroll {
            table id="ke-hoach-truong" {
                thead { tr {
                    th { "Nội dung" } th.num { "Hoạt động" } th.num { "Chỉ tiêu" }
                    th { "Tình trạng" } th { "Kênh đã dùng" }
                } }
                tbody {
                    @for r in rows {
                        tr id={ "noi-dung-" (r.area) } data-school=(code) data-area=(r.area)
                            data-activities=(r.activities) data-target=[r.target]
                            data-status=(status_code(r.status)) {
                            td { (r.area) ". " (labels::area(r.area)) }
                            td class={ "num " (shade(r)) } { (vi::int(r.activities)) }
                            td.num { (r.target.map_or_else(|| DASH.to_string(), vi::int)) }
                            td { (status_label(r.status)) }
                            td { (labels::channels(&r.channels)) }
                        }
                    }
                }
                tfoot { tr { th { "Tổng" } td.num { (vi::int(total)) } td {} td {} td {} } }
            }
        }
    }
}

fn completeness(code: &str, view: &pb::CompletenessView) -> Markup {
    html! {
        h2 { "Đầy đủ, kịp thời" }
        @match view.schools.iter().find(|s| s.school == code) {
            None => p.muted { "Không có số liệu." },
            Some(c) => {
                (layout::figures(&[
                    (if c.reported { "Có".to_string() } else { "Chưa".to_string() }, "báo cáo hoạt động trong kỳ"),
                    (vi::int(c.activities), "hoạt động"),
                    (vi::int(c.events), "sự kiện ghi nhận"),
                    (optional_percent(c.on_time_rate), "sự kiện gửi đúng hạn (≤ 7 ngày)"),
                    (c.max_delay_days.map_or_else(|| DASH.to_string(), vi::days), "chậm nhất"),
                ]))
            }
        }
    }
}

fn stats_cells(s: Option<&pb::CaseStats>) -> Markup {
    let s = s.cloned().unwrap_or_default();
    html! {
        td.num { (vi::int(s.received)) } td.num { (vi::int(s.answered)) } td.num { (vi::int(s.open)) }
        td.num { (vi::int(s.overdue)) } td.num { (vi::int(s.late)) }
        td.num { (format::mean_days(s.mean_days_to_answer)) }
        td.num { (s.max_days_to_answer.map_or_else(|| DASH.to_string(), vi::int)) }
    }
}

fn responsiveness(code: &str, view: &pb::ResponsivenessView) -> Markup {
    let mine = view.schools.iter().find(|s| s.school == code);
    let flagged: Vec<&pb::CaseLine> = view.flagged.iter().filter(|c| c.school == code).collect();
    html! {
        h2 { "Phản hồi ý kiến người dân và báo chí" }
        p.muted { "Tính đến ngày " (format::date(&view.as_of)) "; thời hạn trả lời: ý kiến người dân "
            (view.feedback_within_days) " ngày, báo chí " (view.press_within_days) " ngày." }
        table {
            thead { tr {
                th { "Loại" } th.num { "Tiếp nhận" } th.num { "Đã trả lời" } th.num { "Chưa trả lời" }
                th.num { "Quá hạn" } th.num { "Trả lời trễ" } th.num { "TB ngày trả lời" } th.num { "Lâu nhất (ngày)" }
            } }
            tbody {
                tr { td { "Ý kiến người dân" } (stats_cells(mine.and_then(|s| s.feedback.as_ref()))) }
                tr { td { "Báo chí" } (stats_cells(mine.and_then(|s| s.press.as_ref()))) }
            }
        }
        @if !flagged.is_empty() {
            h2 { "Trường hợp quá hạn, trả lời trễ" }
            (super::responsiveness::case_table(&flagged, None))
        }
    }
}

fn commendation(code: &str, view: &pb::CommendationView) -> Markup {
    let counts: Vec<&pb::CommendationCount> =
        view.counts.iter().filter(|c| c.school == code).collect();
    let nominations: Vec<&pb::NominationLine> = view
        .nominations
        .iter()
        .filter(|n| n.school == code)
        .collect();
    html! {
        h2 { "Thi đua, khen thưởng" }
        table {
            thead { tr { th { "Cấp khen thưởng" } th.num { "Đề nghị" } th.num { "Được khen" } } }
            tbody {
                @for c in &counts {
                    tr { td { (labels::commendation_level(&c.level)) } td.num { (vi::int(c.nominated)) } td.num { (vi::int(c.awarded)) } }
                }
            }
        }
        @if !nominations.is_empty() {
            div.scroll { table {
                thead { tr {
                    th { "Ngày đề nghị" } th { "Đối tượng" } th { "Thành tích" } th { "Đề nghị" } th { "Kết quả" }
                } }
                tbody {
                    @for n in &nominations {
                        tr {
                            td { (format::date(&n.date)) }
                            td { (n.nominee) br; small.muted { (labels::nominee_kind(&n.nominee_kind)) } }
                            td { (n.achievement) }
                            td { (labels::commendation_level(&n.proposed_level)) }
                            td {
                                @if n.awarded_level.is_empty() { span.muted { "chưa có quyết định" } }
                                @else {
                                    (labels::commendation_level(&n.awarded_level))
                                    br; small.muted { "QĐ số " (n.decision_number) " ngày " (format::date(&n.decision_date)) }
                                }
                            }
                        }
                    }
                }
            } }
        }
    }
}

fn budget(code: &str, views: &[pb::BudgetView]) -> Markup {
    html! {
        h2 { "Kinh phí truyền thông" }
        @if views.is_empty() {
            p.muted { "Kỳ này không thuộc năm nào của kế hoạch." }
        } @else {
            table {
                thead { tr {
                    th { "Năm" } th.num { "Dự toán" } th.num { "Đã chi" } th.num { "Quyết toán" } th.num { "Tỷ lệ thực hiện" }
                } }
                tbody {
                    @for view in views {
                        @if let Some(row) = view.schools.iter().find(|r| r.school == code) {
                            tr data-year=(view.year) {
                                td { (view.year) }
                                td.num { (vi::money_short(row.estimated)) }
                                td.num { (vi::money_short(row.spent)) }
                                td.num { (row.settled.map_or_else(|| "chưa quyết toán".to_string(), vi::money_short)) }
                                td.num { (optional_percent(row.execution_rate)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn recent(page: &pb::ActivityPage) -> Markup {
    html! {
        h2 { "Hoạt động gần đây trong kỳ" }
        @if page.activities.is_empty() {
            p.muted { "Chưa có hoạt động nào trong kỳ." }
        } @else {
            div.scroll { table id="hoat-dong" {
                thead { tr {
                    th { "Ngày" } th { "Nội dung" } th { "Kênh" } th { "Hoạt động" } th { "Phụ trách" } th.num { "Lượt tiếp cận" }
                } }
                tbody {
                    @for a in &page.activities {
                        tr data-activity=(a.activity_id) {
                            td { (format::date(&a.date)) }
                            td { (labels::area_short(a.area)) }
                            td { (labels::channel(&a.channel)) }
                            td {
                                @if a.evidence_url.starts_with("http://") || a.evidence_url.starts_with("https://") {
                                    a href=(a.evidence_url) rel="noopener" { (a.title) }
                                } @else { b { (a.title) } }
                                br; small.muted { (a.summary) }
                            }
                            td { (labels::role(&a.responsible)) }
                            td.num { (a.reach.map_or_else(|| DASH.to_string(), vi::int)) }
                        }
                    }
                }
            } }
            @if !page.next_page_token.is_empty() {
                p.muted { "Chỉ hiện " (RECENT) " hoạt động mới nhất." }
            }
        }
    }
}

fn ingest(code: &str, state: &pb::IngestState) -> Markup {
    html! {
        h2 { "Tiếp nhận dữ liệu của trường" }
        @match state.authors.iter().find(|a| a.author == code) {
            None => p.muted { "Phòng chưa nhận được dữ liệu nào của trường." },
            Some(a) => {
                (layout::figures(&[
                    (vi::count(a.applied_seq), "số thứ tự đã cập nhật"),
                    (vi::count(a.applied_events), "sự kiện đã cập nhật"),
                    (vi::count(a.rejected_events), "sự kiện bị từ chối"),
                    (vi::count(a.held), "sự kiện đang chờ"),
                    (when!(a.last_contact_at), "liên lạc gần nhất"),
                    (a.backlog.map_or_else(|| DASH.to_string(), vi::count), "sự kiện còn chờ gửi ở trường"),
                ]))
                @if let Some(missing) = a.first_missing_seq {
                    p.badge.warn { "Thiếu sự kiện số " (missing) "; đã đề nghị gửi lại " (a.resend_requests) " lần." }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::NaiveDate;
    use domain::district::AnswerWithinDays;
    use domain::{DateRange, Period};

    use super::*;

    #[test]
    fn budget_years_are_those_the_period_shares_with_the_plan() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let chosen = Chosen {
            period: Period::SchoolYear { start_year: 2020 },
            range: DateRange::new(d(2020, 9, 1), d(2021, 8, 31)).unwrap(),
        };
        assert_eq!(budget_years(&chosen, None), vec![2020, 2021]);
        let plan = DistrictPlan {
            number: "1442/KH-PGDĐT".into(),
            issuer: "Phòng Giáo dục và Đào tạo Tam Nông".into(),
            parent_agency: "UBND huyện Tam Nông".into(),
            place: "Tam Nông".into(),
            date: d(2017, 10, 18),
            title: "Kế hoạch".into(),
            period: DateRange::new(d(2017, 10, 18), d(2020, 12, 31)).unwrap(),
            targets: vec![],
            answer_within_days: AnswerWithinDays::DEFAULT,
        };
        assert_eq!(budget_years(&chosen, Some(&plan)), vec![2020]);
    }
}
