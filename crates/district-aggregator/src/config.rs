//! The aggregator's configuration: a typed struct read from a TOML file, overridden by
//! environment variables `TRUYENTHONG_AGGREGATOR__<SECTION>__<KEY>` (e.g.
//! `TRUYENTHONG_AGGREGATOR__DATABASE__URL`).
//!
//! See `aggregator.example.toml` in this crate for every setting with its default.

use std::path::{Path, PathBuf};
use std::time::Duration;

use event_bus::connect::NatsSettings;
use secrecy::SecretString;
use serde::Deserialize;

/// Everything the aggregator needs to run.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub district: DistrictSettings,
    pub database: DatabaseSettings,
    #[serde(default)]
    pub grpc: GrpcSettings,
    pub nats: NatsSettings,
    #[serde(default)]
    pub ingest: IngestSettings,
    #[serde(default)]
    pub bundles: BundleSettings,
}

/// Signed bundles from schools with no connection (`crate::bundles`, `docs/bundles.md`).
#[derive(Debug, Clone, Deserialize)]
pub struct BundleSettings {
    /// The district's identity registry (`identities.toml`, written by `district-admin`): the
    /// schools' registered public keys a bundle is verified against. Absent: bundles are
    /// refused.
    #[serde(default)]
    pub identities_file: Option<PathBuf>,
    /// The nkey seed file the aggregator signs reply bundles with; absent, `nats.nkey_file`
    /// (the aggregator's own NATS identity).
    #[serde(default)]
    pub signing_key_file: Option<PathBuf>,
    /// How long an import waits for the ingest to reach the bundle's last seq. Below
    /// `grpc.limits.request_timeout_secs` (60 s by default), which bounds an `ImportBundle`.
    #[serde(default = "default_import_wait_ms")]
    pub import_wait_ms: u64,
}

impl Default for BundleSettings {
    fn default() -> Self {
        Self {
            identities_file: None,
            signing_key_file: None,
            import_wait_ms: default_import_wait_ms(),
        }
    }
}

fn default_import_wait_ms() -> u64 {
    50_000
}

/// Which district this aggregator serves: it consumes that district's stream only.
#[derive(Debug, Clone, Deserialize)]
pub struct DistrictSettings {
    pub province: String,
    pub district: String,
    /// The district office's name, for logs ("Phòng GD-ĐT Tam Nông").
    #[serde(default)]
    pub name: String,
}

/// Where PostgreSQL is and as whom to connect. See `docs/database.md`.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// The service's connection, `postgres://user:password@host/db`; a secret, since it
    /// usually carries the password. A server on another host must be reached over TLS:
    /// `?sslmode=verify-full&sslrootcert=/etc/truyenthong/district-ca.pem`.
    pub url: SecretString,
    /// The schema owner's connection, for the migrations (at every start) and `rebuild`.
    /// When set, `url` names a role with only the rights on rows the service needs, which
    /// the owner grants at every start; when absent, `url`'s role does both (development).
    #[serde(default)]
    pub owner_url: Option<SecretString>,
    /// Connections in the pool: ingest uses one at a time, queries the rest.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// How long to wait for a connection before a batch (or a query) fails and is retried.
    /// Short, so that an outage is noticed and reported rather than waited out silently.
    #[serde(default = "default_acquire_timeout_ms")]
    pub acquire_timeout_ms: u64,
}

fn default_max_connections() -> u32 {
    8
}
fn default_acquire_timeout_ms() -> u64 {
    5_000
}

impl DatabaseSettings {
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.acquire_timeout_ms)
    }
}

/// Where the district office's clients (and `reporting`) connect: loopback, port 50061, by
/// default.
pub type GrpcSettings = service_runtime::GrpcSettings<50061>;

