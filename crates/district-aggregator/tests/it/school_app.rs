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
