//! Integration tests of `event_bus` against a real `nats-server` with JetStream (no mocks),
//! started per test by `test_harness::NatsServer`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_nats::connection::State;
use async_nats::jetstream::{self, stream::Stream};
use bytes::Bytes;
use chrono::Utc;
use event_bus::connect::NatsSettings;
use event_bus::headers::{CloudEventHeaders, source_for};
use event_bus::publish::{OutgoingEvent, PublishError, publish_in_order};
use event_bus::replay::{ReplayError, ReplayReply, ReplayRequest};
use event_bus::subjects::{SchoolAddress, events_subject, inbox_prefix, replay_subject};
use event_bus::{connect, ensure_district_stream, request_replay, serve_replay_requests};
use secrecy::SecretString;
use test_harness::{NatsServer, wait_until};
use uuid::Uuid;

use demo_data::{DISTRICT, PROVINCE};
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

fn an_hoa() -> SchoolAddress {
    SchoolAddress::parse(PROVINCE, DISTRICT, "thcs-an-hoa").expect("valid address")
}

fn phu_cuong() -> SchoolAddress {
    SchoolAddress::parse(PROVINCE, DISTRICT, "thcs-phu-cuong").expect("valid address")
}

/// `count` events of `school` with seqs `first_seq..`, each with a fresh UUIDv7 and a small
/// JSON body naming its seq.
fn events(school: &SchoolAddress, first_seq: u64, count: u64) -> Vec<OutgoingEvent> {
    (first_seq..first_seq + count)
        .map(|seq| {
            let id = Uuid::now_v7();
            let body = serde_json::json!({
                "id": id,
                "province": school.province(),
                "district": school.district(),
                "school": school.school(),
                "seq": seq,
                "type": "activity.recorded",
                "schema": 1,
                "data": {"title": format!("Bài viết số {seq}")},
            });
            OutgoingEvent {
                subject: events_subject(school),
                headers: CloudEventHeaders {
                    id,
                    source: source_for(school),
                    event_type: "activity.recorded".into(),
                    time: Utc::now(),
                },
                body: Bytes::from(body.to_string()),
                seq,
                outbox_head: Some(seq + 1),
            }
        })
        .collect()
}

async fn connect_plain(server: &NatsServer) -> anyhow::Result<async_nats::Client> {
    let client = connect(&NatsSettings::insecure_for_development(server.url()), None).await?;
    wait_connected(&client).await?;
    Ok(client)
}

async fn wait_connected(client: &async_nats::Client) -> anyhow::Result<()> {
    wait_until(Duration::from_secs(15), || async {
        client.connection_state() == State::Connected
    })
    .await
    .context("client did not connect")
}

/// Every message in the stream, in stream order: (subject, seq from the body, headers).
async fn stored(stream: &Stream) -> anyhow::Result<Vec<(String, u64, async_nats::HeaderMap)>> {
    let mut stream = stream.clone();
    let last = stream.info().await?.state.last_sequence;
    let mut out = Vec::new();
    for sequence in 1..=last {
        let message = stream.get_raw_message(sequence).await?;
        let body: serde_json::Value = serde_json::from_slice(&message.payload)?;
        let seq = body["seq"].as_u64().context("body without seq")?;
        out.push((message.subject.to_string(), seq, message.headers));
    }
    Ok(out)
}

async fn message_count(stream: &Stream) -> anyhow::Result<u64> {
    let mut stream = stream.clone();
    Ok(stream.info().await?.state.messages)
}

