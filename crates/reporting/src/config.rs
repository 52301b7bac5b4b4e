//! The reporting service's configuration: a typed struct read from a TOML file, overridden by
//! environment variables `TRUYENTHONG_REPORTING__<SECTION>__<KEY>` (e.g.
//! `TRUYENTHONG_REPORTING__AGGREGATOR__URL`).
//!
//! See `reporting.example.toml` in this crate for every setting with its default.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use tonic::transport::{Channel, Endpoint};

use crate::gather::AggregatorClient;
use crate::office::Office;

/// Everything the reporting service needs.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub aggregator: AggregatorSettings,
    #[serde(default)]
    pub grpc: GrpcSettings,
    #[serde(default)]
    pub http: HttpSettings,
    /// The office that issues the reports (header, signature, recipients).
    #[serde(default)]
    pub office: Office,
}

/// Where the district aggregator answers.
#[derive(Debug, Clone, Deserialize)]
pub struct AggregatorSettings {
    /// `https://host:port` of its gRPC API (`http://` only on this machine).
    #[serde(default = "default_aggregator_url")]
    pub url: String,
    /// The district CA to check the aggregator's certificate with; required for `https://`.
    #[serde(default)]
    pub tls: Option<service_runtime::ClientTlsFiles>,
    /// How long to wait for a connection before a report fails as unavailable.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// How long one call may take. A report of the whole plan period makes a few dozen calls.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
}

impl Default for AggregatorSettings {
    fn default() -> Self {
        Self {
            url: default_aggregator_url(),
            tls: None,
            connect_timeout_ms: default_connect_timeout_ms(),
            request_timeout_ms: default_request_timeout_ms(),
        }
    }
}

fn default_aggregator_url() -> String {
    "http://127.0.0.1:50061".into()
}
fn default_connect_timeout_ms() -> u64 {
    3_000
}
fn default_request_timeout_ms() -> u64 {
    30_000
}

/// Where `truyenthong.v1.Reporting` listens: loopback, port 50071, by default.
pub type GrpcSettings = service_runtime::GrpcSettings<50071>;

#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    /// Where the dashboard and the report downloads are served.
    #[serde(default = "default_http")]
    pub listen: SocketAddr,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            listen: default_http(),
        }
    }
}

fn default_http() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Load(#[from] service_runtime::settings::LoadError),
    #[error("aggregator.url {url:?} is not a usable address: {reason}")]
    AggregatorUrl { url: String, reason: String },
}

impl Settings {
    /// Reads `file` (if given) and the environment, and checks the result.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let settings: Settings = service_runtime::settings::load(file, "TRUYENTHONG_REPORTING")?;
        settings.aggregator.endpoint()?;
        Ok(settings)
    }
}

impl AggregatorSettings {
    fn endpoint(&self) -> Result<Endpoint, SettingsError> {
        let bad = |reason: String| SettingsError::AggregatorUrl {
            url: self.url.clone(),
            reason,
        };
        let address = service_runtime::ServerAddress::new(self.url.clone(), self.tls.clone());
        Ok(address
            .endpoint()
            .map_err(|e| bad(e.to_string()))?
            .connect_timeout(Duration::from_millis(self.connect_timeout_ms))
            .timeout(Duration::from_millis(self.request_timeout_ms))
            .tcp_nodelay(true))
    }

    /// A client that connects on first use (and reconnects after failures), so the service
    /// starts while the aggregator is down and answers UNAVAILABLE until it is back.
    pub fn client(&self) -> Result<AggregatorClient, SettingsError> {
        let channel: Channel = self.endpoint()?.connect_lazy();
        Ok(AggregatorClient::new(channel).max_decoding_message_size(64 * 1024 * 1024))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_example_file_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("reporting.example.toml");
        let settings = Settings::load(Some(&path)).unwrap();
        assert_eq!(settings.aggregator.url, "http://127.0.0.1:50061");
        assert_eq!(settings.office.agency, "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO");
        assert_eq!(settings.office.parent_agency, "UBND HUYỆN TAM NÔNG");
        assert!(!settings.office.recipients.is_empty());
        assert_eq!(settings.grpc.listen.port(), 50071);
    }

    #[test]
    fn a_bad_aggregator_url_is_named() {
        let settings = AggregatorSettings {
            url: "127.0.0.1:50061".into(),
            ..AggregatorSettings::default()
        };
        let err = settings.client().unwrap_err().to_string();
        assert!(err.contains("aggregator.url"), "{err}");
    }
}
