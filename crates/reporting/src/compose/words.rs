//! Writing numbers, dates, periods and codes the way Vietnamese administrative documents do:
//! `1.234.567` đồng, `83,33%`, `05/02/2018`, "quý I năm 2018", "ngày 05 tháng 02 năm 2018".

use chrono::{Datelike, NaiveDate};
use domain::{Channel, ContentArea, DateRange, Period};

/// An integer with `.` between thousands: `1.234.567`.
pub fn int(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if v < 0 {
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

/// An amount of đồng: `1.234.567 đồng`.
pub fn money(v: i64) -> String {
    format!("{} đồng", int(v))
}

/// A rate as a percentage with up to two decimals and a decimal comma: `83,33%`, `100%`.
pub fn rate(v: f64) -> String {
    let hundredths = (v * 10_000.0).round() as i64;
    let (whole, frac) = (hundredths / 100, (hundredths % 100).abs());
    if frac == 0 {
        format!("{}%", int(whole))
    } else if frac % 10 == 0 {
        format!("{},{}%", int(whole), frac / 10)
    } else {
        format!("{},{:02}%", int(whole), frac)
    }
}

/// A decimal with one place and a decimal comma: `4,5`.
pub fn decimal(v: f64) -> String {
    let tenths = (v * 10.0).round() as i64;
    format!("{},{}", int(tenths / 10), (tenths % 10).abs())
}

/// A date as documents write it: `05/02/2018`.
pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// "từ ngày 01/01/2018 đến ngày 31/03/2018".
pub fn range(r: DateRange) -> String {
    format!("từ ngày {} đến ngày {}", date(r.start()), date(r.end()))
}

/// The date line of Decree 30/2020/NĐ-CP: "Tam Nông, ngày 05 tháng 02 năm 2018" — days 1–9
/// and months 1–2 are written with a leading zero.
pub fn place_date(place: &str, d: NaiveDate) -> String {
    let day = if d.day() < 10 {
        format!("0{}", d.day())
    } else {
        d.day().to_string()
    };
    let month = if d.month() < 3 {
        format!("0{}", d.month())
    } else {
        d.month().to_string()
    };
    format!("{place}, ngày {day} tháng {month} năm {}", d.year())
}

/// A Roman numeral for section and quarter numbers (1..=39 is all a report needs).
pub fn roman(n: usize) -> String {
    const PARTS: [(usize, &str); 6] =
        [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"), (0, "")];
    let mut n = n;
    let mut out = String::new();
    for (value, numeral) in PARTS {
        if value == 0 {
            break;
        }
        while n >= value {
            out.push_str(numeral);
            n -= value;
        }
    }
    out
}

/// The period in words, as a report's title ends: "quý I năm 2018", "học kỳ I năm học
/// 2017-2018", "năm học 2017-2018", "năm 2018", "tháng 3 năm 2018", "giai đoạn 2017-2020"
/// (the plan's period, `plan` its dates).
pub fn period(p: Period, plan: DateRange) -> String {
    match p {
        Period::Month { year, month } => format!("tháng {month} năm {year}"),
        Period::Quarter { year, quarter } => {
            format!("quý {} năm {year}", roman(quarter as usize))
        }
        Period::Semester { start_year, half } => format!(
            "học kỳ {} năm học {start_year}-{}",
            roman(half as usize),
            start_year + 1
        ),
        Period::SchoolYear { start_year } => {
            format!("năm học {start_year}-{}", start_year + 1)
        }
        Period::CalendarYear { year } => format!("năm {year}"),
        Period::WholePlan => format!("giai đoạn {}-{}", plan.start().year(), plan.end().year()),
    }
}

/// A content area's short name for tables and charts: "Quản lý nhà nước".
pub fn area_short(area: u8) -> &'static str {
    match area {
        1 => "Quản lý nhà nước về GD-ĐT",
        2 => "Đổi mới chương trình, SGK",
        3 => "Nhiệm vụ năm học",
        4 => "Thi đua, khen thưởng",
        5 => "Cải cách hành chính",
        6 => "Nội dung khác",
        _ => "Không rõ",
    }
}

/// A content area's heading as the plan writes it.
pub fn area_full(area: u8) -> &'static str {
    ContentArea::from_number("area", i64::from(area)).map_or("Không rõ", |a| a.label_vi())
}

/// A channel's Vietnamese name, or its code when unknown.
pub fn channel(code: &str) -> String {
    Channel::parse("channel", code).map_or_else(|_| code.to_string(), |c| c.label_vi().into())
}

/// A commendation level's Vietnamese name, or its code when unknown.
pub fn commendation_level(code: &str) -> &str {
    match code {
        "school" => "Giấy khen của Hiệu trưởng",
        "district" => "Giấy khen của Chủ tịch UBND huyện",
        "province" => "Bằng khen của UBND tỉnh",
        "ministry" => "Bằng khen của Bộ trưởng Bộ GD&ĐT",
        "government" => "Bằng khen của Thủ tướng Chính phủ",
        other => other,
    }
}

/// Names joined the Vietnamese way: "A", "A và B", "A, B và C".
pub fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} và {last}", init.join(", ")),
    }
}

