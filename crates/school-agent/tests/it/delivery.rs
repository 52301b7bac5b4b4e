//! The seed's plan and 1,000 activities arrive on JetStream once each, in order, with the
//! contract's headers and envelope.

use std::time::Duration;

use futures::future::join_all;
use test_harness::NatsServer;

use crate::support::*;

#[tokio::test]
async fn plan_and_a_thousand_activities_arrive_once_in_order_with_headers() {
    let nats = NatsServer::start().await.unwrap();
    let school = SchoolDir::new().unwrap();
    let agent = RunningAgent::start(school.settings(&nats.url()))
        .await
        .unwrap();
    let mut client = agent.client().await.unwrap();

    let reply = adopt_seed_plan(&mut client).await.unwrap();
    assert_eq!(reply.seq, 1);
    assert_eq!(reply.warnings.len(), 1, "the 175/KH-UBND warning");
    assert!(reply.warnings[0].message_vi.contains("175/KH-UBND"));

    // Eight concurrent writers, 125 activities each.
    let writers = (0..8u64).map(|w| {
        let mut c = client.clone();
        async move {
            for i in 0..125u64 {
                c.record_activity(activity(w * 125 + i)).await.unwrap();
            }
        }
    });
    join_all(writers).await;
    wait_delivered(&client, 1001, Duration::from_secs(60))
        .await
        .unwrap();

    let messages = stream_messages(&nats.url()).await.unwrap();
    assert_delivered_once_in_order(&messages, 1001);
    for message in &messages {
        let envelope = domain::Envelope::parse(&message.payload).unwrap();
        let headers = message.headers.as_ref().expect("headers");
        let get = |name: &str| headers.get(name).map(|v| v.as_str().to_string());
        assert_eq!(get("ce-specversion").as_deref(), Some("1.0"));
        assert_eq!(get("ce-id"), Some(envelope.id.to_string()));
        assert_eq!(get("Nats-Msg-Id"), Some(envelope.id.to_string()));
        assert_eq!(
            get("ce-source").as_deref(),
            Some("/truyenthong/dong-thap/tam-nong/thcs-an-hoa")
        );
        assert_eq!(get("ce-type"), Some(envelope.event_type.clone()));
        assert!(get("ce-time").is_some());
        assert_eq!(get("content-type").as_deref(), Some("application/json"));
        let head: u64 = get("Tt-Outbox-Head")
            .expect("outbox head header")
            .parse()
            .unwrap();
        assert!(
            head >= envelope.seq && head <= 1001,
            "outbox head {head} for seq {}",
            envelope.seq
        );
        assert_eq!(message.subject.as_str(), subject());
        assert_eq!(
            (
                envelope.province.as_str(),
                envelope.district.as_str(),
                envelope.school.as_str()
            ),
            (PROVINCE, DISTRICT, SCHOOL)
        );
        assert_eq!(envelope.id.get_version_num(), 7, "UUIDv7");
        envelope
            .decode()
            .expect("every event decodes at its schema");
    }
    let first = domain::Envelope::parse(&messages[0].payload).unwrap();
    assert_eq!(first.event_type, "plan.adopted");
    // The actor is the signed-in account (the fixture's head), not anything the request says.
    assert_eq!(first.actor.person, agent_fixture::HEAD_NAME);
    assert_eq!(first.actor.role, domain::Role::Principal);

    // ListEvents pages through the same log.
    let page = client
        .list_events(wire::pb::ListEventsRequest {
            from_seq: 990,
            limit: 50,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.events.len(), 12);
    assert_eq!(page.head_seq, 1001);
    assert!(page.events.iter().all(|e| e.published));
    agent.stop().await.unwrap();
}
