//! A school re-sends its whole history after everything was applied.
//!
//! First the real way: the district asks the real agent to re-send from seq 1
//! (`event_bus::replay::request_replay`); the agent publishes every event again with its own
//! id, and JetStream drops them all (`Nats-Msg-Id`, inside its duplicate window): the stream
//! does not grow. Then, to prove the aggregator's own de-duplication, copies of every envelope
//! are published with NEW `Nats-Msg-Id`s — as a re-send after JetStream's window would be —
//! and land in the stream; the aggregator counts them as duplicates, applies nothing, and every
//! view is unchanged and still equal to the reference.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use bytes::Bytes;
use demo_data::{DemoSchool, Volume};
use event_bus::headers::CloudEventHeaders;
use event_bus::publish::{OUTBOX_HEAD_HEADER, OutgoingEvent, publish_in_order};
use event_bus::subjects::{SchoolAddress, events_subject};
use futures::StreamExt;

use crate::oracle;
use crate::scenario;
use crate::system::{
    Agent, DISTRICT, DISTRICT_AUTHOR, Ingest, PROVINCE, SEED, System, ingest_state, school,
    wait_applied,
};

const RESENDER: &str = "thcs-tram-chim";
const OTHERS: &[&str] = &["th-an-phong", "mn-hoa-binh"];
const VOLUME: Volume = Volume::DEMO;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn school_resends_its_whole_history() {
    let s = scenario("school_resends_its_whole_history").await;
    let system = System::start(Ingest::DEFAULT).await.unwrap();
    let mut schools: Vec<&DemoSchool> = vec![school(RESENDER)];
    schools.extend(OTHERS.iter().map(|c| school(c)));
    let district_head = system.set_up_district(&schools).await.unwrap();

    let mut agents = Vec::new();
    for school in &schools {
        agents.push(Agent::start(school, &system.nats_url()).await.unwrap());
    }
    let feeds: Vec<_> = agents
        .iter()
        .map(|a| a.feed(demo_data::history(a.school, VOLUME, SEED)))
        .collect();
    let mut heads = BTreeMap::from([(DISTRICT_AUTHOR.to_string(), district_head)]);
    for (agent, feed) in agents.iter().zip(feeds) {
        feed.await.unwrap().unwrap();
        heads.insert(
            agent.code().to_string(),
            agent.wait_delivered(Duration::from_secs(60)).await.unwrap(),
        );
    }
    wait_applied(&system.aggregator, &heads, Duration::from_secs(60))
        .await
        .unwrap();
    system.wait_consumed(Duration::from_secs(60)).await.unwrap();
    let mut office = system.office().await.unwrap();
    let first = oracle::verify(&system.js, &mut office, &heads)
        .await
        .unwrap();
    first.diffs.assert_none("before the re-send");
    let head = heads[RESENDER];
    let in_stream = system.stream_messages().await.unwrap();
    let counters_before = ingest_state(&mut office).await.unwrap().counters.unwrap();
    s.step(format!(
        "all applied and equal to the reference ({} comparisons); {RESENDER} head {head}",
        first.diffs.checked
    ));

    // 1. The district asks the real agent to re-send everything; a plain subscriber watches
    //    its subject, which sees what JetStream then drops.
    let address = SchoolAddress::parse(PROVINCE, DISTRICT, RESENDER).unwrap();
    let district = async_nats::connect(system.nats_url()).await.unwrap();
    let mut watch = district.subscribe(events_subject(&address)).await.unwrap();
    district.flush().await.unwrap();
    let reply =
        event_bus::replay::request_replay(&district, &address, 1, None, Duration::from_secs(5))
            .await
            .unwrap();
    assert!(reply.accepted, "{reply:?}");
    assert_eq!(
        (reply.from_seq, reply.to_seq, reply.head_seq),
        (1, head, head)
    );
    let mut resent = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while (resent.len() as u64) < head {
        let message = tokio::time::timeout_at(deadline.into(), watch.next())
            .await
            .expect("the whole history is re-sent within 30 s")
            .expect("the subscription stays open");
        let envelope = domain::Envelope::parse(&message.payload).unwrap();
        let msg_id = message
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str().to_owned());
        assert_eq!(
            msg_id,
            Some(envelope.id.to_string()),
            "a re-send keeps the event's id"
        );
        resent.insert(envelope.seq);
    }
    assert_eq!(resent, (1..=head).collect::<BTreeSet<u64>>());
    s.step(format!("the agent re-sent seq 1..={head}"));

    // 2. Copies of the same envelopes under new message ids: JetStream cannot recognise them.
    let copies: Vec<OutgoingEvent> = first
        .messages
        .iter()
        .filter(|m| m.author() == RESENDER)
        .map(|m| {
            let mut headers = CloudEventHeaders::from_header_map(
                m.headers.as_ref().expect("stream messages carry headers"),
            )
            .unwrap();
            headers.id = uuid::Uuid::now_v7();
            OutgoingEvent {
                subject: m.subject.clone(),
                headers,
                body: Bytes::from(m.payload.clone()),
                seq: m.envelope.seq,
                outbox_head: m.header(OUTBOX_HEAD_HEADER).and_then(|h| h.parse().ok()),
            }
        })
        .collect();
    assert_eq!(copies.len() as u64, head);
    let outcome = publish_in_order(&system.js, &copies, Duration::from_secs(10)).await;
    assert!(outcome.is_complete(), "{:?}", outcome.error);
    assert_eq!(outcome.duplicates, 0);
    // Stored behind the agent's re-send: had JetStream kept any of that, the stream would
    // have grown by more than the copies.
    assert_eq!(
        system.stream_messages().await.unwrap(),
        in_stream + head,
        "JetStream stored the copies and dropped the agent's re-send"
    );

    test_harness::wait_until(Duration::from_secs(60), || {
        let mut office = office.clone();
        async move {
            ingest_state(&mut office)
                .await
                .ok()
                .and_then(|s| s.counters)
                .is_some_and(|c| c.duplicates >= counters_before.duplicates + head)
        }
    })
    .await
    .expect("every copy is counted as a duplicate");
    system.wait_consumed(Duration::from_secs(60)).await.unwrap();
    let counters = ingest_state(&mut office).await.unwrap().counters.unwrap();
    assert_eq!(
        (
            counters.duplicates - counters_before.duplicates,
            counters.applied - counters_before.applied,
            counters.dead_lettered - counters_before.dead_lettered,
        ),
        (head, 0, 0),
        "every copy is a duplicate, nothing applied again: {counters:?}"
    );
    s.step(format!(
        "{head} copies with new message ids counted as duplicates"
    ));

    let second = oracle::verify(&system.js, &mut office, &heads)
        .await
        .unwrap();
    assert_eq!(second.messages.len() as u64, in_stream + head);
    second.diffs.assert_none("after the re-sends");
    assert!(
        second.snapshot == first.snapshot,
        "the views changed: {:?}",
        second
            .snapshot
            .iter()
            .zip(&first.snapshot)
            .find(|(a, b)| a != b)
            .map(|(a, b)| oracle::diff(&b.1, &a.1))
    );
    second.assert_substantial(200);
    s.step(format!(
        "views unchanged and equal to the reference ({} comparisons)",
        second.diffs.checked
    ));

    for mut agent in agents {
        agent.stop().await.unwrap();
    }
    let mut system = system;
    system.aggregator.stop().await.unwrap();
}