#[tokio::test]
async fn ensure_district_stream_is_idempotent_and_repairs_drift() -> anyhow::Result<()> {
    let server = NatsServer::start().await?;
    let client = connect_plain(&server).await?;
    let js = jetstream::new(client);

    let first = ensure_district_stream(&js, PROVINCE, DISTRICT).await?;
    let second = ensure_district_stream(&js, PROVINCE, DISTRICT).await?;
    let (a, b) = (&first.cached_info(), &second.cached_info());
    assert_eq!(
        a.config.name,
        event_bus::subjects::stream_name(PROVINCE, DISTRICT)?
    );
    assert_eq!(a.config.name, b.config.name);
    assert_eq!(
        a.created, b.created,
        "the second call must not recreate the stream"
    );
    assert_eq!(
        b.config.subjects,
        vec!["truyenthong.events.dong-thap.tam-nong.>"]
    );
    assert_eq!(b.config.duplicate_window, Duration::from_secs(600));
    assert_eq!(b.config.max_message_size, 1024 * 1024);
    assert_eq!(b.config.max_age, Duration::ZERO);
    assert!(b.config.deny_delete && b.config.deny_purge);

    // The other Tam Nông (Phú Thọ) gets its own stream beside it: no subject overlap.
    let other = ensure_district_stream(&js, "phu-tho", DISTRICT).await?;
    assert_eq!(
        other.cached_info().config.name,
        "TRUYENTHONG_PHU-THO_TAM-NONG"
    );

    // A stream left with a narrower subject list and a max age is repaired in place.
    js.delete_stream("TRUYENTHONG_PHU-THO_TAM-NONG").await?;
    js.create_stream(jetstream::stream::Config {
        name: "TRUYENTHONG_PHU-THO_TAM-NONG".into(),
        subjects: vec!["truyenthong.events.phu-tho.tam-nong.thcs-a".into()],
        max_age: Duration::from_secs(86_400),
        ..Default::default()
    })
    .await?;
    let repaired = ensure_district_stream(&js, "phu-tho", DISTRICT).await?;
    assert_eq!(
        repaired.cached_info().config.subjects,
        vec!["truyenthong.events.phu-tho.tam-nong.>"]
    );
    assert_eq!(repaired.cached_info().config.max_age, Duration::ZERO);

    // Storage cannot be changed in place: reported, not papered over.
    js.delete_stream("TRUYENTHONG_PHU-THO_TAM-NONG").await?;
    js.create_stream(jetstream::stream::Config {
        name: "TRUYENTHONG_PHU-THO_TAM-NONG".into(),
        subjects: vec!["truyenthong.events.phu-tho.tam-nong.>".into()],
        storage: jetstream::stream::StorageType::Memory,
        ..Default::default()
    })
    .await?;
    let err = ensure_district_stream(&js, "phu-tho", DISTRICT)
        .await
        .expect_err("memory storage must be refused");
    assert!(
        matches!(
            err,
            event_bus::StreamError::Incompatible {
                field: "storage",
                ..
            }
        ),
        "{err}"
    );

    // Bad codes never reach the server.
    let err = ensure_district_stream(&js, PROVINCE, "Tam Nông")
        .await
        .expect_err("invalid district code");
    assert!(err.to_string().starts_with("district code"), "{err}");
    Ok(())
}

#[tokio::test]
async fn publish_in_order_stores_500_events_in_order_with_headers() -> anyhow::Result<()> {
    let server = NatsServer::start().await?;
    let client = connect_plain(&server).await?;
    let js = jetstream::new(client);
    let stream = ensure_district_stream(&js, PROVINCE, DISTRICT).await?;
    let school = an_hoa();
    let batch = events(&school, 1, 500);

    let started = Instant::now();
    let outcome = publish_in_order(&js, &batch, ACK_TIMEOUT).await;
    let elapsed = started.elapsed();
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.acked, 500);
    assert_eq!(outcome.duplicates, 0);
    eprintln!("published and acked 500 events in {elapsed:?}");

    let messages = stored(&stream).await?;
    assert_eq!(messages.len(), 500);
    for (index, ((subject, seq, headers), sent)) in messages.iter().zip(&batch).enumerate() {
        assert_eq!(*seq, index as u64 + 1, "stream order must be seq order");
        assert_eq!(subject, "truyenthong.events.dong-thap.tam-nong.thcs-an-hoa");
        assert_eq!(CloudEventHeaders::from_header_map(headers)?, sent.headers);
        let get = |name: &str| headers.get(name).map(|v| v.as_str().to_owned());
        assert_eq!(get("ce-specversion").as_deref(), Some("1.0"));
        assert_eq!(get("content-type").as_deref(), Some("application/json"));
        assert_eq!(get("Nats-Msg-Id"), Some(sent.headers.id.to_string()));
        let time = get("ce-time").context("ce-time")?;
        assert!(time.ends_with('Z'), "{time}");
    }
    Ok(())
}

