//! When repeated failed sign-ins lock an account, and when a session ends.
//!
//! Pure: the stores pass the counts and instants they hold and keep what these return, so
//! the rules are tested without a database or a clock.

use chrono::{DateTime, Duration, Utc};

/// Five wrong passwords in a row lock the account for a while; a right one resets the count.
///
/// The lock is timed, not permanent, so that a guessing attacker cannot lock the office out
/// for good, while an administrator can still unlock at once (a password reset clears it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures in a row that lock the account.
    pub max_failures: u32,
    /// How long a lock lasts.
    pub lock_for: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lock_for: Duration::minutes(15),
        }
    }
}

/// What a store keeps after a failed sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterFailure {
    /// Failures in a row, this one included (0 once a lock is set, so the next lock needs
    /// `max_failures` more).
    pub failures: u32,
    /// Set when this failure locks the account.
    pub locked_until: Option<DateTime<Utc>>,
}

impl LockoutPolicy {
    /// Whether an account locked until `locked_until` is still locked at `now`.
    pub fn is_locked(&self, locked_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        locked_until.is_some_and(|until| now < until)
    }

    /// The account's state after one more failure, given the failures in a row before it.
    pub fn after_failure(&self, failures_before: u32, now: DateTime<Utc>) -> AfterFailure {
        let failures = failures_before.saturating_add(1);
        if failures >= self.max_failures {
            AfterFailure {
                failures: 0,
                locked_until: Some(now + self.lock_for),
            }
        } else {
            AfterFailure {
                failures,
                locked_until: None,
            }
        }
    }
}

/// A session ends after a quiet spell or after a working day, whichever comes first, and at
/// once when its person signs out or their password is changed or reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Ends a session unused for this long.
    pub idle: Duration,
    /// Ends a session this long after sign-in, however busy.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
        }
    }
}

impl SessionPolicy {
    /// The school agent's sessions: the command line signs in once and keeps its token, so
    /// a session lasts a working week of use, and a quiet week ends it.
    pub fn school_agent() -> Self {
        Self {
            idle: Duration::days(7),
            absolute: Duration::days(30),
        }
    }

    /// When a session signed in at `created_at` and last used at `last_seen` expires.
    pub fn expires_at(&self, created_at: DateTime<Utc>, last_seen: DateTime<Utc>) -> DateTime<Utc> {
        (last_seen + self.idle).min(created_at + self.absolute)
    }

    /// Whether that session is still valid at `now`.
    pub fn is_valid(
        &self,
        created_at: DateTime<Utc>,
        last_seen: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        now < self.expires_at(created_at, last_seen)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2018, 3, 1, 8, 0, 0).unwrap() + Duration::minutes(minute)
    }

    #[test]
    fn the_fifth_failure_in_a_row_locks_for_fifteen_minutes() {
        let policy = LockoutPolicy::default();
        let mut failures = 0;
        for _ in 0..4 {
            let after = policy.after_failure(failures, at(0));
            assert_eq!(after.locked_until, None);
            failures = after.failures;
        }
        assert_eq!(failures, 4);
        let fifth = policy.after_failure(failures, at(1));
        assert_eq!(fifth.locked_until, Some(at(16)));
        assert!(policy.is_locked(fifth.locked_until, at(15)));
        assert!(!policy.is_locked(fifth.locked_until, at(16)));
        assert_eq!(fifth.failures, 0);
    }

    #[test]
    fn a_session_ends_when_idle_or_at_the_end_of_the_day() {
        let policy = SessionPolicy::default();
        assert!(policy.is_valid(at(0), at(0), at(29)));
        assert!(!policy.is_valid(at(0), at(0), at(30)));
        // Busy all day: still ends twelve hours after sign-in.
        let day = 12 * 60;
        assert!(policy.is_valid(at(0), at(day - 1), at(day - 1)));
        assert!(!policy.is_valid(at(0), at(day - 1), at(day)));
    }
}
