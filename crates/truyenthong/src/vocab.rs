//! The plan's closed vocabularies as staff type them: roles, channels, commendation levels and
//! kinds of nominee.
//!
//! Each value is accepted by its Vietnamese ASCII slug (`pho-hieu-truong`, `dai-truyen-thanh`)
//! or by the domain's English code (`vice_principal`, `district_radio`, with `-` or `_`).
//! Event types get Vietnamese names for the log view here too.

use domain::roles::{CommendationLevel, NomineeKind};
use domain::{Channel, Role};

/// Roles with their Vietnamese slugs.
pub const ROLES: &[(Role, &str)] = &[
    (Role::Principal, "hieu-truong"),
    (Role::VicePrincipal, "pho-hieu-truong"),
    (Role::DepartmentHead, "to-truong"),
    (Role::OfficeTeam, "to-van-phong"),
    (Role::TradeUnion, "cong-doan"),
    (Role::Teacher, "giao-vien"),
    (Role::DistrictOffice, "phong-gd-dt"),
];

/// Channels with their Vietnamese slugs.
pub const CHANNELS: &[(Channel, &str)] = &[
    (Channel::DistrictRadio, "dai-truyen-thanh"),
    (Channel::LocalPress, "bao-dia-phuong"),
    (Channel::CentralPress, "bao-trung-uong"),
    (Channel::Television, "truyen-hinh"),
    (Channel::SchoolPortal, "cong-thong-tin"),
    (Channel::Email, "thu-dien-tu"),
    (Channel::Facebook, "facebook"),
    (Channel::Hotline, "duong-day-nong"),
    (Channel::ReporterVisit, "phong-vien"),
    (Channel::Meeting, "hoi-hop"),
    (Channel::Other, "khac"),
];

/// Commendation levels with their Vietnamese slugs.
pub const LEVELS: &[(CommendationLevel, &str)] = &[
    (CommendationLevel::School, "truong"),
    (CommendationLevel::District, "huyen"),
    (CommendationLevel::Province, "tinh"),
    (CommendationLevel::Ministry, "bo"),
    (CommendationLevel::Government, "chinh-phu"),
];

/// Kinds of nominee with their Vietnamese slugs.
pub const NOMINEE_KINDS: &[(NomineeKind, &str)] = &[
    (NomineeKind::Individual, "ca-nhan"),
    (NomineeKind::Collective, "tap-the"),
];

fn normalise(value: &str) -> String {
    value.trim().to_lowercase().replace('_', "-")
}

