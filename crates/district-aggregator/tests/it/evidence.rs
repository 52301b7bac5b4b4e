//! Evidence files end to end, with the real agent, a real `nats-server`, the real aggregator
//! over a real PostgreSQL, the dashboard and headless Chromium:
//! - photos attached to three activities while NATS is down reach the district once it is
//!   back, with their hashes, and the dashboard lists and serves them byte for byte;
//! - an agent switched off in the middle of an 8 MiB upload resumes it after its restart (at
//!   the chunk it had reached) and the file arrives whole, with no chunk stored twice;
//! - an object whose content does not match the hash its event names is refused at the
//!   district, with the reason, and never served;
//! - in the school app, a teacher attaches a photo to an activity through the form, and a file
//!   of a refused type is refused in Vietnamese.
//!
//! Screenshots go to `target/test-artefacts/evidence/`.

#![allow(clippy::unwrap_used)]

use domain::event::EvidenceAttached;
use domain::evidence::{EvidenceFile, EvidenceTarget};
use event_bus::subjects::{SchoolAddress, evidence_bucket};
use sha2::{Digest as _, Sha256};
use test_harness::chromium::{Chromium, artefacts_dir};
use tokio::io::AsyncReadExt as _;
use wire::pb;

use crate::support::*;

/// The largest message a test client reads back (an 8 MiB file and its fields).
const MAX_MESSAGE: usize = 24 * 1024 * 1024;

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A real PNG of `width` × `height`: a gradient tinted by `tint`, or noise (which does not
/// compress) when `noise` is set.
fn png(width: u32, height: u32, tint: u8, noise: bool) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        if noise {
            encoder.set_compression(png::Compression::Fastest);
        }
        let mut writer = encoder.write_header().unwrap();
        let mut state = 0x2545_f491_u32 ^ u32::from(tint);
        let mut data = Vec::with_capacity((width * height * 3) as usize);
        for y in 0..height {
            for x in 0..width {
                if noise {
                    for _ in 0..3 {
                        state ^= state << 13;
                        state ^= state >> 17;
                        state ^= state << 5;
                        data.push((state >> 24) as u8);
                    }
                } else {
                    data.extend([
                        (x * 255 / width.max(1)) as u8,
                        (y * 255 / height.max(1)) as u8,
                        tint,
                    ]);
                }
            }
        }
        writer.write_image_data(&data).unwrap();
    }
    out
}

/// An activity request for An Hòa, from the sealed logs' details.
fn activity_request(n: u64) -> pb::RecordActivityRequest {
    let d = details(n);
    pb::RecordActivityRequest {
        header: agent_fixture::requests::header_for(AN_HOA),
        activity_id: String::new(),
        activity: Some(pb::Activity {
            date: d.date.to_string(),
            area: u32::from(d.area.number()),
            topic: d.topic.map(|t| t.as_str().to_owned()).unwrap_or_default(),
            channel: pb::Channel::SchoolPortal as i32,
            title: d.title,
            summary: d.summary,
            audience: d.audience.unwrap_or_default(),
            reach: d.reach,
            partner: String::new(),
            evidence_url: d.evidence_url.unwrap_or_default(),
            responsible: pb::Role::VicePrincipal as i32,
        }),
    }
}

fn attach_request(activity_id: &str, name: &str, content: Vec<u8>) -> pb::AttachEvidenceRequest {
    pb::AttachEvidenceRequest {
        header: agent_fixture::requests::header_for(AN_HOA),
        record_kind: "activity".into(),
        record_id: activity_id.into(),
        name: name.into(),
        media_type: "image/png".into(),
        content,
    }
}

