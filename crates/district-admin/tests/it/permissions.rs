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
async fn a_school_reads_back_its_own_events_only_through_its_recovery_consumer() {
    let district = DistrictNats::start().await.unwrap();
    let an_hoa_seed = district.issue(AN_HOA);
    let phu_cuong_seed = district.issue(PHU_CUONG);
    let an_hoa = district.connect_school(AN_HOA, &an_hoa_seed).await.unwrap();
    let phu_cuong = district
        .connect_school(PHU_CUONG, &phu_cuong_seed)
        .await
        .unwrap();
    let js = async_nats::jetstream::new(an_hoa.clone());
    let their_js = async_nats::jetstream::new(phu_cuong.clone());
    for n in 0..3 {
        js.publish(
            events_subject(&address(AN_HOA)),
            format!("an-hoa {n}").into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
        their_js
            .publish(
                events_subject(&address(PHU_CUONG)),
                format!("phu-cuong {n}").into(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }

    // Its own events, in order, over its own connection; the consumer is gone after.
    let mut reader = event_bus::recover::SchoolReader::open(&js, &address(AN_HOA))
        .await
        .unwrap();
    let mut got = Vec::new();
    loop {
        let batch = reader.next_batch().await.unwrap();
        if batch.is_empty() {
            break;
        }
        got.extend(
            batch
                .into_iter()
                .map(|m| String::from_utf8(m.payload.to_vec()).unwrap()),
        );
    }
    reader.close().await;
    assert_eq!(got, ["an-hoa 0", "an-hoa 1", "an-hoa 2"]);
    let last = event_bus::recover::last_message(&js, &address(AN_HOA))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&last.payload[..], b"an-hoa 2");
    let stream = stream_name(PROVINCE, DISTRICT).unwrap();
    let admin_js = async_nats::jetstream::new(district.admin().await);
    let consumers = || async {
        admin_js
            .get_stream(&stream)
            .await
            .unwrap()
            .info()
            .await
            .unwrap()
            .state
            .consumer_count
    };
    assert_eq!(
        consumers().await,
        0,
        "the recovery consumer is deleted after"
    );

    // Its consumer name with another school's filter: the create subject is not its own.
    let own_name = event_bus::recover::consumer_name(&address(AN_HOA));
    let other_filter = js
        .create_consumer_on_stream(
            async_nats::jetstream::consumer::pull::Config {
                name: Some(own_name.clone()),
                filter_subject: events_subject(&address(PHU_CUONG)),
                ..Default::default()
            },
            &stream,
        )
        .await;
    assert!(
        other_filter.is_err(),
        "a consumer on another school's subject"
    );
    // Its own create subject with another school's filter in the body: the server refuses
    // a body filter that differs from the subject's (nats-server 2.9.10).
    let mismatched: Result<serde_json::Value, _> = js
        .request(
            format!(
                "CONSUMER.CREATE.{stream}.{own_name}.{}",
                events_subject(&address(AN_HOA))
            ),
            &serde_json::json!({
                "stream_name": stream,
                "config": {
                    "name": own_name,
                    "filter_subject": events_subject(&address(PHU_CUONG)),
                    "deliver_policy": "all",
                    "ack_policy": "none",
                },
            }),
        )
        .await;
    // Refused either way: an error answer, or no answer at all.
    if let Ok(answer) = mismatched {
        assert!(
            answer.get("error").is_some(),
            "the server created a consumer whose filter differs from its subject: {answer}"
        );
    }
    assert_eq!(consumers().await, 0);

    // Another school's recovery consumer (made by the administrator here): neither created
    // nor pulled from by An Hòa.
    let their_name = event_bus::recover::consumer_name(&address(PHU_CUONG));
    let theirs = js
        .create_consumer_on_stream(
            async_nats::jetstream::consumer::pull::Config {
                name: Some(their_name.clone()),
                filter_subject: events_subject(&address(PHU_CUONG)),
                ..Default::default()
            },
            &stream,
        )
        .await;
    assert!(
        theirs.is_err(),
        "An Hòa created Phú Cường's recovery consumer"
    );
    admin_js
        .create_consumer_on_stream(
            async_nats::jetstream::consumer::pull::Config {
                name: Some(their_name.clone()),
                filter_subject: events_subject(&address(PHU_CUONG)),
                ack_policy: async_nats::jetstream::consumer::AckPolicy::None,
                ..Default::default()
            },
            &stream,
        )
        .await
        .unwrap();
    let pulled: Result<async_nats::Message, _> = tokio::time::timeout(
        DENIED_WAIT,
        an_hoa.request(
            format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{their_name}"),
            r#"{"batch":1,"no_wait":true}"#.into(),
        ),
    )
    .await
    .map_err(|_| ())
    .and_then(|r| r.map_err(|_| ()));
    assert!(
        pulled.is_err(),
        "An Hòa pulled from Phú Cường's consumer: {:?}",
        pulled.map(|m| m.payload)
    );
    // And it cannot delete it either.
    let js_stream = js.get_stream_no_info(&stream).await.unwrap();
    assert!(js_stream.delete_consumer(&their_name).await.is_err());
    assert_eq!(consumers().await, 1);
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
