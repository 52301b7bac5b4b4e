//! TLS for the gRPC links between the district's machines, with the district's own CA.
//!
//! A server presents a certificate signed by the district CA (`district-admin tls issue`);
//! its clients trust that CA and nothing else, so nobody on the line between a school and
//! the district office, or between two servers of the office, can read a session token or
//! pose as a server. Plaintext is allowed only on the loopback interface, where the link
//! never leaves the machine (a one-machine test or a client on the server itself): a server
//! refuses to listen in plaintext elsewhere, and a client refuses to dial plaintext elsewhere.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

/// The `[grpc.tls]` section of a server: its certificate chain and private key (PEM).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ServerTlsFiles {
    /// The server's certificate followed by the district CA's (`<name>.pem`).
    pub certificate: PathBuf,
    /// The server's private key (`<name>.key`, mode 0600).
    pub key: PathBuf,
}

/// How a client trusts the servers it dials: the district CA's certificate, and the name to
/// check in the server's certificate when it differs from the host dialled.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ClientTlsFiles {
    /// The district CA's certificate (`ca.pem`).
    pub ca: PathBuf,
    /// The server name to verify; unset = the host of the URL.
    #[serde(default)]
    pub server_name: Option<String>,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error(
        "refusing to serve gRPC in plaintext on {0}: outside the loopback interface a server \
         needs [grpc.tls] certificate and key (issued with `district-admin tls issue`)"
    )]
    PlaintextServer(SocketAddr),
    #[error(
        "refusing to call {0} in plaintext: outside the loopback interface a client needs \
         https:// and the district CA (tls.ca)"
    )]
    PlaintextClient(String),
    #[error("{0} is not a valid URL: {1}")]
    Url(String, String),
    #[error("https:// URL {0} needs the district CA (tls.ca) to check the server")]
    NoCa(String),
    #[error("TLS configuration was refused: {0}")]
    Config(#[from] tonic::transport::Error),
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.display().to_string(),
        source,
    })
}

impl ServerTlsFiles {
    /// The server's TLS configuration, read from the files now.
    pub fn load(&self) -> Result<ServerTlsConfig, TlsError> {
        let certificate = read("the server certificate", &self.certificate)?;
        let key = read("the server key", &self.key)?;
        Ok(ServerTlsConfig::new().identity(Identity::from_pem(certificate, key)))
    }
}

impl ClientTlsFiles {
    /// The client's TLS configuration: only the district CA is trusted.
    pub fn load(&self) -> Result<ClientTlsConfig, TlsError> {
        let ca = read("the district CA certificate", &self.ca)?;
        let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
        if let Some(name) = &self.server_name {
            config = config.domain_name(name.clone());
        }
        Ok(config)
    }
}

/// Whether a server may listen on `listen` without TLS.
pub fn check_plaintext_server(listen: SocketAddr) -> Result<(), TlsError> {
    if listen.ip().is_loopback() {
        Ok(())
    } else {
        Err(TlsError::PlaintextServer(listen))
    }
}

/// Whether `host` (of a URL) is this machine, so plaintext never leaves it.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_stays_on_the_loopback_interface() {
        assert!(check_plaintext_server("127.0.0.1:50061".parse().unwrap()).is_ok());
        assert!(check_plaintext_server("[::1]:50061".parse().unwrap()).is_ok());
        assert!(matches!(
            check_plaintext_server("0.0.0.0:50061".parse().unwrap()),
            Err(TlsError::PlaintextServer(_))
        ));
        assert!(is_loopback_host("localhost"));
        assert!(is_loopback_host("127.0.0.1"));
        assert!(is_loopback_host("[::1]"));
        assert!(!is_loopback_host("pgd-tamnong.local"));
        assert!(!is_loopback_host("10.0.0.5"));
    }
}
