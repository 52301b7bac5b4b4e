//! Polling with a deadline.
//!
//! Asynchronous systems settle eventually; tests should wait for a condition rather than sleep
//! a fixed time, and fail with a clear message instead of hanging when it never comes true.

use std::future::Future;
use std::time::Duration;

/// How often [`wait_until`] re-checks its condition.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Calls `check` until it returns `true`, every 25 ms, for at most `timeout`.
///
/// The condition is always checked at least once, and once more at the deadline.
///
/// # Errors
/// When the condition is still false after `timeout`.
pub async fn wait_until<F, Fut>(timeout: Duration, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!("condition still false after {timeout:?}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
