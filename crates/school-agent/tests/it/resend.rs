//! The district asks a school to re-send from a seq, over NATS; the school answers on its own
//! outbound connection.

use std::time::Duration;

use event_bus::replay::request_replay;
use event_bus::subjects::SchoolAddress;
use futures::StreamExt;
use test_harness::NatsServer;

use crate::support::*;

#[tokio::test]
async fn district_request_re_sends_delivered_events() {
    let nats = NatsServer::start().await.unwrap();
    let school = SchoolDir::new().unwrap();
    let agent = RunningAgent::start(school.settings(&nats.url()))
        .await
        .unwrap();
    let mut client = agent.client().await.unwrap();
    adopt_seed_plan(&mut client).await.unwrap();
    for n in 0..20 {
        client.record_activity(activity(n)).await.unwrap();
    }
    wait_delivered(&client, 21, Duration::from_secs(30))
        .await
        .unwrap();

    // The district listens on the subject (core NATS sees re-sends JetStream deduplicates).
    let district = async_nats::connect(nats.url()).await.unwrap();
    let mut seen = district.subscribe(subject()).await.unwrap();
    district.flush().await.unwrap();
    let address = SchoolAddress::parse(PROVINCE, DISTRICT, SCHOOL).unwrap();
    let reply = request_replay(&district, &address, 15, None, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(reply.accepted, "{reply:?}");
    assert_eq!((reply.from_seq, reply.to_seq, reply.head_seq), (15, 21, 21));

    let mut seqs = Vec::new();
    while seqs.len() < 7 {
        let message = tokio::time::timeout(Duration::from_secs(10), seen.next())
            .await
            .unwrap()
            .unwrap();
        seqs.push(domain::Envelope::parse(&message.payload).unwrap().seq);
    }
    assert_eq!(seqs, (15..=21).collect::<Vec<_>>());

    let beyond = request_replay(&district, &address, 99, None, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(!beyond.accepted);
    agent.stop().await.unwrap();
}
