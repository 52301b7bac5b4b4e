//! A school as production will run it: NATS over TLS, a password from the configuration, and a
//! NATS user allowed only the school's own events subject, replay subject and inbox (and its
//! own recovery consumer).

use std::time::Duration;

use test_harness::NatsServer;

use crate::support::*;

const SCHOOL_PASSWORD: &str = "mat-khau-an-hoa";

fn nats_config(dir: &std::path::Path) -> String {
    let subject = subject();
    // Its own recovery consumer, as `event_bus::permissions::school` grants.
    let address = event_bus::subjects::SchoolAddress::parse(PROVINCE, DISTRICT, SCHOOL).unwrap();
    let recovery = event_bus::permissions::school(&address)
        .publish
        .iter()
        .filter(|s| s.starts_with("$JS"))
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    std::fs::write(dir.join("cert.pem"), certified.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem()).unwrap();
    format!(
        r#"
tls {{
  cert_file: "{cert}"
  key_file: "{key}"
}}
authorization {{
  users = [
    {{ user: "district", password: "phong-gd-dt" }}
    {{
      user: "{SCHOOL}", password: "{SCHOOL_PASSWORD}",
      permissions: {{
        publish: {{ allow: ["{subject}", {recovery}] }}
        subscribe: {{ allow: ["truyenthong.replay.{PROVINCE}.{DISTRICT}.{SCHOOL}", "_INBOX.{PROVINCE}.{DISTRICT}.{SCHOOL}.>"] }}
        allow_responses: true
      }}
    }}
  ]
}}
"#,
        cert = dir.join("cert.pem").display(),
        key = dir.join("key.pem").display(),
    )
}

#[tokio::test]
async fn agent_delivers_over_tls_as_a_user_limited_to_its_own_subjects() {
    let certs = tempfile::tempdir().unwrap();
    let nats = NatsServer::start_with_config(&nats_config(certs.path()))
        .await
        .unwrap();
    let ca = certs.path().join("cert.pem");

    // The district owns the stream; the school's user may not create it.
    let district =
        async_nats::ConnectOptions::with_user_and_password("district".into(), "phong-gd-dt".into())
            .add_root_certificates(ca.clone())
            .require_tls(true)
            .connect(nats.url())
            .await
            .unwrap();
    event_bus::stream::ensure_district_stream(
        &async_nats::jetstream::new(district.clone()),
        PROVINCE,
        DISTRICT,
    )
    .await
    .unwrap();

    let school = SchoolDir::new().unwrap();
    let mut settings = school.settings(&nats.url());
    settings.relay.ensure_stream = false;
    settings.nats.user = Some(SCHOOL.into());
    settings.nats.password = Some(SCHOOL_PASSWORD.into());
    settings.nats.tls = Some(event_bus::connect::TlsSettings {
        ca_file: Some(ca.clone()),
        required: true,
        ..Default::default()
    });
    let agent = RunningAgent::start(settings).await.unwrap();
    let mut client = agent.client().await.unwrap();
    adopt_seed_plan(&mut client).await.unwrap();
    for n in 0..50 {
        client.record_activity(activity(n)).await.unwrap();
    }
    wait_delivered(&client, 51, Duration::from_secs(30))
        .await
        .unwrap();

    // Re-send requests reach the school through its own outbound, limited connection.
    let address = event_bus::subjects::SchoolAddress::parse(PROVINCE, DISTRICT, SCHOOL).unwrap();
    let reply =
        event_bus::replay::request_replay(&district, &address, 40, None, Duration::from_secs(5))
            .await
            .unwrap();
    assert!(reply.accepted, "{reply:?}");

    let stream = async_nats::jetstream::new(district)
        .get_stream(event_bus::subjects::stream_name(PROVINCE, DISTRICT).unwrap())
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .state
        .messages;
    assert_eq!(stream, 51);
    agent.stop().await.unwrap();
}
