//! Numbers, money, dates and instants the way Vietnamese documents write them: the one
//! formatter behind every surface people read — the report (Word, Excel's texts, the printable
//! page), the district dashboard and the staff command line — so that a figure reads the same
//! wherever it appears.
//!
//! - Thousands are grouped with a dot and decimals follow a comma: `1.234.567`, `4,5`, `83,33%`.
//! - Money is integer đồng: `1.500.000 đồng` in running text, `1.500.000 đ` where room is short.
//! - Dates are `dd/mm/yyyy`; the date line of Decree 30/2020/NĐ-CP is written in words
//!   (`ngày 05 tháng 02 năm 2018`); instants are shown in Vietnam time (UTC+7).
//! - Rounding is half away from zero, as taught in school, and a value that rounds to zero
//!   loses its sign (`-0,004` with two places is `0,00`, never `-0,00`).
//!
//! The labels of the plan's closed vocabularies live on the vocabularies themselves
//! (`Role::label_vi`, `Channel::label_vi`, `CommendationLevel::label_vi`,
//! `ContentArea::label_vi` and `ContentArea::short_label_vi`, …). The district views carry
//! those vocabularies as codes (`"district_radio"`, `"province"`, area `3`); the functions at
//! the end of this module turn a code into its label, or show a code this build does not know
//! as it came (a newer aggregator), so that a page or a report stays readable. The kind and
//! state of a citizen's or the press's case, which are not vocabularies, are named here too.
//!
//! Pure: formatting only, no clock (an instant is given), no locale of the machine.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::calendar::vietnam_offset;
use crate::district::SchoolLevel;
use crate::district::views::{CaseKind, CaseStatus};
use crate::roles::{Channel, CommendationLevel, ContentArea, NomineeKind, Role};

/// An integer with `.` between thousands: `1.234.567`, `-12.000`.
pub fn int(n: i64) -> String {
    group(n < 0, n.unsigned_abs())
}

/// An unsigned count, grouped like [`int`].
pub fn count(n: u64) -> String {
    group(false, n)
}

/// `digits` grouped by three with dots, after a minus sign when `negative`.
fn group(negative: bool, n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if negative {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// An amount in running text, as official documents write it: `15.000.000 đồng`.
pub fn money(dong: i64) -> String {
    format!("{} đồng", int(dong))
}

/// An amount where room is short (a dashboard cell, a command line): `1.500.000 đ`.
pub fn money_short(dong: i64) -> String {
    format!("{} đ", int(dong))
}

/// `scaled` (a value times 10^`places`) rounded half away from zero, written with `places`
/// decimals after a comma, trailing zeros dropped when `trim`; `None` when it is not finite or
/// beyond 64 bits.
fn write_scaled(scaled: f64, places: u32, trim: bool) -> Option<String> {
    let unit = 10_u64.checked_pow(places)?;
    let magnitude = scaled.abs().round();
    if !magnitude.is_finite() || magnitude >= u64::MAX as f64 {
        return None;
    }
    let magnitude = magnitude as u64;
    let mut out = group(scaled < 0.0 && magnitude != 0, magnitude / unit);
    let fraction = format!("{:0width$}", magnitude % unit, width = places as usize);
    let fraction = if trim {
        fraction.trim_end_matches('0')
    } else {
        fraction.as_str()
    };
    if places > 0 && !fraction.is_empty() {
        out.push(',');
        out.push_str(fraction);
    }
    Some(out)
}

/// A decimal with exactly `places` decimals after a comma: `decimal(4.5, 1)` is `4,5`,
/// `decimal(12.0, 1)` is `12,0` (a column of means keeps one decimal on every line).
pub fn decimal(value: f64, places: u32) -> String {
    write_scaled(value * 10_f64.powi(places as i32), places, false)
        .unwrap_or_else(|| value.to_string())
}

/// A decimal with at most `places` decimals, trailing zeros dropped: `3,5`, `12`, `83,3`.
pub fn decimal_trimmed(value: f64, places: u32) -> String {
    write_scaled(value * 10_f64.powi(places as i32), places, true)
        .unwrap_or_else(|| value.to_string())
}

/// A file's size as people read it: `512 byte`, `12,5 KB`, `8 MB`, `20 MB` (binary
/// multiples, at most one decimal, a decimal comma).
pub fn file_size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{} byte", int(bytes as i64))
    } else if b < KIB * KIB {
        format!("{} KB", decimal_trimmed(b / KIB, 1))
    } else {
        format!("{} MB", decimal_trimmed(b / (KIB * KIB), 1))
    }
}

