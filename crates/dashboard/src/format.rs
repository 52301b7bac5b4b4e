//! Figures as the pages write them: numbers, money, rates and dates come from `domain::vi`,
//! the one Vietnamese formatter the report and the command line use too (`1.234.567`,
//! `1.500.000 đ`, `85,71%`, `dd/mm/yyyy`, instants in Vietnam time). This module adds only
//! what the dashboard's input needs: dates and timestamps as the wire carries them, and the
//! dash a table shows where a figure does not exist. The aggregator sends rates and means
//! already rounded (4 and 1 decimal places), so they are only printed, never rounded again
//! beyond what the figure holds.

use chrono::{DateTime, NaiveDate};
use domain::vi;

/// An optional rate, or a dash when the view has none.
pub fn optional_percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| DASH.to_string(), vi::percent)
}

/// A mean number of days, with the one decimal the report's tables show too: `12,0`, `4,5`.
pub fn mean_days(mean: Option<f64>) -> String {
    mean.map_or_else(|| DASH.to_string(), |m| vi::decimal(m, 1))
}

/// What a table shows where a figure does not exist (no events, nothing answered).
pub const DASH: &str = "–";

/// A `YYYY-MM-DD` date from the wire as `dd/mm/yyyy`; other text is shown as it came.
pub fn date(iso: &str) -> String {
    match NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(d) => vi::date(d),
        Err(_) if iso.is_empty() => DASH.to_string(),
        Err(_) => iso.to_string(),
    }
}

/// A protobuf timestamp, given as its `seconds` and `nanos`, as [`vi::instant`]; a dash when
/// unset or out of range. (Taking the two fields keeps `prost-types` out of this crate.)
pub fn timestamp(parts: Option<(i64, i32)>) -> String {
    parts
        .and_then(|(seconds, nanos)| DateTime::from_timestamp(seconds, u32::try_from(nanos).ok()?))
        .map_or_else(|| DASH.to_string(), vi::instant)
}

/// Formats an `Option` timestamp field of a `wire::pb` message with [`timestamp`].
macro_rules! when {
    ($field:expr) => {
        $crate::format::timestamp($field.as_ref().map(|t| (t.seconds, t.nanos)))
    };
}
pub(crate) use when;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_figures_are_a_dash() {
        assert_eq!(optional_percent(None), DASH);
        assert_eq!(optional_percent(Some(0.8571)), "85,71%");
        assert_eq!(mean_days(None), DASH);
        assert_eq!(mean_days(Some(12.0)), "12,0");
        assert_eq!(timestamp(None), DASH);
    }

    #[test]
    fn wire_dates_are_day_month_year() {
        assert_eq!(date("2017-10-20"), "20/10/2017");
        assert_eq!(date(""), DASH);
        assert_eq!(date("sắp tới"), "sắp tới");
        // 17:30 UTC is half past midnight in Vietnam.
        assert_eq!(timestamp(Some((1_508_520_600, 0))), "21/10/2017 00:30");
    }
}
