//! Parsing what staff type: dates, amounts of money, numbers, `Title=value` pairs and ids.
//!
//! Each parser returns a Vietnamese message that says what was wrong with the value and what
//! is expected; the caller adds which field it was (see [`crate::error::CliError::Input`]).
//! The `*_arg` functions are clap value parsers for numbers, with the same Vietnamese
//! messages instead of Rust's English `ParseIntError`.

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

/// Today's date in Vietnam (Asia/Ho_Chi_Minh, UTC+7).
pub fn today() -> NaiveDate {
    domain::calendar::local_date(Utc::now())
}

/// A date as staff write it: `2018-03-15` or `15/03/2018` (also `15/3/2018`, `15-03-2018`).
/// Returns the ISO form the agent takes.
pub fn date(value: &str) -> Result<NaiveDate, String> {
    let v = value.trim();
    let bad = || {
        format!(
            "Ngày «{}» không hợp lệ: cần dạng YYYY-MM-DD (ví dụ 2018-03-15) hoặc DD/MM/YYYY (ví dụ 15/03/2018)",
            echo(value)
        )
    };
    if v.is_empty() {
        return Err("Ngày không được để trống".to_string());
    }
    let parts: Vec<&str> = v.split(['-', '/', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return Err(bad());
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(a) && digits(b) && digits(c)) {
        return Err(bad());
    }
    let (y, m, d) = if a.len() == 4 && v.contains('-') && !v.contains('/') {
        (*a, *b, *c)
    } else if c.len() == 4 && a.len() <= 2 && b.len() <= 2 {
        (*c, *b, *a)
    } else {
        return Err(bad());
    };
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return Err(bad());
    };
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| {
        format!(
            "Ngày «{}» không có trên lịch (tháng {m} năm {y} không có ngày {d})",
            echo(value)
        )
    })
}

/// A date for the wire: `YYYY-MM-DD`.
pub fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// An amount in đồng as staff write it: `3000000`, `3.000.000`, `3,000,000`, `3 000 000`,
/// optionally followed by `đ`, `đồng` or `VND`. Never negative, never fractional.
pub fn amount(value: &str) -> Result<i64, String> {
    let v = value.trim();
    let lower = v.to_lowercase();
    let mut number = lower.as_str();
    for suffix in ["đồng", "vnđ", "vnd", "đ", "d"] {
        if let Some(rest) = number.strip_suffix(suffix) {
            number = rest.trim_end();
            break;
        }
    }
    if number.is_empty() {
        return Err("Số tiền không được để trống".to_string());
    }
    if number.starts_with('-') || number.starts_with('−') {
        return Err(format!(
            "Số tiền «{}» bị âm; số tiền phải từ 0 đồng trở lên",
            echo(value)
        ));
    }
    let number = number.strip_prefix('+').unwrap_or(number);
    let bad = || {
        format!(
            "Số tiền «{}» không đúng dạng: ghi số đồng nguyên, có thể dùng dấu chấm ngăn cách hàng nghìn (ví dụ 3.000.000 hoặc 3000000)",
            echo(value)
        )
    };
    let groups: Vec<&str> = number.split(['.', ',', ' ', '\u{a0}', '_']).collect();
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !groups.iter().all(|g| all_digits(g)) {
        return Err(bad());
    }
    if groups.len() > 1 {
        let first_ok = groups.first().is_some_and(|g| g.len() <= 3);
        let rest_ok = groups.iter().skip(1).all(|g| g.len() == 3);
        if !(first_ok && rest_ok) {
            return Err(bad());
        }
    }
    let digits: String = groups.concat();
    digits
        .parse::<i64>()
        .map_err(|_| format!("Số tiền «{}» quá lớn", echo(value)))
}

/// Splits `Tiêu đề=10` / `Tin bài, phóng sự=3.000.000` at the last `=`.
pub fn pair<'a>(value: &'a str, example: &str) -> Result<(&'a str, &'a str), String> {
    match value.rsplit_once('=') {
        Some((name, v)) if !name.trim().is_empty() && !v.trim().is_empty() => {
            Ok((name.trim(), v.trim()))
        }
        _ => Err(format!(
            "«{}» cần có dạng «Tên=Giá trị», ví dụ \"{example}\"",
            echo(value)
        )),
    }
}

/// Points of an emulation criterion.
pub fn points(value: &str) -> Result<u32, String> {
    value
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("Số điểm «{}» phải là số nguyên không âm", echo(value)))
}

/// An id (UUID) staff typed or pasted.
pub fn id(value: &str) -> Result<Uuid, String> {
    Uuid::try_parse(value.trim()).map_err(|_| {
        format!(
            "Mã «{}» không hợp lệ: mã có dạng 0192b7a0-1c2d-7e3f-8a4b-5c6d7e8f9a0b (xem mã bằng lệnh nhat-ky)",
            echo(value)
        )
    })
}