/// Finds `value` among `table` by slug or by domain code.
fn lookup<T: Copy>(
    table: &[(T, &'static str)],
    code: impl Fn(&T) -> &'static str,
    value: &str,
) -> Option<T> {
    let wanted = normalise(value);
    table
        .iter()
        .find(|(v, slug)| *slug == wanted || code(v).replace('_', "-") == wanted)
        .map(|(v, _)| *v)
}

fn listing<T>(table: &[(T, &'static str)], label: impl Fn(&T) -> &'static str) -> String {
    table
        .iter()
        .map(|(v, slug)| format!("{slug} ({})", label(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn role(value: &str) -> Result<Role, String> {
    lookup(ROLES, Role::code, value).ok_or_else(|| {
        format!(
            "Mã vai trò «{}» không hợp lệ. Các mã hợp lệ: {}",
            crate::values::echo(value),
            listing(ROLES, Role::label_vi)
        )
    })
}

pub fn channel(value: &str) -> Result<Channel, String> {
    lookup(CHANNELS, Channel::code, value).ok_or_else(|| {
        format!(
            "Mã kênh «{}» không hợp lệ. Các mã hợp lệ: {}",
            crate::values::echo(value),
            listing(CHANNELS, Channel::label_vi)
        )
    })
}

pub fn level(value: &str) -> Result<CommendationLevel, String> {
    lookup(LEVELS, CommendationLevel::code, value).ok_or_else(|| {
        format!(
            "Mức khen «{}» không hợp lệ. Các mức hợp lệ: {}",
            crate::values::echo(value),
            listing(LEVELS, CommendationLevel::label_vi)
        )
    })
}

pub fn nominee_kind(value: &str) -> Result<NomineeKind, String> {
    lookup(NOMINEE_KINDS, NomineeKind::code, value).ok_or_else(|| {
        format!(
            "Loại «{}» không hợp lệ. Các loại hợp lệ: {}",
            crate::values::echo(value),
            listing(NOMINEE_KINDS, NomineeKind::label_vi)
        )
    })
}

/// The Vietnamese label of a role given by its domain code (`vice_principal`), for output.
pub fn role_label(code: &str) -> String {
    ROLES
        .iter()
        .find(|(r, _)| r.code() == code)
        .map_or_else(|| code.to_string(), |(r, _)| r.label_vi().to_string())
}

/// The Vietnamese label of a role from its protobuf number.
pub fn role_label_pb(number: i32) -> String {
    wire::convert::role("role", number)
        .map(|r| r.label_vi().to_string())
        .unwrap_or_else(|_| format!("vai trò số {number}"))
}

/// The Vietnamese label of a commendation level given by its domain code.
pub fn level_label(code: &str) -> String {
    LEVELS
        .iter()
        .find(|(l, _)| l.code() == code)
        .map_or_else(|| code.to_string(), |(l, _)| l.label_vi().to_string())
}

/// The Vietnamese words for an event type of the log.
pub fn event_type_vi(event_type: &str) -> String {
    let words = match event_type {
        "plan.adopted" => "Ban hành kế hoạch",
        "plan.amended" => "Bổ sung kế hoạch",
        "duty.assigned" => "Phân công nhiệm vụ",
        "activity.recorded" => "Ghi hoạt động",
        "activity.corrected" => "Sửa hoạt động",
        "activity.retracted" => "Hủy hoạt động",
        "feedback.received" => "Nhận ý kiến người dân",
        "feedback.answered" => "Trả lời ý kiến",
        "press_issue.raised" => "Báo chí nêu vấn đề",
        "press_issue.answered" => "Trả lời báo chí",
        "reporter_visit.hosted" => "Tiếp phóng viên",
        "nominee.nominated" => "Đề nghị khen thưởng",
        "commendation.awarded" => "Quyết định khen thưởng",
        "emulation_criteria.adopted" => "Tiêu chí thi đua",
        "budget.estimated" => "Dự toán kinh phí",
        "expense.recorded" => "Chi kinh phí",
        "budget.settled" => "Quyết toán kinh phí",
        "evidence.attached" => "Đính kèm minh chứng",
        other => return format!("Sự kiện «{other}»"),
    };
    words.to_string()
}

/// The code lists shown under the help of commands that take channels and roles.
pub fn codes_help() -> String {
    let channels = CHANNELS
        .iter()
        .map(|(c, slug)| format!("  {slug:<18} {}", c.label_vi()))
        .collect::<Vec<_>>()
        .join("\n");
    format!("Mã kênh (--kenh):\n{channels}\n\n{}", roles_help())
}

/// The role codes, for help texts.
pub fn roles_help() -> String {
    let roles = ROLES
        .iter()
        .map(|(r, slug)| format!("  {slug:<18} {}", r.label_vi()))
        .collect::<Vec<_>>()
        .join("\n");
    format!("Mã vai trò (--phu-trach, --vai-tro, --giao-cho):\n{roles}")
}

/// The levels and kinds, for the help of the commendation commands.
pub fn commendation_help() -> String {
    let levels = LEVELS
        .iter()
        .map(|(l, slug)| format!("  {slug:<18} {}", l.label_vi()))
        .collect::<Vec<_>>()
        .join("\n");
    let kinds = NOMINEE_KINDS
        .iter()
        .map(|(k, slug)| format!("  {slug:<18} {}", k.label_vi()))
        .collect::<Vec<_>>()
        .join("\n");
    format!("Mức khen (--muc):\n{levels}\n\nLoại (--loai):\n{kinds}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn slugs_and_codes_both_work_and_every_variant_is_listed() {
        assert_eq!(role("pho-hieu-truong").unwrap(), Role::VicePrincipal);
        assert_eq!(role("vice_principal").unwrap(), Role::VicePrincipal);
        assert_eq!(role(" Vice-Principal ").unwrap(), Role::VicePrincipal);
        assert_eq!(channel("dai-truyen-thanh").unwrap(), Channel::DistrictRadio);
        assert_eq!(channel("school_portal").unwrap(), Channel::SchoolPortal);
        assert_eq!(level("chinh-phu").unwrap(), CommendationLevel::Government);
        assert_eq!(nominee_kind("tap-the").unwrap(), NomineeKind::Collective);
        assert!(
            channel("bo-cau")
                .unwrap_err()
                .contains("Mã kênh «bo-cau» không hợp lệ")
        );
        assert_eq!(ROLES.len(), Role::ALL.len());
        assert_eq!(CHANNELS.len(), Channel::ALL.len());
        assert_eq!(LEVELS.len(), CommendationLevel::ALL.len());
        assert_eq!(NOMINEE_KINDS.len(), NomineeKind::ALL.len());
    }

    #[test]
    fn every_event_type_has_vietnamese_words() {
        for (name, _) in domain::Event::TYPES {
            assert!(!event_type_vi(name).starts_with("Sự kiện «"), "{name}");
        }
    }
}