/// How the district stream is consumed. The defaults suit a district of a few dozen schools.
#[derive(Debug, Clone, Deserialize)]
pub struct IngestSettings {
    /// The durable JetStream consumer's name. Two aggregators of one district must not share
    /// it unless they share the database too.
    #[serde(default = "default_consumer")]
    pub consumer: String,
    /// Most messages applied in one PostgreSQL transaction.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// How long a batch waits for more messages after its first one.
    #[serde(default = "default_batch_wait_ms")]
    pub batch_wait_ms: u64,
    /// Messages JetStream lets us hold unacknowledged; several batches' worth so that the
    /// next batch is already buffered while one commits.
    #[serde(default = "default_max_ack_pending")]
    pub max_ack_pending: i64,
    /// How long JetStream waits for an ack before redelivering. Redelivery is harmless (the
    /// positions make it a no-op) but wasteful, so this is well above a batch's commit time.
    #[serde(default = "default_ack_wait_ms")]
    pub ack_wait_ms: u64,
    /// Idle heartbeat of pull requests: a silent server is noticed after two of these.
    #[serde(default = "default_heartbeat_ms")]
    pub heartbeat_ms: u64,
    /// Largest message (body) accepted; larger ones are dead-lettered. The stream caps
    /// messages at 1 MiB too.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// The longest pause between retries while PostgreSQL or NATS is unavailable.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// How long a gap may stand before the school is asked to re-send: a pipelined publish
    /// may deliver seq k+1 just before k, and that heals by itself.
    #[serde(default = "default_replay_grace_ms")]
    pub replay_grace_ms: u64,
    /// Least time between two re-send requests to one school; doubles while the gap stays,
    /// up to `replay_max_interval_ms`.
    #[serde(default = "default_replay_min_interval_ms")]
    pub replay_min_interval_ms: u64,
    #[serde(default = "default_replay_max_interval_ms")]
    pub replay_max_interval_ms: u64,
    /// How long to wait for a school's answer to a re-send request.
    #[serde(default = "default_replay_timeout_ms")]
    pub replay_timeout_ms: u64,
    /// Create or repair the district stream at start-up. The district owns its stream, so
    /// this is on by default.
    #[serde(default = "default_true")]
    pub ensure_stream: bool,
    /// Prepare the next batch in memory while the previous one commits (see
    /// `ingest::pipeline`). Off, each batch is applied and committed before the next starts.
    #[serde(default = "default_true")]
    pub pipeline: bool,
    /// A pipelined batch is split by school into this many parts, committed at once in their
    /// own transactions (the parts share no school, so no part depends on another). One
    /// PostgreSQL backend per transaction: with 2 or more, the projection's writes use more
    /// than one core.
    #[serde(default = "default_parallel_commits")]
    pub parallel_commits: usize,
    /// For tests only: event types this aggregator treats as unknown, as an aggregator built
    /// before those types were would. Their events are held (`unknown_version`) until an
    /// aggregator without the setting starts. Empty (the default) in every deployment.
    #[serde(default)]
    pub unknown_event_types: Vec<String>,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            consumer: default_consumer(),
            batch_size: default_batch_size(),
            batch_wait_ms: default_batch_wait_ms(),
            max_ack_pending: default_max_ack_pending(),
            ack_wait_ms: default_ack_wait_ms(),
            heartbeat_ms: default_heartbeat_ms(),
            max_message_bytes: default_max_message_bytes(),
            max_backoff_ms: default_max_backoff_ms(),
            replay_grace_ms: default_replay_grace_ms(),
            replay_min_interval_ms: default_replay_min_interval_ms(),
            replay_max_interval_ms: default_replay_max_interval_ms(),
            replay_timeout_ms: default_replay_timeout_ms(),
            ensure_stream: true,
            pipeline: true,
            parallel_commits: default_parallel_commits(),
            unknown_event_types: Vec::new(),
        }
    }
}

fn default_consumer() -> String {
    "district-aggregator".into()
}
/// Per-statement and per-transaction costs are spread over more events: at 2,000 the
/// bench's ingest ran ~17% faster than at 500 (and PostgreSQL spent ~10% less per event),
/// for ~40 MiB more peak memory.
fn default_batch_size() -> usize {
    2_000
}
fn default_batch_wait_ms() -> u64 {
    100
}
/// A batch committing, the next being prepared, and two more buffered.
fn default_max_ack_pending() -> i64 {
    8_000
}
fn default_ack_wait_ms() -> u64 {
    60_000
}
fn default_heartbeat_ms() -> u64 {
    5_000
}
fn default_max_message_bytes() -> usize {
    1024 * 1024
}
fn default_max_backoff_ms() -> u64 {
    10_000
}
fn default_replay_grace_ms() -> u64 {
    2_000
}
fn default_replay_min_interval_ms() -> u64 {
    30_000
}
fn default_replay_max_interval_ms() -> u64 {
    600_000
}
fn default_replay_timeout_ms() -> u64 {
    5_000
}
fn default_parallel_commits() -> usize {
    2
}
fn default_true() -> bool {
    true
}

