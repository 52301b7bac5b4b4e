//! Latencies in an HDR histogram (microsecond resolution, 3 significant digits, up to two
//! minutes), read back in milliseconds: percentiles stay exact enough at the tail, where a
//! mean or a sorted sample of a few thousand calls would hide what a p99.9 shows.

use std::time::Duration;

use hdrhistogram::Histogram;

/// The longest latency told apart from longer ones; anything longer is recorded as this.
const HIGHEST_US: u64 = 120_000_000;

/// Recorded latencies.
#[derive(Debug, Clone)]
pub struct Latency {
    hist: Histogram<u64>,
}

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl Latency {
    pub fn new() -> Self {
        Self {
            hist: Histogram::new_with_bounds(1, HIGHEST_US, 3).expect("valid, constant bounds"),
        }
    }

    /// Records one latency (at least 1 µs; at most the histogram's highest value).
    pub fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        self.hist.saturating_record(us);
    }

    /// Adds every latency `other` recorded (e.g. each concurrent client's, after the run).
    pub fn merge(&mut self, other: &Latency) {
        for value in other.hist.iter_recorded() {
            self.hist
                .saturating_record_n(value.value_iterated_to(), value.count_at_value());
        }
    }

    /// How many latencies were recorded.
    pub fn len(&self) -> u64 {
        self.hist.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hist.is_empty()
    }

    /// The latency at quantile `q` (`0.99` for p99), in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        us_to_ms(self.hist.value_at_quantile(q))
    }

    pub fn max_ms(&self) -> f64 {
        us_to_ms(self.hist.max())
    }

    pub fn mean_ms(&self) -> f64 {
        self.hist.mean() / 1000.0
    }

    /// How many latencies were `at_least` or longer.
    pub fn count_at_least(&self, at_least: Duration) -> u64 {
        let low = u64::try_from(at_least.as_micros()).unwrap_or(u64::MAX);
        self.hist.count_between(low, self.hist.max().max(low))
    }

    /// `n=2000 p50 1.23 ms, p90 …, p99 …, p99.9 …, max …, mean …`.
    pub fn describe(&self) -> String {
        format!(
            "n={} p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms, mean {:.2} ms",
            self.len(),
            self.ms(0.5),
            self.ms(0.9),
            self.ms(0.99),
            self.ms(0.999),
            self.max_ms(),
            self.mean_ms()
        )
    }
}

fn us_to_ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of_ms(values: impl IntoIterator<Item = u64>) -> Latency {
        let mut latency = Latency::new();
        for ms in values {
            latency.record(Duration::from_millis(ms));
        }
        latency
    }

    #[test]
    fn percentiles_read_in_milliseconds() {
        let latency = of_ms(1..=100);
        assert_eq!(latency.len(), 100);
        assert!((latency.ms(0.5) - 50.0).abs() < 0.1, "{}", latency.ms(0.5));
        assert!(
            (latency.ms(0.99) - 99.0).abs() < 0.1,
            "{}",
            latency.ms(0.99)
        );
        assert!((latency.max_ms() - 100.0).abs() < 0.1);
        assert!((latency.mean_ms() - 50.5).abs() < 0.1);
    }

    #[test]
    fn merging_keeps_every_latency() {
        let mut all = of_ms([1, 2]);
        all.merge(&of_ms([40, 50, 60]));
        assert_eq!(all.len(), 5);
        assert_eq!(all.count_at_least(Duration::from_millis(30)), 3);
        assert!((all.max_ms() - 60.0).abs() < 0.1);
    }

    #[test]
    fn nothing_at_or_above_a_bound_counts_nothing() {
        let latency = of_ms([1, 2, 3]);
        assert_eq!(latency.count_at_least(Duration::from_millis(30)), 0);
    }

    #[test]
    fn a_sub_microsecond_latency_counts_as_one_microsecond() {
        let mut latency = Latency::new();
        latency.record(Duration::from_nanos(10));
        assert_eq!(latency.len(), 1);
        assert!((latency.max_ms() - 0.001).abs() < 1e-9);
    }

    #[test]
    fn the_summary_names_its_percentiles() {
        let text = of_ms([2, 4]).describe();
        assert!(text.starts_with("n=2 p50 2.00 ms, p90 4.00 ms"), "{text}");
        assert!(text.ends_with("mean 3.00 ms"), "{text}");
    }
}
