//! The school app in headless Chromium against the real agent, a real `nats-server` and the
//! real aggregator: a new staff member signs in with the one-time password the head gave,
//! must choose a password, records an activity with a date outside the plan (the error stands
//! beside the date field, what was typed is kept), fixes it, and follows the record from
//! *chưa gửi* (NATS stopped) to *đã gửi* (in the stream, aggregator stopped) to *Phòng đã
//! nhận* (applied, the district's receipt back) — all read from the page's DOM, with a
//! screenshot of each state kept under `target/test-artefacts/school-app/`.

use std::time::Duration;

use test_harness::chromium::{Chromium, LoadedPage, artefacts_dir};
use wire::pb;

use crate::support::*;

const LOGIN: &str = "lan.tran";
const NEW_PASSWORD: &str = "Truyen-thong-2018";

/// Opens `url` until the first activity row's delivery is `state` (the page is re-read each
/// time, as a person pressing F5 would).
async fn wait_for_state(
    browser: &Chromium,
    url: &str,
    state: &str,
    timeout: Duration,
) -> LoadedPage {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let page = browser.open(url).await.expect("the list opens");
        let seen = page
            .attributes("tr[data-activity] [data-delivery]")
            .await
            .expect("the list's rows")
            .first()
            .and_then(|a| a.get("data-delivery").cloned());
        if seen.as_deref() == Some(state) {
            return page;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the record stayed {seen:?}, not {state}"
        );
        page.close().await.expect("the page closes");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_staff_member_records_an_activity_and_follows_it_to_the_district() {
    let mut env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    publish(&env.js, &district.envelopes).await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();

    let school = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa").unwrap();
    let mut settings = school.settings(&env.nats.url());
    settings.relay.heads_interval_ms = 300;
    let agent = agent_fixture::RunningAgent::start_with_app(settings)
        .await
        .unwrap();
    let mut head = agent.client().await.unwrap();
    agent_fixture::requests::adopt_seed_plan_for(&mut head, AN_HOA)
        .await
        .unwrap();
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
    let shots = artefacts_dir("school-app");
    let browser = Chromium::shared().await.unwrap();

    // Without a session: the sign-in page.
    let mut page = browser.open(&format!("{app}/")).await.unwrap();
    assert!(page.location().await.unwrap().ends_with("/dang-nhap"));
    page.fill("#login", LOGIN).await.unwrap();
    page.fill("#password", &issued.one_time_password)
        .await
        .unwrap();
    page.click_and_wait("button[type=submit]").await.unwrap();
    // The one-time password must be changed before anything else.
    assert!(
        page.location()
            .await
            .unwrap()
            .ends_with("/tai-khoan/mat-khau"),
        "{}",
        page.location().await.unwrap()
    );
    assert!(page.text("#phai-doi").await.unwrap().contains("một lần"));
    page.fill("#current", &issued.one_time_password)
        .await
        .unwrap();
    page.fill("#new", NEW_PASSWORD).await.unwrap();
    page.fill("#repeat", NEW_PASSWORD).await.unwrap();
    page.click_and_wait("button[type=submit]").await.unwrap();
    assert_eq!(page.text("main h1").await.unwrap(), "Trang chính");
    assert!(
        page.text("header .who")
            .await
            .unwrap()
            .contains("Trần Thị Lan")
    );
    page.close().await.unwrap();

    // An activity dated before the plan: refused beside the date, what was typed kept.
    let plan = head
        .get_plan(pb::GetPlanRequest {})
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    let area3 = plan.content_areas.iter().find(|a| a.area == 3).unwrap();
    let topic = &area3.topics[0].code;
    let title = "Chuyên mục tư vấn hướng nghiệp trên Đài Truyền thanh huyện";
    let mut page = browser.open(&format!("{app}/hoat-dong/moi")).await.unwrap();
    page.fill("#date", "2016-05-01").await.unwrap();
    page.fill("#area", "3").await.unwrap();
    page.fill("#topic", topic).await.unwrap();
    page.fill("#channel", "district_radio").await.unwrap();
    page.fill("#title", title).await.unwrap();
    page.fill(
        "#summary",
        "Phát thanh về phân luồng học sinh sau THCS cho phụ huynh xã An Hòa.",
    )
    .await
    .unwrap();
    page.click_and_wait("#luu").await.unwrap();
    let error = page.text("p.field-error[data-field=date]").await.unwrap();
    assert!(!error.is_empty(), "a message beside the date");
    let kept = page.attributes("#title").await.unwrap();
    assert_eq!(kept[0].get("value").map(String::as_str), Some(title));
    page.screenshot(&shots.join("1-ngay-ngoai-ke-hoach.png"))
        .await
        .unwrap();

    // Fixed while the district's NATS is down: kept on this PC, "chưa gửi".
    env.nats.stop().await.unwrap();
    page.fill("#date", "2018-03-08").await.unwrap();
    page.click_and_wait("#luu").await.unwrap();
    assert_eq!(
        page.text("main h1").await.unwrap(),
        "Hoạt động truyền thông"
    );
    page.close().await.unwrap();
    let page = wait_for_state(
        browser,
        &format!("{app}/hoat-dong"),
        "chua-gui",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(page.text("[data-tally=chua-gui]").await.unwrap(), "1");
    assert!(
        page.text("[data-connected]")
            .await
            .unwrap()
            .contains("Chưa có mạng")
    );
    page.screenshot(&shots.join("2-chua-gui.png"))
        .await
        .unwrap();
    // "Gửi ngay" without a line: the relay tries, the page comes back, the record stays here.
    let mut page = page;
    page.click_and_wait("#gui-ngay").await.unwrap();
    assert_eq!(
        page.text("main h1").await.unwrap(),
        "Hoạt động truyền thông"
    );
    let still = page
        .attributes("tr[data-activity] [data-delivery]")
        .await
        .unwrap();
    assert_eq!(
        still[0].get("data-delivery").map(String::as_str),
        Some("chua-gui")
    );
    page.close().await.unwrap();

    // NATS back, the aggregator stopped: in the district's stream, "đã gửi".
    running.stop().await.unwrap();
    env.nats.restart().await.unwrap();
    let page = wait_for_state(
        browser,
        &format!("{app}/hoat-dong"),
        "da-gui",
        Duration::from_secs(60),
    )
    .await;
    page.screenshot(&shots.join("3-da-gui.png")).await.unwrap();
    page.close().await.unwrap();

    // The aggregator applies it and answers the next head: "Phòng đã nhận".
    let running = Running::start(env.settings()).await.unwrap();
    let page = wait_for_state(
        browser,
        &format!("{app}/hoat-dong"),
        "phong-da-nhan",
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(page.text("[data-tally=phong-da-nhan]").await.unwrap(), "1");
    page.screenshot(&shots.join("4-phong-da-nhan.png"))
        .await
        .unwrap();
    assert!(page.problems().is_empty(), "{:?}", page.problems());
    page.close().await.unwrap();
    env.wait_applied(AN_HOA, 2).await.unwrap();
    running.stop().await.unwrap();
    agent.stop().await.unwrap();
}

/// An Hòa's agent serving its app (its heads announced every `heads_interval_ms` when given),
/// the seed plan adopted and one activity recorded by the head: its directory (kept while the
/// agent runs), the agent and the head's client.
async fn school_with_an_activity(
    env: &Env,
    heads_interval_ms: Option<u64>,
) -> (
    agent_fixture::SchoolDir,
    agent_fixture::RunningAgent,
    agent_fixture::Client,
) {
    let school = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa")
        .expect("a school directory");
    let mut settings = school.settings(&env.nats.url());
    if let Some(ms) = heads_interval_ms {
        settings.relay.heads_interval_ms = ms;
    }
    let agent = agent_fixture::RunningAgent::start_with_app(settings)
        .await
        .expect("the agent starts");
    let mut head = agent.client().await.expect("the head's client");
    agent_fixture::requests::adopt_seed_plan_for(&mut head, AN_HOA)
        .await
        .expect("the seed plan is adopted");
    let plan = head
        .get_plan(pb::GetPlanRequest {})
        .await
        .expect("the plan")
        .into_inner()
        .plan
        .expect("adopted");
    let area = &plan.content_areas[0];
    head.record_activity(pb::RecordActivityRequest {
        header: None,
        activity_id: String::new(),
        activity: Some(pb::Activity {
            date: "2018-03-08".into(),
            area: area.area,
            topic: area.topics[0].code.clone(),
            channel: pb::Channel::SchoolPortal as i32,
            title: "Tin bài về ngày hội tư vấn tuyển sinh".into(),
            summary: "Đăng tin trên cổng thông tin của trường.".into(),
            responsible: pb::Role::VicePrincipal as i32,
            ..Default::default()
        }),
    })
    .await
    .expect("the activity is recorded");
    (school, agent, head)
}

/// The forms `/ghi` offers on `menu`, by slug.
async fn offered_forms(menu: &LoadedPage) -> Vec<String> {
    menu.attributes("[data-form]")
        .await
        .expect("the menu's forms")
        .into_iter()
        .filter_map(|a| a.get("data-form").cloned())
        .collect()
}

/// One form of `/ghi`: what to type, one bad input and the event a good one records.
struct FormCase {
    slug: &'static str,
    good: &'static [(&'static str, &'static str)],
    bad: (&'static str, &'static str),
    event: &'static str,
}

const FORMS: &[FormCase] = &[
    FormCase {
        slug: "tiep-nhan-y-kien",
        good: &[
            ("received_on", "2018-03-01"),
            ("channel", "hotline"),
            ("citizen", "Lê Văn Tám"),
            ("subject", "Hỏi về tuyển sinh lớp 6"),
            (
                "content",
                "Con tôi ở ấp 3 xã An Hòa có được học ở trường không?",
            ),
            ("area", "1"),
        ],
        bad: ("subject", ""),
        event: "feedback.received",
    },
    FormCase {
        slug: "tra-loi-y-kien",
        good: &[
            ("answered_on", "2018-03-05"),
            ("channel", "hotline"),
            ("answer", "Được, theo tuyến tuyển sinh của xã An Hòa."),
        ],
        bad: ("answer", ""),
        event: "feedback.answered",
    },
    FormCase {
        slug: "bao-chi-neu",
        good: &[
            ("raised_on", "2018-03-02"),
            ("outlet", "Báo Đồng Tháp"),
            ("title", "Phụ huynh phản ánh khoản thu đầu năm"),
            ("summary", "Bài báo nêu khoản thu quỹ phụ huynh lớp 6."),
        ],
        bad: ("outlet", ""),
        event: "press_issue.raised",
    },
    FormCase {
        slug: "tra-loi-bao-chi",
        good: &[
            ("answered_on", "2018-03-06"),
            ("channel", "local_press"),
            (
                "response",
                "Nhà trường đã họp phụ huynh và trả lại khoản thu không đúng quy định.",
            ),
        ],
        bad: ("response", ""),
        event: "press_issue.answered",
    },
    FormCase {
        slug: "don-phong-vien",
        good: &[
            ("date", "2018-03-09"),
            ("outlet", "Đài PT-TH Đồng Tháp"),
            ("reporter", "Phạm Minh Tâm"),
            ("purpose", "Phóng sự về mô hình tư vấn hướng nghiệp."),
        ],
        bad: ("reporter", ""),
        event: "reporter_visit.hosted",
    },
    FormCase {
        slug: "de-nghi-khen-thuong",
        good: &[
            ("date", "2018-05-10"),
            ("nominee_kind", "individual"),
            ("nominee", "Nguyễn Thị Hồng Nhung"),
            (
                "achievement",
                "Phụ trách chuyên mục phát thanh hướng nghiệp suốt năm học.",
            ),
            ("proposed_level", "district"),
        ],
        bad: ("nominee", ""),
        event: "nominee.nominated",
    },
    FormCase {
        slug: "ghi-khen-thuong",
        good: &[
            ("level", "district"),
            ("decision_number", "125/QĐ-UBND"),
            ("decision_date", "2018-05-20"),
        ],
        bad: ("decision_date", "hai mươi tháng năm"),
        event: "commendation.awarded",
    },
    FormCase {
        slug: "tieu-chi-thi-dua",
        good: &[
            ("school_year", "2018"),
            ("adopted_on", "2018-09-10"),
            (
                "criteria",
                "Có tin bài trên cổng thông tin | 10\nTham gia chuyên mục phát thanh | 5",
            ),
        ],
        bad: ("criteria", "Có tin bài trên cổng thông tin 10"),
        event: "emulation_criteria.adopted",
    },
    FormCase {
        slug: "du-tru-kinh-phi",
        good: &[
            ("year", "2018"),
            ("estimated_on", "2018-01-05"),
            (
                "lines",
                "In tờ rơi tuyển sinh | 2.000.000\nThuê loa phát thanh | 500.000",
            ),
        ],
        bad: ("lines", "In tờ rơi | hai triệu"),
        event: "budget.estimated",
    },
    FormCase {
        slug: "ghi-chi",
        good: &[
            ("spent_on", "2018-04-02"),
            ("item", "In tờ rơi tuyển sinh lớp 6"),
            ("amount", "750.000"),
            ("voucher", "PC-12"),
        ],
        bad: ("amount", "bảy trăm nghìn"),
        event: "expense.recorded",
    },
    FormCase {
        slug: "quyet-toan",
        good: &[
            ("year", "2018"),
            ("settled_on", "2018-12-28"),
            ("settled_amount", "750.000"),
        ],
        bad: ("settled_amount", "x"),
        event: "budget.settled",
    },
    FormCase {
        slug: "phan-cong",
        good: &[
            ("role", "vice_principal"),
            ("person", "Nguyễn Thị Hồng Nhung"),
            ("duty", "Phụ trách chuyên mục phát thanh hướng nghiệp."),
            ("since", "2018-01-02"),
        ],
        bad: ("person", ""),
        event: "duty.assigned",
    },
    FormCase {
        slug: "bo-sung-ke-hoach",
        good: &[
            ("number", "120/KH-THCSAH"),
            ("date", "2018-09-01"),
            (
                "reason",
                "Bổ sung chủ đề tư vấn hướng nghiệp năm học 2018–2019.",
            ),
            (
                "topics",
                "3 | huong-nghiep-2018 | Tư vấn hướng nghiệp năm học 2018–2019",
            ),
        ],
        bad: ("reason", ""),
        event: "plan.amended",
    },
    FormCase {
        slug: "rut-hoat-dong",
        good: &[("reason", "Ghi trùng với hoạt động ngày 08/03/2018.")],
        bad: ("reason", ""),
        event: "activity.retracted",
    },
];

/// The newest event of the agent's log, read over gRPC.
async fn newest_event(client: &mut agent_fixture::Client) -> (u64, String) {
    let status = client
        .get_status(pb::GetStatusRequest {})
        .await
        .expect("the status")
        .into_inner();
    let page = client
        .list_events(pb::ListEventsRequest {
            from_seq: status.head_seq,
            limit: 1,
        })
        .await
        .expect("the newest event")
        .into_inner();
    let event = page.events.first().expect("an event");
    (event.seq, event.r#type.clone())
}

/// Every form of the app submitted once through the browser by the head (who holds every
/// duty): each bad input refused beside its field with the log unchanged, each good one
/// recording the right event. Then a teacher is offered only what a teacher's duties allow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_records_its_event_and_refuses_a_bad_input_beside_its_field() {
    let env = Env::start().await.unwrap();
    let (_school, agent, mut head) = school_with_an_activity(&env, None).await;

    let app = format!("http://{}", agent.app.expect("the app is served"));
    let shots = artefacts_dir("school-app-forms");
    let browser = Chromium::shared().await.unwrap();
    browser
        .set_cookie(&app, "tt_truong", &agent.head_token)
        .await
        .unwrap();

    let menu = browser.open(&format!("{app}/ghi")).await.unwrap();
    let offered = offered_forms(&menu).await;
    assert_eq!(
        offered.len(),
        FORMS.len(),
        "the head is offered every form: {offered:?}"
    );
    menu.close().await.unwrap();

    for case in FORMS {
        let (before, _) = newest_event(&mut head).await;
        let mut page = browser
            .open(&format!("{app}/ghi/{}", case.slug))
            .await
            .unwrap();
        for (field, value) in case.good {
            page.fill(&format!("#{field}"), value).await.unwrap();
        }
        page.fill(&format!("#{}", case.bad.0), case.bad.1)
            .await
            .unwrap();
        page.click_and_wait("#luu").await.unwrap();
        let message = page
            .text(&format!("p.field-error[data-field={}]", case.bad.0))
            .await
            .unwrap_or_else(|e| panic!("{}: no message beside {}: {e}", case.slug, case.bad.0));
        assert!(!message.trim().is_empty(), "{}", case.slug);
        assert_eq!(
            newest_event(&mut head).await.0,
            before,
            "{}: refused, nothing recorded",
            case.slug
        );
        if case.slug == "ghi-chi" {
            page.screenshot(&shots.join("ghi-chi-sai-so-tien.png"))
                .await
                .unwrap();
        }
        // The refused form kept what was typed; the bad field is fixed and sent again.
        let good = case
            .good
            .iter()
            .find(|(f, _)| *f == case.bad.0)
            .map_or("", |(_, v)| *v);
        page.fill(&format!("#{}", case.bad.0), good).await.unwrap();
        page.click_and_wait("#luu").await.unwrap();
        assert!(
            page.location().await.unwrap().contains("/ghi?da-luu="),
            "{}: {}",
            case.slug,
            page.text("main").await.unwrap_or_default()
        );
        let (seq, event) = newest_event(&mut head).await;
        assert_eq!(
            (seq, event.as_str()),
            (before + 1, case.event),
            "{}",
            case.slug
        );
        page.close().await.unwrap();
    }

    let page = browser.open(&format!("{app}/hop-thu")).await.unwrap();
    assert_eq!(page.attributes("tr[data-case]").await.unwrap().len(), 2);
    assert_eq!(
        page.attributes("tr[data-nomination]").await.unwrap().len(),
        1
    );
    assert_eq!(
        page.attributes("tr[data-budget-year]").await.unwrap().len(),
        1
    );
    page.screenshot(&shots.join("hop-thu.png")).await.unwrap();
    page.close().await.unwrap();

    // A teacher is offered only the forms of a teacher's duties; another form's address is
    // refused, naming the duty.
    let (_, teacher) = agent_fixture::sessions::staff_member(
        agent.grpc,
        &agent.head_token,
        "lan.tran",
        "Trần Thị Lan",
        domain::Role::Teacher,
    )
    .await
    .unwrap();
    browser
        .set_cookie(&app, "tt_truong", &teacher)
        .await
        .unwrap();
    let menu = browser.open(&format!("{app}/ghi")).await.unwrap();
    let offered = offered_forms(&menu).await;
    assert_eq!(offered, ["rut-hoat-dong"]);
    menu.close().await.unwrap();
    let refused = browser
        .open(&format!("{app}/ghi/quyet-toan"))
        .await
        .unwrap();
    let text = refused.text("main").await.unwrap();
    assert!(text.contains("Ghi chi và quyết toán kinh phí"), "{text}");
    refused.close().await.unwrap();
    agent.stop().await.unwrap();
}

/// The plan adopted from the document the school wrote: a plan without a date shows what
/// could not be read beside its field; the seed as a .docx, uploaded and confirmed unchanged,
/// is adopted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_is_adopted_from_the_document_the_school_wrote() {
    let env = Env::start().await.unwrap();
    let school = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa").unwrap();
    let agent = agent_fixture::RunningAgent::start_with_app(school.settings(&env.nats.url()))
        .await
        .unwrap();
    let mut head = agent.client().await.unwrap();
    let app = format!("http://{}", agent.app.expect("the app is served"));
    let shots = artefacts_dir("school-app-plan");
    let browser = Chromium::shared().await.unwrap();
    browser
        .set_cookie(&app, "tt_truong", &agent.head_token)
        .await
        .unwrap();
    let files = tempfile::tempdir().unwrap();
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));

    // A kindergarten's plan with a blank day: the review says so beside the date.
    let undated = files.path().join("kh-12-mn-phu-duc-2019.txt");
    std::fs::copy(
        manifest.join("../plan-reader/tests/fixtures/kh-12-mn-phu-duc-2019.txt"),
        &undated,
    )
    .unwrap();
    let mut page = browser.open(&format!("{app}/ke-hoach")).await.unwrap();
    page.set_file("#tep", &undated).await.unwrap();
    page.click_and_wait("#doc").await.unwrap();
    let unread = page.text("p.field-error[data-field=date]").await.unwrap();
    assert!(!unread.is_empty());
    let number = page.attributes("#number").await.unwrap();
    assert_eq!(
        number[0].get("value").map(String::as_str),
        Some("12/KH-MNPĐ")
    );
    page.screenshot(&shots.join("1-khong-doc-duoc-ngay.png"))
        .await
        .unwrap();
    page.close().await.unwrap();

    // The seed as a Word file (one paragraph per line of the text), confirmed as read.
    let text =
        std::fs::read_to_string(manifest.join("../../deploy/plans/kh-114-thcs-an-hoa-2017.txt"))
            .unwrap();
    let mut doc = docx_rs::Docx::new();
    for line in text.lines() {
        doc = doc.add_paragraph(
            docx_rs::Paragraph::new().add_run(docx_rs::Run::new().add_text(line.trim())),
        );
    }
    let seed = files.path().join("kh-114-thcs-an-hoa-2017.docx");
    doc.build()
        .pack(std::fs::File::create(&seed).unwrap())
        .unwrap();
    let mut page = browser.open(&format!("{app}/ke-hoach")).await.unwrap();
    page.set_file("#tep", &seed).await.unwrap();
    page.click_and_wait("#doc").await.unwrap();
    assert!(page.texts("p.field-error").await.unwrap().is_empty());
    page.screenshot(&shots.join("2-xem-lai.png")).await.unwrap();
    page.click_and_wait("#ban-hanh").await.unwrap();
    assert_eq!(
        page.text("main h1").await.unwrap(),
        "Kế hoạch số 114/KH-THCSAH"
    );
    page.close().await.unwrap();
    let plan = head
        .get_plan(pb::GetPlanRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(plan.adopted);
    let plan = plan.plan.unwrap();
    assert_eq!(plan.number, "114/KH-THCSAH");
    assert_eq!(plan.content_areas.len(), 6);
    agent.stop().await.unwrap();
}

/// On the school's LAN the app serves TLS with a certificate the district CA signed: a client
/// that trusts the CA reads the sign-in page; a plain-HTTP client gets no page; a client that
/// trusts another CA cannot connect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_school_lan_the_app_speaks_tls_with_the_district_ca() {
    use std::sync::Arc;

    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, ServerName};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio_rustls::rustls::{ClientConfig, RootCertStore};

    let env = Env::start().await.unwrap();
    let today = chrono::Utc::now().date_naive();
    let district = tempfile::tempdir().unwrap();
    district_admin::pki::ensure_ca(district.path(), "Phòng GD-ĐT Tam Nông", today).unwrap();
    let files = district_admin::pki::issue_service_certificate(
        district.path(),
        AN_HOA,
        &["localhost".to_owned()],
        today,
    )
    .unwrap();
    let stranger = tempfile::tempdir().unwrap();
    district_admin::pki::ensure_ca(stranger.path(), "Ai đó", today).unwrap();

    let school = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa").unwrap();
    let mut settings = school.settings(&env.nats.url());
    settings.app.tls = Some(service_runtime::ServerTlsFiles {
        certificate: files.certificate.clone(),
        key: files.key.clone(),
    });
    let agent = agent_fixture::RunningAgent::start_with_app(settings)
        .await
        .unwrap();
    let address = agent.app.expect("the app is served");

    let get = "GET /dang-nhap HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let over_tls = |ca: std::path::PathBuf| async move {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(&ca).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
        let mut tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await?;
        tls.write_all(get.as_bytes()).await?;
        let mut page = Vec::new();
        tls.read_to_end(&mut page).await?;
        Ok::<String, std::io::Error>(String::from_utf8_lossy(&page).into_owned())
    };

    let page = over_tls(district.path().join(district_admin::pki::CA_CERT))
        .await
        .unwrap();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("Đăng nhập"));

    assert!(
        over_tls(stranger.path().join(district_admin::pki::CA_CERT))
            .await
            .is_err(),
        "a certificate another CA would have to sign is refused"
    );

    let mut plain = tokio::net::TcpStream::connect(address).await.unwrap();
    plain.write_all(get.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await;
    assert!(
        !String::from_utf8_lossy(&answer).starts_with("HTTP/"),
        "no page over plain HTTP"
    );
    agent.stop().await.unwrap();
}

