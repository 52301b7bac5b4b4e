//! A server with `[grpc.tls]` speaks only TLS: a client that trusts the district CA gets
//! answers, a plaintext client and a client trusting another CA get none, and a server told
//! to listen in plaintext off the loopback interface refuses to start.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use service_runtime::{
    ClientTlsFiles, GrpcServer, GrpcSettings, ServeError, ServerAddress, ServerTlsFiles, TlsError,
};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// A CA in `dir` (`<stem>-ca.pem`) and, when `server`, a server certificate it signed for
/// localhost and 127.0.0.1 (`server.pem`, chain, and `server.key`).
fn make_ca(dir: &Path, stem: &str, server: bool) -> (ClientTlsFiles, Option<ServerTlsFiles>) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let ca = ca_params.clone().self_signed(&ca_key).unwrap();
    let ca_path = dir.join(format!("{stem}-ca.pem"));
    std::fs::write(&ca_path, ca.pem()).unwrap();
    let client = ClientTlsFiles {
        ca: ca_path,
        server_name: None,
    };
    if !server {
        return (client, None);
    }
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let certificate = dir.join("server.pem");
    std::fs::write(&certificate, format!("{}{}", cert.pem(), ca.pem())).unwrap();
    let key_path = dir.join("server.key");
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (
        client,
        Some(ServerTlsFiles {
            certificate,
            key: key_path,
        }),
    )
}

async fn health(address: &ServerAddress) -> Result<(), String> {
    let channel = address.connect().await.map_err(|e| e.to_string())?;
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .map(|_| ())
        .map_err(|status| status.to_string())
}

#[tokio::test]
async fn a_tls_server_answers_only_clients_that_trust_the_district_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (district_ca, server_files) = make_ca(dir.path(), "district", true);
    let (other_ca, _) = make_ca(dir.path(), "other", false);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let settings = GrpcSettings::<0>::new(listener.local_addr().unwrap(), server_files);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        GrpcServer::new(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .configure(&settings)
            .serve(listener, async move {
                let _ = stopped.await;
            }),
    );

    let trusted = ServerAddress::new(
        format!("https://localhost:{port}"),
        Some(district_ca.clone()),
    );
    health(&trusted).await.unwrap();
    let by_ip = ServerAddress::new(format!("https://127.0.0.1:{port}"), Some(district_ca));
    health(&by_ip).await.unwrap();

    let plaintext = ServerAddress::new(format!("http://127.0.0.1:{port}"), None);
    let refused = health(&plaintext).await;
    assert!(
        refused.is_err(),
        "a plaintext client got an answer from a TLS server"
    );

    let stranger = ServerAddress::new(format!("https://localhost:{port}"), Some(other_ca));
    let refused = health(&stranger).await;
    assert!(
        refused.is_err(),
        "a client trusting another CA got an answer"
    );

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_server_will_not_listen_in_plaintext_off_the_loopback_interface() {
    // Bound on loopback (the test cannot rely on another interface), but configured as if it
    // listened on every interface: the check reads the configured address.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let settings = GrpcSettings::<0>::new("0.0.0.0:50061".parse().unwrap(), None);
    let result = GrpcServer::new(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .configure(&settings)
        .serve(listener, std::future::pending())
        .await;
    assert!(
        matches!(result, Err(ServeError::Tls(TlsError::PlaintextServer(_)))),
        "{result:?}"
    );
}

#[test]
fn a_client_will_not_dial_plaintext_off_the_loopback_interface() {
    let remote = ServerAddress::new("http://10.20.30.40:50061", None);
    assert!(matches!(
        remote.endpoint(),
        Err(TlsError::PlaintextClient(_))
    ));
    let no_ca = ServerAddress::new("https://pgd.tamnong:50061", None);
    assert!(matches!(no_ca.endpoint(), Err(TlsError::NoCa(_))));
}
