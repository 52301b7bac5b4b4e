//! A school that lost its PC or its disk loses nothing (issue 15, items 3 and 4), with the real
//! agent, a real `nats-server` and the real aggregator on PostgreSQL:
//! - its data folder deleted, `school_agent::recover` with only its configuration gets its log
//!   back from the district stream equal seq for seq, id for id and byte for byte, and the
//!   next activity takes the next seq and is applied with no dead letter;
//! - a backup taken "a week ago" and restored with `school_agent::restore` catches up from the
//!   district when the agent starts — refusing commands, in Vietnamese, while NATS is down —
//!   and ends equal to the district; the next activity is applied with no dead letter.
//!
//! The district here is the aggregator tests' open NATS server; the school's rights on the
//! secured district (it reads its own subject only) are probed in `district-admin`'s
//! permission tests.

#![allow(clippy::unwrap_used)] // test helpers: a failure is the test's failure.

use std::path::Path;

use tonic::Code;

use crate::support::*;

/// Every event of the log at `path`: `(seq, id, envelope text)`.
async fn rows(path: &Path) -> Vec<(i64, String, String)> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let rows = sqlx::query_as("SELECT seq, id, envelope FROM events ORDER BY seq")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

/// The district with An Hòa enrolled, its aggregator running.
async fn district() -> (Env, Running) {
    let env = Env::start().await.unwrap();
    let mut office = DistrictLog::new();
    office.enrol(AN_HOA, "Trường THCS An Hòa");
    publish(&env.js, &office.envelopes).await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();
    (env, running)
}

/// Records `n` activities from `first` on.
async fn record(client: &mut agent_fixture::Client, first: u64, n: u64) {
    for i in first..first + n {
        client
            .record_activity(agent_fixture::requests::activity_for(AN_HOA, i))
            .await
            .unwrap();
    }
}

