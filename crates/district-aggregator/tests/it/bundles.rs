//! Signed bundles (`docs/bundles.md`): a school whose NATS is unreachable for the whole test
//! records its activity, exports a bundle into a "USB" folder, and the district imports it —
//! verified against the school's registered key in the district's identity registry — and its
//! views equal the reference model of what the school recorded. The same bundle imported
//! again changes nothing; one byte changed, a truncated copy and a copy re-signed with another
//! school's key are refused with their Vietnamese messages, the district unchanged; the reply
//! bundle carried back turns the school's delivery state to received. Photos attached to two
//! of the month's activities travel in the bundle (the agent's evidence store is the export's
//! file source) and are received at the district byte for byte, once. The officer's dashboard
//! page and the school app's page are driven in headless Chromium; screenshots under
//! `target/test-artefacts/bundles/`.

#![allow(clippy::unwrap_used)] // test helpers: a failure is the test's failure.

use demo_data::sealed::DistrictOfficeLog;
use demo_data::{DemoRequest, Volume};
use district_aggregator::bundles::{BundleImportError, ImportOutcome};
use district_aggregator::db::LIVE_SCHEMA;
use district_aggregator::queries::Views;
use district_fixture::office::demo_school;
use domain::district::DistrictModel;
use domain::{Envelope, Period, Slug};
use event_bus::subjects::SchoolAddress;
use nkeys::KeyPair;
use school_agent::bundle_export::{self, NoFiles};
use school_agent::evidence::sha256_hex;
use school_agent::store::Store;
use test_harness::chromium::{Chromium, artefacts_dir};
use wire::pb;

use crate::support::*;

/// A month of an offline school's activity, demo-like: its plan and duties, then activities,
/// feedback and press issues.
const MONTH: Volume = Volume {
    activities: 24,
    feedback: 5,
    press_issues: 2,
};
const SEED: u64 = 15;
/// Nothing listens here: the school's NATS is unreachable for the whole test.
const DEAD_NATS: &str = "nats://127.0.0.1:1";

/// A real PNG of `width` × `height`, a gradient tinted by `tint` (the recovery tests' photos
/// too).
pub(crate) fn photo(width: u32, height: u32, tint: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    let data: Vec<u8> = (0..height)
        .flat_map(|y| {
            (0..width).flat_map(move |x| {
                [
                    (x * 255 / width.max(1)) as u8,
                    (y * 255 / height.max(1)) as u8,
                    tint,
                ]
            })
        })
        .collect();
    writer.write_image_data(&data).unwrap();
    writer.finish().unwrap();
    out
}

/// `AttachEvidence` of a PNG `content` named `name` to An Hòa's activity `activity_id`.
pub(crate) fn attach_photo(
    activity_id: &str,
    name: &str,
    content: Vec<u8>,
) -> pb::AttachEvidenceRequest {
    pb::AttachEvidenceRequest {
        header: agent_fixture::requests::header_for(AN_HOA),
        record_kind: "activity".into(),
        record_id: activity_id.into(),
        name: name.into(),
        media_type: "image/png".into(),
        content,
    }
}