/// The aggregator's evidence list of An Hòa.
async fn district_files(running: &Running) -> Vec<pb::EvidenceEntry> {
    running
        .client()
        .await
        .unwrap()
        .list_evidence(pb::ListEvidenceRequest {
            school: AN_HOA.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .files
}

/// Waits until the district lists `n` files of An Hòa, each of them settled as `state`.
async fn wait_files(running: &Running, n: usize, state: &str) -> Vec<pb::EvidenceEntry> {
    test_harness::wait_until(WAIT, || async {
        let files = district_files(running).await;
        files.len() == n && files.iter().all(|f| f.state == state)
    })
    .await
    .unwrap_or_else(|_| panic!("the district did not list {n} files {state}"));
    district_files(running).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_attached_while_nats_is_down_arrive_with_their_hashes_and_are_served() {
    let mut env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    publish(&env.js, &district.envelopes).await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();

    let school = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa").unwrap();
    let agent = agent_fixture::RunningAgent::start(school.settings(&env.nats.url()))
        .await
        .unwrap();
    let mut client = agent.client().await.unwrap();
    agent_fixture::requests::adopt_seed_plan_for(&mut client, AN_HOA)
        .await
        .unwrap();
    env.wait_applied(AN_HOA, 1).await.unwrap();

    // The line goes down; three activities are recorded, each with its photo.
    env.nats.stop().await.unwrap();
    let mut photos = Vec::new();
    for n in 0..3u8 {
        let reply = client
            .record_activity(activity_request(u64::from(n)))
            .await
            .unwrap()
            .into_inner();
        let photo = png(64 + u32::from(n) * 16, 48, 40 * n, false);
        let name = format!("Ảnh hoạt động {}.png", n + 1);
        client
            .attach_evidence(attach_request(&reply.entity_id, &name, photo.clone()))
            .await
            .unwrap();
        photos.push((reply.entity_id, name, photo));
    }
    let at_school = client
        .list_evidence(pb::ListAgentEvidenceRequest::default())
        .await
        .unwrap()
        .into_inner()
        .files;
    assert_eq!(at_school.len(), 3);
    assert!(
        at_school.iter().all(|f| !f.uploaded),
        "nothing is uploaded while NATS is down"
    );

    // The line comes back: the events, then the files.
    env.nats.restart().await.unwrap();
    env.wait_applied(AN_HOA, 7).await.unwrap();
    let files = wait_files(&running, 3, "received").await;
    for (activity, name, photo) in &photos {
        let f = files
            .iter()
            .find(|f| f.record_id == *activity)
            .expect("each activity's photo is listed");
        assert_eq!(f.sha256, sha256_hex(photo));
        assert_eq!(f.size, photo.len() as u64);
        assert_eq!(&f.name, name);
        assert_eq!(f.media_type, "image/png");
        assert_eq!(f.record_kind, "activity");
    }
    // The district's rows are those of the reference model over the stream's envelopes.
    let stream = env.js.get_stream(stream_name()).await.unwrap();
    let last = stream.get_info().await.unwrap().state.last_sequence;
    let mut model = domain::district::DistrictModel::new(
        domain::Slug::parse("province", PROVINCE).unwrap(),
        domain::Slug::parse("district", DISTRICT).unwrap(),
    );
    for seq in 1..=last {
        let message = stream.get_raw_message(seq).await.unwrap();
        model.apply(&domain::Envelope::parse(&message.payload).unwrap());
    }
    let expected: Vec<(String, String, String, u64)> = model
        .evidence(&domain::Slug::parse("school", AN_HOA).unwrap())
        .into_iter()
        .map(|(r, f)| (r.id().to_string(), f.sha256, f.name, f.size))
        .collect();
    let mut listed: Vec<(String, String, String, u64)> = files
        .iter()
        .map(|f| {
            (
                f.record_id.clone(),
                f.sha256.clone(),
                f.name.clone(),
                f.size,
            )
        })
        .collect();
    listed.sort();
    let mut expected = expected;
    expected.sort();
    assert_eq!(listed, expected);
    // The agent says they reached the district.
    test_harness::wait_until(WAIT, || {
        let mut client = client.clone();
        async move {
            client
                .list_evidence(pb::ListAgentEvidenceRequest::default())
                .await
                .is_ok_and(|r| r.into_inner().files.iter().all(|f| f.uploaded))
        }
    })
    .await
    .unwrap();

    // The district's plan, which the dashboard's pages need.
    running
        .client()
        .await
        .unwrap()
        .adopt_district_plan(pb::AdoptDistrictPlanRequest {
            actor: None,
            plan: Some(district_fixture::office::district_plan()),
        })
        .await
        .unwrap();

    // The dashboard serves each photo byte for byte, with its type, inline.
    let site = serve_dashboard(&running.url(), &running.credentials.reporting, "127.0.0.3")
        .await
        .unwrap();
    let cookie = format!(
        "{}={}",
        dashboard::session::COOKIE,
        running.credentials.admin
    );
    let http = reqwest::Client::new();
    for (_, name, photo) in &photos {
        let response = http
            .get(format!(
                "http://{site}/truong/{AN_HOA}/minh-chung/{}",
                sha256_hex(photo)
            ))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "image/png");
        let disposition = headers["content-disposition"].to_str().unwrap().to_owned();
        assert!(disposition.starts_with("inline;"), "{disposition}");
        assert!(disposition.contains("UTF-8''"), "{disposition} for {name}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(response.bytes().await.unwrap().as_ref(), photo.as_slice());
    }

    // The school's page lists them, received.
    let browser = Chromium::shared().await.unwrap();
    browser
        .set_cookie(
            &format!("http://{site}/"),
            dashboard::session::COOKIE,
            &running.credentials.admin,
        )
        .await
        .unwrap();
    let page = browser
        .open(&format!("http://{site}/truong/{AN_HOA}"))
        .await
        .unwrap();
    let shots = artefacts_dir("evidence");
    page.screenshot(&shots.join("school-page.png"))
        .await
        .unwrap();
    let rows = page
        .attributes("#minh-chung tr[data-sha256]")
        .await
        .unwrap();
    assert_eq!(
        rows.len(),
        3,
        "{}",
        page.text("main").await.unwrap_or_default()
    );
    assert!(
        rows.iter()
            .all(|r| r.get("data-state").map(String::as_str) == Some("received"))
    );
    let text = page.text("#minh-chung").await.unwrap();
    assert!(text.contains("đã nhận"), "{text}");
    assert!(text.contains("Ảnh hoạt động 1.png"), "{text}");
    for (_, _, photo) in &photos {
        let size = domain::vi::file_size(photo.len() as u64);
        assert!(text.contains(&size), "{size} in Vietnamese: {text}");
    }
    page.close().await.unwrap();

    agent.stop().await.unwrap();
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_switched_off_mid_upload_resumes_and_the_file_arrives_whole() {
    let env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    publish(&env.js, &district.envelopes).await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();

    let school = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa").unwrap();
    let mut settings = school.settings(&env.nats.url());
    const CHUNK: usize = 64 * 1024;
    settings.relay.evidence_chunk_size = CHUNK;
    // A slow line: 1 MiB/s, so the 8 MiB upload takes seconds and is switched off midway.
    settings.relay.evidence_rate_kib_per_s = 1024;
    let agent = agent_fixture::RunningAgent::start(settings.clone())
        .await
        .unwrap();
    let mut client = agent.client().await.unwrap();
    agent_fixture::requests::adopt_seed_plan_for(&mut client, AN_HOA)
        .await
        .unwrap();
    let activity = client
        .record_activity(activity_request(0))
        .await
        .unwrap()
        .into_inner();
    let big = png(1672, 1672, 7, true);
    assert!(big.len() > 8 * 1024 * 1024, "{} bytes", big.len());
    let sha = sha256_hex(&big);
    client
        .attach_evidence(attach_request(
            &activity.entity_id,
            "Biên bản họp phụ huynh.png",
            big.clone(),
        ))
        .await
        .unwrap();

    // Switched off once the bucket holds some of its chunks and no meta yet.
    let bucket = evidence_bucket(&SchoolAddress::parse(PROVINCE, DISTRICT, AN_HOA).unwrap());
    let stream_name = format!("OBJ_{bucket}");
    let messages = || async {
        match env.js.get_stream(&stream_name).await {
            Ok(mut stream) => stream.info().await.map(|i| i.state.messages).unwrap_or(0),
            Err(_) => 0,
        }
    };
    test_harness::wait_until(WAIT, || async { messages().await >= 16 })
        .await
        .unwrap();
    agent.power_off().await.unwrap();
    let store = env.js.get_object_store(&bucket).await.unwrap();
    assert!(
        store.info(&sha).await.is_err(),
        "the object is not visible before its last chunk"
    );
    let chunks = big.len().div_ceil(CHUNK) as u64;
    let before = messages().await;
    assert!(
        before < chunks,
        "switched off after {before} of {chunks} chunks"
    );

    // Started again, at full speed: it resumes and the file arrives whole.
    settings.relay.evidence_rate_kib_per_s = 0;
    let agent = agent_fixture::RunningAgent::start(settings).await.unwrap();
    let files = wait_files(&running, 1, "received").await;
    assert_eq!(files[0].sha256, sha);
    assert_eq!(files[0].size, big.len() as u64);
    let served = running
        .client()
        .await
        .unwrap()
        .max_decoding_message_size(MAX_MESSAGE)
        .get_evidence(pb::GetDistrictEvidenceRequest {
            school: AN_HOA.into(),
            sha256: sha.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(served.content, big);
    // Every chunk once, and the meta: the upload went on from where it was.
    assert_eq!(messages().await, chunks + 1);
    // The object reads back whole with any object store client.
    let mut read = Vec::new();
    store
        .get(&sha)
        .await
        .unwrap()
        .read_to_end(&mut read)
        .await
        .unwrap();
    assert_eq!(read, big);

    agent.stop().await.unwrap();
    running.stop().await.unwrap();
}

#[tokio::test]
async fn an_object_that_does_not_match_its_hash_is_refused_and_never_served() {
    let env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    let mut log = SchoolLog::with_plan_and_activities(AN_HOA, 1);
    let activity_id = log
        .events()
        .iter()
        .find_map(|e| match e {
            domain::Event::ActivityRecorded(a) => Some(a.activity_id),
            _ => None,
        })
        .unwrap();
    let photo = png(32, 32, 200, false);
    let sha = sha256_hex(&photo);
    log.push(domain::Event::EvidenceAttached(EvidenceAttached {
        record: EvidenceTarget::Activity(activity_id),
        file: EvidenceFile {
            name: "anh.png".into(),
            media_type: "image/png".into(),
            size: photo.len() as u64,
            sha256: sha.clone(),
        },
    }));
    // Someone with the administrator's rights puts other bytes of the same length under the
    // photo's name.
    let address = SchoolAddress::parse(PROVINCE, DISTRICT, AN_HOA).unwrap();
    event_bus::ensure_evidence_bucket(&env.js, &address)
        .await
        .unwrap();
    let store = env
        .js
        .get_object_store(evidence_bucket(&address))
        .await
        .unwrap();
    let mut forged = photo.clone();
    let last = forged.len() - 1;
    forged[last] ^= 0xff;
    store
        .put(sha.as_str(), &mut forged.as_slice())
        .await
        .unwrap();

    publish(&env.js, &district.envelopes).await.unwrap();
    publish(&env.js, &log.envelopes).await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();
    env.wait_applied(AN_HOA, 3).await.unwrap();
    let files = wait_files(&running, 1, "refused").await;
    assert!(
        files[0].refused.contains("không khớp") && files[0].refused.contains("[hash_mismatch]"),
        "{}",
        files[0].refused
    );
    let err = running
        .client()
        .await
        .unwrap()
        .get_evidence(pb::GetDistrictEvidenceRequest {
            school: AN_HOA.into(),
            sha256: sha.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    assert_eq!(
        env.count("SELECT count(*) FROM ops.evidence_files WHERE content IS NOT NULL")
            .await
            .unwrap(),
        0,
        "nothing of a refused file is stored"
    );
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_attaches_a_photo_through_the_app_and_a_refused_type_is_said_in_vietnamese() {
    const LOGIN: &str = "lan.tran";
    const PASSWORD: &str = "Truyen-thong-2018";
    let env = Env::start().await.unwrap();
    let school = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa").unwrap();
    let agent = agent_fixture::RunningAgent::start_with_app(school.settings(&env.nats.url()))
        .await
        .unwrap();
    let mut head = agent.client().await.unwrap();
    agent_fixture::requests::adopt_seed_plan_for(&mut head, AN_HOA)
        .await
        .unwrap();
    let activity = head
        .record_activity(activity_request(2))
        .await
        .unwrap()
        .into_inner()
        .entity_id;
    let issued = agent_fixture::sessions::staff(agent.grpc, Some(&agent.head_token))
        .await
        .unwrap()
        .create_staff(pb::CreateStaffRequest {
            login: LOGIN.into(),
            full_name: "Trần Thị Lan".into(),
            role: pb::Role::Teacher.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let app = format!("http://{}", agent.app.expect("the app is served"));
    let browser = Chromium::shared().await.unwrap();
    let mut page = browser.open(&format!("{app}/")).await.unwrap();
    page.fill("#login", LOGIN).await.unwrap();
    page.fill("#password", &issued.one_time_password)
        .await
        .unwrap();
    page.click_and_wait("button[type=submit]").await.unwrap();
    page.fill("#current", &issued.one_time_password)
        .await
        .unwrap();
    page.fill("#new", PASSWORD).await.unwrap();
    page.fill("#repeat", PASSWORD).await.unwrap();
    page.click_and_wait("button[type=submit]").await.unwrap();
    page.close().await.unwrap();

    // From the activity list to the activity's evidence.
    let mut page = browser.open(&format!("{app}/hoat-dong")).await.unwrap();
    page.click_and_wait(&format!("tr[data-activity='{activity}'] a.minh-chung"))
        .await
        .unwrap();
    assert!(
        page.location()
            .await
            .unwrap()
            .ends_with(&format!("/minh-chung/hoat-dong/{activity}"))
    );
    let dir = tempfile::tempdir().unwrap();
    let photo = png(120, 80, 90, false);
    let photo_path = dir.path().join("Lễ tuyên dương.png");
    std::fs::write(&photo_path, &photo).unwrap();
    page.set_file("#tep", &photo_path).await.unwrap();
    page.click_and_wait("#dinh-kem").await.unwrap();
    let rows = page
        .attributes("#minh-chung tr[data-sha256]")
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].get("data-sha256").map(String::as_str),
        Some(sha256_hex(&photo).as_str())
    );
    let text = page.text("#minh-chung").await.unwrap();
    assert!(text.contains("Lễ tuyên dương.png"), "{text}");
    assert!(
        text.contains("chưa gửi") || text.contains("đã gửi Phòng"),
        "{text}"
    );
    let shots = artefacts_dir("evidence");
    page.screenshot(&shots.join("app-attached.png"))
        .await
        .unwrap();

    // A text file is not evidence: refused in Vietnamese, nothing attached.
    let text_path = dir.path().join("ghi-chu.txt");
    std::fs::write(&text_path, "không phải ảnh").unwrap();
    page.set_file("#tep", &text_path).await.unwrap();
    page.click_and_wait("#dinh-kem").await.unwrap();
    let refusal = page.text("#loi-tep").await.unwrap();
    assert!(
        refusal.contains("chỉ nhận ảnh JPEG, PNG, WebP hoặc tệp PDF"),
        "{refusal}"
    );
    assert_eq!(
        page.attributes("#minh-chung tr[data-sha256]")
            .await
            .unwrap()
            .len(),
        1
    );
    page.screenshot(&shots.join("app-refused-type.png"))
        .await
        .unwrap();

    // The file opens from the list, as stored.
    let served = head
        .clone()
        .max_decoding_message_size(MAX_MESSAGE)
        .get_evidence(pb::GetEvidenceRequest {
            sha256: sha256_hex(&photo),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(served.content, photo);
    page.close().await.unwrap();
    agent.stop().await.unwrap();
}
