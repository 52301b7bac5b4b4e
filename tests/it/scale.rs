//! Ten schools, about a thousand events each, through real agents, the real aggregator
//! process and PostgreSQL: every view equals the reference.

use std::collections::BTreeMap;
use std::time::Duration;

use demo_data::{DemoSchool, TAM_NONG_SCHOOLS, Volume};

use crate::oracle;
use crate::scenario;
use crate::system::{Agent, DISTRICT_AUTHOR, Ingest, SEED, System, wait_applied};

/// About 1,000 events per school on average (from ~550 for the least diligent to ~1,350).
const VOLUME: Volume = Volume {
    activities: 980,
    feedback: 140,
    press_issues: 20,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_schools_a_thousand_events_each_equal_the_reference() {
    let s = scenario("ten_schools_a_thousand_events_each_equal_the_reference").await;
    let system = System::start(Ingest::DEFAULT).await.unwrap();
    s.step("nats-server, PostgreSQL and the aggregator process are up");
    let schools: Vec<&DemoSchool> = TAM_NONG_SCHOOLS.iter().collect();
    assert_eq!(schools.len(), 10);
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
        let sent = feed.await.unwrap().unwrap() as u64;
        let head = agent.wait_delivered(Duration::from_secs(60)).await.unwrap();
        assert_eq!(head, sent, "{}: one event per request", agent.code());
        heads.insert(agent.code().to_string(), head);
    }
    let events: u64 = heads.values().sum();
    s.step(format!(
        "{events} events recorded by 10 agents and acknowledged by JetStream ({:?})",
        heads
    ));

    wait_applied(&system.aggregator, &heads, Duration::from_secs(120))
        .await
        .unwrap();
    system.wait_consumed(Duration::from_secs(60)).await.unwrap();
    s.step("the aggregator applied every author to its head");

    let mut office = system.office().await.unwrap();
    let verified = oracle::verify(&system.js, &mut office, &heads)
        .await
        .unwrap();
    s.step(format!(
        "{} stream messages folded; {} comparisons",
        verified.messages.len(),
        verified.diffs.checked
    ));
    assert_eq!(verified.messages.len() as u64, events);
    verified.assert_substantial(5_000);
    verified.diffs.assert_none("ten schools");

    for mut agent in agents {
        agent.stop().await.unwrap();
    }
    let mut system = system;
    system.aggregator.stop().await.unwrap();
}
