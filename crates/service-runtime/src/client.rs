//! How a truyenthong client dials a truyenthong gRPC server: the one place that decides
//! between TLS with the district CA and loopback plaintext (see [`crate::tls`]), and that sets
//! the timeouts and keep-alive every client wants.

use std::time::Duration;

use serde::Deserialize;
use tonic::transport::{Channel, Endpoint, Uri};

use crate::tls::{ClientTlsFiles, TlsError, is_loopback_host};

/// Where a client finds a server: its URL and, for `https://`, the CA to trust.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ServerAddress {
    /// `https://pgd.tamnong:50061`, or `http://127.0.0.1:50061` on the same machine.
    pub url: String,
    /// The district CA; required for `https://`.
    #[serde(default)]
    pub tls: Option<ClientTlsFiles>,
}

/// How long a client waits to connect; calls set their own deadlines.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl ServerAddress {
    pub fn new(url: impl Into<String>, tls: Option<ClientTlsFiles>) -> Self {
        Self {
            url: url.into(),
            tls,
        }
    }

    /// The endpoint to dial, with TLS for `https://` and plaintext only to this machine.
    pub fn endpoint(&self) -> Result<Endpoint, TlsError> {
        let uri: Uri = self
            .url
            .parse()
            .map_err(|e: tonic::codegen::http::uri::InvalidUri| {
                TlsError::Url(self.url.clone(), e.to_string())
            })?;
        let host = uri.host().unwrap_or_default().to_owned();
        let endpoint = Endpoint::from(uri)
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(10))
            .keep_alive_while_idle(true);
        match self.url.split_once("://").map(|(scheme, _)| scheme) {
            Some("https") => {
                let tls = self
                    .tls
                    .as_ref()
                    .ok_or_else(|| TlsError::NoCa(self.url.clone()))?;
                Ok(endpoint.tls_config(tls.load()?)?)
            }
            Some("http") if is_loopback_host(&host) => Ok(endpoint),
            Some("http") => Err(TlsError::PlaintextClient(self.url.clone())),
            _ => Err(TlsError::Url(
                self.url.clone(),
                "the scheme must be https:// (or http:// on this machine)".into(),
            )),
        }
    }

    /// A channel that connects on first use (a client that starts before its server, or a
    /// server that restarts, is not an error until a call fails).
    pub fn connect_lazy(&self) -> Result<Channel, TlsError> {
        Ok(self.endpoint()?.connect_lazy())
    }

    /// A channel connected now.
    pub async fn connect(&self) -> Result<Channel, ConnectError> {
        Ok(self.endpoint()?.connect().await?)
    }
}

/// Why a client could not connect.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot connect: {0}")]
    Transport(#[from] tonic::transport::Error),
}
