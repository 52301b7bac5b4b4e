//! The frame every page shares: the head, the school's header with the menu and the person,
//! and the delivery bar that says, on every page, what has reached the district.

use maud::{DOCTYPE, Markup, html};
use wire::pb;

use crate::STYLE_PATH;
use crate::delivery::Tally;
use crate::session::Staff;

/// The menu entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Home,
    Activities,
    Record,
    Inbox,
    Plan,
    /// *Xuất dữ liệu gửi Phòng* (`pages::bundles`).
    Bundles,
    Backup,
    None,
}

const MENU: [(&str, &str, Nav); 7] = [
    ("/", "Trang chính", Nav::Home),
    ("/ke-hoach", "Kế hoạch", Nav::Plan),
    ("/hoat-dong", "Hoạt động truyền thông", Nav::Activities),
    (
        "/hop-thu",
        "Ý kiến, báo chí, khen thưởng, kinh phí",
        Nav::Inbox,
    ),
    ("/ghi", "Ghi vào sổ", Nav::Record),
    ("/xuat-du-lieu", "Xuất dữ liệu gửi Phòng", Nav::Bundles),
    ("/sao-luu", "Sao lưu", Nav::Backup),
];

/// The document head every page shares: its title, a phone's viewport, the one stylesheet.
fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) }
            link rel="stylesheet" href=(STYLE_PATH);
        }
    }
}

/// A page without a person (sign-in, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="vi" {
            (head(&format!("{title} – Truyền thông giáo dục")))
            body {
                header.site { span.school { "Truyền thông giáo dục – sổ của trường" } }
                main { (body) }
            }
        }
    }
}

/// A page for the signed-in `staff`, with the delivery bar of `status`.
pub fn page(
    school: &str,
    title: &str,
    nav: Nav,
    staff: &Staff,
    delivery: Option<(&pb::AgentStatus, Tally)>,
    body: Markup,
) -> Markup {
    let role = wire::convert::role("role", staff.account.role)
        .map(|r| r.label_vi())
        .unwrap_or("");
    html! {
        (DOCTYPE)
        html lang="vi" {
            (head(&format!("{title} – {school}")))
            body {
                header.site {
                    span.school { (school) }
                    nav {
                        @for (href, label, entry) in MENU {
                            @if entry == nav {
                                a href=(href) aria-current="page" { (label) }
                            } @else {
                                a href=(href) { (label) }
                            }
                        }
                    }
                    span.who {
                        (staff.account.full_name) " (" (role) ") "
                        form method="post" action="/dang-xuat" {
                            input type="hidden" name="csrf" value=(staff.csrf());
                            button type="submit" { "Đăng xuất" }
                        }
                    }
                }
                main {
                    @if let Some((status, tally)) = delivery { (delivery_bar(status, tally, staff)) }
                    (body)
                }
            }
        }
    }
}

/// Whether the PC is connected, the last *successful* delivery, the tally of states, and
/// *Gửi ngay*.
fn delivery_bar(status: &pb::AgentStatus, tally: Tally, staff: &Staff) -> Markup {
    let last = status
        .last_publish_at
        .as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
        .map(domain::vi::instant);
    let answered = status
        .district_answered_at
        .as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
        .map(domain::vi::instant);
    html! {
        section.card.delivery-bar id="giao-nhan" {
            span data-connected=(status.connected) {
                @if status.connected { "Đang kết nối với Phòng." } @else { "Chưa có mạng tới Phòng." }
            }
            span { "Gửi thành công lần cuối: " strong { (last.unwrap_or_else(|| "chưa lần nào".into())) } }
            span { "Phòng trả lời lần cuối: " (answered.unwrap_or_else(|| "chưa".into())) }
            span {
                span.state.chua-gui { "chưa gửi" } " " span data-tally="chua-gui" { (tally.not_sent) } " · "
                span.state.da-gui { "đã gửi" } " " span data-tally="da-gui" { (tally.sent) } " · "
                span.state.phong-da-nhan { "Phòng đã nhận" } " " span data-tally="phong-da-nhan" { (tally.received) }
                @if tally.held > 0 {
                    " · " span.state.phong-giu-lai { "Phòng giữ lại" } " " span data-tally="phong-giu-lai" { (tally.held) }
                }
                @if tally.refused > 0 {
                    " · " span.state.phong-tu-choi { "Phòng từ chối" } " " span data-tally="phong-tu-choi" { (tally.refused) }
                }
            }
            form method="post" action="/gui-ngay" {
                input type="hidden" name="csrf" value=(staff.csrf());
                button.primary type="submit" id="gui-ngay" { "Gửi ngay" }
            }
        }
    }
}
