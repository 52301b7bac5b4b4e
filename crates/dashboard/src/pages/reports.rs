//! `/bao-cao`: report downloads. A period and, optionally, a school are chosen; the page links
//! to the `reporting` service's own routes, which it does not implement:
//! `/bao-cao/tai-ve?ky=<period>&dinh-dang=<docx|xlsx|html|csv|json>[&truong=<code>]` (a file)
//! and `/bao-cao/xem?ky=<period>[&truong=<code>]` (the printable page).
//!
//! Reads `GetDistrictPlan` (the period is checked as every view checks it) and `ListSchools`
//! (an unknown school is the 404 page, not a broken download).

use maud::{Markup, html};

use domain::district::DistrictPlan;
use wire::pb;

use crate::error::PageError;
use crate::format;
use crate::layout::{self, Nav};
use crate::pages::{Params, ParamsQuery};
use crate::periods::{self, Chosen};
use crate::session::Viewer;

/// The download formats: `dinh-dang` value, name, what the office does with it.
const FORMATS: [(&str, &str, &str); 5] = [
    (
        "docx",
        "Word (.docx)",
        "báo cáo theo thể thức văn bản hành chính, để ký và gửi",
    ),
    (
        "xlsx",
        "Excel (.xlsx)",
        "số liệu theo từng chuyên đề, có công thức tính tổng",
    ),
    ("html", "Trang in (.html)", "bản HTML khổ A4 để lưu hoặc in"),
    (
        "csv",
        "CSV",
        "các bảng số liệu, dạng văn bản phân cách bằng dấu phẩy",
    ),
    ("json", "JSON", "các bảng số liệu, cho phần mềm khác đọc"),
];

pub async fn show(viewer: Viewer, query: ParamsQuery) -> Result<Markup, PageError> {
    let params = Params::read(query)?;
    let agg = &viewer.aggregator;
    let (plan, schools) = tokio::try_join!(agg.district_plan(), agg.schools())?;
    // A school head reports on their own school only.
    let asked = Params::given(&params.truong).or(viewer.own_school());
    if let Some(code) = asked
        && !viewer.may_see_school(code)
    {
        return Err(crate::session::forbidden("báo cáo của trường khác"));
    }
    let school = match asked {
        None => None,
        Some(code) => Some(
            schools
                .iter()
                .find(|s| s.code == code)
                .ok_or_else(|| PageError::UnknownSchool(code.to_string()))?,
        ),
    };
    let chosen = periods::choose(Params::given(&params.ky), plan.as_ref())?;
    Ok(render(&viewer, &chosen, plan.as_ref(), school, &schools))
}

/// The query string of a report address: the period and the school, when one is chosen.
fn report_query(chosen: &Chosen, school: Option<&pb::EnrolledSchool>) -> String {
    let mut query = format!("ky={}", chosen.period);
    if let Some(s) = school {
        query.push_str("&truong=");
        query.push_str(&s.code);
    }
    query
}

fn render(
    viewer: &Viewer,
    chosen: &Chosen,
    plan: Option<&DistrictPlan>,
    school: Option<&pb::EnrolledSchool>,
    schools: &[pb::EnrolledSchool],
) -> Markup {
    let query = report_query(chosen, school);
    let subject = school.map_or_else(|| "toàn huyện".to_string(), |s| s.name.clone());
    let title = format!("Báo cáo – {}", periods::title(chosen.period));
    let chosen_code = school.map(|s| s.code.as_str()).unwrap_or("");
    let school_field = html! {
        label { "Phạm vi"
            select name="truong" {
                @if viewer.own_school().is_none() {
                    option value="" selected[chosen_code.is_empty()] { "Toàn huyện" }
                }
                @for s in schools {
                    option value=(s.code) selected[chosen_code == s.code] { (s.name) }
                }
            }
        }
    };
    let body = html! {
        h1 { (title) }
        p.lead {
            "Báo cáo kết quả thực hiện kế hoạch truyền thông về giáo dục và đào tạo, "
            (subject) ", " (periods::title(chosen.period).to_lowercase())
            " (từ " (format::date(&chosen.range.start().to_string())) " đến "
            (format::date(&chosen.range.end().to_string())) ")."
        }
        (layout::period_form("/bao-cao", chosen.period, plan.map(|p| &p.period), school_field))
        section.card {
            h2 { "Xem và in" }
            p { a id="xem-bao-cao" href={ "/bao-cao/xem?" (query) } { "Mở báo cáo dạng trang in" } }
            h2 { "Tải về" }
            ul.downloads {
                @for (code, name, what) in FORMATS {
                    li {
                        a data-format=(code) href={ "/bao-cao/tai-ve?" (query) "&dinh-dang=" (code) } download {
                            (name)
                        }
                        br; small.muted { (what) }
                    }
                }
            }
        }
        p.muted { "Số liệu trong báo cáo được lấy từ máy chủ tổng hợp tại thời điểm tải về." }
    };
    layout::page_for(
        &title,
        Nav::Reports,
        Some(viewer),
        Some(chosen.period),
        body,
    )
}
