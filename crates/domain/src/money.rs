//! Money: integer Vietnamese đồng, never a float, never negative.

use std::fmt;
use std::iter::Sum;
use std::ops::Add;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Rule};

/// An amount in đồng, from 0 to a thousand billion (no school budget line comes close; the
/// bound keeps sums far from overflow).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Vnd(i64);

impl Vnd {
    pub const MAX: i64 = 1_000_000_000_000_000;
    pub const ZERO: Vnd = Vnd(0);

    pub fn parse(field: &str, amount: i64) -> Result<Self, DomainError> {
        if amount < 0 {
            return Err(DomainError::invalid(
                field,
                Rule::Negative { value: amount },
            ));
        }
        if amount > Self::MAX {
            return Err(DomainError::invalid(
                field,
                Rule::TooLarge {
                    value: amount,
                    max: Self::MAX,
                },
            ));
        }
        Ok(Self(amount))
    }

    pub fn dong(&self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for Vnd {
    type Error = DomainError;
    fn try_from(v: i64) -> Result<Self, Self::Error> {
        Vnd::parse("amount", v)
    }
}

impl From<Vnd> for i64 {
    fn from(v: Vnd) -> Self {
        v.0
    }
}

/// Sums saturate at `i64::MAX`; with [`Vnd::MAX`] per amount that needs 9,000 maximal lines.
impl Add for Vnd {
    type Output = Vnd;
    fn add(self, rhs: Vnd) -> Vnd {
        Vnd(self.0.saturating_add(rhs.0))
    }
}

impl Sum for Vnd {
    fn sum<I: Iterator<Item = Vnd>>(iter: I) -> Vnd {
        iter.fold(Vnd::ZERO, Add::add)
    }
}

/// `1.500.000 đ`, as Vietnamese documents group thousands ([`crate::vi::money_short`]).
impl fmt::Display for Vnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::vi::money_short(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_is_refused_with_field() {
        let err = Vnd::parse("expense.amount", -5).unwrap_err();
        assert_eq!(err.field, "expense.amount");
        assert_eq!(err.rule, Rule::Negative { value: -5 });
    }

    #[test]
    fn formats_with_dots() {
        assert_eq!(
            Vnd::parse("a", 1_500_000).unwrap().to_string(),
            "1.500.000 đ"
        );
        assert_eq!(Vnd::parse("a", 0).unwrap().to_string(), "0 đ");
        assert_eq!(Vnd::parse("a", 999).unwrap().to_string(), "999 đ");
    }
}
