//! A school that lost its PC or its disk loses nothing (issue 15, items 3 and 4), with the real
//! agent, a real `nats-server` and the real aggregator on PostgreSQL:
//! - its data folder deleted, evidence folder and all, `school_agent::recover` with only its
//!   configuration gets its log back from the district stream equal seq for seq, id for id and
//!   byte for byte, and the photo the log names back from the school's evidence bucket with the
//!   same bytes; the next activity takes the next seq and is applied with no dead letter;
//! - a backup taken "a week ago" and restored with `school_agent::restore` catches up from the
//!   district when the agent starts — refusing commands, in Vietnamese, while NATS is down —
//!   and ends equal to the district, the photo attached after the backup fetched back from the
//!   bucket onto the new PC; the next activity is applied with no dead letter.
//!
//! The district here is the aggregator tests' open NATS server, where the agent creates its own
//! evidence bucket (`relay.ensure_stream`); the school's rights on the secured district (it
//! reads its own subject and bucket only) are probed in `district-admin`'s permission tests.

#![allow(clippy::unwrap_used)] // test helpers: a failure is the test's failure.

use std::path::Path;

use event_bus::subjects::{SchoolAddress, evidence_bucket};
use school_agent::evidence::{EvidenceStore, sha256_hex};
use school_agent::recovery::FilesReport;
use tonic::Code;
use wire::pb;

use crate::bundles::{attach_photo, district_evidence, district_file, photo};
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

/// Records `n` activities from `first` on; their ids.
async fn record(client: &mut agent_fixture::Client, first: u64, n: u64) -> Vec<String> {
    let mut ids = Vec::new();
    for i in first..first + n {
        let reply = client
            .record_activity(agent_fixture::requests::activity_for(AN_HOA, i))
            .await
            .unwrap()
            .into_inner();
        ids.push(reply.entity_id);
    }
    ids
}

