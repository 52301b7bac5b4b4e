//! `/hop-thu`: what the school must answer and what it has done — citizens' feedback and press
//! issues with the days left to answer (the district plan's deadlines; the overdue first),
//! nominations and their outcome, reporters' visits, and each year's budget (estimated,
//! spent, settled). Every row says its delivery to the district.

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use domain::school::records::{CaseKind, days_left};
use maud::html;

use crate::AppState;
use crate::delivery::Delivery;
use crate::error::PageError;
use crate::layout::{self, Nav};
use crate::pages::activities::{load, state_badge};
use crate::session::Staff;

pub async fn show(State(state): State<AppState>, staff: Staff) -> Result<Response, PageError> {
    let log = load(&staff).await?;
    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::vietnam_offset())
        .date_naive();
    let terms = log.status.district_terms.as_ref();
    let within = |kind: CaseKind| {
        terms.map(|t| match kind {
            CaseKind::Feedback => t.answer_feedback_days,
            CaseKind::Press => t.answer_press_days,
        })
    };
    let body = html! {
        h1 { "Ý kiến, báo chí, khen thưởng, kinh phí" }
        section.card {
            h2 { "Ý kiến của người dân và vấn đề báo chí nêu" }
            @match terms {
                Some(t) => p.muted { "Thời hạn trả lời theo kế hoạch " (t.plan_number) " của Phòng: ý kiến người dân " (t.answer_feedback_days) " ngày, báo chí " (t.answer_press_days) " ngày." },
                None => p.muted { "Phòng chưa gửi thời hạn trả lời về máy này." },
            }
            table.inbox {
                thead { tr { th { "Loại" } th { "Ngày nhận" } th { "Từ" } th { "Vấn đề" } th { "Trả lời" } th { "Gửi Phòng" } } }
                tbody {
                    @for case in log.records.inbox() {
                        tr data-case=(case.id) {
                            td { @match case.kind { CaseKind::Feedback => "Ý kiến", CaseKind::Press => "Báo chí" } }
                            td { (domain::vi::date(case.received_on)) }
                            td { @if case.from.is_empty() { "Ẩn danh" } @else { (case.from) } }
                            td { (case.subject) }
                            td {
                                @match (case.answered_on, within(case.kind)) {
                                    (Some(on), _) => { "Đã trả lời " (domain::vi::date(on)) }
                                    (None, Some(days)) => {
                                        @let left = days_left(case.received_on, days, today);
                                        @if left < 0 { span.reason data-overdue="true" { "Quá hạn " (-left) " ngày" } }
                                        @else { span data-days-left=(left) { "Còn " (left) " ngày" } }
                                    }
                                    (None, None) => { "Chưa trả lời" }
                                }
                            }
                            td {
                                (state_badge(&Delivery::of(case.last_seq, &log.status)))
                                @if case.kind == CaseKind::Press && case.answered_on.is_some() {
                                    br; a href=(crate::pages::evidence::href(&domain::evidence::EvidenceTarget::PressAnswer(case.id))) { "Minh chứng" }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { "Đề nghị khen thưởng" }
            table {
                thead { tr { th { "Ngày" } th { "Cá nhân, tập thể" } th { "Đề nghị" } th { "Kết quả" } th { "Gửi Phòng" } } }
                tbody {
                    @for n in log.records.nominations() {
                        tr data-nomination=(n.id) {
                            td { (domain::vi::date(n.date)) }
                            td { (n.nominee) br; span.muted { (n.achievement) } }
                            td { (n.proposed_level.label_vi()) }
                            td { @match &n.awarded { Some((level, number, on)) => { (level.label_vi()) ", QĐ " (number) " ngày " (domain::vi::date(*on)) }, None => "Chưa có quyết định" } }
                            td { (state_badge(&Delivery::of(n.last_seq, &log.status))) }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { "Phóng viên đến trường" }
            table {
                thead { tr { th { "Ngày" } th { "Báo, đài" } th { "Phóng viên" } th { "Nội dung" } th { "Gửi Phòng" } } }
                tbody {
                    @for v in log.records.visits() {
                        tr { td { (domain::vi::date(v.date)) } td { (v.outlet) } td { (v.reporter) } td { (v.purpose) } td { (state_badge(&Delivery::of(v.seq, &log.status))) } }
                    }
                }
            }
        }
        section.card {
            h2 { "Kinh phí truyền thông" }
            table {
                thead { tr { th { "Năm" } th.num { "Dự trù" } th.num { "Đã chi" } th.num { "Quyết toán" } th { "Gửi Phòng" } } }
                tbody {
                    @for (year, b) in log.records.budgets() {
                        tr data-budget-year=(year) {
                            td { (year) }
                            td.num { (b.estimated.map_or_else(|| "–".to_owned(), domain::vi::money)) }
                            td.num { (domain::vi::money(b.spent)) " (" (b.expenses) " khoản)" }
                            td.num { (b.settled.map_or_else(|| "–".to_owned(), domain::vi::money)) }
                            td { (state_badge(&Delivery::of(b.last_seq, &log.status))) }
                        }
                    }
                }
            }
        }
    };
    let tally = log.tally();
    let page = layout::page(
        &state.school_name,
        "Ý kiến, báo chí, khen thưởng, kinh phí",
        Nav::Inbox,
        &staff,
        Some((&log.status, tally)),
        body,
    );
    Ok(Html(page.into_string()).into_response())
}
