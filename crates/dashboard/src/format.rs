//! Numbers, money, rates and dates the way Vietnamese documents write them.
//!
//! Thousands are grouped with a dot and decimals follow a comma (`1.234.567`, `85,71%`);
//! money is integer đồng (`1.500.000 đ`); dates are `dd/mm/yyyy` in Vietnam local time. The
//! aggregator sends rates and means already rounded (4 and 1 decimal places), so these
//! functions only print them, never round them again beyond what the figure holds.

use chrono::{DateTime, NaiveDate, Utc};

use domain::calendar::{vietnam_offset, vn_date};

/// An integer with Vietnamese thousands grouping: `1.234.567`, `-12.000`.
pub fn number(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
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

/// An unsigned count, grouped like [`number`].
pub fn count(n: u64) -> String {
    number(i64::try_from(n).unwrap_or(i64::MAX))
}

/// An amount of đồng: `1.500.000 đ`.
pub fn money(dong: i64) -> String {
    format!("{} đ", number(dong))
}

/// A decimal with a comma and at most `places` decimals, trailing zeros dropped: `3,5`, `12`.
pub fn decimal(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text.as_str(), None),
    };
    let grouped = whole
        .parse::<i64>()
        .map(number)
        .unwrap_or_else(|_| whole.to_string());
    match fraction {
        Some(f) => format!("{grouped},{f}"),
        None => grouped,
    }
}

/// A rate (0..1, four decimal places from the aggregator) as a percentage: `85,71%`.
pub fn percent(rate: f64) -> String {
    format!("{}%", decimal(rate * 100.0, 2))
}

/// An optional rate, or a dash when the view has none.
pub fn optional_percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| DASH.to_string(), percent)
}

/// What a table shows where a figure does not exist (no events, nothing answered).
pub const DASH: &str = "–";

/// A `YYYY-MM-DD` date from the wire as `dd/mm/yyyy`; other text is shown as it came.
pub fn date(iso: &str) -> String {
    match NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(d) => vn_date(d),
        Err(_) if iso.is_empty() => DASH.to_string(),
        Err(_) => iso.to_string(),
    }
}

/// An instant as Vietnam local date and time: `20/10/2017 14:05`.
pub fn instant(at: DateTime<Utc>) -> String {
    at.with_timezone(&vietnam_offset())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// A protobuf timestamp, given as its `seconds` and `nanos`, as [`instant`]; a dash when
/// unset or out of range. (Taking the two fields keeps `prost-types` out of this crate.)
pub fn timestamp(parts: Option<(i64, i32)>) -> String {
    parts
        .and_then(|(seconds, nanos)| DateTime::from_timestamp(seconds, u32::try_from(nanos).ok()?))
        .map_or_else(|| DASH.to_string(), instant)
}

/// Formats an `Option` timestamp field of a `wire::pb` message with [`timestamp`].
macro_rules! when {
    ($field:expr) => {
        $crate::format::timestamp($field.as_ref().map(|t| (t.seconds, t.nanos)))
    };
}
pub(crate) use when;

/// A count of days: `3 ngày`.
pub fn days(n: i64) -> String {
    format!("{} ngày", number(n))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn numbers_are_grouped_with_dots() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1_000), "1.000");
        assert_eq!(number(1_234_567), "1.234.567");
        assert_eq!(number(-12_000), "-12.000");
        assert_eq!(money(1_500_000), "1.500.000 đ");
    }

    #[test]
    fn rates_use_a_decimal_comma() {
        assert_eq!(percent(0.8571), "85,71%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.5), "50%");
        assert_eq!(percent(12.3456), "1.234,56%");
        assert_eq!(decimal(3.5, 1), "3,5");
        assert_eq!(decimal(4.0, 1), "4");
        assert_eq!(optional_percent(None), DASH);
    }

    #[test]
    fn dates_are_day_month_year() {
        assert_eq!(date("2017-10-20"), "20/10/2017");
        assert_eq!(date(""), DASH);
        let at = DateTime::parse_from_rfc3339("2017-10-20T17:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(instant(at), "21/10/2017 00:30");
    }
}
