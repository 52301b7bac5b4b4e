//! Faults during ingest: the aggregator process SIGKILLed while it works through a backlog
//! (twice) and restarted, PostgreSQL stopped and restarted while schools record and publish,
//! NATS restarted while they record and the aggregator applies. In the end every
//! `(school, seq)` is applied once and every view equals the reference.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;

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

/// Waits until the ingest's applied total reaches `at_least` and has just moved (so the
/// ingest is busy right now); returns that total.
async fn wait_progress(system: &System, at_least: u64, timeout: Duration) -> anyhow::Result<u64> {
    let seen = std::sync::Mutex::new(None::<u64>);
    let moved = test_harness::wait_until(timeout, || {
        let seen = &seen;
        async move {
            let Ok(mut office) = system.office().await else {
                return false;
            };
            let Ok(state) = ingest_state(&mut office).await else {
                return false;
            };
            let total = applied_total(&state);
            let mut seen = seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let previous = seen.replace(total);
            total >= at_least && previous.is_some_and(|p| p < total)
        }
    })
    .await;
    let seen = seen
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    moved.with_context(|| {
        format!("the ingest did not reach {at_least} applied events (at {seen:?})")
    })?;
    seen.context("no ingest state was read")
}

/// Splits each history by position: 30 %, 25 %, 25 %, 20 %.
fn parts(history: Vec<DemoRequest>) -> [Vec<DemoRequest>; 4] {
    let n = history.len();
    let mut rest = history;
    let d = rest.split_off(n * 4 / 5);
    let c = rest.split_off(n * 11 / 20);
    let b = rest.split_off(n * 3 / 10);
    [rest, b, c, d]
}

/// Feeds one part of every history, concurrently.
fn feed_all(agents: &[Agent], parts: &mut [[Vec<DemoRequest>; 4]], part: usize) -> Vec<Feed> {
    agents
        .iter()
        .zip(parts.iter_mut())
        .map(|(a, p)| a.feed(std::mem::take(&mut p[part])))
        .collect()
}

type Feed = tokio::task::JoinHandle<anyhow::Result<usize>>;

async fn finish(feeds: Vec<Feed>) {
    for feed in feeds {
        feed.await
            .expect("a feed task panicked")
            .expect("every request is accepted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregator_sigkilled_mid_batch_and_restarted() {
    let s = scenario("aggregator_sigkilled_mid_batch_and_restarted").await;
    let mut system = System::start(Ingest::SMALL_BATCHES).await.unwrap();
    let schools: Vec<&DemoSchool> = SCHOOLS.iter().map(|c| school(c)).collect();
    let district_head = system.set_up_district(&schools).await.unwrap();
    let mut parts: Vec<[Vec<DemoRequest>; 4]> = schools
        .iter()
        .map(|s| parts(demo_data::history(s, VOLUME, SEED)))
        .collect();
    let mut agents = Vec::new();
    for school in &schools {
        agents.push(Agent::start(school, &system.nats_url()).await.unwrap());
    }

    // 1. Twice: a backlog builds up while the aggregator is stopped; it starts on it and is
    //    SIGKILLed right after it is seen applying more, halfway through; it is restarted and
    //    catches up.
    for round in 0..2 {
        system.aggregator.stop().await.unwrap();
        finish(feed_all(&agents, &mut parts, round)).await;
        for agent in &agents {
            agent.wait_delivered(Duration::from_secs(60)).await.unwrap();
        }
        let mut office = system.office().await;
        assert!(office.is_err(), "the aggregator is stopped");
        let in_stream = system.stream_messages().await.unwrap();
        system.aggregator.restart().await.unwrap();
        office = system.office().await;
        let applied = applied_total(&ingest_state(office.as_mut().unwrap()).await.unwrap());
        s.step(format!(
            "round {round}: the aggregator starts at {applied} applied of {in_stream} in the stream"
        ));
        // Kill at the first sign of progress: the later the kill, the likelier the aggregator
        // has already finished a small backlog on a fast run.
        let at_least = applied + 1;
        let seen = wait_progress(&system, at_least, Duration::from_secs(60))
            .await
            .unwrap();
        system.aggregator.sigkill().await.unwrap();
        s.step(format!(
            "round {round}: SIGKILLed the aggregator while applying, at {seen}+ applied"
        ));
        assert!(
            seen < in_stream,
            "the kill must land while there is something left to apply"
        );
        system.aggregator.restart().await.unwrap();
        let mut office = system.office().await.unwrap();
        let after = applied_total(&ingest_state(&mut office).await.unwrap());
        assert!(after >= seen, "committed work is never lost");
        test_harness::wait_until(Duration::from_secs(60), || {
            let mut office = office.clone();
            async move {
                ingest_state(&mut office)
                    .await
                    .is_ok_and(|s| applied_total(&s) == in_stream)
            }
        })
        .await
        .unwrap();
        s.step(format!(
            "round {round}: restarted with {after} applied, caught up to {in_stream}"
        ));
    }

    let open_transactions = system
        .pg
        .log_path()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map_or(0, |log| {
            log.matches("unexpected EOF on client connection with an open transaction")
                .count()
        });
    s.step(format!(
        "PostgreSQL saw {open_transactions} connection(s) die inside an open transaction"
    ));

    // 2. PostgreSQL goes away while the schools record and publish, and comes back.
    let before = system.stream_messages().await.unwrap();
    system.pg.stop().await.unwrap();
    finish(feed_all(&agents, &mut parts, 2)).await;
    // The outage lasts until the schools have delivered this part (the stream grew while
    // the database was away) and the office has seen a query refused.
    for agent in &agents {
        agent.wait_delivered(Duration::from_secs(60)).await.unwrap();
    }
    test_harness::wait_until(Duration::from_secs(60), || async {
        match system.office().await {
            Ok(mut office) => office
                .list_schools(wire::pb::ListSchoolsRequest {})
                .await
                .is_err(),
            Err(_) => false,
        }
    })
    .await
    .expect("the office's queries are refused while PostgreSQL is down");
    let during = system.stream_messages().await.unwrap();
    system.pg.restart().await.unwrap();
    s.step(format!(
        "PostgreSQL was down while the stream grew {before} → {during}; the office's queries \
         were refused meanwhile"
    ));
    assert!(during > before);

    // 3. NATS restarts while the schools record and the aggregator applies.
    let before = system.stream_messages().await.unwrap();
    let feeds = feed_all(&agents, &mut parts, 3);
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
