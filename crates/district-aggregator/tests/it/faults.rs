//! The aggregator dropped wherever it is — mid-batch, mid-transaction, between the commit and
//! the acks — and started again: nothing is applied twice and nothing is lost.

use crate::support::*;

#[tokio::test]
async fn killed_mid_batch_and_restarted_applies_nothing_twice() {
    let env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    district.enrol(PHU_CUONG, "Trường THCS Phú Cường");
    let an_hoa = SchoolLog::with_plan_and_activities(AN_HOA, 1_199);
    let phu_cuong = SchoolLog::with_plan_and_activities(PHU_CUONG, 599);
    publish(&env.js, &district.envelopes).await.unwrap();
    // Interleave the two schools in chunks, as their relays would.
    for (a, p) in an_hoa
        .envelopes
        .chunks(120)
        .zip(phu_cuong.envelopes.chunks(60))
    {
        publish(&env.js, a).await.unwrap();
        publish(&env.js, p).await.unwrap();
    }

    let mut settings = env.settings();
    settings.ingest.batch_size = 50;
    settings.ingest.max_ack_pending = 200;
    settings.ingest.ack_wait_ms = 1_000;
    let total = || async {
        sqlx::query_scalar::<_, Option<i64>>("SELECT sum(applied_seq)::bigint FROM live.positions")
            .fetch_one(&env.db)
            .await
            .ok()
            .flatten()
            .unwrap_or(0)
    };
    // Kill it again and again while it works through the stream: each time once this run
    // has committed (and so acknowledged) KILL_EVERY more messages, read from its ingest
    // counters, so the kill lands while the next batches are being prepared and committed — a
    // moment defined by work done, not by a sleep. (Applied positions would not do: after a
    // kill, the unacknowledged messages come back only after `ack_wait`, everything behind
    // them is held meanwhile, and the release applies hundreds of events at once.)
    const TOTAL: i64 = 1_802;
    const KILL_EVERY: u64 = 150;
    let mut kills_mid_stream = 0;
    for round in 0..12u64 {
        let before = total().await;
        if before >= TOTAL {
            break;
        }
        let running = Running::start(settings.clone()).await.unwrap();
        test_harness::wait_until(WAIT, || async {
            running.state.counters().messages >= KILL_EVERY || total().await >= TOTAL
        })
        .await
        .unwrap();
        running.kill().await;
        let after = total().await;
        eprintln!("round {round}: killed at {after} applied events (from {before})");
        if after < TOTAL {
            kills_mid_stream += 1;
        }
    }
    assert!(
        kills_mid_stream >= 3,
        "the aggregator was killed mid-stream only {kills_mid_stream} times"
    );
    let running = Running::start(settings).await.unwrap();
    env.wait_applied(AN_HOA, 1_200).await.unwrap();
    env.wait_applied(PHU_CUONG, 600).await.unwrap();
    env.wait_consumed().await.unwrap();

    assert_eq!(env.position(AN_HOA).await.unwrap(), (1_200, 1_200, 0));
    assert_eq!(env.position(PHU_CUONG).await.unwrap(), (600, 600, 0));
    assert_eq!(env.position("_district").await.unwrap(), (2, 2, 0));
    assert_eq!(
        env.count("SELECT count(*) FROM live.school_events")
            .await
            .unwrap(),
        1_800
    );
    assert_eq!(
        env.count("SELECT count(DISTINCT (school, seq)) FROM live.school_events")
            .await
            .unwrap(),
        1_800
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.activities")
            .await
            .unwrap(),
        1_798
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.dead_letters")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.held").await.unwrap(),
        0
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn ingest_rides_out_a_nats_restart() {
    let mut env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    let log = SchoolLog::with_plan_and_activities(AN_HOA, 99);
    let running = Running::start(env.settings()).await.unwrap();
    publish(&env.js, &district.envelopes).await.unwrap();
    publish(&env.js, &log.envelopes[..50]).await.unwrap();
    env.wait_applied(AN_HOA, 50).await.unwrap();

    env.nats.restart().await.unwrap();
    // Our own client reconnects too; publish once it has.
    test_harness::wait_until(WAIT, || async {
        env.js.client().connection_state() == async_nats::connection::State::Connected
    })
    .await
    .unwrap();
    publish(&env.js, &log.envelopes[50..]).await.unwrap();
    env.wait_applied(AN_HOA, 100).await.unwrap();
    env.wait_consumed().await.unwrap();
    assert_eq!(env.position(AN_HOA).await.unwrap(), (100, 100, 0));
    running.stop().await.unwrap();
}

#[tokio::test]
async fn ingest_waits_out_a_postgres_outage_and_loses_nothing() {
    let mut env = Env::start_local().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    let log = SchoolLog::with_plan_and_activities(AN_HOA, 99);
    let running = Running::start(env.settings()).await.unwrap();
    publish(&env.js, &district.envelopes).await.unwrap();
    publish(&env.js, &log.envelopes[..50]).await.unwrap();
    env.wait_applied(AN_HOA, 50).await.unwrap();

    env.pg.stop().await.unwrap();
    publish(&env.js, &log.envelopes[50..]).await.unwrap();
    test_harness::wait_until(WAIT, || async {
        running.state.counters().last_error.is_some()
    })
    .await
    .unwrap();
    env.pg.restart().await.unwrap();

    env.wait_applied(AN_HOA, 100).await.unwrap();
    env.wait_consumed().await.unwrap();
    assert_eq!(env.position(AN_HOA).await.unwrap(), (100, 100, 0));
    assert_eq!(
        env.count("SELECT count(*) FROM live.activities")
            .await
            .unwrap(),
        99
    );
    running.stop().await.unwrap();
}

/// A pipelined batch (prepared while the one before it committed) whose commit fails is
/// applied again on the careful path: nothing of it is lost, nothing applied twice, and the
/// batches after it flow as before.
#[tokio::test]
async fn a_failed_pipelined_commit_is_applied_again_exactly_once() {
    let env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    let log = SchoolLog::with_plan_and_activities(AN_HOA, 399); // seqs 1..=400
    let mut settings = env.settings();
    settings.ingest.batch_size = 50;
    let running = Running::start(settings).await.unwrap();
    publish(&env.js, &district.envelopes).await.unwrap();
    // The first batches warm the caches the pipelined path prepares against.
    publish(&env.js, &log.envelopes[..100]).await.unwrap();
    env.wait_applied(AN_HOA, 100).await.unwrap();

    // The next insert of activities fails once, inside whichever commit carries it (a
    // sequence is not rolled back with the failed transaction; the redo inserts again).
    sqlx::raw_sql(
        "CREATE SEQUENCE public.fail_once; \
         CREATE FUNCTION public.fail_once() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF nextval('public.fail_once') = 1 THEN \
           RAISE EXCEPTION 'injected failure' USING ERRCODE = '40001'; END IF; RETURN NULL; END $$; \
         CREATE TRIGGER fail_once AFTER INSERT ON live.activities \
           FOR EACH STATEMENT EXECUTE FUNCTION public.fail_once();",
    )
    .execute(&env.db)
    .await
    .unwrap();
    let pipelined_before = running.state.counters().pipelined;
    assert!(
        pipelined_before > 0,
        "the warm-up never took the pipelined path"
    );
    publish(&env.js, &log.envelopes[100..]).await.unwrap();
    env.wait_applied(AN_HOA, 400).await.unwrap();
    env.wait_consumed().await.unwrap();

    let counters = running.state.counters();
    assert_eq!(counters.redone, 1, "{counters:?}");
    assert!(counters.pipelined > pipelined_before, "{counters:?}");
    assert_eq!(env.position(AN_HOA).await.unwrap(), (400, 400, 0));
    assert_eq!(
        env.count("SELECT count(*) FROM live.activities WHERE school = 'thcs-an-hoa'")
            .await
            .unwrap(),
        399
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.school_events")
            .await
            .unwrap(),
        400
    );
    let fired: i64 = sqlx::query_scalar("SELECT last_value FROM public.fail_once")
        .fetch_one(&env.db)
        .await
        .unwrap();
    assert!(fired >= 2, "the failing insert was not tried again");
    running.stop().await.unwrap();
}

/// A pipelined batch is committed in parts, one per group of schools. When one part fails,
/// the other stays committed and acknowledged; only the failed part is applied again, and
/// both schools end exact.
#[tokio::test]
async fn a_failed_part_is_applied_again_and_the_committed_part_is_kept() {
    let env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    district.enrol(PHU_CUONG, "Trường THCS Phú Cường");
    let an_hoa = SchoolLog::with_plan_and_activities(AN_HOA, 299); // seqs 1..=300
    let phu_cuong = SchoolLog::with_plan_and_activities(PHU_CUONG, 299);
    let mut settings = env.settings();
    settings.ingest.batch_size = 50;
    settings.ingest.parallel_commits = 2;
    let running = Running::start(settings).await.unwrap();
    publish(&env.js, &district.envelopes).await.unwrap();
    // Both schools in every batch: interleaved in runs of 10.
    let publish_range = |from: usize, to: usize| {
        let (a, p) = (&an_hoa.envelopes[from..to], &phu_cuong.envelopes[from..to]);
        let js = env.js.clone();
        async move {
            for (a, p) in a.chunks(10).zip(p.chunks(10)) {
                publish(&js, a).await?;
                publish(&js, p).await?;
            }
            anyhow::Ok(())
        }
    };
    publish_range(0, 100).await.unwrap();
    env.wait_applied(AN_HOA, 100).await.unwrap();
    env.wait_applied(PHU_CUONG, 100).await.unwrap();

    // The next activity of Phú Cường fails once: only the part that carries it fails.
    sqlx::raw_sql(
        "CREATE SEQUENCE public.fail_once; \
         CREATE FUNCTION public.fail_once() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF nextval('public.fail_once') = 1 THEN \
           RAISE EXCEPTION 'injected failure' USING ERRCODE = '40001'; END IF; RETURN NULL; END $$; \
         CREATE TRIGGER fail_once AFTER INSERT ON live.activities FOR EACH ROW \
           WHEN (NEW.school = 'thcs-phu-cuong') EXECUTE FUNCTION public.fail_once();",
    )
    .execute(&env.db)
    .await
    .unwrap();
    let before = running.state.counters();
    assert!(
        before.pipelined > 0,
        "the warm-up never took the pipelined path"
    );
    publish_range(100, 300).await.unwrap();
    env.wait_applied(AN_HOA, 300).await.unwrap();
    env.wait_applied(PHU_CUONG, 300).await.unwrap();
    env.wait_consumed().await.unwrap();

    let counters = running.state.counters();
    assert_eq!(counters.redone, 1, "{counters:?}");
    // The committed part was not applied again: the redo met no duplicate.
    assert_eq!(counters.duplicates, 0, "{counters:?}");
    assert!(counters.pipelined > before.pipelined, "{counters:?}");
    for school in [AN_HOA, PHU_CUONG] {
        assert_eq!(
            env.position(school).await.unwrap(),
            (300, 300, 0),
            "{school}"
        );
        assert_eq!(
            env.count(&format!(
                "SELECT count(*) FROM live.activities WHERE school = '{school}'"
            ))
            .await
            .unwrap(),
            299,
            "{school}"
        );
    }
    assert_eq!(
        env.count("SELECT count(*) FROM live.school_events")
            .await
            .unwrap(),
        600
    );
    running.stop().await.unwrap();
}
