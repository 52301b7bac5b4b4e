//! Why a command was refused, and what a caller should be warned about.
//!
//! Every refusal names the field (a dotted path such as `activity.date`) and the rule it broke,
//! so that a gRPC client, the CLI and a log reader all see the same precise reason. The rule
//! renders in English for engineers (`Display`, gRPC status message) and in Vietnamese for
//! school staff ([`DomainError::vietnamese`]). The [`ErrorKind`] groups errors by how a caller
//! handles them, which is also how the services pick a gRPC status code.

use std::fmt;

use chrono::NaiveDate;

use crate::calendar::{DateRange, vn_date};

/// How a caller should treat a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input itself is wrong, whatever the state (`INVALID_ARGUMENT`).
    InvalidArgument,
    /// The input is well formed but the school's state does not allow it now
    /// (`FAILED_PRECONDITION`): no plan yet, a retracted activity, a settled year.
    FailedPrecondition,
    /// The input refers to something the log has never seen (`NOT_FOUND`).
    NotFound,
    /// The input would create something that already exists (`ALREADY_EXISTS`).
    AlreadyExists,
    /// The signed-in staff member's role does not hold the duty the command belongs to
    /// (`PERMISSION_DENIED`), see [`crate::duties`].
    PermissionDenied,
}

/// The rule a field broke. Each variant carries what is needed to say it in either language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Required,
    TooLong {
        max: usize,
        actual: usize,
    },
    TooMany {
        max: usize,
        actual: usize,
    },
    ControlCharacter,
    /// A bidirectional control or an invisible format character
    /// ([`crate::text::is_invisible_format`]).
    InvisibleFormatCharacter {
        character: char,
    },
    OutsidePeriod {
        date: NaiveDate,
        period: DateRange,
    },
    InFuture {
        date: NaiveDate,
        today: NaiveDate,
    },
    Before {
        date: NaiveDate,
        other_field: String,
        other: NaiveDate,
    },
    EndBeforeStart {
        start: NaiveDate,
        end: NaiveDate,
    },
    Negative {
        value: i64,
    },
    TooLarge {
        value: i64,
        max: i64,
    },
    OutOfRange {
        value: i64,
        min: i64,
        max: i64,
    },
    UnknownContentArea {
        area: u8,
    },
    AreaNotInPlan {
        area: u8,
    },
    UnknownTopic {
        area: u8,
        topic: String,
    },
    TopicRequired {
        area: u8,
    },
    Duplicate {
        value: String,
    },
    InvalidCode {
        value: String,
        reason: &'static str,
    },
    InvalidDocumentNumber {
        value: String,
    },
    InvalidUrl {
        value: String,
    },
    InvalidValue {
        value: String,
        expected: &'static str,
    },
    YearOutsidePlan {
        year: i32,
        period: DateRange,
    },
    WrongSchool {
        expected: String,
        actual: String,
    },
    NoPlan,
    PlanAlreadyAdopted {
        number: String,
    },
    UnknownId {
        id: String,
    },
    Retracted {
        id: String,
    },
    AlreadyAnswered {
        id: String,
        on: NaiveDate,
    },
    AlreadyAwarded {
        id: String,
    },
    BudgetSettled {
        year: i32,
    },
    NothingToAmend,
    /// A reporting period that does not overlap the district plan's period.
    PeriodOutsidePlan {
        period: String,
        range: DateRange,
        plan: DateRange,
    },
    /// A query that needs the district plan (its period, its years) before there is one.
    NoDistrictPlan,
    /// A date after the end of the reporting period it belongs to.
    AfterPeriodEnd {
        date: NaiveDate,
        period: String,
        end: NaiveDate,
    },
    /// An evidence file of a media type outside [`crate::evidence::MEDIA_TYPES`].
    MediaTypeNotAllowed {
        value: String,
    },
    /// An evidence file larger than [`crate::evidence::MAX_FILE_SIZE`] (or empty: `size` 0).
    FileSize {
        size: u64,
        max: u64,
    },
    /// A file name with a path separator in it.
    PathSeparator,
    /// Evidence of an answer to a press issue not answered yet.
    NotYetAnswered {
        id: String,
    },
    /// A command outside the duties the plan gives the caller's role ([`crate::duties`]).
    NotYourDuty {
        command: &'static str,
        duty: crate::duties::Duty,
        role: crate::roles::Role,
    },
}

