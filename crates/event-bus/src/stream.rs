//! The district's JetStream stream: its configuration and an idempotent "make sure it exists".
//!
//! One stream per district captures `truyenthong.events.<province>.<district>.>`: every
//! school's events and the district office's own. It is the district's **permanent log**:
//! the aggregator rebuilds its projections from it (invariant 4 of `docs/contract.md`), so nothing may ever
//! age out or be evicted. Hence file storage, limits retention with no limits at all (no max
//! age, messages or bytes), and deletes and purges denied (invariant 1: an event, once
//! appended, is never deleted). A 10-minute duplicate window lets a school re-send events
//! whose acks it missed without storing them twice, and a 1 MiB message cap bounds what one
//! event may weigh.

use std::time::Duration;

use async_nats::jetstream::{
    self,
    context::{CreateStreamError, CreateStreamErrorKind, RequestError, RequestErrorKind},
    stream::{Config, DiscardPolicy, RetentionPolicy, StorageType, Stream},
};

use crate::subjects::{self, AddressError};

/// How long JetStream remembers a `Nats-Msg-Id` to drop re-sent copies.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Largest event message (body plus headers) the stream accepts: 1 MiB.
pub const MAX_MESSAGE_SIZE: i32 = 1024 * 1024;

/// Why the district stream could not be ensured, grouped by what the caller does about it.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The province or district code is not a valid slug: fix the configuration.
    #[error(transparent)]
    InvalidAddress(#[from] AddressError),
    /// NATS or JetStream could not be reached or did not answer in time: retry later.
    #[error("JetStream is unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// JetStream answered with an error (no permission, overlapping subjects, bad config):
    /// retrying will not help until an operator acts.
    #[error("JetStream refused the district stream: {0}")]
    Rejected(#[source] BoxError),
    /// A stream of that name exists with settings that cannot be changed in place (storage
    /// or retention): an operator must migrate it.
    #[error(
        "stream {stream} exists with {field} {existing}, but the district log needs {wanted}; it cannot be changed in place"
    )]
    Incompatible {
        /// The stream name.
        stream: String,
        /// The setting that differs.
        field: &'static str,
        /// Its current value.
        existing: String,
        /// The value this crate requires.
        wanted: String,
    },
}

/// A boxed error source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl From<CreateStreamError> for StreamError {
    fn from(err: CreateStreamError) -> Self {
        match err.kind() {
            CreateStreamErrorKind::TimedOut | CreateStreamErrorKind::JetStreamUnavailable => {
                StreamError::Unavailable(Box::new(err))
            }
            _ => StreamError::Rejected(Box::new(err)),
        }
    }
}

impl From<RequestError> for StreamError {
    fn from(err: RequestError) -> Self {
        match err.kind() {
            RequestErrorKind::TimedOut | RequestErrorKind::NoResponders => {
                StreamError::Unavailable(Box::new(err))
            }
            _ => StreamError::Rejected(Box::new(err)),
        }
    }
}

/// The configuration of a district's stream. See the module documentation for the reasons.
pub fn district_stream_config(province: &str, district: &str) -> Result<Config, AddressError> {
    Ok(Config {
        name: subjects::stream_name(province, district)?,
        description: Some(format!(
            "truyenthong: permanent event log of district {province}/{district} (schools and district office)"
        )),
        subjects: vec![subjects::district_events_filter(province, district)?],
        storage: StorageType::File,
        retention: RetentionPolicy::Limits,
        discard: DiscardPolicy::Old,
        // -1 is "unlimited", as the server reports it back; 0 would be normalised to -1.
        max_messages: -1,
        max_bytes: -1,
        max_messages_per_subject: -1,
        max_consumers: -1,
        max_age: Duration::ZERO,
        max_message_size: MAX_MESSAGE_SIZE,
        duplicate_window: DUPLICATE_WINDOW,
        num_replicas: 1,
        deny_delete: true,
        deny_purge: true,
        ..Default::default()
    })
}

