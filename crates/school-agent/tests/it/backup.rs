//! Backups and recovery at the school, against a real nats-server and real SQLite files:
//! `VACUUM INTO` while commands are being recorded gives sound, gapless copies whose names say
//! their head seq; only the last `keep` stay; a backup folder that vanishes (the USB disk
//! pulled out) is an error in the status and the agent carries on; and the real
//! `school-agent khoi-phuc` binary gets a deleted log back from the stream, byte for byte.

use std::path::Path;
use std::time::Duration;

use school_agent::backup;
use tonic::Code;
use wire::pb;

use crate::support::*;

const WAIT: Duration = Duration::from_secs(60);

fn address() -> event_bus::subjects::SchoolAddress {
    event_bus::subjects::SchoolAddress::parse(PROVINCE, DISTRICT, SCHOOL).unwrap()
}

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

async fn backups(client: &mut Client) -> pb::BackupStatus {
    client
        .get_backups(pb::GetBackupsRequest {})
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_taken_while_recording_are_sound_and_only_the_last_few_are_kept() {
    let nats = test_harness::NatsServer::start().await.unwrap();
    let school = SchoolDir::new().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let mut settings = school.settings(&nats.url());
    settings.backup.folder = Some(usb.path().to_owned());
    settings.backup.keep = 3;
    let agent = RunningAgent::start(settings).await.unwrap();
    let mut client = agent.client().await.unwrap();
    adopt_seed_plan(&mut client).await.unwrap();

    // Staff record while the head asks for backups, again and again.
    let writer = {
        let mut client = client.clone();
        tokio::spawn(async move {
            for n in 0..300 {
                client.record_activity(activity(n)).await.unwrap();
            }
        })
    };
    let mut taken = Vec::new();
    while !writer.is_finished() {
        let status = client
            .back_up_now(pb::BackUpNowRequest {})
            .await
            .unwrap()
            .into_inner();
        assert!(status.last_error.is_empty(), "{status:?}");
        taken.push(status.backups[0].clone());
    }
    writer.await.unwrap();
    assert!(taken.len() >= 2, "backups were taken during the writes");
    // One more after the writes: the whole log.
    let status = client
        .back_up_now(pb::BackUpNowRequest {})
        .await
        .unwrap()
        .into_inner();
    let newest = &status.backups[0];
    assert_eq!(newest.head_seq, 301);
    assert!(
        status.backups.len() <= 3,
        "keep 3: {:?}",
        status.backups.iter().map(|b| &b.name).collect::<Vec<_>>()
    );
    let on_disk = std::fs::read_dir(usb.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".sqlite"))
        .count();
    assert!(on_disk <= 3, "{on_disk} backups kept");
    assert!(
        !std::fs::read_dir(usb.path())
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".partial")),
        "no half-written file is left"
    );
    // Each kept backup is a sound, gapless log of this school, ending where its name says.
    for kept in &status.backups {
        let path = usb.path().join(&kept.name);
        let checked = backup::check(&path, &address()).await.unwrap();
        assert_eq!(checked.head_seq, kept.head_seq, "{}", kept.name);
        let (_, seq) = backup::parse_file_name(SCHOOL, &kept.name).unwrap();
        assert_eq!(seq, kept.head_seq);
    }
    agent.stop().await.unwrap();
    assert_eq!(
        rows(&usb.path().join(&newest.name)).await,
        rows(&school.log_path()).await,
        "the last backup holds the whole log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_usb_disk_pulled_out_is_an_error_in_the_status_and_the_agent_carries_on() {
    let nats = test_harness::NatsServer::start().await.unwrap();
    let school = SchoolDir::new().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let folder = usb.path().join("E");
    std::fs::create_dir(&folder).unwrap();
    let mut settings = school.settings(&nats.url());
    settings.backup.folder = Some(folder.clone());
    let agent = RunningAgent::start(settings).await.unwrap();
    let mut client = agent.client().await.unwrap();
    adopt_seed_plan(&mut client).await.unwrap();
    let first = client
        .back_up_now(pb::BackUpNowRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.backups.len(), 1);

    // Pulled out: the folder is gone.
    std::fs::remove_dir_all(&folder).unwrap();
    let refused = client
        .back_up_now(pb::BackUpNowRequest {})
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        wire::status::violated_field(&refused).as_deref(),
        Some("backup.folder")
    );
    let message = wire::status::vietnamese_message(&refused).unwrap_or_default();
    assert!(message.contains("ổ USB"), "{message}");
    let status = backups(&mut client).await;
    assert!(
        status.last_error.contains("Không thấy thư mục sao lưu"),
        "{status:?}"
    );
    assert!(status.last_error_at.is_some());
    assert!(
        !folder.exists(),
        "the folder is never created on the PC's own disk"
    );
    // The agent carries on recording.
    let reply = client
        .record_activity(activity(1))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.seq, 2);

    // Plugged back in: the next backup succeeds and clears the error.
    std::fs::create_dir(&folder).unwrap();
    let again = client
        .back_up_now(pb::BackUpNowRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(again.last_error.is_empty());
    assert_eq!(again.backups[0].head_seq, 2);
    agent.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_on_demand_is_the_heads_duty_and_needs_a_folder() {
    let nats = test_harness::NatsServer::start().await.unwrap();
    let school = SchoolDir::new().unwrap();
    let agent = RunningAgent::start(school.settings(&nats.url()))
        .await
        .unwrap();
    let mut head = agent.client().await.unwrap();
    // No folder configured: said so, in Vietnamese.
    let refused = head.back_up_now(pb::BackUpNowRequest {}).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        wire::status::vietnamese_message(&refused)
            .unwrap_or_default()
            .contains("Chưa chọn thư mục sao lưu")
    );
    assert_eq!(backups(&mut head).await.folder, "");
    // A teacher may look but not take one.
    let (mut teacher, _) = agent_fixture::sessions::staff_member(
        agent.grpc,
        &agent.head_token,
        "co.lan",
        "Trần Thị Lan",
        domain::Role::Teacher,
    )
    .await
    .unwrap();
    let refused = teacher
        .back_up_now(pb::BackUpNowRequest {})
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(teacher.get_backups(pb::GetBackupsRequest {}).await.is_ok());
    agent.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recover_command_gets_a_deleted_log_back_from_the_stream() {
    let nats = test_harness::NatsServer::start().await.unwrap();
    let school = SchoolDir::new().unwrap();
    let settings = school.settings(&nats.url());
    let agent = RunningAgent::start(settings.clone()).await.unwrap();
    let mut client = agent.client().await.unwrap();
    adopt_seed_plan(&mut client).await.unwrap();
    for n in 0..119 {
        client.record_activity(activity(n)).await.unwrap();
    }
    wait_delivered(&client, 120, WAIT).await.unwrap();
    agent.stop().await.unwrap();
    let before = rows(&school.log_path()).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", school.log_path().display()));
    }

    let config = school.write_config(&settings).unwrap();
    let output = tokio::process::Command::new(AGENT_BINARY)
        .arg("--config")
        .arg(&config)
        .arg("khoi-phuc")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Đã lấy lại 120 sự kiện"), "{stdout}");
    assert!(stderr.contains("đã nhận 120/120 tin"), "{stderr}");
    assert_eq!(rows(&school.log_path()).await, before);

    // Run again on the filled log: refused, the log untouched.
    let again = tokio::process::Command::new(AGENT_BINARY)
        .arg("--config")
        .arg(&config)
        .arg("recover")
        .output()
        .await
        .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("đã có 120 sự kiện"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(rows(&school.log_path()).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_file_that_is_not_this_schools_log() {
    let school = SchoolDir::new().unwrap();
    let other = SchoolDir::for_school("thcs-phu-cuong", "Trường THCS Phú Cường").unwrap();
    let nats = test_harness::NatsServer::start().await.unwrap();
    let agent = RunningAgent::start(other.settings(&nats.url()))
        .await
        .unwrap();
    let mut client = agent.client().await.unwrap();
    agent_fixture::requests::adopt_seed_plan_for(&mut client, "thcs-phu-cuong")
        .await
        .unwrap();
    agent.stop().await.unwrap();

    let settings = school.settings(&nats.url());
    let refused = school_agent::restore(&settings, &other.log_path())
        .await
        .unwrap_err();
    assert!(
        format!("{refused:#}").contains("không phải của trường"),
        "{refused:#}"
    );
    let junk = school.path().join("junk.sqlite");
    std::fs::write(&junk, b"not a database").unwrap();
    let refused = school_agent::restore(&settings, &junk).await.unwrap_err();
    assert!(format!("{refused:#}").contains("tệp"), "{refused:#}");
    assert!(!school.log_path().exists(), "nothing was put in place");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_skips_a_republished_event_and_keeps_the_first_of_a_diverging_seq() {
    let nats = test_harness::NatsServer::start().await.unwrap();
    let school = SchoolDir::new().unwrap();
    let settings = school.settings(&nats.url());
    let agent = RunningAgent::start(settings.clone()).await.unwrap();
    let mut client = agent.client().await.unwrap();
    adopt_seed_plan(&mut client).await.unwrap();
    for n in 0..9 {
        client.record_activity(activity(n)).await.unwrap();
    }
    wait_delivered(&client, 10, WAIT).await.unwrap();
    agent.stop().await.unwrap();
    let before = rows(&school.log_path()).await;

    // The stream also holds seq 5 published again (same event, no de-duplication header) and
    // another event under seq 6, after the originals.
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    let republished = before[4].2.clone();
    js.publish(subject(), republished.into_bytes().into())
        .await
        .unwrap()
        .await
        .unwrap();
    let mut other = domain::Envelope::parse(before[5].2.as_bytes()).unwrap();
    let kept_id = other.id;
    other.id = uuid::Uuid::now_v7();
    js.publish(subject(), other.to_json().into())
        .await
        .unwrap()
        .await
        .unwrap();

    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", school.log_path().display()));
    }
    let (report, _files) = school_agent::recover(&settings, |_| {}).await.unwrap();
    assert_eq!((report.messages, report.events), (12, 10), "{report:?}");
    assert_eq!(report.duplicates, 1);
    assert_eq!(report.divergences.len(), 1);
    assert_eq!(report.divergences[0].seq, 6);
    assert_eq!(report.divergences[0].kept_id, kept_id);
    assert_eq!(report.divergences[0].other_id, other.id);
    assert_eq!(
        rows(&school.log_path()).await,
        before,
        "the first of each seq kept"
    );

    // Everything recovered counts as delivered: the relay has nothing to send.
    let agent = RunningAgent::start(settings).await.unwrap();
    let mut client = agent.client().await.unwrap();
    let status = status(&mut client).await.unwrap();
    assert_eq!(
        (status.head_seq, status.last_published_seq, status.backlog),
        (10, 10, 0)
    );
    agent.stop().await.unwrap();
}
