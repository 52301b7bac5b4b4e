//! Staff sign-in and duties on the real agent: no session, no call; a role records only what
//! the plan gives it to do; the event's actor is the signed-in account, whatever the request
//! says.

use domain::Role;
use test_harness::NatsServer;
use tonic::Code;
use wire::pb;

use agent_fixture::sessions::{connect_anonymous, connect_with, staff, staff_member};
use agent_fixture::{HEAD_LOGIN, HEAD_NAME, PASSWORD};

use crate::support::*;

/// Every `SchoolAgent` method, called with empty requests: the answers, by method.
async fn call_every_method(client: &mut Client) -> Vec<(&'static str, tonic::Status)> {
    macro_rules! calls {
        ($($method:ident($request:ty)),+ $(,)?) => {{
            let mut answers = Vec::new();
            $(
                let answer = client.$method(<$request>::default()).await;
                answers.push((
                    stringify!($method),
                    answer.expect_err(concat!(stringify!($method), " is refused")),
                ));
            )+
            answers
        }};
    }
    calls!(
        adopt_plan(pb::AdoptPlanRequest),
        amend_plan(pb::AmendPlanRequest),
        assign_duty(pb::AssignDutyRequest),
        record_activity(pb::RecordActivityRequest),
        correct_activity(pb::CorrectActivityRequest),
        retract_activity(pb::RetractActivityRequest),
        receive_feedback(pb::ReceiveFeedbackRequest),
        answer_feedback(pb::AnswerFeedbackRequest),
        raise_press_issue(pb::RaisePressIssueRequest),
        answer_press_issue(pb::AnswerPressIssueRequest),
        host_reporter_visit(pb::HostReporterVisitRequest),
        nominate(pb::NominateRequest),
        award_commendation(pb::AwardCommendationRequest),
        adopt_emulation_criteria(pb::AdoptEmulationCriteriaRequest),
        estimate_budget(pb::EstimateBudgetRequest),
        record_expense(pb::RecordExpenseRequest),
        settle_budget(pb::SettleBudgetRequest),
        list_events(pb::ListEventsRequest),
        get_status(pb::GetStatusRequest),
        get_plan(pb::GetPlanRequest),
    )
}

