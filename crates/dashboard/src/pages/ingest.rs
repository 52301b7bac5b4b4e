//! `/tiep-nhan`: how far each school's (and the office's) log is applied, what is held behind
//! a gap or waiting for enrolment, when each was last heard from and what it still had to
//! send, the newest seq each school last announced of its own log (so a lost tail shows as
//! "the school has 120, the office 100"); and the ingest's counters since the aggregator
//! started.
//!
//! Reads `GetIngestState` and `ListSchools`.

use axum::extract::State;
use maud::{Markup, html};

use domain::vi;
use wire::pb;

use crate::DashboardState;
use crate::error::PageError;
use crate::format::{DASH, when};
use crate::layout::{self, Nav};
use crate::pages::SchoolNames;

pub async fn show(State(state): State<DashboardState>) -> Result<Markup, PageError> {
    let agg = &state.aggregator;
    let (ingest, schools) = tokio::try_join!(agg.ingest_state(), agg.schools())?;
    Ok(render(&ingest, &schools))
}

fn optional(value: Option<u64>) -> String {
    value.map_or_else(|| DASH.to_string(), vi::count)
}

fn render(ingest: &pb::IngestState, schools: &[pb::EnrolledSchool]) -> Markup {
    let names = SchoolNames::new(schools);
    let counters = ingest.counters.clone().unwrap_or_default();
    let title = "Tiếp nhận dữ liệu";
    let body = html! {
        h1 { (title) }
        p.lead { "Tình trạng nhận và cập nhật nhật ký sự kiện của từng trường tại Phòng." }
        (layout::figures(&[
            (vi::count(counters.applied), "sự kiện đã cập nhật"),
            (vi::count(counters.duplicates), "bản trùng đã bỏ qua"),
            (vi::count(counters.held), "sự kiện đang chờ"),
            (vi::count(counters.dead_lettered), "thư lỗi"),
            (when!(counters.last_commit_at), "lần cập nhật gần nhất"),
        ]))
        @if !counters.last_error.is_empty() {
            p.badge.bad { "Lỗi cập nhật gần nhất: " (counters.last_error) }
        }
        p.muted { "Số đếm tính từ lần khởi động gần nhất của máy chủ tổng hợp." }
        div.scroll { table id="tiep-nhan" {
            thead { tr {
                th { "Nguồn gửi" } th { "Trong huyện" } th.num { "Đã cập nhật đến số" } th.num { "Sự kiện đã cập nhật" }
                th.num { "Bị từ chối" } th.num { "Đang giữ" } th.num { "Thiếu từ số" }
                th { "Liên lạc gần nhất" } th.num { "Số thứ tự khi đó" } th.num { "Chờ gửi ở trường" }
                th.num { "Trường báo đã ghi đến số" } th { "Đề nghị gửi lại" }
            } }
            tbody {
                @for a in &ingest.authors {
                    tr class=[(a.first_missing_seq.is_some() || a.lost_tail || !a.enrolled).then_some("bad")]
                        data-author=(a.author) data-applied-seq=(a.applied_seq) data-held=(a.held) {
                        td { (names.name(&a.author)) br; small.muted { code { (a.author) } } }
                        td { @if a.enrolled { "có" } @else { span.badge.warn { "chưa đăng ký" } } }
                        td.num { (vi::count(a.applied_seq)) }
                        td.num { (vi::count(a.applied_events)) }
                        td.num { (vi::count(a.rejected_events)) }
                        td.num { (vi::count(a.held)) }
                        td.num { (optional(a.first_missing_seq)) }
                        td { (when!(a.last_contact_at)) }
                        td.num { (optional(a.last_seq)) }
                        td.num { (optional(a.backlog)) }
                        td.num data-head-seq=[a.last_head_seq] {
                            (optional(a.last_head_seq))
                            @if let Some(head) = a.last_head_seq.filter(|h| *h > a.applied_seq) {
                                br; span.badge.warn { "Phòng còn thiếu " (vi::count(head - a.applied_seq)) }
                            }
                            @if a.last_head_seq.is_some() { br; small.muted { (when!(a.last_head_at)) } }
                        }
                        td {
                            @if a.lost_tail { span.badge.warn { "sự kiện cuối bị mất ở Phòng" } br; }
                            @if a.resend_requests == 0 { (DASH) } @else {
                                (a.resend_requests) " lần, gần nhất " (when!(a.last_resend_at))
                                @if !a.last_resend_reply.is_empty() { br; small.muted { (a.last_resend_reply) } }
                            }
                        }
                    }
                }
            }
        } }
    };
    layout::page(title, Nav::Ingest, body)
}