/// How many messages the stream of An Hòa's evidence bucket holds (chunks and metas).
async fn bucket_messages(env: &Env) -> u64 {
    let address = SchoolAddress::parse(PROVINCE, DISTRICT, AN_HOA).unwrap();
    env.js
        .get_stream(format!("OBJ_{}", evidence_bucket(&address)))
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .state
        .messages
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
    let activities = record(&mut client, 0, 149).await;
    // A photo of one activity: seq 151, uploaded to the school's bucket after it.
    let picture = photo(96, 64, 120);
    let sha = sha256_hex(&picture);
    client
        .attach_evidence(attach_photo(
            &activities[7],
            "Ảnh buổi ngoại khóa.png",
            picture.clone(),
        ))
        .await
        .unwrap();
    agent_fixture::wait_delivered(&client, 151, WAIT)
        .await
        .unwrap();
    env.wait_applied(AN_HOA, 151).await.unwrap();
    test_harness::wait_until(WAIT, || async {
        district_evidence(&running)
            .await
            .iter()
            .any(|f| f.sha256 == sha && f.state == "received")
    })
    .await
    .expect("the district received the photo");
    assert_eq!(district_file(&running, &sha).await, picture);
    // The open test server let the agent create its own bucket; the photo is in it.
    let address = SchoolAddress::parse(PROVINCE, DISTRICT, AN_HOA).unwrap();
    let bucket = env
        .js
        .get_object_store(evidence_bucket(&address))
        .await
        .expect("the school's evidence bucket exists");
    assert_eq!(bucket.info(&sha).await.unwrap().size, picture.len());
    let in_bucket = bucket_messages(&env).await;
    agent.stop().await.unwrap();
    let before = rows(&school.log_path()).await;
    assert_eq!(before.len(), 151);
    let kept = EvidenceStore::beside_log(&school.log_path()).unwrap();
    assert!(kept.has(&sha));
    let evidence_dir = kept.dir().to_path_buf();
    assert!(evidence_dir.starts_with(school.path()));

    // The disk died: the whole data folder is gone, the log, its side files and the
    // evidence folder.
    std::fs::remove_dir_all(school.path()).unwrap();
    assert!(!school.log_path().exists());
    assert!(!evidence_dir.exists());

    let mut seen = Vec::new();
    let (report, files) = school_agent::recover(&settings, |p| seen.push(p))
        .await
        .unwrap();
    assert_eq!(report.events, 151, "{report:?}");
    assert_eq!(report.head_seq, 151);
    assert!(report.divergences.is_empty(), "{report:?}");
    assert_eq!(report.behind_receipt, None);
    assert!(
        seen.last()
            .is_some_and(|p| p.received == p.total && p.appended == 151),
        "{seen:?}"
    );
    assert_eq!(
        rows(&school.log_path()).await,
        before,
        "equal byte for byte"
    );
    // The photo came back from the school's bucket, the same bytes in the evidence folder.
    assert_eq!(
        files,
        FilesReport {
            fetched: 1,
            already: 0,
            missing: Vec::new(),
        }
    );
    let recovered = EvidenceStore::beside_log(&school.log_path()).unwrap();
    assert_eq!(recovered.dir(), evidence_dir);
    assert_eq!(
        std::fs::read(recovered.path(&sha).unwrap()).unwrap(),
        picture
    );
    // A second recover refuses: the log is no longer empty.
    let refused = school_agent::recover(&settings, |_| {}).await.unwrap_err();
    assert!(
        format!("{refused:#}").contains("đã có 151 sự kiện"),
        "{refused:#}"
    );

    // The agent starts on the recovered log: nothing to re-send, the next seq is 152.
    let agent = agent_fixture::RunningAgent::start(settings).await.unwrap();
    let mut client = agent.client().await.unwrap();
    let status = agent_fixture::status(&mut client).await.unwrap();
    assert_eq!((status.head_seq, status.backlog), (151, 0));
    let served = client
        .get_evidence(pb::GetEvidenceRequest {
            sha256: sha.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(served.content, picture);
    // Its uploader finds the photo in the bucket already: marked uploaded, nothing re-sent.
    test_harness::wait_until(WAIT, || {
        let mut client = client.clone();
        async move {
            client
                .list_evidence(pb::ListAgentEvidenceRequest::default())
                .await
                .is_ok_and(|r| {
                    let files = r.into_inner().files;
                    files.len() == 1 && files.iter().all(|f| f.uploaded)
                })
        }
    })
    .await
    .expect("the recovered photo is known to be in the bucket");
    assert_eq!(bucket_messages(&env).await, in_bucket);
    let reply = client
        .record_activity(agent_fixture::requests::activity_for(AN_HOA, 500))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.seq, 152);
    agent_fixture::wait_delivered(&client, 152, WAIT)
        .await
        .unwrap();
    env.wait_applied(AN_HOA, 152).await.unwrap();
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
    let week = record(&mut client, 100, 60).await;
    // A photo of one of the week's activities (seq 101), uploaded and received.
    let picture = photo(72, 54, 210);
    let sha = sha256_hex(&picture);
    client
        .attach_evidence(attach_photo(
            &week[3],
            "Biên bản họp cha mẹ học sinh.png",
            picture.clone(),
        ))
        .await
        .unwrap();
    agent_fixture::wait_delivered(&client, 101, WAIT)
        .await
        .unwrap();
    env.wait_applied(AN_HOA, 101).await.unwrap();
    test_harness::wait_until(WAIT, || async {
        district_evidence(&running)
            .await
            .iter()
            .any(|f| f.sha256 == sha && f.state == "received")
    })
    .await
    .expect("the district received the photo");
    agent.stop().await.unwrap();
    let district_has = rows(&school.log_path()).await;

    let restored = school_agent::restore(&settings, &backup).await.unwrap();
    assert_eq!(restored.checked.head_seq, 40);
    // The backup is restored on a new PC: no evidence folder came with it.
    let evidence_dir = EvidenceStore::beside_log(&school.log_path())
        .unwrap()
        .dir()
        .to_path_buf();
    std::fs::remove_dir_all(&evidence_dir).unwrap();
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
    assert_eq!(status.head_seq, 101, "{status:?}");
    assert_eq!(status.backlog, 0);
    assert_eq!(rows(&school.log_path()).await, district_has);
    // The catch-up fetched the photo from the school's bucket before it opened the log.
    assert_eq!(
        std::fs::read(
            EvidenceStore::open(&evidence_dir)
                .unwrap()
                .path(&sha)
                .unwrap()
        )
        .unwrap(),
        picture
    );
    let served = client
        .get_evidence(pb::GetEvidenceRequest {
            sha256: sha.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(served.content, picture);
    let reply = client
        .record_activity(agent_fixture::requests::activity_for(AN_HOA, 901))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.seq, 102);
    agent_fixture::wait_delivered(&client, 102, WAIT)
        .await
        .unwrap();
    env.wait_applied(AN_HOA, 102).await.unwrap();
    assert_eq!(dead_letters(&env).await, 0, "no divergence, no dead letter");
    agent.stop().await.unwrap();
    running.stop().await.unwrap();
}