#[tokio::test]
async fn without_a_valid_session_every_method_is_unauthenticated() {
    let nats = NatsServer::start().await.unwrap();
    let school = SchoolDir::new().unwrap();
    let agent = RunningAgent::start(school.settings(&nats.url()))
        .await
        .unwrap();

    let mut anonymous = connect_anonymous(agent.grpc).await.unwrap();
    let wrong = format!("ttp_{}", "x".repeat(43));
    let mut forged = connect_with(agent.grpc, &wrong).await.unwrap();
    let mut not_a_session = connect_with(agent.grpc, "tts_service").await.unwrap();
    for client in [&mut anonymous, &mut forged, &mut not_a_session] {
        let answers = call_every_method(client).await;
        assert_eq!(answers.len(), 20);
        for (method, status) in answers {
            assert_eq!(status.code(), Code::Unauthenticated, "{method}: {status:?}");
            let vi = wire::status::vietnamese_message(&status).unwrap();
            assert!(vi.contains("truyenthong dang-nhap"), "{method}: {vi}");
        }
    }
    // The staff calls but SignIn need a session too.
    let who = staff(agent.grpc, None)
        .await
        .unwrap()
        .who_am_i(pb::StaffWhoAmIRequest {})
        .await
        .unwrap_err();
    assert_eq!(who.code(), Code::Unauthenticated);

    // Health stays open.
    let channel = tonic::transport::Endpoint::from_shared(agent.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let health = tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        health.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    // Signed in as the head, the same calls get past authentication.
    let mut head = agent.client().await.unwrap();
    let status = head.get_status(pb::GetStatusRequest {}).await.unwrap();
    assert_eq!(status.into_inner().head_seq, 0);
    agent.stop().await.unwrap();
}

#[tokio::test]
async fn a_teacher_is_refused_settling_the_budget_and_the_head_records_it_as_themself() {
    let nats = NatsServer::start().await.unwrap();
    let school = SchoolDir::new().unwrap();
    let agent = RunningAgent::start(school.settings(&nats.url()))
        .await
        .unwrap();
    let mut head = agent.client().await.unwrap();
    adopt_seed_plan(&mut head).await.unwrap();
    let (mut teacher, _) = staff_member(
        agent.grpc,
        &agent.head_token,
        "lan.tran",
        "Trần Thị Lan",
        Role::Teacher,
    )
    .await
    .unwrap();

    // The request claims to be the office team; the agent goes by the signed-in account.
    let settle = pb::SettleBudgetRequest {
        header: Some(pb::CommandHeader {
            school: SCHOOL.into(),
            actor: Some(pb::Actor {
                role: pb::Role::OfficeTeam.into(),
                person: "Người Khác".into(),
            }),
        }),
        year: 2018,
        settled_on: "2018-12-28".into(),
        settled_amount: 12_500_000,
        note: String::new(),
    };
    let before = status(&mut head).await.unwrap().head_seq;
    let refused = teacher.settle_budget(settle.clone()).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let vi = wire::status::vietnamese_message(&refused).unwrap();
    assert!(
        vi.contains("Ghi chi và quyết toán kinh phí") && vi.contains("Giáo viên"),
        "{vi}"
    );
    assert!(refused.message().contains("settle_budget"), "{refused:?}");
    assert_eq!(status(&mut head).await.unwrap().head_seq, before);
    // A teacher still records an activity, as every staff member may.
    teacher.record_activity(activity(1)).await.unwrap();

    let reply = head.settle_budget(settle).await.unwrap().into_inner();
    assert_eq!(reply.seq, before + 2);
    let events = head
        .list_events(pb::ListEventsRequest {
            from_seq: before + 1,
            limit: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    let actors: Vec<_> = events
        .iter()
        .map(|e| e.actor.clone().unwrap())
        .map(|a| (a.role, a.person))
        .collect();
    assert_eq!(
        actors,
        vec![
            (pb::Role::Teacher as i32, "Trần Thị Lan".to_owned()),
            (pb::Role::Principal as i32, HEAD_NAME.to_owned()),
        ]
    );

    // What reached the district says the same.
    wait_delivered(&head, reply.seq, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    let published = stream_messages(&nats.url()).await.unwrap();
    let last = domain::Envelope::parse(&published.last().unwrap().payload).unwrap();
    assert_eq!(last.seq, reply.seq);
    assert_eq!(last.actor.role, Role::Principal);
    assert_eq!(last.actor.person, HEAD_NAME);
    agent.stop().await.unwrap();
}

#[tokio::test]
async fn a_session_whose_password_must_change_does_nothing_else_until_it_is_changed() {
    let nats = NatsServer::start().await.unwrap();
    let school = SchoolDir::new().unwrap();
    let agent = RunningAgent::start(school.settings(&nats.url()))
        .await
        .unwrap();
    let mut head_staff = staff(agent.grpc, Some(&agent.head_token)).await.unwrap();
    let issued = head_staff
        .create_staff(pb::CreateStaffRequest {
            login: "nhung.nguyen".into(),
            full_name: "Nguyễn Thị Hồng Nhung".into(),
            role: pb::Role::VicePrincipal.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(issued.account.as_ref().unwrap().must_change_password);
    let one_time = issued.one_time_password;

    let signed_in = staff(agent.grpc, None)
        .await
        .unwrap()
        .sign_in(pb::StaffSignInRequest {
            login: "nhung.nguyen".into(),
            password: one_time.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let token = signed_in.session_token;
    assert!(token.starts_with("ttp_"));
    let mut agent_client = connect_with(agent.grpc, &token).await.unwrap();
    let mut own = staff(agent.grpc, Some(&token)).await.unwrap();

    let refused = agent_client
        .get_status(pb::GetStatusRequest {})
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(
        wire::status::violated_field(&refused).as_deref(),
        Some("password")
    );
    assert!(
        wire::status::vietnamese_message(&refused)
            .unwrap()
            .contains("đổi mật khẩu")
    );
    let refused = agent_client.record_activity(activity(1)).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    // WhoAmI works, and says so.
    let me = own
        .who_am_i(pb::StaffWhoAmIRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(me.must_change_password);
    assert_eq!(me.role, pb::Role::VicePrincipal as i32);
    // A password against the rule is refused naming the field.
    let weak = own
        .change_password(pb::StaffChangePasswordRequest {
            current_password: one_time.clone(),
            new_password: "short".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(weak.code(), Code::InvalidArgument);
    assert_eq!(
        wire::status::violated_field(&weak).as_deref(),
        Some("new_password")
    );
    let changed = own
        .change_password(pb::StaffChangePasswordRequest {
            current_password: one_time,
            new_password: PASSWORD.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!changed.must_change_password);
    // The same session now works.
    agent_client
        .get_status(pb::GetStatusRequest {})
        .await
        .unwrap();
    // Managing accounts stays the head's.
    let denied = own.list_staff(pb::ListStaffRequest {}).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let listed = head_staff
        .list_staff(pb::ListStaffRequest {})
        .await
        .unwrap()
        .into_inner()
        .accounts;
    let logins: Vec<_> = listed.iter().map(|a| a.login.as_str()).collect();
    assert_eq!(logins, vec![HEAD_LOGIN, "nhung.nguyen"]);
    // Signed out, the token is refused.
    own.sign_out(pb::StaffSignOutRequest {}).await.unwrap();
    let after = agent_client
        .get_status(pb::GetStatusRequest {})
        .await
        .unwrap_err();
    assert_eq!(after.code(), Code::Unauthenticated);
    agent.stop().await.unwrap();
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account() {
    let nats = NatsServer::start().await.unwrap();
    let school = SchoolDir::new().unwrap();
    let agent = RunningAgent::start(school.settings(&nats.url()))
        .await
        .unwrap();
    let mut anonymous = staff(agent.grpc, None).await.unwrap();
    let sign_in = |password: &str| pb::StaffSignInRequest {
        login: HEAD_LOGIN.into(),
        password: password.into(),
    };
    for attempt in 1..=5 {
        let refused = anonymous
            .sign_in(sign_in("không phải mật khẩu"))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated, "attempt {attempt}");
        assert_eq!(
            wire::status::vietnamese_message(&refused).as_deref(),
            Some("Tên đăng nhập hoặc mật khẩu không đúng.")
        );
    }
    // Locked: even the right password is refused, saying so.
    let locked = anonymous.sign_in(sign_in(PASSWORD)).await.unwrap_err();
    assert_eq!(locked.code(), Code::FailedPrecondition, "{locked:?}");
    assert_eq!(
        wire::status::violated_field(&locked).as_deref(),
        Some("login")
    );
    assert!(
        wire::status::vietnamese_message(&locked)
            .unwrap()
            .contains("tạm khóa")
    );
    // The head's lock shows in the list; the head's existing session still works.
    let mut head = staff(agent.grpc, Some(&agent.head_token)).await.unwrap();
    let me = head
        .who_am_i(pb::StaffWhoAmIRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(me.locked_until.is_some());
    agent.stop().await.unwrap();
}

#[tokio::test]
async fn the_server_command_creates_the_head_and_is_the_break_glass_reset() {
    let nats = NatsServer::start().await.unwrap();
    let school = SchoolDir::new().unwrap();
    let agent = RunningAgent::start(school.settings(&nats.url()))
        .await
        .unwrap();
    let config = school.write_config(&school.settings(&nats.url())).unwrap();
    let create_head = || {
        std::process::Command::new(AGENT_BINARY)
            .arg("--config")
            .arg(&config)
            .args(["account", "create-head", "--login", "co.hanh"])
            .args(["--ho-ten", "Lê Thị Hạnh"])
            .output()
            .unwrap()
    };
    let password_of = |output: &std::process::Output| {
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8(output.stdout.clone()).unwrap();
        assert!(stdout.contains("phải đổi"), "{stdout}");
        stdout
            .lines()
            .find_map(|l| l.strip_prefix("Mật khẩu dùng một lần: "))
            .unwrap()
            .trim()
            .to_owned()
    };
    // Created while the agent runs; the printed password signs in once, to be changed.
    let first = password_of(&create_head());
    let token = agent_fixture::sessions::sign_in_ready(agent.grpc, "co.hanh", &first)
        .await
        .unwrap();
    let mut hanh = staff(agent.grpc, Some(&token)).await.unwrap();
    let me = hanh
        .who_am_i(pb::StaffWhoAmIRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.role, pb::Role::Principal as i32);
    assert_eq!(me.full_name, "Lê Thị Hạnh");
    // Run again: a new one-time password, and the old session ends.
    let second = password_of(&create_head());
    assert_ne!(first, second);
    let ended = hanh.who_am_i(pb::StaffWhoAmIRequest {}).await.unwrap_err();
    assert_eq!(ended.code(), Code::Unauthenticated);
    agent_fixture::sessions::sign_in_ready(agent.grpc, "co.hanh", &second)
        .await
        .unwrap();
    agent.stop().await.unwrap();
}
