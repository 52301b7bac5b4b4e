//! A district power cut: nats-server acknowledged events it had not fsynced, and its JetStream
//! store comes back older than what it acknowledged. Simulated with real processes by
//! replacing the store directory, while the server is stopped, with a copy taken earlier.
//!
//! A school's lost tail comes back because the school announces its log head and the
//! aggregator asks for what neither its projection nor its stream has; the district office's
//! own events that the projection had applied are published again from the projection.

use std::path::Path;

use anyhow::Context as _;
use async_nats::jetstream;
use chrono::SubsecRound;
use district_aggregator::db::LIVE_SCHEMA;
use district_aggregator::queries::Views;
use district_fixture::office::{demo_school, district_plan, enrolment, office_actor};
use domain::district::DistrictModel;
use domain::{Author, Envelope, Slug};
use school_agent::store::Store;
use wire::pb;

use crate::support::*;

/// Copies directory `from` to `to` (which must not exist), recursively.
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// A copy of the server's JetStream store as it is now, taken with the server stopped (as
/// the disk holds it); the server is started again on the same port.
async fn copy_store(env: &mut Env, copy: &Path) -> anyhow::Result<()> {
    env.nats.stop().await?;
    copy_dir(&env.nats.store_dir().context("a managed server")?, copy)?;
    env.nats.restart().await?;
    wait_reconnected(env).await
}

/// The power cut: the server stops, and its store is what `copy` holds.
async fn roll_back_store(env: &mut Env, copy: &Path) -> anyhow::Result<()> {
    env.nats.stop().await?;
    let store = env.nats.store_dir().context("a managed server")?;
    std::fs::remove_dir_all(&store)?;
    copy_dir(copy, &store)?;
    env.nats.restart().await?;
    wait_reconnected(env).await
}

async fn wait_reconnected(env: &Env) -> anyhow::Result<()> {
    test_harness::wait_until(WAIT, || async {
        env.js.client().connection_state() == async_nats::connection::State::Connected
    })
    .await
    .context("the test's client did not reconnect")
}

/// Every message of the district stream, in stream order, as `(stream seq, body)`.
async fn stream_bodies(js: &jetstream::Context) -> anyhow::Result<Vec<(u64, Vec<u8>)>> {
    let mut stream = js.get_stream(stream_name()).await?;
    let state = stream.info().await?.state.clone();
    let mut bodies = Vec::new();
    if state.messages == 0 {
        return Ok(bodies);
    }
    for seq in state.first_sequence..=state.last_sequence {
        if let Ok(message) = stream.get_raw_message(seq).await {
            bodies.push((seq, message.payload.to_vec()));
        }
    }
    Ok(bodies)
}

/// The seqs `author` has in the district stream.
async fn stored_seqs(js: &jetstream::Context, author: &str) -> anyhow::Result<Vec<u64>> {
    Ok(stream_bodies(js)
        .await?
        .iter()
        .filter_map(|(_, body)| Envelope::parse(body).ok())
        .filter(|e| e.school.as_str() == author)
        .map(|e| e.seq)
        .collect())
}

