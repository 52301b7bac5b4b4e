//! Vietnamese names for the codes the aggregator's views carry.
//!
//! The views speak in stable codes (`district_radio`, `thcs`, `province`, area `3`); people
//! read the domain's Vietnamese labels. A code this build does not know (a newer aggregator)
//! is shown as it came rather than refused: the page stays useful.

use domain::district::SchoolLevel;
use domain::roles::{CommendationLevel, NomineeKind};
use domain::{Channel, ContentArea, Role};

/// The label of a channel code.
pub fn channel(code: &str) -> String {
    Channel::parse("channel", code).map_or_else(|_| code.to_string(), |c| c.label_vi().into())
}

/// The labels of channel codes, joined with commas; a dash for none.
pub fn channels(codes: &[String]) -> String {
    if codes.is_empty() {
        return crate::format::DASH.to_string();
    }
    codes
        .iter()
        .map(|c| channel(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The label of a school level code.
pub fn level(code: &str) -> String {
    SchoolLevel::parse("level", code).map_or_else(|_| code.to_string(), |l| l.label_vi().into())
}

/// The label of a role code.
pub fn role(code: &str) -> String {
    Role::parse("role", code).map_or_else(|_| code.to_string(), |r| r.label_vi().into())
}

/// The label of a commendation level code.
pub fn commendation_level(code: &str) -> String {
    if code.is_empty() {
        return crate::format::DASH.to_string();
    }
    CommendationLevel::parse("level", code)
        .map_or_else(|_| code.to_string(), |l| l.label_vi().into())
}

/// The label of a nominee kind code.
pub fn nominee_kind(code: &str) -> String {
    NomineeKind::parse("nominee_kind", code)
        .map_or_else(|_| code.to_string(), |k| k.label_vi().into())
}

/// The plan's heading of content area `number` (1..=6).
pub fn area(number: u32) -> String {
    ContentArea::from_number("area", i64::from(number))
        .map_or_else(|_| format!("Nội dung {number}"), |a| a.label_vi().into())
}

/// A short heading for a table column, with the area's number.
pub fn area_short(number: u32) -> String {
    let short = match number {
        1 => "Quản lý nhà nước",
        2 => "Đổi mới CT, SGK",
        3 => "Nhiệm vụ",
        4 => "Thi đua, khen thưởng",
        5 => "Cải cách hành chính",
        6 => "Nội dung khác",
        _ => "Nội dung",
    };
    format!("{number}. {short}")
}

/// The content area numbers, 1..=6, in order.
pub fn area_numbers() -> impl Iterator<Item = u32> {
    ContentArea::ALL.iter().map(|a| u32::from(a.number()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_get_vietnamese_labels_and_unknown_ones_stay_readable() {
        assert_eq!(channel("district_radio"), "Đài Truyền thanh huyện");
        assert_eq!(channel("pigeon"), "pigeon");
        assert_eq!(level("thcs"), "THCS");
        assert_eq!(role("vice_principal"), "Phó Hiệu trưởng");
        assert_eq!(area(4), "Công tác thi đua, khen thưởng");
        assert_eq!(area(9), "Nội dung 9");
        assert_eq!(area_numbers().collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 6]);
    }
}