/// Gets the district stream, creating it if it does not exist and updating it if it exists
/// with different subjects or limits.
///
/// Why update rather than only get-or-create: the subject list decides which events the
/// stream captures. A stream left over from an earlier layout (or edited by hand) with a
/// narrower subject list would make every publish from the uncovered schools fail with "no
/// responders" forever, and a stream with a max age or message limit would silently drop
/// the history the aggregator rebuilds from. Both are repaired here, at start-up, by the
/// process that owns the stream. Storage and retention cannot be changed on a live stream;
/// a mismatch there is reported as [`StreamError::Incompatible`] instead of being papered
/// over.
///
/// Idempotent: calling it again with the stream in place sends no update.
pub async fn ensure_district_stream(
    js: &jetstream::Context,
    province: &str,
    district: &str,
) -> Result<Stream, StreamError> {
    let wanted = district_stream_config(province, district)?;
    let mut stream = js.get_or_create_stream(wanted.clone()).await?;
    let existing = &stream.cached_info().config;

    if existing.storage != wanted.storage {
        return Err(incompatible(
            &wanted.name,
            "storage",
            format!("{:?}", existing.storage),
            format!("{:?}", wanted.storage),
        ));
    }
    if existing.retention != wanted.retention {
        return Err(incompatible(
            &wanted.name,
            "retention",
            format!("{:?}", existing.retention),
            format!("{:?}", wanted.retention),
        ));
    }

    let drift = drifted_settings(existing, &wanted);
    if drift.is_empty() {
        return Ok(stream);
    }
    tracing::warn!(
        stream = %wanted.name,
        settings = ?drift,
        "district stream differs from the expected configuration; updating it"
    );
    js.update_stream(&wanted).await?;
    // Refresh the cached info so callers see the configuration now in force.
    stream.info().await?;
    Ok(stream)
}

fn incompatible(
    stream: &str,
    field: &'static str,
    existing: String,
    wanted: String,
) -> StreamError {
    StreamError::Incompatible {
        stream: stream.to_owned(),
        field,
        existing,
        wanted,
    }
}

/// The updatable settings on which `existing` differs from `wanted`.
fn drifted_settings(existing: &Config, wanted: &Config) -> Vec<&'static str> {
    let unlimited = |n: i64| if n <= 0 { -1 } else { n };
    let mut drift = Vec::new();
    let mut have = existing.subjects.clone();
    let mut want = wanted.subjects.clone();
    have.sort();
    want.sort();
    if have != want {
        drift.push("subjects");
    }
    if existing.duplicate_window != wanted.duplicate_window {
        drift.push("duplicate_window");
    }
    if existing.max_message_size != wanted.max_message_size {
        drift.push("max_message_size");
    }
    if existing.max_age != wanted.max_age {
        drift.push("max_age");
    }
    if unlimited(existing.max_messages) != unlimited(wanted.max_messages) {
        drift.push("max_messages");
    }
    if unlimited(existing.max_bytes) != unlimited(wanted.max_bytes) {
        drift.push("max_bytes");
    }
    if unlimited(existing.max_messages_per_subject) != unlimited(wanted.max_messages_per_subject) {
        drift.push("max_messages_per_subject");
    }
    drift
}

/// Ensures a school's evidence bucket (a JetStream Object Store,
/// [`crate::subjects::evidence_bucket`]) exists; returns its name. File storage, like the
/// district stream. Created by the district's administrator when the school is issued (and by
/// the agent itself in `insecure` development).
pub async fn ensure_evidence_bucket(
    js: &jetstream::Context,
    school: &crate::subjects::SchoolAddress,
) -> Result<String, StreamError> {
    let bucket = crate::subjects::evidence_bucket(school);
    if js.get_object_store(&bucket).await.is_ok() {
        return Ok(bucket);
    }
    js.create_object_store(jetstream::object_store::Config {
        bucket: bucket.clone(),
        description: Some(format!("evidence files of {}", school.school())),
        storage: jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| StreamError::Rejected(Box::new(e)))?;
    Ok(bucket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_a_permanent_log() {
        let config = district_stream_config("dong-thap", "tam-nong").unwrap();
        assert_eq!(config.name, "TRUYENTHONG_DONG-THAP_TAM-NONG");
        assert_eq!(
            config.subjects,
            vec!["truyenthong.events.dong-thap.tam-nong.>"]
        );
        assert_eq!(config.storage, StorageType::File);
        assert_eq!(config.retention, RetentionPolicy::Limits);
        assert_eq!(config.max_age, Duration::ZERO);
        assert_eq!(config.max_messages, -1);
        assert_eq!(config.max_bytes, -1);
        assert_eq!(config.duplicate_window, Duration::from_secs(600));
        assert_eq!(config.max_message_size, 1_048_576);
        assert!(config.deny_delete && config.deny_purge);
    }

    #[test]
    fn config_rejects_bad_codes() {
        assert!(district_stream_config("dong-thap", "Tam Nong").is_err());
    }

    #[test]
    fn drift_detection() {
        let wanted = district_stream_config("dong-thap", "tam-nong").unwrap();
        let mut same = wanted.clone();
        same.max_messages = 0;
        assert!(drifted_settings(&same, &wanted).is_empty());
        let mut narrower = wanted.clone();
        narrower.subjects = vec!["truyenthong.events.dong-thap.tam-nong.thcs-an-hoa".into()];
        narrower.max_age = Duration::from_secs(86_400);
        assert_eq!(
            drifted_settings(&narrower, &wanted),
            vec!["subjects", "max_age"]
        );
    }
}