#[tokio::test]
async fn a_tail_the_district_stream_lost_is_sent_again_by_the_school_after_its_head() {
    const K: u64 = 31; // the plan and 30 activities: applied, then copied
    const N: u64 = 61; // 30 more: acknowledged by JetStream, then lost
    let mut env = Env::start().await.unwrap();
    let copy = tempfile::tempdir().unwrap();
    let copy = copy.path().join("store");

    let running = Running::start(env.settings()).await.unwrap();
    let mut office = running.client().await.unwrap();
    office
        .enroll_school(enrolment(demo_school(AN_HOA), "xã An Hòa"))
        .await
        .unwrap();
    office
        .adopt_district_plan(pb::AdoptDistrictPlanRequest {
            actor: office_actor(),
            plan: Some(district_plan()),
        })
        .await
        .unwrap();

    let school = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa").unwrap();
    let mut settings = school.settings(&env.nats.url());
    settings.relay.heads_interval_ms = 200;
    let agent = agent_fixture::RunningAgent::start(settings).await.unwrap();
    let mut client = agent.client().await.unwrap();
    agent_fixture::requests::adopt_seed_plan_for(&mut client, AN_HOA)
        .await
        .unwrap();
    for n in 1..K {
        client
            .record_activity(agent_fixture::requests::activity_for(AN_HOA, n))
            .await
            .unwrap();
    }
    agent_fixture::wait_delivered(&client, K, WAIT)
        .await
        .unwrap();
    env.wait_applied(AN_HOA, K as i64).await.unwrap();
    env.wait_applied("_district", 2).await.unwrap();
    env.wait_consumed().await.unwrap();
    // The aggregator stops here: what follows is acknowledged to the school, never applied.
    running.stop().await.unwrap();
    copy_store(&mut env, &copy).await.unwrap();

    for n in K..N {
        client
            .record_activity(agent_fixture::requests::activity_for(AN_HOA, n))
            .await
            .unwrap();
    }
    agent_fixture::wait_delivered(&client, N, WAIT)
        .await
        .unwrap();
    assert_eq!(
        stored_seqs(&env.js, AN_HOA).await.unwrap(),
        (1..=N).collect::<Vec<_>>()
    );

    roll_back_store(&mut env, &copy).await.unwrap();
    assert_eq!(
        stored_seqs(&env.js, AN_HOA).await.unwrap(),
        (1..=K).collect::<Vec<_>>(),
        "the stream lost what it acknowledged after the copy"
    );
    let status = agent_fixture::status(&mut client).await.unwrap();
    assert_eq!(
        (status.head_seq, status.last_published_seq, status.backlog),
        (N, N, 0),
        "the school believes everything delivered"
    );

    // The aggregator starts again: nothing is held, nothing new arrives; only the school's
    // head says the district is behind.
    let running = Running::start(env.settings()).await.unwrap();
    env.wait_applied(AN_HOA, N as i64).await.unwrap();
    env.wait_consumed().await.unwrap();
    assert_eq!(env.position(AN_HOA).await.unwrap(), (N as i64, N as i64, 0));
    assert_eq!(
        env.count("SELECT count(*) FROM live.held").await.unwrap(),
        0
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.dead_letters")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        stored_seqs(&env.js, AN_HOA).await.unwrap(),
        (1..=N).collect::<Vec<_>>(),
        "the stream has the tail again"
    );

    // The operator's view: the head heard, the tail no longer missing.
    let office = running.client().await.unwrap();
    test_harness::wait_until(WAIT, || {
        let mut office = office.clone();
        async move {
            office
                .get_ingest_state(pb::GetIngestStateRequest {})
                .await
                .is_ok_and(|state| {
                    state
                        .into_inner()
                        .authors
                        .iter()
                        .any(|a| a.author == AN_HOA && a.last_head_seq == Some(N) && !a.lost_tail)
                })
        }
    })
    .await
    .unwrap();
    assert!(running.state.gaps().is_empty());

    // The views equal the reference model folded over the school's own log and the office's
    // events.
    let mut envelopes: Vec<Envelope> = stream_bodies(&env.js)
        .await
        .unwrap()
        .iter()
        .filter_map(|(_, body)| Envelope::parse(body).ok())
        .filter(|e| e.school == Author::DistrictOffice)
        .collect();
    assert_eq!(envelopes.len(), 2);
    let log = Store::open(&school.log_path()).await.unwrap();
    let events = log.events_from(1, u32::MAX).await.unwrap();
    assert_eq!(events.len() as u64, N);
    envelopes.extend(events.into_iter().map(|e| e.envelope));
    let mut model = DistrictModel::new(
        Slug::parse("p", PROVINCE).unwrap(),
        Slug::parse("d", DISTRICT).unwrap(),
    );
    model.apply_all(&envelopes);
    assert!(model.dead_letters().is_empty());
    assert_eq!(
        model
            .position(&Author::parse("school", AN_HOA).unwrap())
            .applied_seq,
        N
    );
    let views = Views::new(env.db.clone(), LIVE_SCHEMA);
    assert_eq!(views.schools().await.unwrap(), model.schools());
    for text in ["2017-2018-HK1", "2018-Q1", "2017-2018"] {
        let period: domain::Period = text.parse().unwrap();
        assert_eq!(
            views.plan_view(period).await.unwrap(),
            model.plan_view(period).unwrap(),
            "plan view {text}"
        );
        assert_eq!(
            views.completeness(period).await.unwrap(),
            model.completeness(period).unwrap(),
            "completeness {text}"
        );
    }
    let filter = domain::district::views::ActivityFilter::default();
    assert_eq!(
        views
            .search_activities(&filter, Some(100), None)
            .await
            .unwrap(),
        model.search_activities(&filter, Some(100), None).unwrap()
    );
    log.close().await;
    agent.stop().await.unwrap();
    running.stop().await.unwrap();
}

#[tokio::test]
async fn the_offices_own_events_the_stream_lost_after_they_were_applied_are_published_again() {
    let mut env = Env::start().await.unwrap();
    let copy = tempfile::tempdir().unwrap();
    let copy = copy.path().join("store");
    // The copy: the stream as created, before any event.
    copy_store(&mut env, &copy).await.unwrap();

    let running = Running::start(env.settings()).await.unwrap();
    let mut office = running.client().await.unwrap();
    for code in [AN_HOA, PHU_CUONG] {
        office
            .enroll_school(enrolment(demo_school(code), demo_school(code).commune))
            .await
            .unwrap();
    }
    env.wait_applied("_district", 2).await.unwrap();
    env.wait_consumed().await.unwrap();
    let sealed = stream_bodies(&env.js).await.unwrap();
    assert_eq!(sealed.len(), 2);
    running.stop().await.unwrap();

    roll_back_store(&mut env, &copy).await.unwrap();
    assert!(stream_bodies(&env.js).await.unwrap().is_empty());

    let running = Running::start(env.settings()).await.unwrap();
    test_harness::wait_until(WAIT, || async {
        stream_bodies(&env.js).await.is_ok_and(|b| b.len() >= 2)
    })
    .await
    .unwrap();
    let published: Vec<Envelope> = stream_bodies(&env.js)
        .await
        .unwrap()
        .iter()
        .map(|(_, b)| Envelope::parse(b).unwrap())
        .collect();
    // The same envelopes — ids, seqs, types, actors and the data's very bytes — except that
    // `recorded_at` comes back at PostgreSQL's precision, the microsecond.
    let expected: Vec<Envelope> = sealed
        .iter()
        .map(|(_, b)| {
            let mut e = Envelope::parse(b).unwrap();
            e.recorded_at = e.recorded_at.trunc_subsecs(6);
            e
        })
        .collect();
    assert_eq!(published, expected);

    // The office goes on from there: the next enrolment is seq 3, and applied.
    let mut office = running.client().await.unwrap();
    let third = "thcs-an-long";
    let reply = office
        .enroll_school(enrolment(demo_school(third), demo_school(third).commune))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.seq, 3);
    env.wait_applied("_district", 3).await.unwrap();
    env.wait_consumed().await.unwrap();
    assert_eq!(env.position("_district").await.unwrap(), (3, 3, 0));
    assert_eq!(
        stored_seqs(&env.js, "_district").await.unwrap(),
        vec![1, 2, 3]
    );
    running.stop().await.unwrap();
}
