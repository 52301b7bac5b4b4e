//! `/tiep-nhan`: how far each school's (and the office's) log is applied, what is held behind
//! a gap or waiting for enrolment, when each was last heard from and what it still had to
//! send, the newest seq each school last announced of its own log (so a lost tail shows as
//! "the school has 120, the office 100"); and the ingest's counters since the aggregator
//! started. Above the table, what needs the district office's attention and is never resolved
//! by waiting: a school whose log diverged from the district's (a seq sent again with other
//! content), and events held for a version the aggregator does not know yet.
//!
//! Reads `GetIngestState` and `ListSchools`.

use maud::{Markup, html};

use domain::vi;
use wire::pb;

use crate::error::PageError;
use crate::format::{DASH, when};
use crate::layout::{self, Nav};
use crate::pages::SchoolNames;
use crate::session::Viewer;

pub async fn show(viewer: Viewer) -> Result<Markup, PageError> {
    let agg = &viewer.aggregator;
    let (ingest, schools) = tokio::try_join!(agg.ingest_state(), agg.schools())?;
    Ok(render(Some(&viewer), &ingest, &schools))
}

fn optional(value: Option<u64>) -> String {
    value.map_or_else(|| DASH.to_string(), vi::count)
}

/// How many seqs of a divergence are named before "…".
const SEQS_SHOWN: usize = 20;

/// "3, 4, 5" (the first [`SEQS_SHOWN`], then "…").
fn seq_list(seqs: &[u64]) -> String {
    let mut text: Vec<String> = seqs
        .iter()
        .take(SEQS_SHOWN)
        .map(|s| vi::count(*s))
        .collect();
    if seqs.len() > SEQS_SHOWN {
        text.push("…".into());
    }
    text.join(", ")
}

/// The notices above the table: divergences and version holds, one line per author.
fn notices(ingest: &pb::IngestState, names: &SchoolNames) -> Markup {
    html! {
        @for a in ingest.authors.iter().filter(|a| a.divergences > 0) {
            p.badge.bad data-divergence=(a.author) {
                "Lệch sổ: " (names.name(&a.author)) " gửi lại số thứ tự " (seq_list(&a.divergent_seqs))
                " với nội dung khác (nhật ký ở trường có thể đã được khôi phục từ bản sao cũ hoặc tạo lại). "
                "Các bản này không được cập nhật"
                @if a.held_diverged > 0 {
                    "; " (vi::count(a.held_diverged)) " sự kiện gửi sau đó đang được giữ lại"
                }
                ". Cần đối chiếu nhật ký của trường với dữ liệu tại Phòng."
            }
        }
        @for a in ingest.authors.iter().filter(|a| a.held_unknown_version > 0) {
            p.badge.warn data-unknown-version=(a.author) {
                (names.name(&a.author)) ": " (vi::count(a.held_unknown_version))
                " sự kiện thuộc loại hoặc phiên bản mà máy chủ tổng hợp chưa hỗ trợ; đang giữ lại "
                "cùng các sự kiện sau nó, sẽ cập nhật đúng thứ tự khi nâng cấp máy chủ tổng hợp."
            }
        }
    }
}

fn render(
    viewer: Option<&Viewer>,
    ingest: &pb::IngestState,
    schools: &[pb::EnrolledSchool],
) -> Markup {
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
            (vi::count(counters.divergences), "lệch sổ"),
            (when!(counters.last_commit_at), "lần cập nhật gần nhất"),
        ]))
        @if !counters.last_error.is_empty() {
            p.badge.bad { "Lỗi cập nhật gần nhất: " (counters.last_error) }
        }
        p.muted { "Số đếm tính từ lần khởi động gần nhất của máy chủ tổng hợp." }
        (notices(ingest, &names))
        div.scroll { table id="tiep-nhan" {
            thead { tr {
                th { "Nguồn gửi" } th { "Trong huyện" } th.num { "Đã cập nhật đến số" } th.num { "Sự kiện đã cập nhật" }
                th.num { "Bị từ chối" } th.num { "Lệch sổ" } th.num { "Đang giữ" } th.num { "Thiếu từ số" }
                th { "Liên lạc gần nhất" } th.num { "Số thứ tự khi đó" } th.num { "Chờ gửi ở trường" }
                th.num { "Trường báo đã ghi đến số" } th { "Đề nghị gửi lại" }
            } }
            tbody {
                @for a in &ingest.authors {
                    tr class=[(a.first_missing_seq.is_some() || a.lost_tail || !a.enrolled || a.divergences > 0).then_some("bad")]
                        data-author=(a.author) data-applied-seq=(a.applied_seq) data-held=(a.held) {
                        td { (names.name(&a.author)) br; small.muted { code { (a.author) } } }
                        td { @if a.enrolled { "có" } @else { span.badge.warn { "chưa đăng ký" } } }
                        td.num { (vi::count(a.applied_seq)) }
                        td.num { (vi::count(a.applied_events)) }
                        td.num { (vi::count(a.rejected_events)) }
                        td.num { (vi::count(a.divergences)) }
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
    layout::page(title, Nav::Ingest, viewer, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_divergence_and_a_version_hold_are_said_in_vietnamese() {
        let school = pb::EnrolledSchool {
            code: "thcs-an-hoa".into(),
            name: "Trường THCS An Hòa".into(),
            ..Default::default()
        };
        let ingest = pb::IngestState {
            authors: vec![pb::AuthorState {
                author: "thcs-an-hoa".into(),
                enrolled: true,
                applied_seq: 5,
                divergences: 3,
                divergent_seqs: vec![3, 4, 5],
                held: 3,
                held_diverged: 2,
                held_unknown_version: 1,
                ..Default::default()
            }],
            counters: Some(pb::IngestCounters {
                divergences: 3,
                ..Default::default()
            }),
        };
        let page = render(None, &ingest, &[school]).into_string();
        assert!(
            page.contains(
                "Lệch sổ: Trường THCS An Hòa gửi lại số thứ tự 3, 4, 5 với nội dung khác"
            ),
            "{page}"
        );
        assert!(
            page.contains("2 sự kiện gửi sau đó đang được giữ lại"),
            "{page}"
        );
        assert!(
            page.contains("Trường THCS An Hòa: 1 sự kiện thuộc loại hoặc phiên bản"),
            "{page}"
        );
        assert!(page.contains("lệch sổ"), "{page}");
    }

    #[test]
    fn long_lists_of_seqs_are_cut() {
        let seqs: Vec<u64> = (1..=25).collect();
        let text = seq_list(&seqs);
        assert!(text.starts_with("1, 2, 3"));
        assert!(text.ends_with("20, …"), "{text}");
    }
}
