//! The app over TLS, for a school that opens it to the other PCs of its LAN: passwords and
//! session cookies must not cross the school's network in the clear. The certificate is one
//! the district CA signed for the office PC (`district-admin cap-tls <school> --ten-may-chu
//! <the PC's name or address>`); the browsers of the school's PCs are told to trust that CA
//! once (docs/school-app.md).
//!
//! axum's own `serve` speaks plain HTTP only, so this accepts TCP, completes the TLS handshake
//! with rustls (ring, as the rest of the system) and hands each connection to hyper with the
//! app's router. A handshake that fails (a plain-HTTP visitor, a scanner) is logged and
//! dropped; it never stops the listener.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tracing::{debug, info};

/// Why the app's TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum AppTlsError {
    #[error("cannot read the app's certificate {path}: {reason}")]
    Certificate { path: String, reason: String },
    #[error("cannot read the app's private key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("the app's certificate and key do not go together: {0}")]
    Config(String),
}

/// The TLS acceptor of the certificate chain `certificate` and private key `key` (PEM).
pub fn acceptor(certificate: &Path, key: &Path) -> Result<TlsAcceptor, AppTlsError> {
    let chain = CertificateDer::pem_file_iter(certificate)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| AppTlsError::Certificate {
            path: certificate.display().to_string(),
            reason: e.to_string(),
        })?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| AppTlsError::Key {
        path: key.display().to_string(),
        reason: e.to_string(),
    })?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AppTlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| AppTlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `router` over TLS on `listener` until `shutdown` resolves: no new connections are
/// taken then, and the ones open finish on their own (a page takes milliseconds).
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    info!(address = ?listener.local_addr().ok(), "school app serving over TLS");
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(stream).await {
                Ok(tls) => tls,
                Err(e) => {
                    debug!(%peer, error = %e, "TLS handshake failed; connection dropped");
                    return;
                }
            };
            let service = TowerToHyperService::new(router);
            if let Err(e) = Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await
            {
                debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}
