//! No silent loss at the seams: a seq that comes again with another event id is a divergence
//! (recorded, never applied, never dropped, found again by a rebuild), and an event of a type
//! or version this aggregator does not know is held in order until one that knows it runs.

use district_aggregator::rebuild::{self, RebuildOptions};
use uuid::Uuid;
use wire::pb;

use crate::support::*;

/// What the projection says about one author's divergences: `(seq, event id, reason)` of its
/// divergence dead letters, and `(seq, reason)` of its held events.
async fn divergence_rows(
    env: &Env,
    author: &str,
) -> anyhow::Result<(Vec<(i64, Uuid, String)>, Vec<(i64, String)>)> {
    let letters = sqlx::query_as(
        "SELECT seq, event_id, reason FROM live.dead_letters \
         WHERE author = $1 AND kind = 'divergence' ORDER BY seq, id",
    )
    .bind(author)
    .fetch_all(&env.db)
    .await?;
    Ok((letters, held(env, author).await?))
}

/// `(seq, reason)` of an author's held events.
async fn held(env: &Env, author: &str) -> anyhow::Result<Vec<(i64, String)>> {
    Ok(
        sqlx::query_as("SELECT seq, reason FROM live.held WHERE author = $1 ORDER BY seq")
            .bind(author)
            .fetch_all(&env.db)
            .await?,
    )
}

