//! `/`: the school's home page — this quarter's and this school year's activities in each
//! content area, the delivery bar, and *Gửi ngay*.

use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use domain::ContentArea;
use maud::html;
use wire::pb;

use crate::AppState;
use crate::error::PageError;
use crate::layout::{self, Nav};
use crate::pages::activities::load;
use crate::pages::sign_in::CsrfOnly;
use crate::session::Staff;

/// The quarter and the school year (1 September – 31 August) containing `today`.
fn quarter_and_school_year(today: NaiveDate) -> ((NaiveDate, NaiveDate), (NaiveDate, NaiveDate)) {
    let q = (today.month0() / 3) * 3 + 1;
    let start = NaiveDate::from_ymd_opt(today.year(), q, 1).unwrap_or(today);
    let end = start
        .checked_add_months(chrono::Months::new(3))
        .and_then(|d| d.pred_opt())
        .unwrap_or(today);
    let year = if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    };
    let sy_start = NaiveDate::from_ymd_opt(year, 9, 1).unwrap_or(today);
    let sy_end = NaiveDate::from_ymd_opt(year + 1, 8, 31).unwrap_or(today);
    ((start, end), (sy_start, sy_end))
}

/// The window of a target's period (`quarter`, `semester`, `school_year`, `calendar_year`)
/// containing `today`, and its name: the semesters of the district's plan are HK I (1 Sep –
/// 15 Jan) and HK II (16 Jan – 31 May); in the summer the HK II just ended counts.
fn window(per: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate, String)> {
    let ymd = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d);
    let ((q_start, q_end), (y_start, y_end)) = quarter_and_school_year(today);
    match per {
        "quarter" => Some((q_start, q_end, "quý này".into())),
        "school_year" => Some((y_start, y_end, "năm học này".into())),
        "calendar_year" => Some((
            ymd(today.year(), 1, 1)?,
            ymd(today.year(), 12, 31)?,
            format!("năm {}", today.year()),
        )),
        "semester" => {
            let start_year = y_start.year();
            let hk2_start = ymd(start_year + 1, 1, 16)?;
            if today < hk2_start {
                Some((y_start, ymd(start_year + 1, 1, 15)?, "học kỳ I".into()))
            } else {
                Some((hk2_start, ymd(start_year + 1, 5, 31)?, "học kỳ II".into()))
            }
        }
        _ => None,
    }
}

pub async fn show(State(state): State<AppState>, staff: Staff) -> Result<Response, PageError> {
    let log = load(&staff).await?;
    let tally = log.tally();
    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::vietnam_offset())
        .date_naive();
    let ((q_start, q_end), (y_start, y_end)) = quarter_and_school_year(today);
    let count = |area: ContentArea, from: NaiveDate, to: NaiveDate| {
        log.activities
            .newest_first()
            .filter(|e| e.retracted.is_none() && e.details.area == area)
            .filter(|e| e.details.date >= from && e.details.date <= to)
            .count()
    };
    let terms = log.status.district_terms.as_ref();
    let targets = terms.map(|t| t.targets.clone()).unwrap_or_default();
    let body = html! {
        h1 { "Trang chính" }
        section.card {
            @match &log.plan {
                Some(plan) => p { "Kế hoạch số " strong { (plan.number) } " – " (plan.title) "." },
                None => p.notice.error { "Trường chưa ban hành kế hoạch truyền thông." },
            }
            p { a.button href="/hoat-dong/moi" { "Ghi hoạt động mới" } }
        }
        section.card {
            h2 { "Hoạt động theo lĩnh vực" }
            p.muted {
                "Quý này: " (domain::vi::date(q_start)) " – " (domain::vi::date(q_end))
                "; năm học " (y_start.year()) "–" (y_end.year()) "."
                @match terms {
                    Some(t) => { " Chỉ tiêu theo kế hoạch " (t.plan_number) " của Phòng." }
                    None => { " Phòng chưa gửi chỉ tiêu về máy này." }
                }
            }
            table {
                thead { tr { th { "Lĩnh vực" } th.num { "Quý này" } th.num { "Năm học" } th { "Chỉ tiêu của Phòng" } } }
                tbody {
                    @for area in ContentArea::ALL {
                        tr data-area=(area.number()) {
                            td { (area.number()) ". " (area.label_vi()) }
                            td.num { (count(area, q_start, q_end)) }
                            td.num { (count(area, y_start, y_end)) }
                            td {
                                @for target in targets.iter().filter(|t| t.area == 0 || t.area == u32::from(area.number())) {
                                    @if let Some((from, to, label)) = window(&target.per, today) {
                                        @let done = count(area, from, to);
                                        @let met = done >= target.min_activities as usize;
                                        span data-target-met=(met) class=@if met { "" } @else { "reason" } {
                                            (done) "/" (target.min_activities) " trong " (label)
                                        }
                                        br;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let page = layout::page(
        &state.school_name,
        "Trang chính",
        Nav::Home,
        &staff,
        Some((&log.status, tally)),
        body,
    );
    Ok(Html(page.into_string()).into_response())
}

/// *Gửi ngay*: the relay tries at once and the district is asked for a fresh receipt.
pub async fn send_now(
    State(state): State<AppState>,
    staff: Staff,
    headers: axum::http::HeaderMap,
    Form(input): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    staff.check_csrf(&state, &input.csrf)?;
    staff
        .agent
        .clone()
        .send_now(pb::SendNowRequest {})
        .await
        .map_err(|status| PageError::from_status(&status))?;
    // Back where the button was pressed (same origin only: a path, never a full URL).
    let back = headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_owned()))
        .filter(|path| path.starts_with('/') && !path.starts_with("//"))
        .unwrap_or_else(|| "/".to_owned());
    Ok(Redirect::to(&back).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn a_target_s_window_is_the_period_containing_today() {
        assert_eq!(
            window("semester", d(2018, 1, 10)),
            Some((d(2017, 9, 1), d(2018, 1, 15), "học kỳ I".to_owned()))
        );
        assert_eq!(
            window("semester", d(2018, 7, 1)).map(|w| w.2),
            Some("học kỳ II".to_owned())
        );
        assert_eq!(window("week", d(2018, 7, 1)), None);
    }

    #[test]
    fn the_quarter_and_school_year_of_a_day() {
        assert_eq!(
            quarter_and_school_year(d(2018, 3, 8)),
            (
                (d(2018, 1, 1), d(2018, 3, 31)),
                (d(2017, 9, 1), d(2018, 8, 31))
            )
        );
        assert_eq!(
            quarter_and_school_year(d(2018, 11, 20)),
            (
                (d(2018, 10, 1), d(2018, 12, 31)),
                (d(2018, 9, 1), d(2019, 8, 31))
            )
        );
    }
}