#[tokio::test]
async fn republishing_the_same_ids_is_reported_as_duplicate_and_not_stored_twice()
-> anyhow::Result<()> {
    let server = NatsServer::start().await?;
    let client = connect_plain(&server).await?;
    let js = jetstream::new(client);
    let stream = ensure_district_stream(&js, PROVINCE, DISTRICT).await?;
    let batch = events(&an_hoa(), 1, 30);

    let first = publish_in_order(&js, &batch[..20], ACK_TIMEOUT).await;
    assert_eq!((first.acked, first.duplicates), (20, 0));
    assert!(first.error.is_none());

    // The relay lost the acks and sends everything again.
    let again = publish_in_order(&js, &batch[..20], ACK_TIMEOUT).await;
    assert_eq!((again.acked, again.duplicates), (20, 20));
    assert!(again.error.is_none());
    assert_eq!(message_count(&stream).await?, 20);

    // An overlapping batch: the first ten are duplicates, the rest are new.
    let overlap = publish_in_order(&js, &batch[10..], ACK_TIMEOUT).await;
    assert_eq!((overlap.acked, overlap.duplicates), (20, 10));
    assert!(overlap.error.is_none());
    let seqs: Vec<u64> = stored(&stream).await?.into_iter().map(|m| m.1).collect();
    assert_eq!(seqs, (1..=30).collect::<Vec<_>>());
    Ok(())
}

#[tokio::test]
async fn publish_while_the_server_is_down_fails_with_nothing_acked_then_recovers()
-> anyhow::Result<()> {
    let mut server = NatsServer::start().await?;
    let client = connect_plain(&server).await?;
    let js = jetstream::new(client.clone());
    let stream = ensure_district_stream(&js, PROVINCE, DISTRICT).await?;
    let batch = events(&an_hoa(), 1, 10);

    let before = publish_in_order(&js, &batch[..5], ACK_TIMEOUT).await;
    assert_eq!(before.acked, 5);

    server.stop().await?;
    wait_until(Duration::from_secs(5), || async {
        client.connection_state() != State::Connected
    })
    .await
    .context("client did not notice the server stopped")?;

    let down = publish_in_order(&js, &batch[5..], ACK_TIMEOUT).await;
    assert_eq!(down.acked, 0);
    assert_eq!(down.duplicates, 0);
    // A known disconnection fails fast: the batch is refused before anything is sent, so the
    // reason is the connection state, never an ack timeout.
    match &down.error {
        Some(PublishError::Unavailable { seq: 6, reason }) => assert!(
            reason.starts_with("not connected to NATS"),
            "refused up front, not after waiting for acks: {reason}"
        ),
        other => panic!("expected Unavailable at seq 6, got {other:?}"),
    }

    server.restart().await?;
    let reconnect = Instant::now();
    wait_connected(&client).await?;
    eprintln!("reconnected {:?} after restart", reconnect.elapsed());

    let after = publish_in_order(&js, &batch[5..], ACK_TIMEOUT).await;
    assert!(after.error.is_none(), "{:?}", after.error);
    assert_eq!((after.acked, after.duplicates), (5, 0));
    let seqs: Vec<u64> = stored(&stream).await?.into_iter().map(|m| m.1).collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
    Ok(())
}