async fn dead_letters(env: &Env) -> i64 {
    env.count("SELECT count(*) FROM live.dead_letters")
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_school_whose_data_folder_is_lost_gets_its_log_back_from_the_district() {
    let (env, running) = district().await;
    let school = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa").unwrap();
    let settings = school.settings(&env.nats.url());
    let agent = agent_fixture::RunningAgent::start(settings.clone())
        .await
        .unwrap();
    let mut client = agent.client().await.unwrap();
    agent_fixture::requests::adopt_seed_plan_for(&mut client, AN_HOA)
        .await
        .unwrap();
    record(&mut client, 0, 149).await;
    agent_fixture::wait_delivered(&client, 150, WAIT)
        .await
        .unwrap();
    env.wait_applied(AN_HOA, 150).await.unwrap();
    agent.stop().await.unwrap();
    let before = rows(&school.log_path()).await;
    assert_eq!(before.len(), 150);

    // The disk died: the log and its side files are gone.
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", school.log_path().display());
        let _ = std::fs::remove_file(file);
    }
    assert!(!school.log_path().exists());

    let mut seen = Vec::new();
    let (report, _files) = school_agent::recover(&settings, |p| seen.push(p))
        .await
        .unwrap();
    assert_eq!(report.events, 150, "{report:?}");
    assert_eq!(report.head_seq, 150);
    assert!(report.divergences.is_empty(), "{report:?}");
    assert_eq!(report.behind_receipt, None);
    assert!(
        seen.last()
            .is_some_and(|p| p.received == p.total && p.appended == 150),
        "{seen:?}"
    );
    assert_eq!(
        rows(&school.log_path()).await,
        before,
        "equal byte for byte"
    );
    // A second recover refuses: the log is no longer empty.
    let refused = school_agent::recover(&settings, |_| {}).await.unwrap_err();
    assert!(
        format!("{refused:#}").contains("đã có 150 sự kiện"),
        "{refused:#}"
    );

    // The agent starts on the recovered log: nothing to re-send, the next seq is 151.
    let agent = agent_fixture::RunningAgent::start(settings).await.unwrap();
    let mut client = agent.client().await.unwrap();
    let status = agent_fixture::status(&mut client).await.unwrap();
    assert_eq!((status.head_seq, status.backlog), (150, 0));
    let reply = client
        .record_activity(agent_fixture::requests::activity_for(AN_HOA, 500))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.seq, 151);
    agent_fixture::wait_delivered(&client, 151, WAIT)
        .await
        .unwrap();
    env.wait_applied(AN_HOA, 151).await.unwrap();
    assert_eq!(dead_letters(&env).await, 0, "no divergence, no dead letter");
    agent.stop().await.unwrap();
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_old_backup_catches_up_from_the_district_and_ends_equal() {
    let (mut env, running) = district().await;
    let school = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa").unwrap();
    let usb = tempfile::tempdir().unwrap();
    std::fs::create_dir(usb.path().join("sao-luu")).unwrap();
    let mut settings = school.settings(&env.nats.url());
    settings.backup.folder = Some(usb.path().join("sao-luu"));
    let agent = agent_fixture::RunningAgent::start(settings.clone())
        .await
        .unwrap();
    let mut client = agent.client().await.unwrap();
    agent_fixture::requests::adopt_seed_plan_for(&mut client, AN_HOA)
        .await
        .unwrap();
    record(&mut client, 0, 39).await;
    agent_fixture::wait_delivered(&client, 40, WAIT)
        .await
        .unwrap();

    // "A week ago": the backup, then a week of activities delivered and applied.
    let backups = client
        .back_up_now(wire::pb::BackUpNowRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(backups.backups.len(), 1, "{backups:?}");
    assert_eq!(backups.backups[0].head_seq, 40);
    let backup = usb.path().join("sao-luu").join(&backups.backups[0].name);
    record(&mut client, 100, 60).await;
    agent_fixture::wait_delivered(&client, 100, WAIT)
        .await
        .unwrap();
    env.wait_applied(AN_HOA, 100).await.unwrap();
    agent.stop().await.unwrap();
    let district_has = rows(&school.log_path()).await;

    let restored = school_agent::restore(&settings, &backup).await.unwrap();
    assert_eq!(restored.checked.head_seq, 40);
    let aside = restored
        .moved_aside
        .expect("the log in place was moved aside");
    assert!(aside.exists(), "never deleted");
    assert_eq!(rows(&school.log_path()).await.len(), 40);

    // Started with the district unreachable: it cannot catch up, so it records nothing.
    env.nats.stop().await.unwrap();
    let agent = agent_fixture::RunningAgent::start(settings.clone())
        .await
        .unwrap();
    let mut client = agent.client().await.unwrap();
    let status = agent_fixture::status(&mut client).await.unwrap();
    assert!(status.catching_up, "{status:?}");
    let refused = client
        .record_activity(agent_fixture::requests::activity_for(AN_HOA, 900))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let vietnamese = wire::status::vietnamese_message(&refused).unwrap_or_default();
    assert!(
        vietnamese.contains("khôi phục từ bản sao") && vietnamese.contains("Phòng GD-ĐT"),
        "{vietnamese}"
    );

    // The district back: the log catches up and ends equal to what the district holds.
    env.nats.restart().await.unwrap();
    let status = agent_fixture::wait_for_status(&client, WAIT, |s| !s.catching_up)
        .await
        .unwrap();
    assert_eq!(status.head_seq, 100, "{status:?}");
    assert_eq!(status.backlog, 0);
    assert_eq!(rows(&school.log_path()).await, district_has);
    let reply = client
        .record_activity(agent_fixture::requests::activity_for(AN_HOA, 901))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.seq, 101);
    agent_fixture::wait_delivered(&client, 101, WAIT)
        .await
        .unwrap();
    env.wait_applied(AN_HOA, 101).await.unwrap();
    assert_eq!(dead_letters(&env).await, 0, "no divergence, no dead letter");
    agent.stop().await.unwrap();
    running.stop().await.unwrap();
}
