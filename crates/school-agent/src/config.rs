//! The agent's configuration: a typed struct read from a TOML file, overridden by environment
//! variables `TRUYENTHONG_AGENT__<SECTION>__<KEY>` (e.g. `TRUYENTHONG_AGENT__NATS__URL`).
//!
//! See `deploy/agent.example.toml` for every setting with its default.

use std::path::{Path, PathBuf};
use std::time::Duration;

use domain::SchoolRef;
use event_bus::connect::NatsSettings;
use event_bus::subjects::SchoolAddress;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub school: SchoolSettings,
    pub storage: StorageSettings,
    #[serde(default)]
    pub grpc: GrpcSettings,
    pub nats: NatsSettings,
    #[serde(default)]
    pub relay: RelaySettings,
    #[serde(default)]
    pub app: AppSettings,
    /// Backups of the log (`crate::backup`); no folder, no scheduled backups.
    #[serde(default)]
    pub backup: crate::backup::BackupSettings,
    #[serde(default)]
    pub bundles: BundleSettings,
}

/// Signed bundles (`crate::bundle_export`, `docs/bundles.md`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BundleSettings {
    /// The district aggregator's nkey public key (`U…`), which signs the reply bundles this
    /// school imports. Absent: replies are refused.
    #[serde(default)]
    pub district_public_key: Option<String>,
}

/// The school's web app (`school_app`), served by the agent.
#[derive(Debug, Clone, Deserialize)]
pub struct AppSettings {
    /// Whether the agent serves the app at all.
    #[serde(default = "default_app_enabled")]
    pub enabled: bool,
    /// Where: the office PC's loopback, port 8480, by default. Another address (the school's
    /// LAN) needs `tls`: passwords and session cookies must not cross the LAN in the clear.
    #[serde(default = "default_app_listen")]
    pub listen: std::net::SocketAddr,
    /// The certificate (signed by the district CA for this PC) and key the app serves with.
    #[serde(default)]
    pub tls: Option<service_runtime::tls::ServerTlsFiles>,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            enabled: default_app_enabled(),
            listen: default_app_listen(),
            tls: None,
        }
    }
}

fn default_app_enabled() -> bool {
    true
}
fn default_app_listen() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 8480))
}

/// Which school this agent records for.
#[derive(Debug, Clone, Deserialize)]
pub struct SchoolSettings {
    pub province: String,
    pub district: String,
    pub code: String,
    /// The school's name, for logs and status ("Trường THCS An Hòa").
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StorageSettings {
    /// The SQLite file of the school's log.
    pub path: PathBuf,
}

/// Where staff's clients connect: the office PC's loopback, port 50051, by default.
pub type GrpcSettings = service_runtime::GrpcSettings<50051>;

#[derive(Debug, Clone, Deserialize)]
pub struct RelaySettings {
    /// Outbox entries published per round.
    #[serde(default = "default_batch")]
    pub batch_size: u32,
    /// How long to wait for each JetStream acknowledgement.
    #[serde(default = "default_ack_timeout_ms")]
    pub ack_timeout_ms: u64,
    /// The longest pause between retries while NATS is unreachable.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// Create the district stream if missing. For development and demos only: in production
    /// the district owns its stream and a school's NATS user may not create it.
    #[serde(default)]
    pub ensure_stream: bool,
    /// How often the log's head is announced to the district while connected.
    #[serde(default = "default_heads_interval_ms")]
    pub heads_interval_ms: u64,
    /// The chunk size of evidence uploads (`crate::evidence_upload`), in bytes.
    #[serde(default = "default_evidence_chunk_size")]
    pub evidence_chunk_size: usize,
    /// The bandwidth evidence uploads may use, KiB per second; 0: no cap.
    #[serde(default)]
    pub evidence_rate_kib_per_s: u64,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            batch_size: default_batch(),
            ack_timeout_ms: default_ack_timeout_ms(),
            max_backoff_ms: default_max_backoff_ms(),
            ensure_stream: false,
            heads_interval_ms: default_heads_interval_ms(),
            evidence_chunk_size: default_evidence_chunk_size(),
            evidence_rate_kib_per_s: 0,
        }
    }
}

