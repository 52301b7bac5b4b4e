//! Who may call the aggregator: every method refuses a call without a credential, a service
//! token reads but never changes (nor imports a school's bundle), a school head sees their own school alone, five wrong
//! passwords lock an account, a one-time password must be changed first, and the district's
//! commands carry the signed-in administrator as their actor.

#![allow(clippy::unwrap_used)] // test helpers: a failure is the test's failure.

use district_fixture::credentials::{ADMIN_LOGIN, ADMIN_NAME, accounts_client_with, client_with};
use futures::StreamExt as _;
use tonic::Code;
use wire::pb;
use wire::pb::district_accounts_client::DistrictAccountsClient;
use wire::pb::district_aggregator_client::DistrictAggregatorClient;

use crate::support::*;

/// The Vietnamese message of a status.
fn vietnamese(status: &tonic::Status) -> String {
    wire::status::vietnamese_message(status).unwrap_or_default()
}

/// Every `DistrictAggregator` method, called once on `client`; the codes in call order.
async fn every_method<T>(client: &mut DistrictAggregatorClient<T>) -> Vec<(&'static str, Code)>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: tonic::codegen::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    fn code<R>(r: Result<tonic::Response<R>, tonic::Status>) -> Code {
        r.map_or_else(|s| s.code(), |_| Code::Ok)
    }
    let period = || "2017-2018".to_owned();
    vec![
        (
            "EnrollSchool",
            code(
                client
                    .enroll_school(district_fixture::office::enrolment(
                        district_fixture::office::demo_school(PHU_CUONG),
                        "Phú Cường",
                    ))
                    .await,
            ),
        ),
        (
            "AdoptDistrictPlan",
            code(
                client
                    .adopt_district_plan(pb::AdoptDistrictPlanRequest {
                        actor: None,
                        plan: Some(district_fixture::office::district_plan()),
                    })
                    .await,
            ),
        ),
        (
            "ListSchools",
            code(client.list_schools(pb::ListSchoolsRequest {}).await),
        ),
        (
            "GetDistrictPlan",
            code(
                client
                    .get_district_plan(pb::GetDistrictPlanRequest {})
                    .await,
            ),
        ),
        (
            "GetPlanView",
            code(
                client
                    .get_plan_view(pb::GetPlanViewRequest { period: period() })
                    .await,
            ),
        ),
        (
            "GetCompleteness",
            code(
                client
                    .get_completeness(pb::GetCompletenessRequest { period: period() })
                    .await,
            ),
        ),
        (
            "GetResponsiveness",
            code(
                client
                    .get_responsiveness(pb::GetResponsivenessRequest {
                        period: period(),
                        as_of: String::new(),
                    })
                    .await,
            ),
        ),
        (
            "GetCommendation",
            code(
                client
                    .get_commendation(pb::GetCommendationRequest { period: period() })
                    .await,
            ),
        ),
        (
            "GetBudget",
            code(client.get_budget(pb::GetBudgetRequest { year: 2018 }).await),
        ),
        (
            "SearchActivities",
            code(
                client
                    .search_activities(pb::SearchActivitiesRequest::default())
                    .await,
            ),
        ),
        (
            "WatchActivities",
            code(
                client
                    .watch_activities(pb::WatchActivitiesRequest::default())
                    .await,
            ),
        ),
        (
            "ListDeadLetters",
            code(
                client
                    .list_dead_letters(pb::ListDeadLettersRequest::default())
                    .await,
            ),
        ),
        (
            "GetIngestState",
            code(client.get_ingest_state(pb::GetIngestStateRequest {}).await),
        ),
        (
            "ImportBundle",
            code(
                client
                    .import_bundle(futures::stream::iter(Vec::<pb::BundleChunk>::new()))
                    .await,
            ),
        ),
        (
            "ExportReply",
            code(
                client
                    .export_reply(pb::ExportReplyRequest {
                        school: AN_HOA.into(),
                    })
                    .await,
            ),
        ),
        (
            "ListEvidence",
            code(
                client
                    .list_evidence(pb::ListEvidenceRequest {
                        school: AN_HOA.into(),
                        ..Default::default()
                    })
                    .await,
            ),
        ),
        (
            "GetEvidence",
            code(
                client
                    .get_evidence(pb::GetDistrictEvidenceRequest {
                        school: AN_HOA.into(),
                        sha256: "0".repeat(64),
                    })
                    .await,
            ),
        ),
    ]
}

