//! The reports already made, so that a report asked for again — or by many people at once —
//! is gathered and rendered once.
//!
//! A report of the whole plan period costs a full gather (dozens of aggregator calls) and a
//! render; the office asks for the same one repeatedly around a deadline. A report is a pure
//! function of its request, the caller's scope, the issue date and what the aggregator has
//! applied, so the key holds all four: each author's applied seq (`GetIngestState`) changes
//! when anything new is applied, and a new key then makes a new report. Requests for one key
//! wait on one generation (single flight); a failed generation is not kept, so the next
//! request tries again. The newest [`KEPT`] reports are kept.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::error::ReportError;
use crate::render::RenderedFile;

/// How many reports are kept (a full-plan Word report is about 300 KB).
pub const KEPT: usize = 16;

type Slot = Arc<OnceCell<RenderedFile>>;

/// Reports by key, newest last.
#[derive(Debug, Default)]
pub struct ReportCache {
    entries: Mutex<VecDeque<(String, Slot)>>,
    generations: AtomicU64,
}

impl ReportCache {
    /// The report of `key`, made by `make` if no request made it yet; concurrent requests of
    /// one key wait for the same generation.
    pub async fn get_or_make<F, Fut>(
        &self,
        key: String,
        make: F,
    ) -> Result<RenderedFile, ReportError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<RenderedFile, ReportError>>,
    {
        let slot = self.slot(key);
        let file = slot
            .get_or_try_init(|| async {
                self.generations.fetch_add(1, Ordering::Relaxed);
                make().await
            })
            .await?;
        Ok(file.clone())
    }

    /// How many reports were generated (not served from the cache) since start.
    pub fn generations(&self) -> u64 {
        self.generations.load(Ordering::Relaxed)
    }

    fn slot(&self, key: String) -> Slot {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, slot)) = entries.iter().find(|(k, _)| *k == key) {
            return slot.clone();
        }
        let slot = Slot::default();
        entries.push_back((key, slot.clone()));
        while entries.len() > KEPT {
            entries.pop_front();
        }
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> RenderedFile {
        RenderedFile {
            file_name: name.into(),
            media_type: "text/csv",
            bytes: name.as_bytes().to_vec(),
        }
    }

    #[tokio::test]
    async fn one_key_is_made_once_even_when_asked_for_at_once() {
        let cache = ReportCache::default();
        let slow = || async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            Ok(file("a.csv"))
        };
        let (a, b) = tokio::join!(
            cache.get_or_make("k".into(), slow),
            cache.get_or_make("k".into(), slow)
        );
        assert_eq!(a.ok(), Some(file("a.csv")));
        assert_eq!(b.ok(), Some(file("a.csv")));
        assert_eq!(cache.generations(), 1);
        let other = cache
            .get_or_make("k2".into(), || async { Ok(file("b.csv")) })
            .await;
        assert_eq!(other.ok(), Some(file("b.csv")));
        assert_eq!(cache.generations(), 2);
    }

    #[tokio::test]
    async fn a_failure_is_not_kept_and_old_keys_go() {
        let cache = ReportCache::default();
        let failed = cache
            .get_or_make("k".into(), || async {
                Err(ReportError::Unavailable("down".into()))
            })
            .await;
        assert!(failed.is_err());
        let again = cache
            .get_or_make("k".into(), || async { Ok(file("a.csv")) })
            .await;
        assert!(again.is_ok());
        for i in 0..KEPT {
            let _ = cache
                .get_or_make(format!("n{i}"), || async { Ok(file("n.csv")) })
                .await;
        }
        let before = cache.generations();
        let _ = cache
            .get_or_make("k".into(), || async { Ok(file("a.csv")) })
            .await;
        assert_eq!(
            cache.generations(),
            before + 1,
            "the oldest key was dropped"
        );
    }
}
