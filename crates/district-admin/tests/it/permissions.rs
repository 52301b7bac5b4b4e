//! What the shipped configuration allows and refuses, identity by identity.

use std::time::Duration;

use bytes::Bytes;
use event_bus::subjects::{SchoolAddress, events_subject, replay_subject, stream_name};
use futures::StreamExt as _;

use crate::support::*;

fn address(school: &str) -> SchoolAddress {
    SchoolAddress::parse(PROVINCE, DISTRICT, school).unwrap()
}

#[tokio::test]
async fn an_anonymous_client_and_one_that_does_not_trust_the_district_ca_are_refused() {
    let district = DistrictNats::start().await.unwrap();

    let anonymous = connect_with(&district.url(), None, Some(&district.ca()), None).await;
    assert!(anonymous.is_err(), "an anonymous client was let in");

    // A school's valid key, but a client that trusts only another CA (the system's roots):
    // the district server's certificate does not verify, so no connection at all.
    let seed_file = district.issue(AN_HOA);
    let untrusting = connect_with(&district.url(), seed(&seed_file), None, None).await;
    let err = untrusting.expect_err("a client that does not trust the district CA connected");
    assert!(
        err.to_string().to_lowercase().contains("tls")
            || err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );

    // Plain text to the TLS port is refused too.
    let plain = async_nats::ConnectOptions::with_nkey(seed(&seed_file).unwrap())
        .connect(format!("nats://127.0.0.1:{}", district.nats.port()))
        .await;
    assert!(plain.is_err(), "a plain-text client connected");

    // The school's own key with the district's CA is let in.
    district.connect_school(AN_HOA, &seed_file).await.unwrap();
}

#[tokio::test]
async fn a_school_publishes_as_itself_only_and_cannot_touch_the_stream_or_others_subjects() {
    let district = DistrictNats::start().await.unwrap();
    let an_hoa_seed = district.issue(AN_HOA);
    district.issue(PHU_CUONG);
    let an_hoa = district.connect_school(AN_HOA, &an_hoa_seed).await.unwrap();
    let js = async_nats::jetstream::new(an_hoa.clone());

    // Its own subject: acknowledged by JetStream, with no $JS.API right at all.
    js.publish(events_subject(&address(AN_HOA)), Bytes::from_static(b"{}"))
        .await
        .unwrap()
        .await
        .expect("a school's publish on its own subject is acknowledged");
    assert_eq!(district.stream_messages().await, 1);

    // Another school's subject: the server drops it; the client sees only a time-out.
    let spoof = js
        .publish(
            events_subject(&address(PHU_CUONG)),
            Bytes::from_static(b"{}"),
        )
        .await
        .unwrap()
        .await;
    assert!(
        spoof.is_err(),
        "a publish as another school was acknowledged"
    );
    assert_eq!(
        district.stream_messages().await,
        1,
        "nothing reached the stream"
    );

    // The stream: no delete, purge, update, consumer or read.
    let stream = stream_name(PROVINCE, DISTRICT).unwrap();
    assert!(js.delete_stream(&stream).await.is_err(), "delete");
    assert!(js.get_stream(&stream).await.is_err(), "stream info");
    let admin_js = async_nats::jetstream::new(district.admin().await);
    let mut config = admin_js
        .get_stream(&stream)
        .await
        .unwrap()
        .cached_info()
        .config
        .clone();
    config.max_age = Duration::from_secs(60);
    assert!(js.update_stream(config).await.is_err(), "update");
    let purge: Result<serde_json::Value, _> = js
        .request(format!("STREAM.PURGE.{stream}"), &serde_json::json!({}))
        .await;
    assert!(purge.is_err(), "purge");
    let consumer = js
        .create_consumer_on_stream(
            async_nats::jetstream::consumer::pull::Config {
                durable_name: Some("spy".into()),
                ..Default::default()
            },
            &stream,
        )
        .await;
    assert!(consumer.is_err(), "create a consumer");
    let direct: Result<serde_json::Value, _> = js
        .request(
            format!("STREAM.MSG.GET.{stream}"),
            &serde_json::json!({"seq": 1}),
        )
        .await;
    assert!(direct.is_err(), "read a message");
    // The stream is whole and unchanged.
    let info = admin_js
        .get_stream(&stream)
        .await
        .unwrap()
        .cached_info()
        .clone();
    assert_eq!(info.state.messages, 1);
    assert_eq!(info.config.max_age, Duration::ZERO);
    assert_eq!(info.state.consumer_count, 0);

    // Another school's re-send requests and inbox: subscribing gets nothing.
    let admin = district.admin().await;
    let mut replay = an_hoa
        .subscribe(replay_subject(&address(PHU_CUONG)))
        .await
        .unwrap();
    let mut inbox = an_hoa
        .subscribe(format!("_INBOX.{PROVINCE}.{DISTRICT}.{PHU_CUONG}.>"))
        .await
        .unwrap();
    let mut every_inbox = an_hoa.subscribe("_INBOX.>").await.unwrap();
    an_hoa.flush().await.unwrap();
    admin
        .publish(
            replay_subject(&address(PHU_CUONG)),
            Bytes::from_static(b"{}"),
        )
        .await
        .unwrap();
    admin
        .publish(
            format!("_INBOX.{PROVINCE}.{DISTRICT}.{PHU_CUONG}.reply"),
            Bytes::from_static(b"ack"),
        )
        .await
        .unwrap();
    admin.flush().await.unwrap();
    for (what, subscription) in [
        ("another school's re-send subject", &mut replay),
        ("another school's inbox", &mut inbox),
        ("every inbox", &mut every_inbox),
    ] {
        let got = tokio::time::timeout(DENIED_WAIT, subscription.next()).await;
        assert!(
            !matches!(got, Ok(Some(_))),
            "a school received a message on {what}"
        );
    }
}

#[tokio::test]
async fn the_aggregator_reads_the_stream_but_cannot_change_it() {
    let district = DistrictNats::start().await.unwrap();
    let aggregator = connect_with(
        &district.url(),
        seed(&district.nats_dir().service_seed("_aggregator")),
        Some(&district.ca()),
        Some(event_bus::subjects::aggregator_inbox_prefix(PROVINCE, DISTRICT).unwrap()),
    )
    .await
    .unwrap();
    let js = async_nats::jetstream::new(aggregator);
    let stream = stream_name(PROVINCE, DISTRICT).unwrap();
    let mut readable = js.get_stream(&stream).await.expect("stream info");
    readable.info().await.unwrap();
    assert!(js.delete_stream(&stream).await.is_err(), "delete");
    // It may publish on a school's events subject: that is how a school's signed bundle,
    // verified against the school's registered key, enters the stream
    // (`district_aggregator::bundles`, docs/bundles.md). The server cannot tell a verified
    // bundle's event from any other; the aggregator's code publishes nothing else there.
    let bundled = js
        .publish(events_subject(&address(AN_HOA)), Bytes::from_static(b"{}"))
        .await
        .unwrap()
        .await;
    assert!(bundled.is_ok(), "a bundle's event is refused: {bundled:?}");
    assert_eq!(district.stream_messages().await, 1);
}
