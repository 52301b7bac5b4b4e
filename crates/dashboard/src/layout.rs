//! The frame every page shares: the document head, the office's header with the navigation,
//! and the period form.

use maud::{DOCTYPE, Markup, html};

use domain::{DateRange, Period};

use wire::pb;

use crate::assets;
use crate::format;
use crate::periods;
use crate::session::{self, Viewer};

/// The navigation entry a page belongs to, marked `aria-current` in the menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Plan,
    Completeness,
    Responsiveness,
    DeadLetters,
    Ingest,
    Reports,
    /// Importing a school's bundle (`/nhap-goi`).
    Bundles,
    /// The administrator's pages (accounts, audit trail).
    Admin,
    /// A school's page or an error page: no menu entry is current.
    None,
}

/// The menu: where, what it is called, which entry; the period travels along where it
/// matters (`?ky=`), so moving between views keeps the period chosen.
const MENU: [(&str, &str, Nav, bool); 7] = [
    ("/", "Kế hoạch", Nav::Plan, true),
    ("/day-du", "Đầy đủ, kịp thời", Nav::Completeness, true),
    ("/phan-hoi", "Phản hồi", Nav::Responsiveness, true),
    ("/thu-loi", "Thư lỗi", Nav::DeadLetters, false),
    ("/tiep-nhan", "Tiếp nhận", Nav::Ingest, false),
    ("/bao-cao", "Báo cáo", Nav::Reports, true),
    ("/nhap-goi", "Nhập gói", Nav::Bundles, false),
];

/// A whole page for `viewer` (`None`: the sign-in and error pages, which show no menu).
pub fn page(title: &str, nav: Nav, viewer: Option<&Viewer>, body: Markup) -> Markup {
    page_for(title, nav, viewer, None, body)
}

/// Whether `viewer` sees menu entry `entry`: the dead letters are the district's.
fn shown(viewer: &Viewer, entry: Nav) -> bool {
    !(matches!(entry, Nav::DeadLetters | Nav::Bundles) && viewer.own_school().is_some())
}

/// What a total row is called: the district's, or for a school head (whose answers hold
/// their school alone) the school's.
pub fn total_label(viewer: &Viewer) -> &'static str {
    if viewer.own_school().is_some() {
        "Cả trường"
    } else {
        "Toàn huyện"
    }
}

/// The role's name, for the header.
pub fn role_name(role: pb::AccountRole) -> &'static str {
    match role {
        pb::AccountRole::Admin => "Quản trị",
        pb::AccountRole::Officer => "Chuyên viên",
        pb::AccountRole::HeadOfOffice => "Lãnh đạo phòng",
        pb::AccountRole::SchoolHead => "Hiệu trưởng",
        pb::AccountRole::Unspecified => "",
    }
}

/// A whole page that shows `period`.
pub fn page_for(
    title: &str,
    nav: Nav,
    viewer: Option<&Viewer>,
    period: Option<Period>,
    body: Markup,
) -> Markup {
    let suffix = period
        .filter(|p| *p != periods::DEFAULT)
        .map(|p| format!("?ky={p}"))
        .unwrap_or_default();
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Phòng GD-ĐT" }
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(assets::style_href());
            }
            body {
                header.site {
                    div.agency { "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO" }
                    div.subtitle { "Theo dõi kế hoạch truyền thông về giáo dục và đào tạo" }
                    @if let Some(viewer) = viewer {
                        div.who {
                            span.person { (viewer.account.full_name) " (" (role_name(viewer.role())) ")" }
                            " · "
                            a href=(session::ACCOUNT) { "Tài khoản" }
                            form.sign-out method="post" action="/dang-xuat" {
                                input type="hidden" name="csrf" value=(viewer.csrf());
                                button type="submit" { "Đăng xuất" }
                            }
                        }
                        nav.main aria-label="Điều hướng chính" {
                            @for (href, label, entry, keeps_period) in MENU {
                                @if shown(viewer, entry) {
                                    @let target = if keeps_period { format!("{href}{suffix}") } else { href.to_string() };
                                    @if entry == nav {
                                        a href=(target) aria-current="page" { (label) }
                                    } @else {
                                        a href=(target) { (label) }
                                    }
                                }
                            }
                            @if viewer.is_admin() {
                                @if nav == Nav::Admin {
                                    a href="/quan-tri/tai-khoan" aria-current="page" { "Quản trị" }
                                } @else {
                                    a href="/quan-tri/tai-khoan" { "Quản trị" }
                                }
                            }
                        }
                    }
                }
                main { (body) }
                footer.site { "Số liệu lấy từ máy chủ tổng hợp của Phòng GD-ĐT tại thời điểm mở trang." }
            }
        }
    }
}

/// The period chooser: a `GET` form to `action` with a `ky` select (grouped choices over the
/// plan period) or, before the district has a plan, a text field. `extra` holds more fields.
pub fn period_form(
    action: &str,
    current: Period,
    plan: Option<&DateRange>,
    extra: Markup,
) -> Markup {
    html! {
        form.choose method="get" action=(action) {
            label {
                "Kỳ báo cáo"
                @match plan {
                    Some(range) => {
                        select name="ky" {
                            @for group in periods::choices(range) {
                                optgroup label=(group.label) {
                                    @for p in &group.periods {
                                        @let value = p.to_string();
                                        @let text = if *p == Period::WholePlan {
                                            format!("Cả giai đoạn ({} – {})", format::date(&range.start().to_string()), format::date(&range.end().to_string()))
                                        } else {
                                            periods::title(*p)
                                        };
                                        @if *p == current {
                                            option value=(value) selected { (text) }
                                        } @else {
                                            option value=(value) { (text) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    None => {
                        input name="ky" value=(current.to_string()) placeholder="2018-Q1";
                    }
                }
            }
            (extra)
            button type="submit" { "Xem" }
        }
    }
}

/// A row of headline figures: value and caption.
pub fn figures(items: &[(String, &str)]) -> Markup {
    html! {
        ul.figures {
            @for (value, caption) in items {
                li { b { (value) } span { (caption) } }
            }
        }
    }
}
