//! A gap (seq 12 after 10) is held and reported, never skipped; the school is asked to re-send
//! the missing seq over NATS, and when it does, everything held is applied in order.

use std::sync::{Arc, Mutex};

use event_bus::replay::{ReplayReply, ReplayRequest, serve_replay_requests};
use event_bus::subjects::SchoolAddress;
use tokio::sync::broadcast;

use crate::support::*;

#[tokio::test]
async fn a_gap_is_held_then_healed_when_the_school_re_sends() {
    let env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    let log = SchoolLog::with_plan_and_activities(AN_HOA, 12); // seqs 1..=13
    let running = Running::start(env.settings()).await.unwrap();
    publish(&env.js, &district.envelopes).await.unwrap();
    // Seq 11 is lost on the way; 12 and 13 arrive.
    let (before, after) = log.envelopes.split_at(10);
    publish(&env.js, before).await.unwrap();
    publish(&env.js, &after[1..]).await.unwrap();

    env.wait_applied(AN_HOA, 10).await.unwrap();
    env.wait_consumed().await.unwrap();
    test_harness::wait_until(WAIT, || async { !running.state.gaps().is_empty() })
        .await
        .unwrap();
    let gap = running.state.gaps().remove(0);
    assert_eq!(
        (
            gap.school.as_str(),
            gap.first_missing,
            gap.first_held,
            gap.held
        ),
        (AN_HOA, 11, 12, 2)
    );
    let held: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, reason FROM live.held WHERE author = $1 ORDER BY seq")
            .bind(AN_HOA)
            .fetch_all(&env.db)
            .await
            .unwrap();
    assert_eq!(held, vec![(12, "gap".to_owned()), (13, "gap".to_owned())]);
    assert_eq!(
        env.applied_seq(AN_HOA).await.unwrap(),
        Some(10),
        "never skipped"
    );

    // The school comes online: a real NATS responder on its replay subject, which re-sends
    // what it is asked for through JetStream, as the agent's relay does.
    let school_client = async_nats::connect(env.nats.url()).await.unwrap();
    let school_js = async_nats::jetstream::new(school_client.clone());
    let requests = Arc::new(Mutex::new(Vec::<ReplayRequest>::new()));
    let (stop_tx, stop_rx) = broadcast::channel(1);
    let responder = {
        let requests = requests.clone();
        let envelopes = log.envelopes.clone();
        let address = SchoolAddress::parse(PROVINCE, DISTRICT, AN_HOA).unwrap();
        tokio::spawn(async move {
            let handler = |request: ReplayRequest| {
                let js = school_js.clone();
                let envelopes = envelopes.clone();
                requests.lock().unwrap().push(request);
                async move {
                    let to = request.to_seq.unwrap_or(envelopes.len() as u64);
                    let range: Vec<_> = envelopes
                        .iter()
                        .filter(|e| e.seq >= request.from_seq && e.seq <= to)
                        .cloned()
                        .collect();
                    // Answer first, re-send right after, as the agent does.
                    tokio::spawn(async move { publish(&js, &range).await.unwrap() });
                    ReplayReply {
                        accepted: true,
                        from_seq: request.from_seq,
                        to_seq: to,
                        head_seq: envelopes.len() as u64,
                        message: format!("re-sending seq {}..={to}", request.from_seq),
                    }
                }
            };
            serve_replay_requests(&school_client, &address, handler, stop_rx).await
        })
    };

    env.wait_applied(AN_HOA, 13).await.unwrap();
    env.wait_consumed().await.unwrap();
    assert_eq!(
        env.count("SELECT count(*) FROM live.held").await.unwrap(),
        0
    );
    assert_eq!(env.position(AN_HOA).await.unwrap(), (13, 13, 0));
    let seqs: Vec<i64> = sqlx::query_scalar("SELECT seq FROM live.school_events ORDER BY seq")
        .fetch_all(&env.db)
        .await
        .unwrap();
    assert_eq!(seqs, (1..=13).collect::<Vec<_>>());
    test_harness::wait_until(WAIT, || async { running.state.gaps().is_empty() })
        .await
        .unwrap();
    let first = requests.lock().unwrap()[0];
    assert_eq!(
        (first.from_seq, first.to_seq),
        (11, Some(11)),
        "only the missing range is asked for"
    );

    let _ = stop_tx.send(());
    responder.await.unwrap().unwrap();
    running.stop().await.unwrap();
}