impl IngestSettings {
    pub fn batch_wait(&self) -> Duration {
        Duration::from_millis(self.batch_wait_ms)
    }
    pub fn ack_wait(&self) -> Duration {
        Duration::from_millis(self.ack_wait_ms)
    }
    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms)
    }
    pub fn max_backoff(&self) -> Duration {
        Duration::from_millis(self.max_backoff_ms)
    }
    pub fn replay_grace(&self) -> Duration {
        Duration::from_millis(self.replay_grace_ms)
    }
    pub fn replay_min_interval(&self) -> Duration {
        Duration::from_millis(self.replay_min_interval_ms)
    }
    pub fn replay_max_interval(&self) -> Duration {
        Duration::from_millis(self.replay_max_interval_ms)
    }
    pub fn replay_timeout(&self) -> Duration {
        Duration::from_millis(self.replay_timeout_ms)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Load(#[from] service_runtime::settings::LoadError),
    #[error("invalid district in the configuration: {0}")]
    District(String),
    #[error("invalid ingest settings: {0}")]
    Ingest(String),
}

impl Settings {
    /// Reads `file` (if given) and the environment, and checks the result.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let settings: Settings = service_runtime::settings::load(file, "TRUYENTHONG_AGGREGATOR")?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what serde cannot: valid codes and sensible ingest limits.
    pub fn validate(&self) -> Result<(), SettingsError> {
        event_bus::subjects::district_events_filter(
            &self.district.province,
            &self.district.district,
        )
        .map_err(|e| SettingsError::District(e.to_string()))?;
        let i = &self.ingest;
        if i.parallel_commits == 0 {
            return Err(SettingsError::Ingest(
                "ingest.parallel_commits must be at least 1".into(),
            ));
        }
        if i.batch_size == 0 {
            return Err(SettingsError::Ingest(
                "ingest.batch_size must be at least 1".into(),
            ));
        }
        if i.max_ack_pending < i.batch_size as i64 {
            return Err(SettingsError::Ingest(format!(
                "ingest.max_ack_pending {} is below ingest.batch_size {}: a batch could never fill",
                i.max_ack_pending, i.batch_size
            )));
        }
        if i.consumer.is_empty() || i.consumer.contains(['.', '*', '>', ' ']) {
            return Err(SettingsError::Ingest(format!(
                "ingest.consumer {:?} must be non-empty without '.', '*', '>' or spaces",
                i.consumer
            )));
        }
        if i.replay_min_interval_ms > i.replay_max_interval_ms {
            return Err(SettingsError::Ingest(
                "ingest.replay_min_interval_ms is above ingest.replay_max_interval_ms".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_loads_with_its_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("aggregator.example.toml");
        let settings = Settings::load(Some(&path)).unwrap();
        assert_eq!(settings.district.district, "tam-nong");
        assert_eq!(
            settings.ingest.batch_size,
            IngestSettings::default().batch_size
        );
        assert_eq!(
            settings.ingest.replay_min_interval(),
            Duration::from_secs(30)
        );
        // The example is the secured district: the stream is the administrator's to make.
        assert!(!settings.ingest.ensure_stream);
        assert!(!settings.nats.insecure);
        assert!(settings.nats.check_secure().is_ok());
        // The URL is a secret: never in Debug output.
        assert!(!format!("{settings:?}").contains("postgres://"));
    }

    #[test]
    fn nonsense_is_refused_with_the_setting_named() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("aggregator.example.toml");
        let mut settings = Settings::load(Some(&path)).unwrap();
        settings.ingest.max_ack_pending = 10;
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains("ingest.max_ack_pending"), "{err}");
        settings.ingest.max_ack_pending = 2_000;
        settings.district.district = "Tam Nông".into();
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains("district code"), "{err}");
    }
}