#[tokio::test]
async fn publish_stops_at_the_first_failed_event_and_counts_only_the_prefix() -> anyhow::Result<()>
{
    let server = NatsServer::start().await?;
    let client = connect_plain(&server).await?;
    let js = jetstream::new(client);
    let stream = ensure_district_stream(&js, PROVINCE, DISTRICT).await?;
    // A neighbouring stream that only takes tiny messages, to get a JetStream error reply.
    js.create_stream(jetstream::stream::Config {
        name: "TINY".into(),
        subjects: vec!["truyenthong.events.phu-tho.tam-nong.>".into()],
        max_message_size: 64,
        ..Default::default()
    })
    .await?;

    let mut batch = events(&an_hoa(), 1, 6);
    // Seq 3 lands in the tiny stream and is refused by JetStream.
    batch[2].subject = "truyenthong.events.phu-tho.tam-nong.thcs-an-hoa".into();
    // Seq 5 has a header value that cannot go on the wire.
    batch[4].headers.event_type = "bad\ntype".into();

    let outcome = publish_in_order(&js, &batch, ACK_TIMEOUT).await;
    assert_eq!(outcome.acked, 2);
    match &outcome.error {
        Some(err @ PublishError::Rejected { seq: 3, .. }) => {
            assert!(err.to_string().contains("message size"), "{err}");
        }
        other => panic!("expected Rejected at seq 3, got {other:?}"),
    }
    // Seq 4 was sent in the same pipeline and stored; it is simply not counted.
    assert_eq!(message_count(&stream).await?, 3);

    // Re-sending from seq 4: a duplicate, then the invalid seq 5 stops the batch.
    let resent = publish_in_order(&js, &batch[3..], ACK_TIMEOUT).await;
    assert_eq!((resent.acked, resent.duplicates), (1, 1));
    assert!(
        matches!(resent.error, Some(PublishError::Invalid { seq: 5, .. })),
        "{:?}",
        resent.error
    );

    // A subject no stream captures: no responders, which is "try later", not a rejection.
    let mut lost = events(&an_hoa(), 7, 1);
    lost[0].subject = "truyenthong.events.an-giang.cho-moi.thcs-a".into();
    let outcome = publish_in_order(&js, &lost, ACK_TIMEOUT).await;
    assert_eq!(outcome.acked, 0);
    match &outcome.error {
        Some(PublishError::Unavailable { seq: 7, reason }) => {
            assert!(reason.contains("no stream"), "{reason}");
        }
        other => panic!("expected Unavailable at seq 7, got {other:?}"),
    }

    // A batch out of seq order stops where the order breaks.
    let mut disordered = events(&an_hoa(), 8, 3);
    disordered[2].seq = 9;
    let outcome = publish_in_order(&js, &disordered, ACK_TIMEOUT).await;
    assert_eq!(outcome.acked, 2);
    assert!(
        matches!(outcome.error, Some(PublishError::Invalid { seq: 9, .. })),
        "{:?}",
        outcome.error
    );
    Ok(())
}

