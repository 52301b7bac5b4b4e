//! A figure judged against its target. Each bench ends with a summary of its targets, one
//! line each, so that a run can be read at a glance and compared with the last one by name.

use std::fmt::Display;

/// `PASS` when the target is met, else `MISS`.
pub fn verdict(met: bool) -> &'static str {
    if met { "PASS" } else { "MISS" }
}

/// `[PASS] what` or `[MISS] what`: one line of a bench's summary.
pub fn verdict_line(met: bool, what: impl Display) -> String {
    format!("[{}] {what}", verdict(met))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_line_leads_with_its_verdict() {
        assert_eq!(verdict_line(true, "p99 2.00 ms"), "[PASS] p99 2.00 ms");
        assert_eq!(verdict_line(false, "ratio 0.40"), "[MISS] ratio 0.40");
    }
}