/// A school that records before the district enrolled it: the district holds its events, and
/// the school's page says *Phòng giữ lại* with the district's reason — until it is enrolled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_the_district_holds_says_so_with_the_district_s_reason() {
    let env = Env::start().await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();
    let (_school, agent, _head) = school_with_an_activity(&env, Some(300)).await;

    let app = format!("http://{}", agent.app.expect("the app is served"));
    let browser = Chromium::shared().await.unwrap();
    browser
        .set_cookie(&app, "tt_truong", &agent.head_token)
        .await
        .unwrap();
    let page = wait_for_state(
        browser,
        &format!("{app}/hoat-dong"),
        "phong-giu-lai",
        Duration::from_secs(60),
    )
    .await;
    let reason = page.text("tr[data-activity] .reason").await.unwrap();
    assert!(
        reason.contains("chưa có trong danh sách của Phòng"),
        "the district's reason, in words: {reason}"
    );
    assert_eq!(page.text("[data-tally=phong-giu-lai]").await.unwrap(), "1");
    page.screenshot(&artefacts_dir("school-app").join("5-phong-giu-lai.png"))
        .await
        .unwrap();
    page.close().await.unwrap();
    running.stop().await.unwrap();
    agent.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_sees_the_backups_and_takes_one() {
    let env = Env::start().await.unwrap();
    let school = agent_fixture::SchoolDir::for_school(AN_HOA, "Trường THCS An Hòa").unwrap();
    let usb = tempfile::tempdir().unwrap();
    let folder = usb.path().join("sao-luu");
    std::fs::create_dir(&folder).unwrap();
    let mut settings = school.settings(&env.nats.url());
    settings.backup.folder = Some(folder.clone());
    let agent = agent_fixture::RunningAgent::start_with_app(settings)
        .await
        .unwrap();
    let mut head = agent.client().await.unwrap();
    agent_fixture::requests::adopt_seed_plan_for(&mut head, AN_HOA)
        .await
        .unwrap();
    let app = format!("http://{}", agent.app.expect("the app is served"));
    let shots = artefacts_dir("school-app");
    let browser = Chromium::shared().await.unwrap();
    browser
        .set_cookie(&app, "tt_truong", &agent.head_token)
        .await
        .unwrap();

    let page = browser.open(&format!("{app}/sao-luu")).await.unwrap();
    assert_eq!(page.text("main h1").await.unwrap(), "Sao lưu sổ của trường");
    assert!(
        page.text("#chua-co")
            .await
            .unwrap()
            .contains("Chưa có bản sao")
    );
    assert!(
        page.text("#thu-muc")
            .await
            .unwrap()
            .contains("giữ 7 bản gần nhất")
    );
    page.close().await.unwrap();

    // Sao lưu ngay: the new backup's row, with the seq it holds.
    let mut page = browser.open(&format!("{app}/sao-luu")).await.unwrap();
    page.click_and_wait("#sao-luu-ngay").await.unwrap();
    assert!(
        page.text("#da-sao-luu")
            .await
            .unwrap()
            .contains("Đã sao lưu")
    );
    let rows = page.attributes("#ban-sao [data-head-seq]").await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get("data-head-seq").map(String::as_str), Some("1"));
    page.screenshot(&shots.join("sao-luu-1-da-sao-luu.png"))
        .await
        .unwrap();
    assert!(page.problems().is_empty(), "{:?}", page.problems());
    page.close().await.unwrap();

    // The USB disk pulled out: the error on the page, in Vietnamese; the backup list empty.
    std::fs::remove_dir_all(&folder).unwrap();
    let mut page = browser.open(&format!("{app}/sao-luu")).await.unwrap();
    page.click_and_wait("#sao-luu-ngay").await.unwrap();
    assert!(
        page.text("#loi-sao-luu").await.unwrap().contains("ổ USB"),
        "{}",
        page.text("main").await.unwrap()
    );
    assert!(
        !page
            .text("#loi-lan-cuoi")
            .await
            .unwrap()
            .contains("không có")
    );
    page.screenshot(&shots.join("sao-luu-2-rut-usb.png"))
        .await
        .unwrap();
    page.close().await.unwrap();
    agent.stop().await.unwrap();
}