/// A district with An Hòa and Phú Cường enrolled (with a plan and three activities each) and
/// the district plan adopted, as the office's own events.
async fn district() -> (Env, Running) {
    let env = Env::start().await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();
    let mut office = DistrictLog::new();
    office.enrol(AN_HOA, "Trường THCS An Hòa");
    office.enrol(PHU_CUONG, "Trường THCS Phú Cường");
    publish(&env.js, &office.envelopes).await.unwrap();
    for code in [AN_HOA, PHU_CUONG] {
        let log = SchoolLog::with_plan_and_activities(code, 3);
        publish(&env.js, &log.envelopes).await.unwrap();
        env.wait_applied(code, 4).await.unwrap();
    }
    let mut admin = running.client().await.unwrap();
    admin
        .adopt_district_plan(pb::AdoptDistrictPlanRequest {
            actor: None,
            plan: Some(district_fixture::office::district_plan()),
        })
        .await
        .unwrap();
    (env, running)
}

/// Creates an account and signs it in with its one-time password (still to be changed);
/// returns its session token and that password.
async fn signed_in(
    running: &Running,
    login: &str,
    role: pb::AccountRole,
    school: &str,
) -> (String, String) {
    let person = district_fixture::credentials::new_person(
        &running.url(),
        &running.credentials.admin,
        login,
        "Nguyễn Thị Lan",
        role,
        school,
    )
    .await
    .unwrap();
    (person.session, person.one_time_password)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_needs_a_credential_and_the_right_role() {
    let (env, running) = district().await;
    let url = running.url();

    // No credential, and a credential nobody issued: UNAUTHENTICATED everywhere.
    let mut anonymous =
        DistrictAggregatorClient::new(district_fixture::credentials::channel(&url).await.unwrap());
    for (method, code) in every_method(&mut anonymous).await {
        assert_eq!(code, Code::Unauthenticated, "{method} without a credential");
    }
    let forged = format!("ttp_{}", "A".repeat(43));
    for (method, code) in every_method(&mut client_with(&url, &forged).await.unwrap()).await {
        assert_eq!(
            code,
            Code::Unauthenticated,
            "{method} with a forged session"
        );
    }
    let refused = anonymous
        .list_schools(pb::ListSchoolsRequest {})
        .await
        .unwrap_err();
    assert!(vietnamese(&refused).contains("đăng nhập"), "{refused:?}");
    let mut accounts_anonymous =
        DistrictAccountsClient::new(district_fixture::credentials::channel(&url).await.unwrap());
    for (method, code) in [
        (
            "WhoAmI",
            accounts_anonymous
                .who_am_i(pb::WhoAmIRequest {})
                .await
                .map(|_| ())
                .unwrap_err()
                .code(),
        ),
        (
            "ListAccounts",
            accounts_anonymous
                .list_accounts(pb::ListAccountsRequest {})
                .await
                .map(|_| ())
                .unwrap_err()
                .code(),
        ),
        (
            "IssueServiceToken",
            accounts_anonymous
                .issue_service_token(pb::IssueServiceTokenRequest::default())
                .await
                .map(|_| ())
                .unwrap_err()
                .code(),
        ),
        (
            "ListAudit",
            accounts_anonymous
                .list_audit(pb::ListAuditRequest::default())
                .await
                .map(|_| ())
                .unwrap_err()
                .code(),
        ),
    ] {
        assert_eq!(code, Code::Unauthenticated, "{method}");
    }

    // Reporting's service token reads every view and the dead letters, changes nothing.
    let mut service = client_with(&url, &running.credentials.reporting)
        .await
        .unwrap();
    for (method, code) in every_method(&mut service).await {
        let expected = match method {
            "EnrollSchool" | "AdoptDistrictPlan" | "ImportBundle" | "ExportReply" => {
                Code::PermissionDenied
            }
            // Allowed: no such file.
            "GetEvidence" => Code::NotFound,
            _ => Code::Ok,
        };
        assert_eq!(code, expected, "{method} with reporting's token");
    }
    let mut service_accounts = accounts_client_with(&url, &running.credentials.reporting)
        .await
        .unwrap();
    let denied = service_accounts
        .list_accounts(pb::ListAccountsRequest {})
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(
        vietnamese(&denied),
        "Tài khoản dịch vụ reporting không được quản lý tài khoản."
    );

    // An officer reads; only the administrator enrols and adopts.
    let (officer, one_time) = signed_in(&running, "lan.nguyen", pb::AccountRole::Officer, "").await;
    let mut officer_client = client_with(&url, &officer).await.unwrap();
    // First the one-time password must go.
    let must_change = officer_client
        .list_schools(pb::ListSchoolsRequest {})
        .await
        .unwrap_err();
    assert_eq!(must_change.code(), Code::FailedPrecondition);
    assert_eq!(
        wire::status::violated_field(&must_change).as_deref(),
        Some("password")
    );
    assert!(vietnamese(&must_change).contains("đổi mật khẩu"));
    let mut officer_accounts = accounts_client_with(&url, &officer).await.unwrap();
    let weak = officer_accounts
        .change_password(pb::ChangePasswordRequest {
            current_password: one_time.clone(),
            new_password: "ngan".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(weak.code(), Code::InvalidArgument);
    assert_eq!(
        wire::status::violated_field(&weak).as_deref(),
        Some("new_password")
    );
    officer_accounts
        .change_password(pb::ChangePasswordRequest {
            current_password: one_time,
            new_password: "mùa-nước-nổi-2018".into(),
        })
        .await
        .unwrap();
    for (method, code) in every_method(&mut officer_client).await {
        let expected = match method {
            "EnrollSchool" | "AdoptDistrictPlan" => Code::PermissionDenied,
            // Allowed; this district has no identity registry or signing key configured.
            "ImportBundle" | "ExportReply" => Code::FailedPrecondition,
            "GetEvidence" => Code::NotFound,
            _ => Code::Ok,
        };
        assert_eq!(code, expected, "{method} as an officer");
    }
    let denied = officer_client
        .adopt_district_plan(pb::AdoptDistrictPlanRequest {
            actor: None,
            plan: Some(district_fixture::office::district_plan()),
        })
        .await
        .unwrap_err();
    assert_eq!(
        vietnamese(&denied),
        "Tài khoản Chuyên viên không được ban hành kế hoạch của Phòng."
    );

    // The administrator's enrolment: the event's actor is the signed-in account, whatever
    // the request said.
    let mut admin = running.client().await.unwrap();
    let mut request = district_fixture::office::enrolment(
        district_fixture::office::demo_school(PHU_CUONG),
        "Phú Cường (đổi tên xã)",
    );
    request.actor = Some(pb::Actor {
        role: pb::Role::Teacher.into(),
        person: "Ai đó tự khai".into(),
    });
    admin.enroll_school(request).await.unwrap();
    let stream = env.js.get_stream(stream_name()).await.unwrap();
    let subject = event_bus::subjects::district_own_subject(PROVINCE, DISTRICT).unwrap();
    let last = stream
        .get_last_raw_message_by_subject(&subject)
        .await
        .unwrap();
    let envelope = domain::Envelope::parse(&last.payload).unwrap();
    assert_eq!(envelope.actor.person.as_str(), ADMIN_NAME);
    assert_eq!(envelope.actor.role, domain::Role::DistrictOffice);

    // The audit trail has the enrolment, the refusals and the sign-ins, newest first.
    let trail = running
        .accounts()
        .await
        .unwrap()
        .list_audit(pb::ListAuditRequest::default())
        .await
        .unwrap()
        .into_inner()
        .entries;
    let enrolled = trail
        .iter()
        .find(|e| e.action == "school_enrolled")
        .expect("the enrolment is audited");
    assert_eq!(enrolled.login, ADMIN_LOGIN);
    assert_eq!(enrolled.target, PHU_CUONG);
    assert!(
        trail
            .iter()
            .any(|e| e.action == "access_denied" && e.login == "lan.nguyen")
    );
    assert!(
        trail
            .iter()
            .any(|e| e.action == "sign_in" && e.login == "lan.nguyen")
    );
    assert!(trail.iter().any(|e| e.action == "password_changed"));
    assert!(trail.windows(2).all(|w| w[0].id > w[1].id));

    // A revoked service token stops working at once.
    let mut admin_accounts = running.accounts().await.unwrap();
    let issued = admin_accounts
        .issue_service_token(pb::IssueServiceTokenRequest {
            service: "bao-cao-thu".into(),
            note: "thử thu hồi".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut short_lived = client_with(&url, &issued.token).await.unwrap();
    short_lived
        .list_schools(pb::ListSchoolsRequest {})
        .await
        .unwrap();
    admin_accounts
        .revoke_service_token(pb::RevokeServiceTokenRequest {
            id: issued.info.unwrap().id,
        })
        .await
        .unwrap();
    let revoked = short_lived
        .list_schools(pb::ListSchoolsRequest {})
        .await
        .unwrap_err();
    assert_eq!(revoked.code(), Code::Unauthenticated);
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_school_head_sees_their_own_school_alone() {
    let (_env, running) = district().await;
    let url = running.url();
    let (head, one_time) = signed_in(&running, "lan.ht", pb::AccountRole::SchoolHead, AN_HOA).await;
    accounts_client_with(&url, &head)
        .await
        .unwrap()
        .change_password(pb::ChangePasswordRequest {
            current_password: one_time,
            new_password: "truong-an-hoa-2017".into(),
        })
        .await
        .unwrap();
    let mut client = client_with(&url, &head).await.unwrap();

    let schools = client
        .list_schools(pb::ListSchoolsRequest {})
        .await
        .unwrap()
        .into_inner()
        .schools;
    assert_eq!(
        schools.iter().map(|s| s.code.as_str()).collect::<Vec<_>>(),
        [AN_HOA]
    );
    let view = client
        .get_plan_view(pb::GetPlanViewRequest {
            period: "plan".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let whole = running
        .client()
        .await
        .unwrap()
        .get_plan_view(pb::GetPlanViewRequest {
            period: "plan".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        format!("{view:?}").contains(AN_HOA) && !format!("{view:?}").contains(PHU_CUONG),
        "{view:?}"
    );
    assert!(format!("{whole:?}").contains(PHU_CUONG));
    // Every other view too: the other school is nowhere in the head's answers.
    let period = || "plan".to_owned();
    let views = [
        format!(
            "{:?}",
            client
                .get_completeness(pb::GetCompletenessRequest { period: period() })
                .await
                .unwrap()
        ),
        format!(
            "{:?}",
            client
                .get_responsiveness(pb::GetResponsivenessRequest {
                    period: period(),
                    as_of: String::new(),
                })
                .await
                .unwrap()
        ),
        format!(
            "{:?}",
            client
                .get_commendation(pb::GetCommendationRequest { period: period() })
                .await
                .unwrap()
        ),
        format!(
            "{:?}",
            client
                .get_budget(pb::GetBudgetRequest { year: 2018 })
                .await
                .unwrap()
        ),
    ];
    for view in views {
        assert!(!view.contains(PHU_CUONG), "{view}");
    }

    let page = client
        .search_activities(pb::SearchActivitiesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.activities.len(), 3);
    assert!(page.activities.iter().all(|a| a.school == AN_HOA));

    let other = client
        .search_activities(pb::SearchActivitiesRequest {
            filter: Some(pb::ActivityFilter {
                school: PHU_CUONG.into(),
                ..pb::ActivityFilter::default()
            }),
            ..pb::SearchActivitiesRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::PermissionDenied);
    assert_eq!(
        wire::status::violated_field(&other).as_deref(),
        Some("filter.school")
    );
    assert!(vietnamese(&other).contains(PHU_CUONG));
    // Another school's evidence files: neither their list nor a file.
    let files_other = client
        .list_evidence(pb::ListEvidenceRequest {
            school: PHU_CUONG.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(files_other.code(), Code::PermissionDenied);
    let file_other = client
        .get_evidence(pb::GetDistrictEvidenceRequest {
            school: PHU_CUONG.into(),
            sha256: "0".repeat(64),
        })
        .await
        .unwrap_err();
    assert_eq!(file_other.code(), Code::PermissionDenied);
    let watch_other = client
        .watch_activities(pb::WatchActivitiesRequest {
            school: PHU_CUONG.into(),
        })
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(watch_other.code(), Code::PermissionDenied);

    let dead_letters = client
        .list_dead_letters(pb::ListDeadLettersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(dead_letters.code(), Code::PermissionDenied);
    assert_eq!(
        vietnamese(&dead_letters),
        "Tài khoản Hiệu trưởng không được xem các thư lỗi (thư chết)."
    );
    let state = client
        .get_ingest_state(pb::GetIngestStateRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        state
            .authors
            .iter()
            .map(|a| a.author.as_str())
            .collect::<Vec<_>>(),
        [AN_HOA]
    );
    assert!(state.counters.is_none());

    // A watch without a school is the head's own school's: a new Phú Cường activity is not
    // shown, An Hòa's is.
    let mut watch = client
        .watch_activities(pb::WatchActivitiesRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut phu_cuong = SchoolLog::with_plan_and_activities(PHU_CUONG, 3);
    phu_cuong.push(activity(90));
    let mut an_hoa = SchoolLog::with_plan_and_activities(AN_HOA, 3);
    an_hoa.push(activity(91));
    publish(&_env.js, &phu_cuong.envelopes[4..]).await.unwrap();
    _env.wait_applied(PHU_CUONG, 5).await.unwrap();
    publish(&_env.js, &an_hoa.envelopes[4..]).await.unwrap();
    let change = tokio::time::timeout(WAIT, watch.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(change.school, AN_HOA);
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_passwords_lock_an_account_until_an_administrator_resets_it() {
    let env = Env::start().await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();
    let (_, one_time) = signed_in(&running, "lan.nguyen", pb::AccountRole::Officer, "").await;
    let mut anonymous = DistrictAccountsClient::new(
        district_fixture::credentials::channel(&running.url())
            .await
            .unwrap(),
    );
    let sign_in = |password: &str| pb::SignInRequest {
        login: "lan.nguyen".into(),
        password: password.into(),
    };
    for attempt in 1..=4 {
        let wrong = anonymous
            .sign_in(sign_in("sai-mat-khau-roi"))
            .await
            .unwrap_err();
        assert_eq!(wrong.code(), Code::Unauthenticated, "attempt {attempt}");
        assert_eq!(
            vietnamese(&wrong),
            "Tên đăng nhập hoặc mật khẩu không đúng."
        );
    }
    // A login nobody has answers the same.
    let nobody = anonymous
        .sign_in(pb::SignInRequest {
            login: "khong.co.ai".into(),
            password: "sai-mat-khau-roi".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(nobody.code(), Code::Unauthenticated);
    let fifth = anonymous
        .sign_in(sign_in("sai-mat-khau-roi"))
        .await
        .unwrap_err();
    assert_eq!(fifth.code(), Code::FailedPrecondition);
    assert_eq!(
        wire::status::violated_field(&fifth).as_deref(),
        Some("login")
    );
    assert!(vietnamese(&fifth).contains("tạm khóa"), "{fifth:?}");
    // Locked: even the right password is refused.
    let right = anonymous.sign_in(sign_in(&one_time)).await.unwrap_err();
    assert_eq!(right.code(), Code::FailedPrecondition);

    let reset = running
        .accounts()
        .await
        .unwrap()
        .reset_password(pb::ResetPasswordRequest {
            login: "lan.nguyen".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let session = anonymous
        .sign_in(sign_in(&reset.one_time_password))
        .await
        .unwrap()
        .into_inner();
    assert!(session.account.unwrap().must_change_password);
    let trail = running
        .accounts()
        .await
        .unwrap()
        .list_audit(pb::ListAuditRequest::default())
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert!(
        trail
            .iter()
            .any(|e| e.action == "sign_in_locked" && e.target == "lan.nguyen")
    );
    // The person's address is believed from a service only: SignIn needs no credential, so
    // anyone could send the header.
    let forged_address = service_runtime::Credential::bearer("tts_not-a-token")
        .unwrap()
        .with_client_address("203.0.113.9")
        .unwrap();
    let channel = district_fixture::credentials::channel(&running.url())
        .await
        .unwrap();
    let _ = DistrictAccountsClient::new(forged_address.on(channel.clone()))
        .sign_in(pb::SignInRequest {
            login: "ai.do".into(),
            password: "khong-biet-gi".into(),
        })
        .await;
    let via_service = service_runtime::Credential::bearer(&running.credentials.reporting)
        .unwrap()
        .with_client_address("198.51.100.4")
        .unwrap();
    let _ = DistrictAccountsClient::new(via_service.on(channel))
        .sign_in(pb::SignInRequest {
            login: "ai.khac".into(),
            password: "khong-biet-gi".into(),
        })
        .await;
    let trail = running
        .accounts()
        .await
        .unwrap()
        .list_audit(pb::ListAuditRequest::default())
        .await
        .unwrap()
        .into_inner()
        .entries;
    let from = |login: &str| {
        trail
            .iter()
            .find(|e| e.action == "sign_in_failed" && e.target == login)
            .map(|e| e.from_address.clone())
    };
    assert_eq!(from("ai.do").as_deref(), Some("127.0.0.1"));
    assert_eq!(from("ai.khac").as_deref(), Some("198.51.100.4"));
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.action == "sign_in_failed" && e.target == "lan.nguyen")
            .count(),
        4
    );
    running.stop().await.unwrap();
}
