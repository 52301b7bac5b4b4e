//! A gRPC server with the certificate `district-admin cap-tls` issues answers clients that
//! trust the district's `ca.pem`, by host name and by IP address.

use chrono::NaiveDate;
use district_admin::pki;
use service_runtime::{ClientTlsFiles, GrpcServer, GrpcSettings, ServerAddress, ServerTlsFiles};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

#[tokio::test]
async fn a_service_certificate_from_the_district_ca_serves_grpc_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
    pki::ensure_ca(dir.path(), "Phòng GD-ĐT Tam Nông", today).unwrap();
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let files = pki::issue_service_certificate(dir.path(), "aggregator", &names, today).unwrap();
    assert!(files.certificate.ends_with("grpc/aggregator.pem"));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let settings = GrpcSettings::<0>::new(
        listener.local_addr().unwrap(),
        Some(ServerTlsFiles {
            certificate: files.certificate,
            key: files.key,
        }),
    );
    tokio::spawn(
        GrpcServer::new(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .configure(&settings)
            .serve(listener, std::future::pending()),
    );
    let ca = ClientTlsFiles {
        ca: pki::CaFiles::in_dir(dir.path()).cert,
        server_name: None,
    };
    for host in ["localhost", "127.0.0.1"] {
        let address = ServerAddress::new(format!("https://{host}:{port}"), Some(ca.clone()));
        let channel = address.connect().await.unwrap();
        HealthClient::new(channel)
            .check(HealthCheckRequest::default())
            .await
            .unwrap();
    }
}
