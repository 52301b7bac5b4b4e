//! The real school agent, in this process, records through gRPC and delivers through its
//! relay; the aggregator applies what it sends and notes its last contact and backlog. The
//! aggregator's own gRPC server answers health checks.

use chrono::{DateTime, Utc};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use wire::pb;

use crate::support::*;

/// An activity the agent records, from the same details the sealed logs use.
fn activity_request(n: u64) -> pb::RecordActivityRequest {
    let d = details(n);
    pb::RecordActivityRequest {
        header: agent_fixture::requests::header_for(AN_HOA),
        activity_id: String::new(),
        activity: Some(pb::Activity {
            date: d.date.to_string(),
            area: u32::from(d.area.number()),
            topic: d.topic.map(|t| t.as_str().to_owned()).unwrap_or_default(),
            channel: pb::Channel::SchoolPortal as i32,
            title: d.title,
            summary: d.summary,
            audience: d.audience.unwrap_or_default(),
            reach: d.reach,
            partner: String::new(),
            evidence_url: d.evidence_url.unwrap_or_default(),
            responsible: pb::Role::VicePrincipal as i32,
        }),
    }
}

#[tokio::test]
async fn a_real_school_agent_is_applied_with_its_contact_and_backlog() {
    let env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    publish(&env.js, &district.envelopes).await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();

    let school = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa").unwrap();
    let agent = agent_fixture::RunningAgent::start(school.settings(&env.nats.url()))
        .await
        .unwrap();
    let mut client = agent.client().await.unwrap();
    agent_fixture::requests::adopt_seed_plan_for(&mut client, AN_HOA)
        .await
        .unwrap();
    for n in 0..10 {
        client.record_activity(activity_request(n)).await.unwrap();
    }

    env.wait_applied(AN_HOA, 11).await.unwrap();
    env.wait_consumed().await.unwrap();
    assert_eq!(env.position(AN_HOA).await.unwrap(), (11, 11, 0));
    assert_eq!(
        env.count("SELECT count(*) FROM live.activities WHERE live")
            .await
            .unwrap(),
        10
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.dead_letters")
            .await
            .unwrap(),
        0
    );
    let contact: (DateTime<Utc>, Option<i64>, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT last_contact_at, last_seq, outbox_head, backlog FROM ops.contacts WHERE author = $1")
            .bind(AN_HOA)
            .fetch_one(&env.db)
            .await
            .unwrap();
    assert_eq!(contact.1, Some(11));
    assert_eq!(
        (contact.2, contact.3),
        (Some(11), Some(0)),
        "the agent says its head; nothing is left behind"
    );
    assert!(
        (Utc::now() - contact.0).num_seconds().abs() < 120,
        "arrival time, {}",
        contact.0
    );

    // Health of the aggregator's gRPC server.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", running.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let status = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.status, ServingStatus::Serving as i32);

    agent.stop().await.unwrap();
    running.stop().await.unwrap();
}
