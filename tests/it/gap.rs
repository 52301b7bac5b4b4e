//! A message lost on the way leaves a gap: reported, then healed by the real agent's re-send.
//!
//! The district stream denies deletes, so the loss is made the way it happens: JetStream
//! acknowledged a school's events — the agent marked them all sent — and then the district
//! never had one of them. Here the agent delivers its whole history to another `nats-server`
//! (a stand-in for storage that lost data after acknowledging), and its messages reach the
//! district's stream, exactly as published (same headers, same `Nats-Msg-Id`s), except seq
//! [`LOST`]. The aggregator holds everything after the gap, reports it in `GetIngestState`, and
//! asks the school to re-send; the school is off, then comes back on the district's NATS with
//! nothing left in its outbox, answers the request, and re-publishes from the gap. JetStream
//! drops what it already has, the missing event is stored, and the gap heals. Equal to the
//! reference.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream;
use demo_data::{DemoSchool, Volume};
use test_harness::NatsServer;

use crate::oracle;
use crate::scenario;
use crate::system::{
    Agent, DISTRICT, DISTRICT_AUTHOR, Ingest, PROVINCE, SEED, System, author, ingest_state, school,
    wait_applied,
};

const GAPPED: &str = "th-phu-duc";
const OTHERS: &[&str] = &["thcs-an-long", "mn-tan-cong-sinh"];
const VOLUME: Volume = Volume::DEMO;
/// The seq that never reaches the district.
const LOST: u64 = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_message_leaves_a_gap_that_heals() {
    let s = scenario("a_dropped_message_leaves_a_gap_that_heals").await;
    let system = System::start(Ingest::DEFAULT).await.unwrap();
    let elsewhere = NatsServer::start().await.unwrap();
    let elsewhere_js = jetstream::new(async_nats::connect(elsewhere.url()).await.unwrap());
    event_bus::stream::ensure_district_stream(&elsewhere_js, PROVINCE, DISTRICT)
        .await
        .unwrap();
    let mut schools: Vec<&DemoSchool> = vec![school(GAPPED)];
    schools.extend(OTHERS.iter().map(|c| school(c)));
    let district_head = system.set_up_district(&schools).await.unwrap();

    let mut others = Vec::new();
    for code in OTHERS {
        others.push(
            Agent::start(school(code), &system.nats_url())
                .await
                .unwrap(),
        );
    }
    let other_feeds: Vec<_> = others
        .iter()
        .map(|a| a.feed(demo_data::history(a.school, VOLUME, SEED)))
        .collect();

    // The school records everything; JetStream (elsewhere) acknowledges it all.
    let mut agent = Agent::start(school(GAPPED), &elsewhere.url())
        .await
        .unwrap();
    agent
        .feed(demo_data::history(agent.school, VOLUME, SEED))
        .await
        .unwrap()
        .unwrap();
    let head = agent.wait_delivered(Duration::from_secs(60)).await.unwrap();
    assert!(head > LOST + 10);
    agent.stop().await.unwrap();
    s.step(format!(
        "{GAPPED} recorded seq 1..={head}, all marked sent; the agent is off"
    ));

    // What reaches the district: every message as published, but one.
    let published = oracle::read_stream(&elsewhere_js).await.unwrap();
    assert_eq!(published.len() as u64, head);
    let mut acks = Vec::new();
    for m in published.iter().filter(|m| m.envelope.seq != LOST) {
        acks.push(
            system
                .js
                .publish_with_headers(
                    m.subject.clone(),
                    m.headers.clone().expect("published with headers"),
                    m.payload.clone().into(),
                )
                .await
                .unwrap(),
        );
    }
    for ack in acks {
        let ack = ack.await.unwrap();
        assert!(!ack.duplicate);
    }

    // Held behind the gap and reported; the re-send requests find nobody.
    let mut office = system.office().await.unwrap();
    let reported = std::sync::Mutex::new(None);
    test_harness::wait_until(Duration::from_secs(60), || {
        let (mut office, reported) = (office.clone(), &reported);
        async move {
            let Ok(state) = ingest_state(&mut office).await else {
                return false;
            };
            let a = author(&state, GAPPED).cloned();
            let done = a.as_ref().is_some_and(|a| {
                a.applied_seq == LOST - 1 && a.held == head - LOST && a.resend_requests >= 2
            });
            *reported.lock().unwrap() = Some(state);
            done
        }
    })
    .await
    .unwrap_or_else(|e| {
        panic!(
            "the gap was not reported: {e}: {:?}",
            reported.lock().unwrap()
        )
    });
    let reported = reported
        .into_inner()
        .unwrap()
        .and_then(|state| author(&state, GAPPED).cloned())
        .expect("the gapped school's state");
    s.step(format!("the gap is reported: {reported:?}"));
    assert_eq!(
        (
            reported.applied_seq,
            reported.applied_events,
            reported.held,
            reported.first_missing_seq,
            reported.first_held_seq,
            reported.last_seq,
        ),
        (
            LOST - 1,
            LOST - 1,
            head - LOST,
            Some(LOST),
            Some(LOST + 1),
            Some(head)
        )
    );
    assert!(reported.last_resend_at.is_some());
    assert!(!reported.last_resend_reply.is_empty());

    // The school comes back, on the district's NATS, with an empty outbox.
    agent.restart_with(&system.nats_url()).await.unwrap();
    let status = agent.status().await.unwrap();
    assert_eq!((status.head_seq, status.backlog), (head, 0));
    let healed = BTreeMap::from([(GAPPED.to_string(), head)]);
    let state = wait_applied(&system.aggregator, &healed, Duration::from_secs(60))
        .await
        .unwrap();
    let after = author(&state, GAPPED).unwrap();
    s.step(format!("healed: {after:?}"));
    assert_eq!(
        (
            after.held,
            after.first_missing_seq,
            after.first_held_seq,
            after.resend_requests
        ),
        (0, None, None, 0)
    );

    let mut heads = BTreeMap::from([
        (DISTRICT_AUTHOR.to_string(), district_head),
        (GAPPED.to_string(), head),
    ]);
    for (other, feed) in others.iter().zip(other_feeds) {
        feed.await.unwrap().unwrap();
        heads.insert(
            other.code().to_string(),
            other.wait_delivered(Duration::from_secs(60)).await.unwrap(),
        );
    }
    wait_applied(&system.aggregator, &heads, Duration::from_secs(60))
        .await
        .unwrap();
    system.wait_consumed(Duration::from_secs(60)).await.unwrap();

    let verified = oracle::verify(&system.js, &mut office, &heads)
        .await
        .unwrap();
    s.step(format!(
        "{} stream messages folded; {} comparisons",
        verified.messages.len(),
        verified.diffs.checked
    ));
    // The lost event arrived once, re-sent under its own id; the re-sent others were dropped
    // by JetStream.
    let gapped: Vec<_> = verified
        .messages
        .iter()
        .filter(|m| m.author() == GAPPED)
        .collect();
    assert_eq!(gapped.len() as u64, head);
    let lost: Vec<_> = gapped.iter().filter(|m| m.envelope.seq == LOST).collect();
    assert_eq!(lost.len(), 1);
    let original = published
        .iter()
        .find(|m| m.envelope.seq == LOST)
        .expect("published");
    assert_eq!(lost[0].envelope, original.envelope);
    assert_eq!(
        lost[0].header("Nats-Msg-Id"),
        Some(original.envelope.id.to_string().as_str())
    );
    verified.assert_substantial(200);
    verified.diffs.assert_none("after the gap healed");

    agent.stop().await.unwrap();
    for mut other in others {
        other.stop().await.unwrap();
    }
    let mut system = system;
    system.aggregator.stop().await.unwrap();
}