/// Optional text: blank is none.
pub fn text(value: Option<&str>) -> String {
    value.map(str::trim).unwrap_or_default().to_string()
}

/// A content area number 1..6 (clap value parser).
pub fn area_arg(value: &str) -> Result<u32, String> {
    match value.trim().parse::<u32>() {
        Ok(n @ 1..=6) => Ok(n),
        _ => Err(format!(
            "nội dung truyền thông phải là một số từ 1 đến 6, không phải «{}»",
            echo(value)
        )),
    }
}

/// A non-negative number that fits in 32 bits (clap value parser).
pub fn u32_arg(value: &str) -> Result<u32, String> {
    value
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("«{}» không phải số nguyên không âm", echo(value)))
}

/// A non-negative number (clap value parser).
pub fn u64_arg(value: &str) -> Result<u64, String> {
    value
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("«{}» không phải số nguyên không âm", echo(value)))
}

/// A calendar year (clap value parser).
pub fn year_arg(value: &str) -> Result<i32, String> {
    match value.trim().parse::<i32>() {
        Ok(y @ 1900..=2999) => Ok(y),
        _ => Err(format!("«{}» không phải một năm, ví dụ 2018", echo(value))),
    }
}

/// A school year, as its first year (`2018`) or both (`2018-2019`) (clap value parser).
pub fn school_year_arg(value: &str) -> Result<i32, String> {
    let v = value.trim();
    let bad = || {
        format!(
            "«{}» không phải năm học: ghi năm bắt đầu (2018) hoặc cả hai năm (2018-2019)",
            echo(value)
        )
    };
    if let Some((a, b)) = v.split_once(['-', '–', '/']) {
        let first = year_arg(a).map_err(|_| bad())?;
        let second = year_arg(b).map_err(|_| bad())?;
        if second != first + 1 {
            return Err(bad());
        }
        return Ok(first);
    }
    year_arg(v).map_err(|_| bad())
}

/// A value as it is echoed in a message: at most 60 characters.
pub fn echo(value: &str) -> String {
    const MAX: usize = 60;
    if value.chars().count() <= MAX {
        value.to_string()
    } else {
        let mut shown: String = value.chars().take(MAX).collect();
        shown.push('…');
        shown
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
    fn dates_iso_and_vietnamese() {
        assert_eq!(date("2018-03-15").unwrap(), d(2018, 3, 15));
        assert_eq!(date(" 15/03/2018 ").unwrap(), d(2018, 3, 15));
        assert_eq!(date("5/3/2018").unwrap(), d(2018, 3, 5));
        assert_eq!(date("15-03-2018").unwrap(), d(2018, 3, 15));
        for bad in [
            "2018-02-30",
            "hôm qua",
            "2018/03/15/1",
            "",
            "18-3-15",
            "2018-13-01",
            "15/03/18",
        ] {
            let err = date(bad).unwrap_err();
            assert!(err.starts_with("Ngày"), "{bad}: {err}");
        }
        assert!(
            date("2018-02-30")
                .unwrap_err()
                .contains("không có trên lịch")
        );
    }

    #[test]
    fn amounts_with_separators() {
        assert_eq!(amount("3000000").unwrap(), 3_000_000);
        assert_eq!(amount("3.000.000").unwrap(), 3_000_000);
        assert_eq!(amount("3,000,000 đ").unwrap(), 3_000_000);
        assert_eq!(amount("350.000đồng").unwrap(), 350_000);
        assert_eq!(amount("3 000 000 VND").unwrap(), 3_000_000);
        assert_eq!(amount("0").unwrap(), 0);
        assert!(amount("-350000").unwrap_err().contains("bị âm"));
        for bad in [
            "3.5",
            "3.000,5",
            "abc",
            "1.0000",
            "",
            "99999999999999999999",
        ] {
            assert!(amount(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pairs_split_at_the_last_equals() {
        assert_eq!(
            pair("Tin bài, phóng sự=3.000.000", "x").unwrap(),
            ("Tin bài, phóng sự", "3.000.000")
        );
        assert_eq!(pair("a=b=10", "x").unwrap(), ("a=b", "10"));
        assert!(pair("không có dấu bằng", "x").is_err());
        assert!(pair("=10", "x").is_err());
    }

    #[test]
    fn years_and_areas() {
        assert_eq!(school_year_arg("2018-2019").unwrap(), 2018);
        assert_eq!(school_year_arg("2018").unwrap(), 2018);
        assert!(school_year_arg("2018-2020").is_err());
        assert!(area_arg("7").is_err());
        assert_eq!(area_arg("3").unwrap(), 3);
    }
}