impl Rule {
    fn english(&self) -> String {
        match self {
            Rule::Required => "must not be empty".into(),
            Rule::MediaTypeNotAllowed { value } => format!(
                "media type {value:?} is not allowed; allowed: {}",
                crate::evidence::MEDIA_TYPES.join(", ")
            ),
            Rule::FileSize { size: 0, .. } => "the file is empty".into(),
            Rule::FileSize { size, max } => {
                format!("the file is {size} bytes; at most {max} bytes are allowed")
            }
            Rule::PathSeparator => "must not contain a path separator (/ or \\)".into(),
            Rule::NotYetAnswered { id } => format!("{id} has not been answered yet"),
            Rule::TooLong { max, actual } => {
                format!("is {actual} characters long; at most {max} are allowed")
            }
            Rule::TooMany { max, actual } => {
                format!("has {actual} items; at most {max} are allowed")
            }
            Rule::ControlCharacter => "contains a control character".into(),
            Rule::InvisibleFormatCharacter { character } => format!(
                "contains the invisible format character U+{:04X} (bidirectional controls and \
                 zero-width characters are not allowed)",
                u32::from(*character)
            ),
            Rule::OutsidePeriod { date, period } => {
                format!("{date} is outside plan period {period}")
            }
            Rule::InFuture { date, today } => format!("{date} is in the future (today is {today})"),
            Rule::Before {
                date,
                other_field,
                other,
            } => {
                format!("{date} is before {other_field} {other}")
            }
            Rule::EndBeforeStart { start, end } => format!("ends {end} before it starts {start}"),
            Rule::Negative { value } => format!("{value} is negative; amounts are đồng ≥ 0"),
            Rule::TooLarge { value, max } => format!("{value} is larger than the maximum {max}"),
            Rule::OutOfRange { value, min, max } => format!("{value} is not within {min}..={max}"),
            Rule::UnknownContentArea { area } => {
                format!("{area} is not a content area (the plan's areas are 1..=6)")
            }
            Rule::AreaNotInPlan { area } => format!("content area {area} is not in the plan"),
            Rule::UnknownTopic { area, topic } => {
                format!("topic {topic:?} is not a topic of content area {area} in the plan")
            }
            Rule::TopicRequired { area } => {
                format!("is required: content area {area} of the plan has topics")
            }
            Rule::Duplicate { value } => format!("{value:?} appears twice"),
            Rule::InvalidCode { value, reason } => {
                format!("{value:?} is not a valid code: {reason}")
            }
            Rule::InvalidDocumentNumber { value } => {
                format!("{value:?} is not a document number like 114/KH-THCSAH")
            }
            Rule::InvalidUrl { value } => format!("{value:?} is not an http(s) link"),
            Rule::InvalidValue { value, expected } => {
                format!("{value:?} is not valid; expected {expected}")
            }
            Rule::YearOutsidePlan { year, period } => {
                format!("{year} is outside plan period {period}")
            }
            Rule::WrongSchool { expected, actual } => {
                format!("{actual} is not this agent's school {expected}")
            }
            Rule::NoPlan => "no plan has been adopted yet; adopt the school's plan first".into(),
            Rule::PlanAlreadyAdopted { number } => {
                format!("plan {number} is already adopted; plans are amended, never rewritten")
            }
            Rule::UnknownId { id } => format!("{id} is not known to this school's log"),
            Rule::Retracted { id } => format!("{id} has been retracted and cannot change"),
            Rule::AlreadyAnswered { id, on } => format!("{id} was already answered on {on}"),
            Rule::AlreadyAwarded { id } => format!("{id} has already been awarded"),
            Rule::BudgetSettled { year } => format!("the budget of {year} is already settled"),
            Rule::NothingToAmend => "the amendment changes nothing".into(),
            Rule::PeriodOutsidePlan {
                period,
                range,
                plan,
            } => format!("{period} ({range}) is outside plan period {plan}"),
            Rule::NoDistrictPlan => {
                "needs the district plan, and the district has not adopted one yet".into()
            }
            Rule::AfterPeriodEnd { date, period, end } => {
                format!("{date} is after the end of period {period} ({end})")
            }
            Rule::NotYourDuty {
                command,
                duty,
                role,
            } => {
                let holders: Vec<&str> = duty.holders().iter().map(|r| r.code()).collect();
                format!(
                    "{role} may not {command}: the plan gives duty {} to {}",
                    duty.code(),
                    holders.join(", ")
                )
            }
        }
    }

