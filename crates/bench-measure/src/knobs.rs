//! Environment variables that size or steer a benchmark run (`BENCH_EVENTS=20_000`,
//! `AGENT_BENCH_QUICK=1`): read once at start, with a default when unset or unreadable, so a
//! plain `cargo bench` runs the full-size measurement.

use std::str::FromStr;

/// `name` parsed as a `T`, ignoring surrounding spaces and `_` digit separators (so
/// `BENCH_EVENTS=1_000_000` reads as a million); `default` when unset or unparsable.
pub fn env_or<T: FromStr>(name: &str, default: T) -> T {
    parse_or(std::env::var(name).ok().as_deref(), default)
}

/// Whether the switch `name` is on: set to anything but empty or `0`.
pub fn env_flag(name: &str) -> bool {
    is_on(std::env::var(name).ok().as_deref())
}

fn parse_or<T: FromStr>(value: Option<&str>, default: T) -> T {
    value
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn is_on(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_with_separators_and_fall_back_when_unreadable() {
        assert_eq!(parse_or(Some(" 1_000_000 "), 5_u64), 1_000_000);
        assert_eq!(parse_or(Some("many"), 5_u64), 5);
        assert_eq!(parse_or(None, 5_u64), 5);
    }

    #[test]
    fn a_switch_is_on_unless_unset_empty_or_zero() {
        assert!(is_on(Some("1")));
        assert!(is_on(Some("yes")));
        assert!(!is_on(Some("0")));
        assert!(!is_on(Some("")));
        assert!(!is_on(None));
    }
}