#[tokio::test]
async fn replay_request_round_trip() -> anyhow::Result<()> {
    let server = NatsServer::start().await?;
    let school = an_hoa();
    let school_client = connect(
        &NatsSettings::insecure_for_development(server.url()),
        Some(inbox_prefix(&school)),
    )
    .await?;
    wait_connected(&school_client).await?;
    let district = connect_plain(&server).await?;

    const HEAD: u64 = 42;
    let handled = Arc::new(AtomicUsize::new(0));
    let (stop, stop_rx) = tokio::sync::broadcast::channel(1);
    let serving = {
        let handled = handled.clone();
        let school = school.clone();
        let client = school_client.clone();
        tokio::spawn(async move {
            serve_replay_requests(
                &client,
                &school,
                move |request: ReplayRequest| {
                    let handled = handled.clone();
                    async move {
                        handled.fetch_add(1, Ordering::SeqCst);
                        if request.from_seq > HEAD {
                            return ReplayReply {
                                accepted: false,
                                from_seq: request.from_seq,
                                to_seq: 0,
                                head_seq: HEAD,
                                message: format!("nothing after seq {HEAD}"),
                            };
                        }
                        let to_seq = request.to_seq.unwrap_or(HEAD).min(HEAD);
                        ReplayReply {
                            accepted: true,
                            from_seq: request.from_seq,
                            to_seq,
                            head_seq: HEAD,
                            message: format!("re-sending {} events", to_seq - request.from_seq + 1),
                        }
                    }
                },
                stop_rx,
            )
            .await
        })
    };
    // Wait until the subscription is live on the server.
    wait_until(Duration::from_secs(5), || async {
        district
            .request(
                replay_subject(&school),
                Bytes::from_static(b"{\"from_seq\":1}"),
            )
            .await
            .is_ok()
    })
    .await?;
    let warmup = handled.load(Ordering::SeqCst);

    let timeout = Duration::from_secs(2);
    let open = request_replay(&district, &school, 7, None, timeout).await?;
    assert_eq!(
        open,
        ReplayReply {
            accepted: true,
            from_seq: 7,
            to_seq: 42,
            head_seq: 42,
            message: "re-sending 36 events".into()
        }
    );
    let closed = request_replay(&district, &school, 7, Some(9), timeout).await?;
    assert!(closed.accepted);
    assert_eq!((closed.from_seq, closed.to_seq), (7, 9));
    let refused = request_replay(&district, &school, 50, None, timeout).await?;
    assert!(!refused.accepted);
    assert_eq!(refused.message, "nothing after seq 42");

    // Invalid ranges never leave the district.
    let err = request_replay(&district, &school, 9, Some(7), timeout)
        .await
        .expect_err("to below from");
    assert!(matches!(err, ReplayError::InvalidRange(_)), "{err}");

    // Malformed requests sent by hand are answered with the reason; the handler never sees them.
    for (body, reason) in [
        (&b"not json"[..], "malformed re-send request"),
        (
            &b"{\"to_seq\":3}"[..],
            "malformed re-send request: missing field `from_seq`",
        ),
        (
            &b"{\"from_seq\":0}"[..],
            "invalid re-send request: from_seq must be at least 1",
        ),
    ] {
        let reply = district
            .request(replay_subject(&school), Bytes::copy_from_slice(body))
            .await?;
        let reply: ReplayReply = serde_json::from_slice(&reply.payload)?;
        assert!(!reply.accepted);
        assert!(reply.message.starts_with(reason), "{}", reply.message);
    }
    assert_eq!(handled.load(Ordering::SeqCst), warmup + 3);

    // Shutdown ends the loop cleanly; then the school is "offline" to the district. The
    // server drops the subscription a moment after the loop returns (async-nats' flush is not
    // a server round trip), so a request in that moment may still time out.
    stop.send(())?;
    tokio::time::timeout(Duration::from_secs(5), serving).await???;
    wait_until(Duration::from_secs(5), || async {
        matches!(
            request_replay(&district, &school, 1, None, Duration::from_millis(200)).await,
            Err(ReplayError::SchoolOffline(_))
        )
    })
    .await
    .context("the school still looks online after shutdown")?;
    Ok(())
}