    fn vietnamese(&self) -> String {
        match self {
            Rule::Required => "không được để trống".into(),
            Rule::MediaTypeNotAllowed { value } => format!(
                "loại tệp «{value}» không được nhận; chỉ nhận ảnh JPEG, PNG, WebP hoặc tệp PDF"
            ),
            Rule::FileSize { size: 0, .. } => "tệp rỗng, không có nội dung".into(),
            Rule::FileSize { size, max } => format!(
                "tệp nặng {}, vượt quá giới hạn {}",
                crate::vi::file_size(*size),
                crate::vi::file_size(*max)
            ),
            Rule::PathSeparator => "không được chứa dấu phân cách thư mục (/ hoặc \\)".into(),
            Rule::NotYetAnswered { id } => format!("«{id}» chưa được trả lời"),
            Rule::TooLong { max, actual } => {
                format!("dài {actual} ký tự, vượt quá giới hạn {max} ký tự")
            }
            Rule::TooMany { max, actual } => {
                format!("có {actual} mục, vượt quá giới hạn {max} mục")
            }
            Rule::ControlCharacter => "chứa ký tự điều khiển không hợp lệ".into(),
            Rule::InvisibleFormatCharacter { character } => format!(
                "chứa ký tự định dạng vô hình U+{:04X} (ký tự điều khiển hướng chữ hoặc ký tự có \
                 độ rộng bằng 0), không được phép; hãy xóa ký tự đó (thường lẫn vào khi sao chép \
                 từ nơi khác) rồi nhập lại",
                u32::from(*character)
            ),
            Rule::OutsidePeriod { date, period } => format!(
                "ngày {} nằm ngoài thời gian thực hiện kế hoạch ({} – {})",
                vn_date(*date),
                vn_date(period.start()),
                vn_date(period.end())
            ),
            Rule::InFuture { date, today } => format!(
                "ngày {} chưa đến (hôm nay là {})",
                vn_date(*date),
                vn_date(*today)
            ),
            Rule::Before {
                date,
                other_field,
                other,
            } => format!(
                "ngày {} sớm hơn {other_field} ngày {}",
                vn_date(*date),
                vn_date(*other)
            ),
            Rule::EndBeforeStart { start, end } => format!(
                "ngày kết thúc {} trước ngày bắt đầu {}",
                vn_date(*end),
                vn_date(*start)
            ),
            Rule::Negative { value } => format!("số tiền {value} đồng bị âm"),
            Rule::TooLarge { value, max } => format!("giá trị {value} vượt quá mức tối đa {max}"),
            Rule::OutOfRange { value, min, max } => {
                format!("giá trị {value} phải nằm trong khoảng {min} đến {max}")
            }
            Rule::UnknownContentArea { area } => {
                format!(
                    "nội dung truyền thông số {area} không tồn tại (chỉ có các nội dung 1 đến 6)"
                )
            }
            Rule::AreaNotInPlan { area } => {
                format!("nội dung truyền thông số {area} không có trong kế hoạch")
            }
            Rule::UnknownTopic { area, topic } => {
                format!("chủ đề «{topic}» không thuộc nội dung số {area} của kế hoạch")
            }
            Rule::TopicRequired { area } => {
                format!("phải chọn chủ đề: nội dung số {area} của kế hoạch có các chủ đề")
            }
            Rule::Duplicate { value } => format!("«{value}» bị lặp lại"),
            Rule::InvalidCode { value, reason } => {
                format!("mã «{value}» không hợp lệ ({reason})")
            }
            Rule::InvalidDocumentNumber { value } => {
                format!("số hiệu văn bản «{value}» không đúng dạng, ví dụ 114/KH-THCSAH")
            }
            Rule::InvalidUrl { value } => format!("«{value}» không phải đường dẫn http(s)"),
            Rule::InvalidValue { value, expected } => {
                format!("giá trị «{value}» không hợp lệ (cần: {expected})")
            }
            Rule::YearOutsidePlan { year, period } => format!(
                "năm {year} nằm ngoài thời gian thực hiện kế hoạch ({} – {})",
                vn_date(period.start()),
                vn_date(period.end())
            ),
            Rule::WrongSchool { expected, actual } => {
                format!("mã trường «{actual}» không phải trường của máy này («{expected}»)")
            }
            Rule::NoPlan => "trường chưa ban hành kế hoạch; hãy nhập kế hoạch trước".into(),
            Rule::PlanAlreadyAdopted { number } => format!(
                "kế hoạch {number} đã được ban hành; kế hoạch chỉ được bổ sung, không được viết lại"
            ),
            Rule::UnknownId { id } => format!("không tìm thấy «{id}» trong sổ của trường"),
            Rule::Retracted { id } => format!("«{id}» đã bị hủy, không thể sửa"),
            Rule::AlreadyAnswered { id, on } => {
                format!("«{id}» đã được trả lời ngày {}", vn_date(*on))
            }
            Rule::AlreadyAwarded { id } => format!("«{id}» đã được khen thưởng"),
            Rule::BudgetSettled { year } => format!("kinh phí năm {year} đã được quyết toán"),
            Rule::NothingToAmend => "nội dung bổ sung không thay đổi gì".into(),
            Rule::PeriodOutsidePlan {
                period,
                range,
                plan,
            } => format!(
                "kỳ báo cáo {period} ({} – {}) nằm ngoài thời gian thực hiện kế hoạch ({} – {})",
                vn_date(range.start()),
                vn_date(range.end()),
                vn_date(plan.start()),
                vn_date(plan.end())
            ),
            Rule::NoDistrictPlan => "Phòng GD-ĐT chưa ban hành kế hoạch của huyện".into(),
            Rule::AfterPeriodEnd { date, period, end } => format!(
                "ngày {} sau ngày kết thúc kỳ báo cáo {period} ({})",
                vn_date(*date),
                vn_date(*end)
            ),
            Rule::NotYourDuty { duty, role, .. } => format!(
                "{} là nhiệm vụ của {} (Kế hoạch, mục Tổ chức thực hiện); tài khoản {} không \
                 được làm.",
                duty.label_vi(),
                crate::duties::holders_vi(*duty),
                role.label_vi()
            ),
        }
    }
}