fn default_evidence_chunk_size() -> usize {
    crate::evidence_upload::DEFAULT_CHUNK_SIZE
}
fn default_batch() -> u32 {
    256
}
fn default_ack_timeout_ms() -> u64 {
    5_000
}
fn default_max_backoff_ms() -> u64 {
    30_000
}
/// Once a minute: a district that lost the tail of a school's log learns it within a minute
/// of coming back, for a few bytes a minute per school.
fn default_heads_interval_ms() -> u64 {
    60_000
}

impl RelaySettings {
    pub fn ack_timeout(&self) -> Duration {
        Duration::from_millis(self.ack_timeout_ms)
    }
    pub fn max_backoff(&self) -> Duration {
        Duration::from_millis(self.max_backoff_ms)
    }
    pub fn heads_interval(&self) -> Duration {
        Duration::from_millis(self.heads_interval_ms.max(100))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Load(#[from] service_runtime::settings::LoadError),
    #[error("invalid school address in the configuration: {0}")]
    School(String),
    #[error(
        "app.listen = {0} is not a loopback address, and the app has no [app.tls]: on the \
         school's LAN it must serve TLS with a certificate the district CA signed \
         (`district-admin cap-tls <school> --ten-may-chu <this PC>`; docs/school-app.md)"
    )]
    AppNotLoopback(std::net::SocketAddr),
}

impl Settings {
    /// Reads `file` (if given) and the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let settings: Settings = service_runtime::settings::load(file, "TRUYENTHONG_AGENT")?;
        settings.school_ref()?;
        if settings.app.enabled
            && !settings.app.listen.ip().is_loopback()
            && settings.app.tls.is_none()
        {
            return Err(SettingsError::AppNotLoopback(settings.app.listen));
        }
        Ok(settings)
    }

    pub fn school_ref(&self) -> Result<SchoolRef, SettingsError> {
        let s = &self.school;
        SchoolRef::parse(&s.province, &s.district, &s.code)
            .map_err(|e| SettingsError::School(e.to_string()))
    }

    pub fn school_address(&self) -> Result<SchoolAddress, SettingsError> {
        let s = &self.school;
        SchoolAddress::parse(&s.province, &s.district, &s.code)
            .map_err(|e| SettingsError::School(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_example_file_loads_and_is_the_secured_district() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/agent.example.toml");
        let settings = Settings::load(Some(&path)).unwrap();
        assert_eq!(settings.school.code, "thcs-an-hoa");
        assert!(settings.storage.path.is_absolute());
        assert!(!settings.relay.ensure_stream);
        assert!(!settings.nats.insecure);
        assert!(settings.nats.check_secure().is_ok());
        assert_eq!(settings.app.listen.to_string(), "127.0.0.1:8480");
    }

    #[test]
    fn the_app_on_the_lan_needs_tls() {
        let example = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../deploy/agent.example.toml"),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.toml");
        let lan = example.replace(
            "listen = \"127.0.0.1:8480\"",
            "listen = \"192.168.1.10:8480\"",
        );
        assert_ne!(lan, example);
        std::fs::write(&path, &lan).unwrap();
        let refused = Settings::load(Some(&path)).unwrap_err().to_string();
        assert!(refused.contains("[app.tls]"), "{refused}");
        let with_tls = lan.replace(
            "listen = \"192.168.1.10:8480\"",
            "listen = \"192.168.1.10:8480\"\ntls = { certificate = \"/etc/truyenthong/app.pem\", key = \"/etc/truyenthong/app.key\" }",
        );
        std::fs::write(&path, &with_tls).unwrap();
        assert!(Settings::load(Some(&path)).unwrap().app.tls.is_some());
    }
}
