//! The real school agent on the secured district: configured with another school's key, it is
//! refused and says so in Vietnamese in its status (the server's refusal reaches a client only
//! as an error event and an acknowledgement that never comes); with its own key it delivers.

use std::time::Duration;

use agent_fixture::Settings;
use event_bus::connect::{NatsSettings, TlsSettings};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(60);

/// An Hòa's agent settings on the secured district, connecting with the seed in `seed_file`.
fn secured_settings(
    district: &DistrictNats,
    school: &agent_fixture::SchoolDir,
    seed_file: &std::path::Path,
) -> Settings {
    let mut settings = school.settings(&district.url());
    settings.nats = NatsSettings {
        nkey_file: Some(seed_file.to_owned()),
        tls: Some(TlsSettings {
            ca_file: Some(district.ca()),
            client_cert: None,
            client_key: None,
            required: true,
        }),
        ..NatsSettings::new(district.url())
    };
    // A school may not create the stream; the administrator did.
    settings.relay.ensure_stream = false;
    settings
}

#[tokio::test]
async fn an_agent_with_another_schools_key_is_told_the_district_refused_it() {
    let district = DistrictNats::start().await.unwrap();
    let an_hoa_key = district.issue(AN_HOA);
    let phu_cuong_key = district.issue(PHU_CUONG);
    let school = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa").unwrap();

    // An Hòa's configuration with Phú Cường's key: it connects (the key is valid) but may
    // publish only as Phú Cường.
    let agent =
        agent_fixture::RunningAgent::start(secured_settings(&district, &school, &phu_cuong_key))
            .await
            .unwrap();
    let mut client = agent.client().await.unwrap();
    agent_fixture::requests::adopt_seed_plan_for(&mut client, AN_HOA)
        .await
        .unwrap();
    let status = agent_fixture::wait_for_status(&client, WAIT, |s| {
        s.last_error.contains("từ chối quyền gửi")
    })
    .await
    .unwrap();
    assert!(
        status.last_error.contains("permission denied"),
        "{}",
        status.last_error
    );
    assert_eq!(status.last_published_seq, 0);
    assert_eq!(
        district.stream_messages().await,
        0,
        "nothing reached the stream"
    );
    agent.stop().await.unwrap();

    // With its own key the same log is delivered.
    let agent =
        agent_fixture::RunningAgent::start(secured_settings(&district, &school, &an_hoa_key))
            .await
            .unwrap();
    let client = agent.client().await.unwrap();
    agent_fixture::wait_delivered(&client, 1, WAIT)
        .await
        .unwrap();
    assert_eq!(district.stream_messages().await, 1);
    agent.stop().await.unwrap();
}