/// A share (0..1) as a percentage with at most two decimals: `83,33%`, `12,5%`, `100%`.
pub fn percent(share: f64) -> String {
    // Scaled in one step: a share the aggregator rounded to four places is then exactly a
    // whole number of hundredths of a percent.
    let text =
        write_scaled(share * 10_000.0, 2, true).unwrap_or_else(|| (share * 100.0).to_string());
    format!("{text}%")
}

/// A date as documents write it: `05/02/2018`.
pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// A date in words as in the date line of Decree 30/2020/NĐ-CP: `ngày 05 tháng 02 năm
/// 2018` — days 1–9 and months 1–2 take a leading zero, other months none (`tháng 3`).
pub fn date_in_words(d: NaiveDate) -> String {
    let month = if d.month() < 3 {
        format!("0{}", d.month())
    } else {
        d.month().to_string()
    };
    format!("ngày {:02} tháng {month} năm {}", d.day(), d.year())
}

/// An instant as Vietnam local date and time: `21/10/2017 00:30`.
pub fn instant(at: DateTime<Utc>) -> String {
    at.with_timezone(&vietnam_offset())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// An instant to the second, time first as spoken: `14:05:32 ngày 21/05/2018`.
pub fn instant_in_words(at: DateTime<Utc>) -> String {
    at.with_timezone(&vietnam_offset())
        .format("%H:%M:%S ngày %d/%m/%Y")
        .to_string()
}

/// A count of days: `3 ngày`.
pub fn days(n: i64) -> String {
    format!("{} ngày", int(n))
}

/// The label of a channel code: `district_radio` is "Đài Truyền thanh huyện".
pub fn channel(code: &str) -> String {
    Channel::parse("channel", code).map_or_else(|_| code.to_string(), |c| c.label_vi().into())
}

/// The label of a commendation level code: `province` is "Bằng khen của UBND tỉnh".
pub fn commendation_level(code: &str) -> String {
    CommendationLevel::parse("level", code)
        .map_or_else(|_| code.to_string(), |l| l.label_vi().into())
}

/// The label of a role code: `vice_principal` is "Phó Hiệu trưởng".
pub fn role(code: &str) -> String {
    Role::parse("role", code).map_or_else(|_| code.to_string(), |r| r.label_vi().into())
}

/// The label of a school level code: `thcs` is "THCS".
pub fn school_level(code: &str) -> String {
    SchoolLevel::parse("level", code).map_or_else(|_| code.to_string(), |l| l.label_vi().into())
}

/// The label of a nominee kind code: `collective` is "Tập thể".
pub fn nominee_kind(code: &str) -> String {
    NomineeKind::parse("nominee_kind", code)
        .map_or_else(|_| code.to_string(), |k| k.label_vi().into())
}

/// The plan's heading of content area `number`; "Nội dung 7" for a number the plan has not.
pub fn area(number: i64) -> String {
    ContentArea::from_number("area", number)
        .map_or_else(|_| format!("Nội dung {number}"), |a| a.label_vi().into())
}

/// The short name of content area `number` ([`ContentArea::short_label_vi`]).
pub fn area_short(number: i64) -> String {
    ContentArea::from_number("area", number).map_or_else(
        |_| format!("Nội dung {number}"),
        |a| a.short_label_vi().into(),
    )
}

/// What kind of case a citizen's or the press's question is.
pub fn case_kind(kind: CaseKind) -> &'static str {
    match kind {
        CaseKind::Feedback => "Ý kiến người dân",
        CaseKind::Press => "Báo chí",
    }
}

