//! Vietnamese names for the codes the aggregator's views carry, as the pages show them.
//!
//! The views speak in stable codes (`district_radio`, `thcs`, `province`, area `3`); people
//! read the labels `domain::vi` gives them — the same the report prints. A code this build does
//! not know (a newer aggregator) is shown as it came rather than refused: the page stays
//! useful. This module only adds the pages' own conventions: a dash for nothing, a list of
//! channels joined with commas, an area's short name after its number.

use domain::district::views::{CaseKind, CaseStatus};
use domain::{ContentArea, vi};
use wire::pb;

/// The label of a channel code.
pub fn channel(code: &str) -> String {
    vi::channel(code)
}

/// The labels of channel codes, joined with commas; a dash for none.
pub fn channels(codes: &[String]) -> String {
    if codes.is_empty() {
        return crate::format::DASH.to_string();
    }
    codes
        .iter()
        .map(|c| vi::channel(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The label of a school level code.
pub fn level(code: &str) -> String {
    vi::school_level(code)
}

/// The label of a role code.
pub fn role(code: &str) -> String {
    vi::role(code)
}

/// The label of a commendation level code; a dash for none (not awarded yet).
pub fn commendation_level(code: &str) -> String {
    if code.is_empty() {
        return crate::format::DASH.to_string();
    }
    vi::commendation_level(code)
}

/// The label of a nominee kind code.
pub fn nominee_kind(code: &str) -> String {
    vi::nominee_kind(code)
}

/// The plan's heading of content area `number` (1..=6).
pub fn area(number: u32) -> String {
    vi::area(i64::from(number))
}

/// An area's short name after its number, for a table's column or a list: "3. Nhiệm vụ".
pub fn area_short(number: u32) -> String {
    format!("{number}. {}", vi::area_short(i64::from(number)))
}

/// The content area numbers, 1..=6, in order.
pub fn area_numbers() -> impl Iterator<Item = u32> {
    ContentArea::ALL.iter().map(|a| u32::from(a.number()))
}

/// What kind of case a line of the responsiveness view is (an unknown kind reads as the
/// citizens', the view's first kind).
pub fn case_kind(kind: i32) -> &'static str {
    vi::case_kind(if kind == i32::from(pb::CaseKind::Press) {
        CaseKind::Press
    } else {
        CaseKind::Feedback
    })
}

/// Where an overdue or late case stands: late when the view says so, overdue otherwise.
pub fn case_status(status: i32) -> &'static str {
    vi::case_status(if status == i32::from(pb::CaseStatus::Late) {
        CaseStatus::Late
    } else {
        CaseStatus::Overdue
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_get_vietnamese_labels_and_unknown_ones_stay_readable() {
        assert_eq!(channel("district_radio"), "Đài Truyền thanh huyện");
        assert_eq!(channel("pigeon"), "pigeon");
        assert_eq!(channels(&[]), crate::format::DASH);
        assert_eq!(level("thcs"), "THCS");
        assert_eq!(role("vice_principal"), "Phó Hiệu trưởng");
        assert_eq!(commendation_level(""), crate::format::DASH);
        assert_eq!(area(4), "Công tác thi đua, khen thưởng");
        assert_eq!(area(9), "Nội dung 9");
        assert_eq!(area_short(3), "3. Nhiệm vụ");
        assert_eq!(area_numbers().collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(case_kind(i32::from(pb::CaseKind::Press)), "Báo chí");
        assert_eq!(
            case_status(i32::from(pb::CaseStatus::Late)),
            "Trả lời trễ hạn"
        );
    }
}