/// The district's evidence files of An Hòa, as `ListEvidence` answers them.
pub(crate) async fn district_evidence(running: &Running) -> Vec<pb::EvidenceEntry> {
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

/// The content the district serves for An Hòa's file `sha256` (`GetEvidence`).
pub(crate) async fn district_file(running: &Running, sha256: &str) -> Vec<u8> {
    running
        .client()
        .await
        .unwrap()
        .get_evidence(pb::GetDistrictEvidenceRequest {
            school: AN_HOA.into(),
            sha256: sha256.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .content
}

/// What the district shows, compared before and after each refused or repeated import.
#[derive(Debug, PartialEq)]
struct Snapshot {
    position: (i64, i64, i64),
    stream_messages: u64,
    plan_view: domain::district::views::PlanView,
    completeness: domain::district::views::CompletenessView,
    /// `ops.evidence_files`: `(school, sha256, state, SHA-256 of the content)`.
    evidence_files: Vec<(String, String, String, Option<String>)>,
}

async fn snapshot(env: &Env, views: &Views) -> Snapshot {
    let stream_messages = env
        .js
        .get_stream(stream_name())
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .state
        .messages;
    let files: Vec<(String, String, String, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT school, sha256, state, content FROM ops.evidence_files ORDER BY school, sha256",
    )
    .fetch_all(&env.db)
    .await
    .unwrap();
    Snapshot {
        position: env.position(AN_HOA).await.unwrap(),
        stream_messages,
        plan_view: views.plan_view(Period::WholePlan).await.unwrap(),
        completeness: views.completeness(Period::WholePlan).await.unwrap(),
        evidence_files: files
            .into_iter()
            .map(|(school, sha, state, content)| {
                (school, sha, state, content.as_deref().map(sha256_hex))
            })
            .collect(),
    }
}

fn refusal(result: Result<ImportOutcome, BundleImportError>) -> String {
    match result {
        Err(BundleImportError::Refused(e)) => e.to_string(),
        other => panic!("expected a refused bundle, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_school_s_bundle_is_applied_once_and_its_reply_marks_the_records_received() {
    let env = Env::start().await.unwrap();
    let keys_dir = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let an_hoa_key = KeyPair::new_user();
    let phu_cuong_key = KeyPair::new_user();
    let aggregator_key = KeyPair::new_user();

    // The district: An Hòa enrolled and the district plan adopted; the aggregator reads the
    // identity registry and signs replies with its own seed.
    let s = demo_school(AN_HOA);
    let mut office = DistrictOfficeLog::new();
    office.enrol(s);
    office.adopt_plan();
    publish(&env.js, office.envelopes()).await.unwrap();
    let mut settings = env.settings();
    settings.bundles.identities_file = Some(
        identity_registry(
            keys_dir.path(),
            &[(AN_HOA, &an_hoa_key), (PHU_CUONG, &phu_cuong_key)],
            &aggregator_key,
        )
        .unwrap(),
    );
    settings.bundles.signing_key_file =
        Some(write_seed(keys_dir.path(), "_aggregator", &aggregator_key).unwrap());
    let running = Running::start(settings).await.unwrap();

    // The school: its NATS unreachable all along, its seed in `nats.nkey_file`.
    let dir = agent_fixture::SchoolDir::for_school(AN_HOA, s.name).unwrap();
    let mut agent_settings = dir.settings(DEAD_NATS);
    agent_settings.nats.nkey_file =
        Some(write_seed(dir.path(), "thcs-an-hoa", &an_hoa_key).unwrap());
    agent_settings.bundles.district_public_key = Some(aggregator_key.public_key());
    let agent = agent_fixture::RunningAgent::start_with_app(agent_settings.clone())
        .await
        .unwrap();
    let mut client = agent.client().await.unwrap();
    let mut activities = Vec::new();
    let mut retracted = Vec::new();
    for request in demo_data::history(s, MONTH, SEED) {
        let is_activity = matches!(request, DemoRequest::RecordActivity(_));
        if let DemoRequest::RetractActivity(r) = &request {
            retracted.push(r.activity_id.clone());
        }
        let reply = demo_data::send(&mut client, request).await.unwrap();
        if is_activity {
            activities.push(reply.entity_id);
        }
    }
    // Photos of two of the month's activities, in the school's evidence folder only.
    let photos: Vec<(String, String, Vec<u8>)> = activities
        .iter()
        .filter(|a| !retracted.contains(a))
        .take(2)
        .zip(0u8..)
        .map(|(activity, n)| {
            (
                activity.clone(),
                format!("Ảnh buổi sinh hoạt {}.png", n + 1),
                photo(80 + u32::from(n) * 24, 60, 70 * n + 30),
            )
        })
        .collect();
    assert_eq!(photos.len(), 2);
    for (activity, name, content) in &photos {
        client
            .attach_evidence(attach_photo(activity, name, content.clone()))
            .await
            .unwrap();
    }
    let status = agent_fixture::status(&mut client).await.unwrap();
    let head = status.head_seq;
    assert!(head > 30, "a month of activity: {head} events");
    assert!(!status.connected);
    assert_eq!(status.last_published_seq, 0, "nothing went over NATS");
    assert_eq!(env.applied_seq(AN_HOA).await.unwrap(), None);

    // Export to the USB stick with the agent's `ExportBundle`, from the first seq the
    // district has not confirmed (1): the events and the photos they name.
    let store = Store::open(&dir.log_path()).await.unwrap();
    let school = SchoolAddress::parse(PROVINCE, DISTRICT, AN_HOA).unwrap();
    let from = bundle_export::default_from_seq(&store).await.unwrap();
    assert_eq!(from, 1);
    let key = bundle_export::signing_key(&agent_settings).unwrap();
    let mut chunks = client
        .export_bundle(pb::ExportBundleRequest { from_seq: None })
        .await
        .unwrap()
        .into_inner();
    let mut bytes = Vec::new();
    let mut first: Option<pb::BundleChunk> = None;
    while let Some(chunk) = chunks.message().await.unwrap() {
        bytes.extend_from_slice(&chunk.data);
        first.get_or_insert(pb::BundleChunk {
            data: Vec::new(),
            ..chunk
        });
    }
    let first = first.expect("the bundle has a first chunk");
    assert_eq!((first.from_seq, first.to_seq), (1, head));
    assert!(
        first
            .file_name
            .starts_with(&format!("thcs-an-hoa-1-{head}-")),
        "{}",
        first.file_name
    );
    let on_usb = usb.path().join(&first.file_name);
    std::fs::write(&on_usb, &bytes).unwrap();

    // A school in insecure development mode has no key and cannot export.
    let no_key = bundle_export::signing_key(&dir.settings(DEAD_NATS)).unwrap_err();
    assert!(
        no_key
            .to_string()
            .starts_with("máy này chưa có khóa của trường"),
        "{no_key}"
    );

    // The district imports it from the stick.
    let carried = std::fs::read(&on_usb).unwrap();
    let outcome = running.bundles.import(&carried).await.unwrap();
    assert_eq!(
        (
            outcome.events,
            outcome.files,
            outcome.new,
            outcome.already,
            outcome.refused,
            outcome.held
        ),
        (head, 2, head, 0, 0, 0),
        "{outcome:?}"
    );
    assert!(
        outcome.vietnamese().starts_with(&format!(
            "Đã nhận gói của trường thcs-an-hoa: {head} sự kiện (số 1 đến {head}), 2 tệp."
        )),
        "{}",
        outcome.vietnamese()
    );
    env.wait_consumed().await.unwrap();

    // Each photo came with the bundle: received, with its hash, size and bytes, though the
    // school never reached the district's NATS (no bucket of its exists).
    let files = district_evidence(&running).await;
    assert_eq!(files.len(), 2, "{files:?}");
    for (activity, name, content) in &photos {
        let f = files
            .iter()
            .find(|f| f.record_id == *activity)
            .expect("each photo is listed on its activity");
        assert_eq!(f.state, "received", "{f:?}");
        assert_eq!(f.sha256, sha256_hex(content));
        assert_eq!(f.size, content.len() as u64);
        assert_eq!(&f.name, name);
        assert_eq!(f.media_type, "image/png");
        assert_eq!(&district_file(&running, &f.sha256).await, content);
    }
    let bucket = event_bus::subjects::evidence_bucket(&school);
    assert!(
        env.js.get_object_store(&bucket).await.is_err(),
        "the photos did not come through a bucket"
    );

    // Its views equal the reference model of the office's events and the school's own log.
    let mut recorded = Vec::new();
    store
        .for_each_event(|event| {
            recorded.push(event.envelope);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(recorded.len() as u64, head);
    let mut model = DistrictModel::new(
        Slug::parse("p", PROVINCE).unwrap(),
        Slug::parse("d", DISTRICT).unwrap(),
    );
    let everything: Vec<Envelope> = office.envelopes().iter().cloned().chain(recorded).collect();
    model.apply_all(&everything);
    assert!(
        model.dead_letters().is_empty(),
        "{:?}",
        model.dead_letters()
    );
    let views = Views::new(env.db.clone(), LIVE_SCHEMA);
    assert_eq!(views.schools().await.unwrap(), model.schools());
    for period in ["plan", "2017-2018", "2018-Q1", "2019"] {
        let period: Period = period.parse().unwrap();
        assert_eq!(
            views.plan_view(period).await.unwrap(),
            model.plan_view(period).unwrap(),
            "plan view {period:?}"
        );
        assert_eq!(
            views.completeness(period).await.unwrap(),
            model.completeness(period).unwrap(),
            "completeness {period:?}"
        );
        assert_eq!(
            views.responsiveness(period, None).await.unwrap(),
            model.responsiveness(period, None).unwrap(),
            "responsiveness {period:?}"
        );
    }
    let before = snapshot(&env, &views).await;
    assert_eq!(before.position.0 as u64, head);
    assert_eq!(before.evidence_files.len(), 2, "{before:?}");

    // The same bundle again: nothing changes (JetStream drops the copies by `Nats-Msg-Id`,
    // the ingest would by `(school, seq)`; the files are kept once).
    let again = running.bundles.import(&carried).await.unwrap();
    assert_eq!(
        (again.new, again.already, again.refused, again.held),
        (0, head, 0, 0)
    );
    env.wait_consumed().await.unwrap();
    assert_eq!(snapshot(&env, &views).await, before);
    assert_eq!(district_evidence(&running).await, files);

    // One byte changed, in the middle of the events.
    let mut tampered = carried.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x20;
    assert_eq!(
        refusal(running.bundles.import(&tampered).await),
        "chữ ký của gói không hợp lệ: gói đã bị sửa đổi sau khi ký, không nhận"
    );
    // Cut short, as a copy interrupted when the stick was pulled out.
    let truncated = &carried[..carried.len() * 2 / 3];
    let message = refusal(running.bundles.import(truncated).await);
    assert!(message.starts_with("gói dữ liệu bị cắt cụt"), "{message}");
    // One byte changed inside a photo: refused as a whole, the photo not stored over.
    let (_, _, second) = &photos[1];
    let at = carried
        .windows(second.len())
        .position(|w| w == second.as_slice())
        .expect("the photo is in the bundle as it was attached");
    let mut photo_changed = carried.clone();
    photo_changed[at + second.len() / 2] ^= 0x01;
    assert_eq!(
        refusal(running.bundles.import(&photo_changed).await),
        "chữ ký của gói không hợp lệ: gói đã bị sửa đổi sau khi ký, không nhận"
    );
    // Re-signed with Phú Cường's key: every byte of An Hòa's events, another school's
    // signature.
    let read = bundle::read(
        &carried[..],
        &bundle::Expect {
            kind: bundle::Kind::Events,
            province: PROVINCE,
            district: DISTRICT,
            school: Some(AN_HOA),
            trust: bundle::Trust::Key(&an_hoa_key.public_key()),
        },
        &bundle::Limits::default(),
    )
    .unwrap();
    let mut header = read.header.clone();
    header.signer = phu_cuong_key.public_key();
    let mut writer = bundle::Writer::new(Vec::new(), header).unwrap();
    for event in &read.events {
        writer.event(&event.envelope).unwrap();
    }
    assert_eq!(read.files.len(), 2);
    for file in &read.files {
        writer.file(&file.content).unwrap();
    }
    let resigned = writer.finish(&phu_cuong_key).unwrap();
    assert_eq!(
        refusal(running.bundles.import(&resigned).await),
        "gói được ký bằng khóa của trường thcs-phu-cuong, không phải khóa đã đăng ký của trường thcs-an-hoa; không nhận"
    );
    env.wait_consumed().await.unwrap();
    assert_eq!(
        snapshot(&env, &views).await,
        before,
        "refused bundles change nothing"
    );
    assert_eq!(district_evidence(&running).await, files);

    // The officer's dashboard page: the same bundle uploaded again (nothing new), a tampered
    // copy refused with its reason, and the reply bundle downloaded onto the stick.
    let browser = Chromium::shared().await.unwrap();
    let shots = artefacts_dir("bundles");
    let site = format!(
        "http://{}",
        serve_dashboard(&running.url(), &running.credentials.reporting, "127.0.0.7")
            .await
            .unwrap()
    );
    browser
        .set_cookie(
            &site,
            dashboard::session::COOKIE,
            &running.credentials.admin,
        )
        .await
        .unwrap();
    let mut page = browser.open(&format!("{site}/nhap-goi")).await.unwrap();
    page.set_file("#nhap-goi input[name=goi]", &on_usb)
        .await
        .unwrap();
    page.click_and_wait("#nhap-goi button[type=submit]")
        .await
        .unwrap();
    let result = page.text("#ket-qua-nhap-goi").await.unwrap();
    assert!(
        result.contains(&format!(
            "Mới ghi: 0; Phòng đã có từ trước: {head}; từ chối: 0"
        )),
        "{result}"
    );
    page.screenshot(&shots.join("1-phong-nhap-goi.png"))
        .await
        .unwrap();
    let replies = tempfile::tempdir().unwrap();
    let download = browser
        .download(
            &page,
            "#tai-phan-hoi",
            replies.path(),
            std::time::Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert!(
        download
            .suggested_file_name
            .starts_with("phan-hoi-thcs-an-hoa-"),
        "{}",
        download.suggested_file_name
    );
    let reply_on_usb = usb.path().join(&download.suggested_file_name);
    std::fs::copy(&download.path, &reply_on_usb).unwrap();
    page.close().await.unwrap();
    let tampered_on_usb = usb.path().join("sua-doi.ttgoi");
    std::fs::write(&tampered_on_usb, &tampered).unwrap();
    let mut page = browser.open(&format!("{site}/nhap-goi")).await.unwrap();
    page.set_file("#nhap-goi input[name=goi]", &tampered_on_usb)
        .await
        .unwrap();
    page.click_and_wait("#nhap-goi button[type=submit]")
        .await
        .unwrap();
    assert_eq!(
        page.text("#goi-bi-tu-choi").await.unwrap(),
        "Không nhận gói: chữ ký của gói không hợp lệ: gói đã bị sửa đổi sau khi ký, không nhận"
    );
    page.screenshot(&shots.join("2-phong-tu-choi-goi-bi-sua.png"))
        .await
        .unwrap();
    page.close().await.unwrap();
    env.wait_consumed().await.unwrap();
    assert_eq!(snapshot(&env, &views).await, before);

    // The reply, as the aggregator writes it: the school's receipt, signed by it.
    let (reply, reply_name) = running
        .bundles
        .reply(AN_HOA, chrono::Utc::now())
        .await
        .unwrap();
    assert!(
        reply_name.starts_with("phan-hoi-thcs-an-hoa-"),
        "{reply_name}"
    );
    // A reply the district did not sign is refused.
    let forged = {
        let mut h = read.header.clone();
        h.kind = bundle::Kind::Reply;
        (h.from_seq, h.to_seq, h.event_count, h.file_count) = (0, 0, 0, 0);
        h.signer = an_hoa_key.public_key();
        let mut w = bundle::Writer::new(Vec::new(), h).unwrap();
        w.body(br#"{"applied_seq":1000,"at":"2026-12-04T00:00:00Z"}"#)
            .unwrap();
        w.finish(&an_hoa_key).unwrap()
    };
    let forged = bundle_export::import_reply(
        &store,
        &school,
        Some(&aggregator_key.public_key()),
        &forged,
        chrono::Utc::now(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        forged.to_string(),
        "gói phản hồi không được ký bằng khóa của Phòng; không nhận"
    );
    let status = agent_fixture::status(&mut client).await.unwrap();
    assert_eq!(
        status.district_applied_seq, 0,
        "nothing from the district yet"
    );

    // At the school, in its app: what the file would hold, then the reply from the stick.
    let app = format!("http://{}", agent.app.expect("the app is served"));
    browser
        .set_cookie(&app, "tt_truong", &agent.head_token)
        .await
        .unwrap();
    let mut page = browser.open(&format!("{app}/xuat-du-lieu")).await.unwrap();
    let range = page.text("#pham-vi").await.unwrap();
    assert!(
        range.contains(&format!("{head} sự kiện, từ số 1 đến số {head}")),
        "{range}"
    );
    page.screenshot(&shots.join("3-truong-xuat-du-lieu.png"))
        .await
        .unwrap();
    page.set_file("#nhap-phan-hoi input[name=goi]", &reply_on_usb)
        .await
        .unwrap();
    page.click_and_wait("#nhap-phan-hoi button[type=submit]")
        .await
        .unwrap();
    let imported = page.text("#da-nhap-phan-hoi").await.unwrap();
    assert!(
        imported.contains(&format!("Phòng đã nhận đến số {head}")),
        "{imported}"
    );
    assert!(
        page.text("#khong-co-gi")
            .await
            .unwrap()
            .contains("Phòng đã nhận hết")
    );
    page.close().await.unwrap();
    let list = browser.open(&format!("{app}/hoat-dong")).await.unwrap();
    let states: Vec<String> = list
        .attributes("tr[data-activity] [data-delivery]")
        .await
        .unwrap()
        .iter()
        .filter_map(|a| a.get("data-delivery").cloned())
        .collect();
    assert!(!states.is_empty());
    assert!(
        states.iter().all(|s| s == "phong-da-nhan"),
        "every record received: {states:?}"
    );
    assert!(list.text("main").await.unwrap().contains("Phòng đã nhận"));
    list.screenshot(&shots.join("4-truong-phong-da-nhan.png"))
        .await
        .unwrap();
    list.close().await.unwrap();

    // The reply's receipt was kept as a NATS one would be; importing it again changes nothing.
    let receipt = bundle_export::import_reply(
        &store,
        &school,
        Some(&aggregator_key.public_key()),
        &std::fs::read(&reply_on_usb).unwrap(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(receipt.applied_seq, head);
    let status = agent_fixture::status(&mut client).await.unwrap();
    assert_eq!(status.district_applied_seq, head, "Phòng đã nhận, offline");
    assert!(status.district_refusals.is_empty());
    assert_eq!(
        status.district_terms.map(|t| t.plan_number),
        Some("1442/KH-PGDĐT".to_owned())
    );
    // The next export starts after what the district confirmed: nothing left.
    assert_eq!(
        bundle_export::default_from_seq(&store).await.unwrap(),
        head + 1
    );
    let nothing = bundle_export::write_bundle(
        &store,
        &school,
        head + 1,
        &key,
        &NoFiles,
        chrono::Utc::now(),
        Vec::new(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        nothing.to_string(),
        format!(
            "không có sự kiện nào từ số {} để xuất (sổ của trường mới đến số {head})",
            head + 1
        )
    );
    // Without the district's key configured, a reply is refused.
    let no_district_key =
        bundle_export::import_reply(&store, &school, None, &reply, chrono::Utc::now())
            .await
            .unwrap_err();
    assert!(
        no_district_key
            .to_string()
            .starts_with("máy này chưa có khóa công khai của Phòng"),
        "{no_district_key}"
    );

    store.close().await;
    agent.stop().await.unwrap();
    running.stop().await.unwrap();
}