/// Where an overdue or late case stands.
pub fn case_status(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Overdue => "Quá hạn, chưa trả lời",
        CaseStatus::Late => "Trả lời trễ hạn",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn integers_group_thousands_with_dots() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1_000), "1.000");
        assert_eq!(int(1_234_567), "1.234.567");
        assert_eq!(int(-12_000), "-12.000");
        assert_eq!(int(i64::MIN), "-9.223.372.036.854.775.808");
        assert_eq!(count(u64::MAX), "18.446.744.073.709.551.615");
    }

    #[test]
    fn money_is_dong_in_words_or_short() {
        assert_eq!(money(15_000_000), "15.000.000 đồng");
        assert_eq!(money_short(1_500_000), "1.500.000 đ");
        assert_eq!(money_short(0), "0 đ");
    }

    #[test]
    fn decimals_take_a_comma_and_round_half_away_from_zero() {
        assert_eq!(decimal(4.5, 1), "4,5");
        assert_eq!(decimal(12.0, 1), "12,0");
        assert_eq!(decimal(0.25, 1), "0,3");
        assert_eq!(decimal(-0.25, 1), "-0,3");
        assert_eq!(decimal(1234.56, 1), "1.234,6");
        assert_eq!(decimal(7.0, 0), "7");
        assert_eq!(decimal(-0.04, 1), "0,0");
        assert_eq!(decimal_trimmed(3.5, 1), "3,5");
        assert_eq!(decimal_trimmed(4.0, 1), "4");
        assert_eq!(decimal_trimmed(83.3, 2), "83,3");
        assert_eq!(decimal(f64::NAN, 1), "NaN");
    }

    #[test]
    fn percentages_keep_at_most_two_decimals_and_their_sign() {
        assert_eq!(percent(0.8333), "83,33%");
        assert_eq!(percent(0.8571), "85,71%");
        assert_eq!(percent(0.5), "50%");
        assert_eq!(percent(0.125), "12,5%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(12.3456), "1.234,56%");
        assert_eq!(percent(-0.005), "-0,5%");
        assert_eq!(percent(-0.000_01), "0%");
    }

    #[test]
    fn dates_are_day_month_year() {
        assert_eq!(date(d(2018, 2, 5)), "05/02/2018");
        assert_eq!(date_in_words(d(2018, 2, 5)), "ngày 05 tháng 02 năm 2018");
        assert_eq!(date_in_words(d(2018, 3, 15)), "ngày 15 tháng 3 năm 2018");
        assert_eq!(date_in_words(d(2018, 11, 26)), "ngày 26 tháng 11 năm 2018");
    }

    #[test]
    fn instants_are_shown_in_vietnam_time() {
        let at = DateTime::parse_from_rfc3339("2017-10-20T17:30:05Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(instant(at), "21/10/2017 00:30");
        assert_eq!(instant_in_words(at), "00:30:05 ngày 21/10/2017");
        assert_eq!(days(3), "3 ngày");
    }

    #[test]
    fn codes_get_their_labels_and_unknown_codes_stay_readable() {
        assert_eq!(channel("district_radio"), "Đài Truyền thanh huyện");
        assert_eq!(channel("carrier_pigeon"), "carrier_pigeon");
        assert_eq!(
            commendation_level("ministry"),
            "Bằng khen của Bộ trưởng Bộ GDĐT"
        );
        assert_eq!(role("vice_principal"), "Phó Hiệu trưởng");
        assert_eq!(school_level("thcs"), "THCS");
        assert_eq!(nominee_kind("collective"), "Tập thể");
        assert_eq!(area(4), "Công tác thi đua, khen thưởng");
        assert_eq!(area_short(1), "Quản lý nhà nước về GD-ĐT");
        assert_eq!(area(9), "Nội dung 9");
        assert_eq!(area_short(0), "Nội dung 0");
    }

    #[test]
    fn cases_have_one_name_each() {
        assert_eq!(case_kind(CaseKind::Press), "Báo chí");
        assert_eq!(case_status(CaseStatus::Late), "Trả lời trễ hạn");
    }
}
