//! `/thu-loi`: the messages the aggregator could not apply ("thư lỗi"), oldest first, with
//! the reason, 50 to a page (`?tiep=<token>`), optionally of one author (`?tac-gia=<code>`).
//!
//! Reads `ListDeadLetters` and `ListSchools`.

use maud::{Markup, html};

use domain::vi;
use wire::pb;

use crate::error::PageError;
use crate::format::{DASH, when};
use crate::layout::{self, Nav};
use crate::pages::{Params, ParamsQuery, SchoolNames, query_value};
use crate::session::Viewer;

/// Dead letters per page.
const PAGE_SIZE: u32 = 50;

pub async fn show(viewer: Viewer, query: ParamsQuery) -> Result<Markup, PageError> {
    let params = Params::read(query)?;
    let author = Params::given(&params.tac_gia).unwrap_or("");
    let token = Params::given(&params.tiep).unwrap_or("");
    let agg = &viewer.aggregator;
    let (reply, schools) =
        tokio::try_join!(agg.dead_letters(author, PAGE_SIZE, token), agg.schools())?;
    Ok(render(&viewer, author, !token.is_empty(), &reply, &schools))
}

/// What a dead letter is (`DeadLetter.kind`), in Vietnamese.
fn kind_label(kind: &str) -> Option<&'static str> {
    match kind {
        "unreadable" => Some("Không đọc được"),
        "refused" => Some("Vi phạm quy tắc"),
        "divergence" => Some("Lệch sổ"),
        _ => None,
    }
}

fn render(
    viewer: &Viewer,
    author: &str,
    later_page: bool,
    reply: &pb::ListDeadLettersReply,
    schools: &[pb::EnrolledSchool],
) -> Markup {
    let names = SchoolNames::new(schools);
    let title = "Thư lỗi – sự kiện không cập nhật được";
    let next = (!reply.next_page_token.is_empty()).then(|| {
        let mut href = format!("/thu-loi?tiep={}", query_value(&reply.next_page_token));
        if !author.is_empty() {
            href.push_str(&format!("&tac-gia={}", query_value(author)));
        }
        href
    });
    let body = html! {
        h1 { (title) }
        p.lead { "Những thông điệp Phòng nhận được nhưng không đọc được, vi phạm quy tắc, hoặc lệch sổ (gửi lại một số thứ tự "
            "đã có với nội dung khác), nên không được đưa vào số liệu. "
            "Các sự kiện khác của trường vẫn được cập nhật bình thường." }
        form.choose method="get" action="/thu-loi" {
            label { "Nguồn gửi"
                select name="tac-gia" {
                    option value="" selected[author.is_empty()] { "Tất cả" }
                    option value="_district" selected[author == "_district"] { "Phòng GD-ĐT" }
                    @for s in schools {
                        option value=(s.code) selected[author == s.code] { (s.name) }
                    }
                }
            }
            button type="submit" { "Xem" }
        }
        @if reply.dead_letters.is_empty() {
            p id="khong-co-thu-loi" { @if later_page { "Không còn thư lỗi nào." } @else { "Không có thư lỗi nào." } }
        } @else {
            div.scroll { table id="thu-loi" {
                thead { tr {
                    th.num { "Số" } th { "Nhận lúc" } th { "Nguồn gửi" } th { "Chủ đề (subject)" }
                    th.num { "Số thứ tự" } th { "Loại sự kiện" } th { "Lý do" } th.num { "Kích thước" }
                } }
                tbody {
                    @for d in &reply.dead_letters {
                        tr data-dead-letter=(d.id) data-author=(d.author) {
                            td.num { (d.id) }
                            td { (when!(d.received_at)) }
                            td { @if d.author.is_empty() { (DASH) } @else { (names.name(&d.author)) } }
                            td { code { (d.subject) } }
                            td.num { (d.seq.map_or_else(|| DASH.to_string(), vi::count)) }
                            td { @if d.event_type.is_empty() { (DASH) } @else { code { (d.event_type) } } }
                            td {
                                @if let Some(label) = kind_label(&d.kind) {
                                    span.badge.bad[d.kind == "divergence"] { (label) } " "
                                }
                                (d.reason)
                                @if !d.body_excerpt.is_empty() {
                                    details { summary { "Nội dung" } pre { (d.body_excerpt) } }
                                }
                            }
                            td.num { (vi::count(d.body_bytes)) " byte" }
                        }
                    }
                }
            } }
        }
        @if let Some(href) = next {
            p { a rel="next" href=(href) { "Trang sau →" } }
        }
    };
    layout::page(title, Nav::DeadLetters, Some(viewer), body)
}
