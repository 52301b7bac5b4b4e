//! Faults during ingest: the aggregator process SIGKILLed while it works through a backlog
//! (twice) and restarted, PostgreSQL stopped and restarted while schools record and publish,
//! NATS restarted while they record and the aggregator applies. In the end every
//! `(school, seq)` is applied once and every view equals the reference.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use demo_data::{DemoRequest, DemoSchool, Volume};

use crate::oracle;
use crate::scenario;
use crate::system::{
    Agent, DISTRICT_AUTHOR, Ingest, SEED, System, applied_total, ingest_state, school, wait_applied,
};

const SCHOOLS: &[&str] = &[
    "thcs-an-hoa",
    "thcs-phu-cuong",
    "th-tram-chim-1",
    "mn-phu-hiep",
];

/// A few hundred events per school.
const VOLUME: Volume = Volume {
    activities: 220,
    feedback: 36,
    press_issues: 6,
};

/// Polls the ingest until its applied total reaches `at_least` and has just moved (so the
/// ingest is busy right now); returns that total.
async fn wait_progress(system: &System, at_least: u64, timeout: Duration) -> anyhow::Result<u64> {
    let deadline = Instant::now() + timeout;
    let mut previous = None;
    loop {
        if let Ok(mut office) = system.office().await
            && let Ok(state) = ingest_state(&mut office).await
        {
            let total = applied_total(&state);
            if total >= at_least && previous.is_some_and(|p| p < total) {
                return Ok(total);
            }
            previous = Some(total);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the ingest did not reach {at_least} applied events in {timeout:?} (at {previous:?})"
        );
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}

/// Splits each history by position: the first half, the next quarter, the rest.
fn thirds(history: Vec<DemoRequest>) -> [Vec<DemoRequest>; 3] {
    let (a, b) = (history.len() / 2, history.len() * 3 / 4);
    let mut rest = history;
    let last = rest.split_off(b);
    let middle = rest.split_off(a);
    [rest, middle, last]
}

/// Feeds one part of every history, concurrently.
fn feed_all(agents: &[Agent], parts: &mut [[Vec<DemoRequest>; 3]], part: usize) -> Vec<Feed> {
    agents
        .iter()
        .zip(parts.iter_mut())
        .map(|(a, p)| a.feed(std::mem::take(&mut p[part])))
        .collect()
}

type Feed = tokio::task::JoinHandle<anyhow::Result<usize>>;

async fn finish(feeds: Vec<Feed>) {
    for feed in feeds {
        feed.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregator_sigkilled_mid_batch_and_restarted() {
    let s = scenario("aggregator_sigkilled_mid_batch_and_restarted").await;
    let mut system = System::start(Ingest::SMALL_BATCHES).await.unwrap();
    let schools: Vec<&DemoSchool> = SCHOOLS.iter().map(|c| school(c)).collect();
    let district_head = system.set_up_district(&schools).await.unwrap();
    let mut parts: Vec<[Vec<DemoRequest>; 3]> = schools
        .iter()
        .map(|s| thirds(demo_data::history(s, VOLUME, SEED)))
        .collect();
    let mut agents = Vec::new();
    for school in &schools {
        agents.push(Agent::start(school, &system.nats_url()).await.unwrap());
    }

    // 1. A backlog builds up while the aggregator is down; it is SIGKILLed twice while it
    //    works through it, each time right after seeing it apply more.
    system.aggregator.stop().await.unwrap();
    finish(feed_all(&agents, &mut parts, 0)).await;
    for agent in &agents {
        agent.wait_delivered(Duration::from_secs(60)).await.unwrap();
    }
    let backlog = system.stream_messages().await.unwrap();
    s.step(format!(
        "{backlog} messages in the stream; the aggregator starts on them"
    ));
    system.aggregator.restart().await.unwrap();
    for fraction in [0.2, 0.55] {
        let at_least = (backlog as f64 * fraction) as u64;
        let seen = wait_progress(&system, at_least, Duration::from_secs(60))
            .await
            .unwrap();
        system.aggregator.sigkill().await.unwrap();
        s.step(format!(
            "SIGKILLed the aggregator while applying: {seen}+ of {backlog} applied"
        ));
        assert!(
            seen < backlog,
            "the kill must land while there is something left to apply"
        );
        system.aggregator.restart().await.unwrap();
        let mut office = system.office().await.unwrap();
        let after = applied_total(&ingest_state(&mut office).await.unwrap());
        s.step(format!(
            "restarted: {after} applied events survived the kill"
        ));
        assert!(after >= seen, "committed work is never lost");
    }

    // 2. PostgreSQL goes away while the schools record and publish, and comes back.
    let before = system.stream_messages().await.unwrap();
    system.pg.stop().await.unwrap();
    let outage = Instant::now();
    finish(feed_all(&agents, &mut parts, 1)).await;
    let mut refused = false;
    while outage.elapsed() < Duration::from_secs(3) {
        let mut office = system.office().await.unwrap();
        refused |= ingest_state(&mut office).await.is_err();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let during = system.stream_messages().await.unwrap();
    system.pg.restart().await.unwrap();
    s.step(format!(
        "PostgreSQL was down for {:.1} s while the stream grew {before} → {during}; \
         the office's queries were refused meanwhile: {refused}",
        outage.elapsed().as_secs_f64()
    ));
    assert!(during > before);

    // 3. NATS restarts while the schools record and the aggregator applies.
    let before = system.stream_messages().await.unwrap();
    let feeds = feed_all(&agents, &mut parts, 2);
    test_harness::wait_until(Duration::from_secs(30), || async {
        system
            .stream_messages()
            .await
            .is_ok_and(|n| n >= before + 20)
    })
    .await
    .unwrap();
    system.nats.restart().await.unwrap();
    s.step(format!(
        "NATS restarted at {} messages in the stream",
        before + 20
    ));
    finish(feeds).await;

    let mut heads = BTreeMap::from([(DISTRICT_AUTHOR.to_string(), district_head)]);
    for agent in &agents {
        let head = agent.wait_delivered(Duration::from_secs(60)).await.unwrap();
        heads.insert(agent.code().to_string(), head);
    }
    wait_applied(&system.aggregator, &heads, Duration::from_secs(90))
        .await
        .unwrap();
    system.wait_consumed(Duration::from_secs(60)).await.unwrap();
    s.step(format!(
        "every author applied to its head after {} aggregator starts",
        system.aggregator.starts
    ));

    let mut office = system.office().await.unwrap();
    let verified = oracle::verify(&system.js, &mut office, &heads)
        .await
        .unwrap();
    s.step(format!(
        "{} stream messages folded; {} comparisons",
        verified.messages.len(),
        verified.diffs.checked
    ));
    verified.assert_substantial(300);
    verified.diffs.assert_none("after SIGKILLs and outages");

    for mut agent in agents {
        agent.stop().await.unwrap();
    }
    system.aggregator.stop().await.unwrap();
}