/// The permission model of `docs/contract.md`: a school's NATS user may publish only on its own events
/// subject, subscribe only to its replay subject and its own inbox, and answer requests made
/// to it. Connected with its inbox prefix, it still gets JetStream acks and serves re-send
/// requests; it cannot publish as another school.
#[tokio::test]
async fn a_school_user_limited_to_its_own_subjects_can_publish_and_serve_replays()
-> anyhow::Result<()> {
    let school = an_hoa();
    let conf = format!(
        r#"
authorization {{
  users = [
    {{ user: district, password: district-secret }}
    {{
      user: thcs-an-hoa
      password: school-secret
      permissions: {{
        publish: {{ allow: ["{events}"] }}
        subscribe: {{ allow: ["{replay}", "{inbox}.>"] }}
        allow_responses: true
      }}
    }}
  ]
}}
"#,
        events = events_subject(&school),
        replay = replay_subject(&school),
        inbox = inbox_prefix(&school),
    );
    let server = NatsServer::start_with_config(&conf).await?;
    let settings = |user: &str, password: &str| {
        let mut settings = NatsSettings::insecure_for_development(server.url());
        settings.user = Some(user.into());
        settings.password = Some(SecretString::from(password.to_owned()));
        settings
    };

    let district = connect(&settings("district", "district-secret"), None).await?;
    wait_connected(&district).await?;
    let district_js = jetstream::new(district.clone());
    let stream = ensure_district_stream(&district_js, PROVINCE, DISTRICT).await?;

    // The school, connected the way the school agent connects.
    let school_client = connect(
        &settings("thcs-an-hoa", "school-secret"),
        Some(inbox_prefix(&school)),
    )
    .await?;
    wait_connected(&school_client).await?;
    let school_js = jetstream::new(school_client.clone());

    let batch = events(&school, 1, 10);
    let outcome = publish_in_order(&school_js, &batch, ACK_TIMEOUT).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.acked, 10);
    assert_eq!(message_count(&stream).await?, 10);

    // Re-send requests reach it and its answers come back (allow_responses).
    let (stop, stop_rx) = tokio::sync::broadcast::channel(1);
    let serving = {
        let client = school_client.clone();
        let school = school.clone();
        tokio::spawn(async move {
            serve_replay_requests(
                &client,
                &school,
                |request: ReplayRequest| async move {
                    ReplayReply {
                        accepted: true,
                        from_seq: request.from_seq,
                        to_seq: 10,
                        head_seq: 10,
                        message: "ok".into(),
                    }
                },
                stop_rx,
            )
            .await
        })
    };
    // Retry until the school's subscription is live on the server.
    let answered = std::sync::Mutex::new(None);
    wait_until(Duration::from_secs(5), || async {
        match request_replay(&district, &school, 3, None, Duration::from_millis(500)).await {
            Ok(reply) => {
                *answered
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reply);
                true
            }
            Err(err) => {
                eprintln!("replay not served yet: {err}");
                false
            }
        }
    })
    .await
    .context("the school's re-send subscription never answered")?;
    let reply = answered
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .context("a reply")?;
    assert!(reply.accepted);
    assert_eq!((reply.from_seq, reply.to_seq), (3, 10));
    stop.send(())?;
    tokio::time::timeout(Duration::from_secs(5), serving).await???;

    // Publishing as another school is refused by the server. The refusal is an async `-ERR`
    // (seen by the connection's event callback), so the publish itself just gets no ack.
    let other = events(&phu_cuong(), 1, 1);
    let refused = publish_in_order(&school_js, &other, Duration::from_secs(1)).await;
    assert_eq!(refused.acked, 0);
    assert!(
        matches!(
            refused.error,
            Some(PublishError::Unavailable { seq: 1, .. })
        ),
        "{:?}",
        refused.error
    );
    assert_eq!(
        message_count(&stream).await?,
        10,
        "nothing stored for the other school"
    );

    // The same refusal, observed on a raw connection's event callback.
    let (errors_tx, mut errors_rx) = tokio::sync::mpsc::unbounded_channel();
    let raw = async_nats::ConnectOptions::with_user_and_password(
        "thcs-an-hoa".into(),
        "school-secret".into(),
    )
    .custom_inbox_prefix(inbox_prefix(&school))
    .event_callback(move |event| {
        let errors_tx = errors_tx.clone();
        async move {
            if let async_nats::Event::ServerError(err) = event {
                errors_tx.send(err.to_string()).ok();
            }
        }
    })
    .connect(server.url())
    .await?;
    raw.publish(events_subject(&phu_cuong()), Bytes::from_static(b"{}"))
        .await?;
    raw.flush().await?;
    let error = tokio::time::timeout(Duration::from_secs(5), errors_rx.recv())
        .await?
        .context("no server error event")?;
    assert!(
        error.to_lowercase().contains("permissions violation"),
        "{error}"
    );

    // Without the inbox prefix the school cannot receive acks at all: the prefix is what
    // makes the permission model work. (The publish itself is allowed and stored.)
    let unprefixed = connect(&settings("thcs-an-hoa", "school-secret"), None).await?;
    wait_connected(&unprefixed).await?;
    let unprefixed_js = jetstream::new(unprefixed);
    let more = events(&school, 11, 1);
    let no_ack = publish_in_order(&unprefixed_js, &more, Duration::from_secs(1)).await;
    assert_eq!(no_ack.acked, 0);
    assert!(
        matches!(
            no_ack.error,
            Some(PublishError::Unavailable { seq: 11, .. })
        ),
        "{:?}",
        no_ack.error
    );
    assert_eq!(
        message_count(&stream).await?,
        11,
        "stored, but never acknowledged"
    );
    Ok(())
}