/// The first letter in lower case ("Truyền thông …" → "truyền thông …"), to run a title into
/// a sentence.
pub fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
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
    fn numbers_use_dots_for_thousands_and_commas_for_decimals() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1_000), "1.000");
        assert_eq!(int(-1_234_567), "-1.234.567");
        assert_eq!(money(15_000_000), "15.000.000 đồng");
        assert_eq!(rate(0.8333), "83,33%");
        assert_eq!(rate(0.5), "50%");
        assert_eq!(rate(0.125), "12,5%");
        assert_eq!(rate(1.0), "100%");
        assert_eq!(decimal(4.5), "4,5");
        assert_eq!(decimal(12.0), "12,0");
    }

    #[test]
    fn periods_read_as_in_a_report_title() {
        let plan = DateRange::new(d(2017, 10, 18), d(2020, 12, 31)).unwrap();
        let cases = [
            (
                Period::Quarter {
                    year: 2018,
                    quarter: 1,
                },
                "quý I năm 2018",
            ),
            (
                Period::Quarter {
                    year: 2019,
                    quarter: 4,
                },
                "quý IV năm 2019",
            ),
            (
                Period::Semester {
                    start_year: 2017,
                    half: 1,
                },
                "học kỳ I năm học 2017-2018",
            ),
            (
                Period::Semester {
                    start_year: 2018,
                    half: 2,
                },
                "học kỳ II năm học 2018-2019",
            ),
            (Period::SchoolYear { start_year: 2017 }, "năm học 2017-2018"),
            (Period::CalendarYear { year: 2018 }, "năm 2018"),
            (
                Period::Month {
                    year: 2018,
                    month: 3,
                },
                "tháng 3 năm 2018",
            ),
            (Period::WholePlan, "giai đoạn 2017-2020"),
        ];
        for (p, words) in cases {
            assert_eq!(period(p, plan), words, "{p}");
        }
    }

    #[test]
    fn the_date_line_pads_early_days_and_months() {
        assert_eq!(
            place_date("Tam Nông", d(2018, 2, 5)),
            "Tam Nông, ngày 05 tháng 02 năm 2018"
        );
        assert_eq!(
            place_date("Tam Nông", d(2018, 11, 26)),
            "Tam Nông, ngày 26 tháng 11 năm 2018"
        );
        assert_eq!(
            place_date("Tam Nông", d(2018, 3, 15)),
            "Tam Nông, ngày 15 tháng 3 năm 2018"
        );
    }

    #[test]
    fn lists_and_numerals() {
        assert_eq!(join(&["A".into()]), "A");
        assert_eq!(join(&["A".into(), "B".into(), "C".into()]), "A, B và C");
        assert_eq!(roman(4), "IV");
        assert_eq!(roman(9), "IX");
        assert_eq!(roman(14), "XIV");
        assert_eq!(channel("district_radio"), "Đài Truyền thanh huyện");
        assert_eq!(channel("carrier_pigeon"), "carrier_pigeon");
    }
}
