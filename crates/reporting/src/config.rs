//! The reporting service's configuration: a typed struct read from a TOML file, overridden by
//! environment variables `TRUYENTHONG_REPORTING__<SECTION>__<KEY>` (e.g.
//! `TRUYENTHONG_REPORTING__AGGREGATOR__URL`).
//!
//! See `reporting.example.toml` in this crate for every setting with its default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use service_runtime::Credential;
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
    /// Reporting's service token (`tts_…`), issued by an administrator
    /// (`district-aggregator token issue --service reporting`). Prefer `token_file`: a
    /// configuration file is read by more people than a secret should be.
    #[serde(default)]
    pub token: Option<SecretString>,
    /// A file holding the token (mode 0600 or 0640), read at start.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
}

impl Default for AggregatorSettings {
    fn default() -> Self {
        Self {
            url: default_aggregator_url(),
            tls: None,
            connect_timeout_ms: default_connect_timeout_ms(),
            request_timeout_ms: default_request_timeout_ms(),
            token: None,
            token_file: None,
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
    #[error(
        "aggregator.token or aggregator.token_file is required: the aggregator answers no call \
         without a credential; issue one on the district server with \
         `district-aggregator token issue --service reporting`"
    )]
    NoToken,
    #[error("aggregator.token_file {path}: {source}")]
    TokenFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("aggregator.token: {0}")]
    BadToken(#[from] service_runtime::CredentialError),
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

    /// The service token as a credential: `token`, else the trimmed content of `token_file`.
    pub fn credential(&self) -> Result<Credential, SettingsError> {
        let token = match (&self.token, &self.token_file) {
            (Some(token), _) => token.expose_secret().to_owned(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|source| SettingsError::TokenFile {
                    path: path.clone(),
                    source,
                })?
                .trim()
                .to_owned(),
            (None, None) => return Err(SettingsError::NoToken),
        };
        if token.is_empty() {
            return Err(SettingsError::NoToken);
        }
        Ok(Credential::bearer(&token)?)
    }

    /// A channel that connects on first use (and reconnects after failures), so the service
    /// starts while the aggregator is down and answers UNAVAILABLE until it is back.
    pub fn channel(&self) -> Result<Channel, SettingsError> {
        Ok(self.endpoint()?.connect_lazy())
    }

    /// A client on [`Self::channel`] whose every call carries reporting's token.
    pub fn client(&self) -> Result<AggregatorClient, SettingsError> {
        Ok(crate::gather::client(self.channel()?, self.credential()?))
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
    fn without_a_token_reporting_says_how_to_get_one() {
        let err = AggregatorSettings::default()
            .credential()
            .unwrap_err()
            .to_string();
        assert!(err.contains("district-aggregator token issue"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reporting.token");
        std::fs::write(&path, "tts_abc\n").unwrap();
        let from_file = AggregatorSettings {
            token_file: Some(path),
            ..AggregatorSettings::default()
        };
        assert!(from_file.credential().is_ok());
    }

    #[test]
    fn a_bad_aggregator_url_is_named() {
        let settings = AggregatorSettings {
            url: "127.0.0.1:50061".into(),
            token: Some("tts_x".to_owned().into()),
            ..AggregatorSettings::default()
        };
        let err = settings.client().unwrap_err().to_string();
        assert!(err.contains("aggregator.url"), "{err}");
    }
}