/// A refused command: which field, which rule, and how the caller should handle it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {}", rule.english())]
pub struct DomainError {
    pub kind: ErrorKind,
    pub field: String,
    pub rule: Rule,
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, rule: Rule) -> Self {
        Self {
            kind: ErrorKind::InvalidArgument,
            field: field.into(),
            rule,
        }
    }

    pub fn precondition(field: impl Into<String>, rule: Rule) -> Self {
        Self {
            kind: ErrorKind::FailedPrecondition,
            field: field.into(),
            rule,
        }
    }

    pub fn not_found(field: impl Into<String>, id: impl fmt::Display) -> Self {
        Self {
            kind: ErrorKind::NotFound,
            field: field.into(),
            rule: Rule::UnknownId { id: id.to_string() },
        }
    }

    pub fn already_exists(field: impl Into<String>, value: impl fmt::Display) -> Self {
        Self {
            kind: ErrorKind::AlreadyExists,
            field: field.into(),
            rule: Rule::Duplicate {
                value: value.to_string(),
            },
        }
    }

    /// The message for school staff, in Vietnamese, still naming the field for support calls.
    pub fn vietnamese(&self) -> String {
        if matches!(self.rule, Rule::NotYourDuty { .. }) {
            // A refused duty is about the account, not a field the person typed.
            return self.rule.vietnamese();
        }
        format!(
            "{} (trường dữ liệu: {})",
            capitalise(&self.rule.vietnamese()),
            self.field
        )
    }

    /// Prefixes the field path, so a nested check (`date`) reports its full path
    /// (`activity.date`).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Something accepted but worth a human look, returned beside the events of a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A legal basis ("Căn cứ") dated after the plan that cites it — the seed plan of
    /// 20/10/2017 cites 175/KH-UBND of 30/12/2017. Accepted, because the text is what it is.
    LegalBasisAfterPlan {
        field: String,
        number: String,
        basis_date: NaiveDate,
        plan_date: NaiveDate,
    },
}

impl Warning {
    pub fn field(&self) -> &str {
        match self {
            Warning::LegalBasisAfterPlan { field, .. } => field,
        }
    }

    pub fn english(&self) -> String {
        match self {
            Warning::LegalBasisAfterPlan {
                field,
                number,
                basis_date,
                plan_date,
            } => format!(
                "{field}: legal basis {number} is dated {basis_date}, after the plan itself ({plan_date})"
            ),
        }
    }

    pub fn vietnamese(&self) -> String {
        match self {
            Warning::LegalBasisAfterPlan {
                number,
                basis_date,
                plan_date,
                ..
            } => format!(
                "Căn cứ {number} ngày {} ban hành sau chính kế hoạch (ngày {}); đề nghị kiểm tra lại",
                vn_date(*basis_date),
                vn_date(*plan_date)
            ),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_message_names_field_and_rule_like_the_design_brief() {
        let period = DateRange::new(
            NaiveDate::from_ymd_opt(2017, 10, 20).unwrap(),
            NaiveDate::from_ymd_opt(2020, 12, 31).unwrap(),
        )
        .unwrap();
        let err = DomainError::invalid(
            "activity.date",
            Rule::OutsidePeriod {
                date: NaiveDate::from_ymd_opt(2031, 1, 1).unwrap(),
                period,
            },
        );
        assert_eq!(
            err.to_string(),
            "activity.date 2031-01-01 is outside plan period 2017-10-20..2020-12-31"
        );
        assert_eq!(
            err.vietnamese(),
            "Ngày 01/01/2031 nằm ngoài thời gian thực hiện kế hoạch (20/10/2017 – 31/12/2020) \
             (trường dữ liệu: activity.date)"
        );
    }

    #[test]
    fn within_prefixes_the_path() {
        let err = DomainError::invalid("date", Rule::Required).within("activity");
        assert_eq!(err.field, "activity.date");
    }
}