#[tokio::test]
async fn a_log_restored_from_an_old_copy_is_a_divergence_never_applied_and_found_again_by_a_rebuild()
 {
    let env = Env::start().await.unwrap();
    let settings = env.settings();
    let running = Running::start(settings.clone()).await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    // What the district applied: seqs 1..=5.
    let original = SchoolLog::with_plan_and_activities(AN_HOA, 4);
    // The school's disk dies; its log is restored from a copy that ends at seq 2, and staff
    // go on recording: seqs 3..=7 are new events with new ids.
    let mut restored = SchoolLog::new(AN_HOA);
    restored.envelopes = original.envelopes[..2].to_vec();
    for n in 0..5 {
        restored.push(activity(100 + n));
    }
    publish(&env.js, &district.envelopes).await.unwrap();
    publish(&env.js, &original.envelopes).await.unwrap();
    env.wait_applied(AN_HOA, 5).await.unwrap();
    env.wait_consumed().await.unwrap();

    publish(&env.js, &restored.envelopes[2..]).await.unwrap();
    // And a genuine re-send of seq 4 (the original event, a fresh message id): a duplicate.
    republish(&env.js, &original.envelopes[3..4]).await.unwrap();
    env.wait_consumed().await.unwrap();

    let mut client = running.client().await.unwrap();
    let state = client
        .get_ingest_state(pb::GetIngestStateRequest {})
        .await
        .unwrap()
        .into_inner();
    let school = state
        .authors
        .iter()
        .find(|a| a.author == AN_HOA)
        .expect("the school is known");
    assert_eq!(
        school.applied_seq, 5,
        "nothing of the divergent log applied"
    );
    assert_eq!(school.divergences, 3);
    assert_eq!(school.divergent_seqs, vec![3, 4, 5]);
    assert_eq!(
        (school.held, school.held_diverged),
        (2, 2),
        "6 and 7 follow the divergent history: held"
    );
    assert_eq!(school.first_missing_seq, None, "blocked, not a gap");
    let counters = state.counters.expect("counters");
    assert_eq!(counters.divergences, 3);
    assert!(counters.duplicates >= 1, "the re-sent seq 4 is a duplicate");

    let (letters, held) = divergence_rows(&env, AN_HOA).await.unwrap();
    let seqs: Vec<i64> = letters.iter().map(|(seq, _, _)| *seq).collect();
    assert_eq!(seqs, vec![3, 4, 5]);
    for (seq, event_id, reason) in &letters {
        let i = usize::try_from(*seq).unwrap() - 1;
        assert_eq!(*event_id, restored.envelopes[i].id, "the new event is kept");
        assert!(
            reason.contains(&original.envelopes[i].id.to_string())
                && reason.contains(&restored.envelopes[i].id.to_string())
                && reason.contains(&format!("seq {seq}")),
            "{reason}"
        );
    }
    assert_eq!(
        held,
        vec![(6, "diverged".to_owned()), (7, "diverged".to_owned())]
    );
    // The listing says what each dead letter is.
    let listed = client
        .list_dead_letters(pb::ListDeadLettersRequest {
            author: AN_HOA.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.dead_letters.len(), 3);
    assert!(listed.dead_letters.iter().all(|d| d.kind == "divergence"));

    // Nothing applied twice: the original events, once each.
    let applied: Vec<(i64, Uuid)> = sqlx::query_as(
        "SELECT seq, event_id FROM live.school_events WHERE school = $1 ORDER BY seq",
    )
    .bind(AN_HOA)
    .fetch_all(&env.db)
    .await
    .unwrap();
    let expected: Vec<(i64, Uuid)> = original
        .envelopes
        .iter()
        .map(|e| (i64::try_from(e.seq).unwrap(), e.id))
        .collect();
    assert_eq!(applied, expected);
    assert_eq!(env.position(AN_HOA).await.unwrap(), (5, 5, 0));
    // The reference model, folded over the same envelopes in stream order, agrees.
    let mut model = domain::district::DistrictModel::new(
        domain::Slug::parse("province", PROVINCE).unwrap(),
        domain::Slug::parse("district", DISTRICT).unwrap(),
    );
    model.apply_all(
        district
            .envelopes
            .iter()
            .chain(&original.envelopes)
            .chain(&restored.envelopes[2..])
            .chain(&original.envelopes[3..4]),
    );
    let position = model.position(&domain::Author::parse("author", AN_HOA).unwrap());
    assert_eq!(
        (
            position.applied_seq,
            position.held_seqs.len() as u64,
            position.first_missing_seq
        ),
        (school.applied_seq, school.held, school.first_missing_seq)
    );
    let modelled: Vec<(u64, Uuid)> = model.divergences().iter().map(|d| (d.seq, d.id)).collect();
    let ours: Vec<(u64, Uuid)> = letters
        .iter()
        .map(|(seq, id, _)| (u64::try_from(*seq).unwrap(), *id))
        .collect();
    assert_eq!(modelled, ours);
    running.stop().await.unwrap();

    // A rebuild replays the same stream through the same ingest: the same divergences.
    let before = divergence_rows(&env, AN_HOA).await.unwrap();
    rebuild::run(&settings, RebuildOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(divergence_rows(&env, AN_HOA).await.unwrap(), before);
    assert_eq!(env.position(AN_HOA).await.unwrap(), (5, 5, 0));
}

/// `(seq, reason)` of an author's held events, and how many dead letters there are.
async fn held_and_dead(env: &Env, author: &str) -> anyhow::Result<(Vec<(i64, String)>, i64)> {
    let dead = env.count("SELECT count(*) FROM live.dead_letters").await?;
    Ok((held(env, author).await?, dead))
}

#[tokio::test]
async fn an_event_of_an_unknown_version_is_held_in_order_and_applied_after_the_upgrade() {
    let env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    // seq 1 the plan, 2 and 3 activities, 4 a type no build knows yet, 5 an activity.
    let mut log = SchoolLog::with_plan_and_activities(AN_HOA, 2);
    let mut future = log.push(activity(50));
    future.event_type = "activity.celebrated".into();
    log.envelopes[3] = future;
    log.push(activity(51));
    publish(&env.js, &district.envelopes).await.unwrap();
    publish(&env.js, &log.envelopes).await.unwrap();

    // An aggregator built before `activity.recorded` existed (the test knob of an older build).
    let mut older = env.settings();
    older.ingest.unknown_event_types = vec!["activity.recorded".into()];
    let running = Running::start(older).await.unwrap();
    env.wait_applied(AN_HOA, 1).await.unwrap();
    env.wait_consumed().await.unwrap();
    let reason = |r: &str| r.to_owned();
    assert_eq!(
        held_and_dead(&env, AN_HOA).await.unwrap(),
        (
            vec![
                (2, reason("unknown_version")),
                (3, reason("gap")),
                (4, reason("gap")),
                (5, reason("gap")),
            ],
            0
        ),
        "held, not dead-lettered; what follows waits behind it"
    );
    let school = running.author_state(AN_HOA).await.unwrap();
    assert_eq!(
        (
            school.applied_seq,
            school.held,
            school.held_unknown_version,
            school.first_missing_seq
        ),
        (1, 4, 1, None),
        "blocked by a version, not missing a seq"
    );
    assert!(running.state.gaps().is_empty(), "no re-send is asked for");
    running.stop().await.unwrap();

    // The upgraded aggregator applies what the older one held, in order, up to the event
    // that no build knows yet: that one stays held, with what follows it.
    let running = Running::start(env.settings()).await.unwrap();
    env.wait_applied(AN_HOA, 3).await.unwrap();
    assert_eq!(
        held_and_dead(&env, AN_HOA).await.unwrap(),
        (vec![(4, reason("unknown_version")), (5, reason("gap"))], 0)
    );
    let school = running.author_state(AN_HOA).await.unwrap();
    assert_eq!(
        (school.applied_seq, school.held, school.held_unknown_version),
        (3, 2, 1)
    );
    assert_eq!(env.position(AN_HOA).await.unwrap(), (3, 3, 0));
    running.stop().await.unwrap();
}

#[tokio::test]
async fn a_district_event_by_anyone_but_the_district_office_is_dead_lettered() {
    let env = Env::start().await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();
    let mut district = DistrictLog::new();
    let mut forged = district.enrol(AN_HOA, "Trường THCS An Hòa");
    forged.actor = domain::Actor::parse(domain::Role::Principal, "Nguyễn Văn A").unwrap();
    district.envelopes[0] = forged.clone();
    district.enrol(PHU_CUONG, "Trường THCS Phú Cường");
    publish(&env.js, &district.envelopes).await.unwrap();
    env.wait_applied("_district", 2).await.unwrap();
    env.wait_consumed().await.unwrap();

    let schools: Vec<String> = sqlx::query_scalar("SELECT code FROM live.schools ORDER BY code")
        .fetch_all(&env.db)
        .await
        .unwrap();
    assert_eq!(
        schools,
        vec![PHU_CUONG.to_owned()],
        "the forged enrolment is not applied"
    );
    let (seq, kind, reason): (i64, String, String) = sqlx::query_as(
        "SELECT seq, kind, reason FROM live.dead_letters WHERE author = '_district'",
    )
    .fetch_one(&env.db)
    .await
    .unwrap();
    assert_eq!((seq, kind.as_str()), (1, "refused"));
    assert!(
        reason.contains("not the district office's") && reason.contains("principal"),
        "{reason}"
    );
    assert_eq!(env.position("_district").await.unwrap(), (2, 1, 1));
    running.stop().await.unwrap();
}

#[tokio::test]
async fn two_district_publishes_expecting_the_same_last_message_store_one() {
    use event_bus::publish::{ConditionalPublishError, publish_if_last};
    let env = Env::start().await.unwrap();
    let mut one = DistrictLog::new();
    one.enrol(AN_HOA, "Trường THCS An Hòa");
    let mut other = DistrictLog::new();
    other.enrol(PHU_CUONG, "Trường THCS Phú Cường");
    let timeout = std::time::Duration::from_secs(10);
    let first = district_fixture::outgoing(&one.envelopes[0], Some(1)).unwrap();
    let second = district_fixture::outgoing(&other.envelopes[0], Some(1)).unwrap();

    // Both read "no message yet" (0) and publish seq 1.
    let stored_at = publish_if_last(&env.js, &first, 0, timeout).await.unwrap();
    let refused = publish_if_last(&env.js, &second, 0, timeout)
        .await
        .expect_err("the subject moved on: refused");
    assert!(
        matches!(
            refused,
            ConditionalPublishError::Conflict {
                seq: 1,
                expected: 0,
                ..
            }
        ),
        "{refused:?}"
    );
    assert!(
        refused
            .to_string()
            .contains("another publisher stored one first"),
        "{refused}"
    );
    // Nothing duplicated: one message on the district's subject, the first one.
    let stream = env.js.get_stream(stream_name()).await.unwrap();
    let last = stream
        .get_last_raw_message_by_subject(&subject_of(&one.envelopes[0]))
        .await
        .unwrap();
    assert_eq!(last.sequence, stored_at);
    let mut stream = stream;
    assert_eq!(stream.info().await.unwrap().state.messages, 1);
    // Expecting the message that is there, the next publish is stored.
    let next = district_fixture::outgoing(&one.enrol(PHU_CUONG, "Trường THCS Phú Cường"), Some(2))
        .unwrap();
    assert!(
        publish_if_last(&env.js, &next, stored_at, timeout)
            .await
            .unwrap()
            > stored_at
    );
}

/// The school's SQLite log and its WAL companions, as files.
fn log_files(log: &std::path::Path) -> Vec<std::path::PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| std::path::PathBuf::from(format!("{}{suffix}", log.display())))
        .collect()
}

