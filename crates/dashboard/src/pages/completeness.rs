//! `/day-du`: completeness and timeliness of reporting for a period — which schools recorded
//! nothing, how late events arrive — with each school's operational state beside it (last
//! contact, outbox backlog, held events), which is not part of the pure view.
//!
//! Reads `GetDistrictPlan`, then `GetCompleteness`, `ListSchools` and `GetIngestState`.

use maud::{Markup, html};

use domain::district::DistrictPlan;
use domain::vi;
use wire::pb;

use crate::error::PageError;
use crate::format::{DASH, optional_percent, when};
use crate::layout::{self, Nav};
use crate::pages::{Params, ParamsQuery, SchoolNames, school_href};
use crate::periods::{self, Chosen};
use crate::session::Viewer;

pub async fn show(viewer: Viewer, query: ParamsQuery) -> Result<Markup, PageError> {
    let params = Params::read(query)?;
    let agg = &viewer.aggregator;
    let plan = agg.district_plan().await?;
    let chosen = periods::choose(Params::given(&params.ky), plan.as_ref())?;
    let (view, schools, ingest) = tokio::try_join!(
        agg.completeness(chosen.period),
        agg.schools(),
        agg.ingest_state()
    )?;
    Ok(render(
        &viewer,
        &chosen,
        plan.as_ref(),
        &view,
        &schools,
        &ingest,
    ))
}

fn render(
    viewer: &Viewer,
    chosen: &Chosen,
    plan: Option<&DistrictPlan>,
    view: &pb::CompletenessView,
    schools: &[pb::EnrolledSchool],
    ingest: &pb::IngestState,
) -> Markup {
    let names = SchoolNames::new(schools);
    let ky = chosen.period.to_string();
    let title = format!("Đầy đủ, kịp thời – {}", periods::title(chosen.period));
    let events: i64 = view.schools.iter().map(|s| s.events).sum();
    let on_time: i64 = view.schools.iter().map(|s| s.on_time).sum();
    let body = html! {
        h1 { (title) }
        p.lead { "Trường đã báo cáo hoạt động trong kỳ, độ trễ gửi sự kiện về Phòng, và tình trạng kết nối của từng trường." }
        (layout::period_form("/day-du", chosen.period, plan.map(|p| &p.period), html! {}))
        (layout::figures(&[
            (vi::int(view.enrolled), "trường trong huyện"),
            (vi::int(view.reported), "trường có báo cáo hoạt động"),
            (optional_percent(view.reporting_rate), "tỷ lệ trường báo cáo"),
            (format!("{} / {}", vi::int(on_time), vi::int(events)), "sự kiện gửi đúng hạn / tổng số"),
        ]))
        div.scroll { table id="day-du" {
            thead { tr {
                th { "Trường" } th.num { "Hoạt động" } th.num { "Sự kiện" } th { "Báo cáo" }
                th.num { "Đúng hạn" } th.num { "Tỷ lệ đúng hạn" } th.num { "Chậm nhất" }
                th { "Liên lạc gần nhất" } th.num { "Chờ gửi ở trường" } th.num { "Đang giữ" }
            } }
            tbody {
                @for s in &view.schools {
                    @let op = ingest.authors.iter().find(|a| a.author == s.school);
                    tr class=[(!s.reported).then_some("bad")] data-school=(s.school)
                        data-activities=(s.activities) data-events=(s.events) data-reported=(s.reported) {
                        td { a href=(school_href(&s.school, &ky)) { (names.name(&s.school)) } }
                        td.num { (vi::int(s.activities)) }
                        td.num { (vi::int(s.events)) }
                        td { @if s.reported { span.badge.ok { "có" } } @else { span.badge.bad { "chưa báo cáo" } } }
                        td.num { (vi::int(s.on_time)) }
                        td.num { (optional_percent(s.on_time_rate)) }
                        td.num { (s.max_delay_days.map_or_else(|| DASH.to_string(), vi::days)) }
                        td { (op.map_or_else(|| DASH.to_string(), |a| when!(a.last_contact_at))) }
                        td.num { (op.and_then(|a| a.backlog).map_or_else(|| DASH.to_string(), vi::count)) }
                        td.num { (op.map_or_else(|| DASH.to_string(), |a| vi::count(a.held))) }
                    }
                }
            }
        } }
        p.muted { "Một sự kiện là đúng hạn khi được ghi nhận không quá 7 ngày sau ngày diễn ra. "
            "“Chờ gửi ở trường” là số sự kiện trường còn phải gửi tại lần liên lạc gần nhất." }
    };
    layout::page_for(
        &title,
        Nav::Completeness,
        Some(viewer),
        Some(chosen.period),
        body,
    )
}