/// Copies the (stopped) agent's log files from `from` to `to`, replacing what `to` had.
fn copy_log(from: &std::path::Path, to: &std::path::Path) -> anyhow::Result<()> {
    for (source, target) in log_files(from).into_iter().zip(log_files(to)) {
        if target.exists() {
            std::fs::remove_file(&target)?;
        }
        if source.exists() {
            std::fs::copy(&source, &target)?;
        }
    }
    Ok(())
}

/// The case as it happens at a school, with the real agent: its log is copied one week, staff
/// go on recording and the district applies it, then the disk dies and the log is restored
/// from the week-old copy. The agent's next events reuse seqs the district already applied.
#[tokio::test]
async fn a_real_agent_restored_from_a_week_old_copy_shows_as_a_divergence_at_the_district() {
    let env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    publish(&env.js, &district.envelopes).await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();

    let school = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa").unwrap();
    let settings = school.settings(&env.nats.url());
    let agent = agent_fixture::RunningAgent::start(settings.clone())
        .await
        .unwrap();
    let mut client = agent.client().await.unwrap();
    agent_fixture::requests::adopt_seed_plan_for(&mut client, AN_HOA)
        .await
        .unwrap();
    for n in 1..4 {
        client
            .record_activity(agent_fixture::requests::activity_for(AN_HOA, n))
            .await
            .unwrap();
    }
    agent_fixture::wait_delivered(&client, 4, WAIT)
        .await
        .unwrap();
    agent.stop().await.unwrap();
    // The week-old copy: seqs 1..=4.
    let backup = tempfile::tempdir().unwrap();
    let backup_log = backup.path().join("log.sqlite");
    copy_log(&school.log_path(), &backup_log).unwrap();

    // A week of work, delivered and applied: seqs 5..=7.
    let agent = agent_fixture::RunningAgent::start(settings.clone())
        .await
        .unwrap();
    let mut client = agent.client().await.unwrap();
    for n in 4..7 {
        client
            .record_activity(agent_fixture::requests::activity_for(AN_HOA, n))
            .await
            .unwrap();
    }
    agent_fixture::wait_delivered(&client, 7, WAIT)
        .await
        .unwrap();
    env.wait_applied(AN_HOA, 7).await.unwrap();
    agent.stop().await.unwrap();

    // The disk dies; the log comes back from the copy, and staff record two more activities:
    // seqs 5 and 6 again, with new event ids.
    copy_log(&backup_log, &school.log_path()).unwrap();
    let agent = agent_fixture::RunningAgent::start(settings).await.unwrap();
    let mut client = agent.client().await.unwrap();
    for n in 10..12 {
        client
            .record_activity(agent_fixture::requests::activity_for(AN_HOA, n))
            .await
            .unwrap();
    }
    agent_fixture::wait_delivered(&client, 6, WAIT)
        .await
        .unwrap();
    env.wait_consumed().await.unwrap();

    let an_hoa = running.author_state(AN_HOA).await.unwrap();
    assert_eq!(an_hoa.applied_seq, 7, "the district keeps what it applied");
    assert_eq!(an_hoa.divergences, 2, "{an_hoa:?}");
    assert_eq!(an_hoa.divergent_seqs, vec![5, 6]);
    let (letters, _) = divergence_rows(&env, AN_HOA).await.unwrap();
    assert_eq!(
        letters.iter().map(|(seq, _, _)| *seq).collect::<Vec<_>>(),
        vec![5, 6],
        "each divergent event is kept, with its own id"
    );
    // Nothing applied twice, nothing of the divergent log applied, nothing vanished: the six
    // activities the district had, and the two new ones kept as dead letters.
    assert_eq!(
        env.count("SELECT count(*) FROM live.activities WHERE school = 'thcs-an-hoa'")
            .await
            .unwrap(),
        6
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.school_events WHERE school = 'thcs-an-hoa'")
            .await
            .unwrap(),
        7
    );
    agent.stop().await.unwrap();
    running.stop().await.unwrap();
}
