//! Pure conversion tests: no I/O beyond the plan file compiled into the test binary.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use domain::event::{ActivityRecorded, Event};
use domain::plan::Plan;
use domain::roles::{CommendationLevel, NomineeKind};
use domain::{Channel, ContentArea, DecisionContext, Envelope, Role, Rule, SchoolRef, SchoolState};

use super::*;

const SEED_PLAN: &str = include_str!("../../../../deploy/plans/kh-114-thcs-an-hoa-2017.toml");

fn seed_plan() -> Plan {
    toml::from_str(SEED_PLAN).expect("the shipped plan file parses")
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn header() -> Option<pb::CommandHeader> {
    Some(pb::CommandHeader {
        school: "thcs-an-hoa".into(),
        actor: Some(pb::Actor {
            role: pb::Role::VicePrincipal.into(),
            person: "Nguyễn Thị Hồng".into(),
        }),
    })
}

/// An id source that counts its calls.
struct Ids(u128);

impl Ids {
    fn next(&mut self) -> Uuid {
        self.0 += 1;
        Uuid::from_u128(self.0)
    }
}

fn convert<R: CommandRequest>(request: R) -> Result<SchoolCommand, DomainError> {
    let mut ids = Ids(0);
    request.into_command(&mut || ids.next())
}

fn activity() -> pb::Activity {
    pb::Activity {
        date: "2018-03-04".into(),
        area: 1,
        topic: "nq-29".into(),
        channel: pb::Channel::DistrictRadio.into(),
        title: "Chuyên mục giáo dục".into(),
        summary: "Giới thiệu Nghị quyết 29".into(),
        audience: String::new(),
        reach: Some(1200),
        partner: "Đài Truyền thanh huyện".into(),
        evidence_url: String::new(),
        responsible: pb::Role::VicePrincipal.into(),
    }
}

fn record_activity() -> pb::RecordActivityRequest {
    pb::RecordActivityRequest {
        header: header(),
        activity_id: String::new(),
        activity: Some(activity()),
    }
}

/// The field and rule of a refused conversion.
fn refusal<R: CommandRequest>(request: R) -> (String, Rule) {
    let err = convert(request).expect_err("the request is refused");
    (err.field, err.rule)
}

#[test]
fn plan_round_trips_domain_to_wire_to_domain() {
    let plan = seed_plan();
    let wire = plan_to_pb(&plan);
    assert_eq!(wire.date, "2017-10-20");
    assert_eq!(wire.period_end, "2020-12-31");
    assert_eq!(wire.content_areas.len(), plan.content_areas.len());
    assert_eq!(plan_from_pb(wire.clone()).unwrap(), plan);
    // And through bytes, as GetPlan sends it.
    let bytes = prost::Message::encode_to_vec(&wire);
    let decoded: pb::Plan = prost::Message::decode(bytes.as_slice()).unwrap();
    assert_eq!(plan_from_pb(decoded).unwrap(), plan);
    // The validated (normalised) plan round-trips too.
    let (validated, _) = plan.validated().unwrap();
    assert_eq!(plan_from_pb(pb::Plan::from(&validated)).unwrap(), validated);
}

#[test]
fn adopting_the_seed_plan_over_the_wire_gives_the_legal_basis_warning() {
    let converted = convert(pb::AdoptPlanRequest {
        header: header(),
        plan: Some(plan_to_pb(&seed_plan())),
    })
    .unwrap();
    assert_eq!(converted.claimed_school, "thcs-an-hoa");
    assert_eq!(converted.command, Command::AdoptPlan(seed_plan()));
    let ctx = DecisionContext {
        today: d(2018, 1, 1),
    };
    let decision = domain::decide(&SchoolState::default(), converted.command, ctx).unwrap();
    let warnings: Vec<_> = decision.warnings.iter().map(warning).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].field.starts_with("plan.legal_bases["));
    assert!(warnings[0].message.contains("175/KH-UBND"));
    assert!(warnings[0].message_vi.contains("175/KH-UBND"));
}

#[test]
fn bad_plan_fields_are_named() {
    let mut plan = plan_to_pb(&seed_plan());
    plan.date = "20/10/2017".into();
    assert_eq!(plan_from_pb(plan).unwrap_err().field, "plan.date");

    let mut plan = plan_to_pb(&seed_plan());
    plan.period_end = "2016-01-01".into();
    let err = plan_from_pb(plan).unwrap_err();
    assert_eq!(err.field, "plan.period_end");
    assert!(matches!(err.rule, Rule::EndBeforeStart { .. }));

    let mut plan = plan_to_pb(&seed_plan());
    plan.legal_bases[1].date = "2017-02-30".into();
    assert_eq!(
        plan_from_pb(plan).unwrap_err().field,
        "plan.legal_bases[1].date"
    );

    let mut plan = plan_to_pb(&seed_plan());
    plan.content_areas[2].area = 9;
    let err = plan_from_pb(plan).unwrap_err();
    assert_eq!(err.field, "plan.content_areas[2].area");
    assert_eq!(err.rule, Rule::UnknownContentArea { area: 9 });

    let mut plan = plan_to_pb(&seed_plan());
    plan.content_areas[0].topics[0].code = "NQ 29".into();
    assert_eq!(
        plan_from_pb(plan).unwrap_err().field,
        "plan.content_areas[0].topics[0].code"
    );

    let mut plan = plan_to_pb(&seed_plan());
    plan.duties[0].role = 0;
    let err = plan_from_pb(plan).unwrap_err();
    assert_eq!(
        (err.field.as_str(), err.rule),
        ("plan.duties[0].role", Rule::Required)
    );

    let (field, rule) = refusal(pb::AdoptPlanRequest {
        header: header(),
        plan: None,
    });
    assert_eq!((field.as_str(), rule), ("plan", Rule::Required));
}

#[test]
fn amendment_converts_with_optional_number_and_period_end() {
    let request = pb::AmendPlanRequest {
        header: header(),
        number: String::new(),
        date: "2018-09-05".into(),
        reason: "Bổ sung chủ đề".into(),
        legal_bases: vec![],
        topics: vec![pb::AddedTopic {
            area: 3,
            topic: Some(pb::Topic {
                code: "stem".into(),
                title: "Giáo dục STEM".into(),
            }),
        }],
        period_end: String::new(),
        duties: vec![pb::RoleDuties {
            role: pb::Role::Teacher.into(),
            duties: vec!["Viết tin bài".into()],
        }],
    };
    let Command::AmendPlan(amendment) = convert(request.clone()).unwrap().command else {
        panic!("not an amendment");
    };
    assert_eq!(amendment.number, None);
    assert_eq!(amendment.period_end, None);
    assert_eq!(amendment.date, d(2018, 9, 5));
    assert_eq!(amendment.topics[0].area, ContentArea::Tasks);
    assert_eq!(amendment.topics[0].topic.code.as_str(), "stem");
    assert_eq!(amendment.duties[0].role, Role::Teacher);

    let mut bad = request.clone();
    bad.period_end = "2021-13-01".into();
    assert_eq!(refusal(bad).0, "amendment.period_end");
    let mut bad = request.clone();
    bad.topics[0].topic = None;
    assert_eq!(
        refusal(bad),
        ("amendment.topics[0].topic".into(), Rule::Required)
    );
    let mut bad = request;
    bad.topics[0].topic = Some(pb::Topic {
        code: "Bad Code".into(),
        title: "x".into(),
    });
    assert_eq!(refusal(bad).0, "amendment.topics[0].code");
}

#[test]
fn record_activity_converts_and_fills_a_missing_id() {
    let converted = convert(record_activity()).unwrap();
    let expected = ActivityRecorded {
        activity_id: Uuid::from_u128(1),
        details: domain::event::ActivityDetails {
            date: d(2018, 3, 4),
            area: ContentArea::StateManagement,
            topic: Some(domain::Slug::parse("t", "nq-29").unwrap()),
            channel: Channel::DistrictRadio,
            title: "Chuyên mục giáo dục".into(),
            summary: "Giới thiệu Nghị quyết 29".into(),
            audience: None,
            reach: Some(1200),
            partner: Some("Đài Truyền thanh huyện".into()),
            evidence_url: None,
            responsible: Role::VicePrincipal,
        },
    };
    assert_eq!(converted.command, Command::RecordActivity(expected.clone()));
    assert_eq!(converted.command.entity_id(), Some(Uuid::from_u128(1)));

    // Domain → wire → domain.
    let back = activity_from_pb("activity", activity_to_pb(&expected.details)).unwrap();
    assert_eq!(back, expected.details);

    // A client-chosen id is kept, and no fresh one is drawn.
    let chosen = "0192b7a0-1234-7000-8000-00000000abcd";
    let mut request = record_activity();
    request.activity_id = chosen.into();
    let mut calls = 0;
    let converted = request
        .into_command(&mut || {
            calls += 1;
            Uuid::nil()
        })
        .unwrap();
    assert_eq!(
        converted.command.entity_id(),
        Some(Uuid::parse_str(chosen).unwrap())
    );
    assert_eq!(calls, 0);
}

#[test]
fn bad_activity_fields_are_named_like_the_domain_names_them() {
    let with = |f: fn(&mut pb::RecordActivityRequest)| {
        let mut request = record_activity();
        f(&mut request);
        refusal(request)
    };
    let (field, rule) = with(|r| r.activity.as_mut().unwrap().date = "2018-3-4".into());
    assert_eq!(field, "activity.date");
    assert!(matches!(rule, Rule::InvalidValue { ref value, .. } if value == "2018-3-4"));
    assert_eq!(
        with(|r| r.activity.as_mut().unwrap().date = String::new()),
        ("activity.date".into(), Rule::Required)
    );
    assert_eq!(
        with(|r| r.activity.as_mut().unwrap().channel = 0),
        ("activity.channel".into(), Rule::Required)
    );
    let (field, rule) = with(|r| r.activity.as_mut().unwrap().channel = 99);
    assert_eq!(field, "activity.channel");
    assert!(matches!(rule, Rule::InvalidValue { .. }));
    assert_eq!(
        with(|r| r.activity.as_mut().unwrap().responsible = 0),
        ("activity.responsible".into(), Rule::Required)
    );
    assert_eq!(
        with(|r| r.activity.as_mut().unwrap().area = 0),
        ("activity.area".into(), Rule::UnknownContentArea { area: 0 })
    );
    assert_eq!(
        with(|r| r.activity.as_mut().unwrap().topic = "NQ-29".into()).0,
        "activity.topic"
    );
    assert_eq!(
        with(|r| r.activity_id = "not-a-uuid".into()).0,
        "activity.activity_id"
    );
    assert_eq!(
        with(|r| r.activity = None),
        ("activity".into(), Rule::Required)
    );
}

#[test]
fn the_headers_actor_is_ignored_and_may_be_left_out() {
    // The agent takes the actor from the signed-in account: no header, no actor or a
    // nonsense actor all convert alike.
    let mut without = record_activity();
    without.header = None;
    let mut no_actor = record_activity();
    no_actor.header.as_mut().unwrap().actor = None;
    let mut nonsense = record_activity();
    nonsense.header.as_mut().unwrap().actor = Some(pb::Actor {
        role: 0,
        person: " ".into(),
    });
    let commands: Vec<_> = [without, no_actor, nonsense]
        .into_iter()
        .map(|r| convert(r).unwrap())
        .collect();
    assert_eq!(commands[0].claimed_school, "");
    assert_eq!(commands[1].claimed_school, "thcs-an-hoa");
    assert_eq!(commands[1].command, commands[2].command);
}

#[test]
fn a_refused_request_draws_no_id() {
    let mut request = record_activity();
    request.activity.as_mut().unwrap().area = 0;
    let mut calls = 0;
    let result = request.into_command(&mut || {
        calls += 1;
        Uuid::nil()
    });
    assert!(result.is_err());
    assert_eq!(calls, 0);
}

#[test]
fn correction_and_retraction_require_the_activity_id() {
    let correction = pb::CorrectActivityRequest {
        header: header(),
        activity_id: String::new(),
        reason: "Sai ngày".into(),
        activity: Some(activity()),
    };
    assert_eq!(
        refusal(correction.clone()),
        ("correction.activity_id".into(), Rule::Required)
    );
    let mut bad_date = correction.clone();
    bad_date.activity_id = Uuid::from_u128(5).to_string();
    bad_date.activity.as_mut().unwrap().date = "x".into();
    assert_eq!(refusal(bad_date).0, "correction.date");
    let mut ok = correction;
    ok.activity_id = Uuid::from_u128(5).to_string();
    let converted = convert(ok).unwrap();
    assert_eq!(converted.command.entity_id(), Some(Uuid::from_u128(5)));
    assert_eq!(converted.command.name(), "correct_activity");

    let retraction = pb::RetractActivityRequest {
        header: header(),
        activity_id: "{zzz}".into(),
        reason: "Trùng".into(),
    };
    assert_eq!(refusal(retraction).0, "retraction.activity_id");
}

#[test]
fn feedback_press_and_visits() {
    let feedback = pb::ReceiveFeedbackRequest {
        header: header(),
        feedback_id: String::new(),
        received_on: "2018-04-02".into(),
        channel: pb::Channel::Hotline.into(),
        citizen: String::new(),
        subject: "Học phí".into(),
        content: "Hỏi về miễn giảm học phí".into(),
        area: 0,
    };
    let Command::ReceiveFeedback(f) = convert(feedback.clone()).unwrap().command else {
        panic!("not feedback");
    };
    assert_eq!(
        (f.feedback_id, f.channel, f.citizen, f.area),
        (Uuid::from_u128(1), Channel::Hotline, None, None)
    );
    let mut bad = feedback.clone();
    bad.received_on = "02/04/2018".into();
    assert_eq!(refusal(bad).0, "feedback.received_on");
    let mut bad = feedback.clone();
    bad.area = 7;
    assert_eq!(refusal(bad).0, "feedback.area");
    let mut bad = feedback;
    bad.feedback_id = "nope".into();
    assert_eq!(refusal(bad).0, "feedback.feedback_id");

    let answer = pb::AnswerFeedbackRequest {
        header: header(),
        feedback_id: Uuid::from_u128(1).to_string(),
        answered_on: "2018-04-03".into(),
        channel: 0,
        answer: "Đã trả lời".into(),
    };
    assert_eq!(refusal(answer), ("answer.channel".into(), Rule::Required));

    let issue = pb::RaisePressIssueRequest {
        header: header(),
        issue_id: String::new(),
        raised_on: "2018-05-01".into(),
        outlet: "Báo Đồng Tháp".into(),
        title: "Lạm thu".into(),
        summary: "…".into(),
        url: "https://baodongthap.vn/x".into(),
        area: 5,
    };
    let Command::RaisePressIssue(i) = convert(issue).unwrap().command else {
        panic!("not a press issue");
    };
    assert_eq!(i.url.as_deref(), Some("https://baodongthap.vn/x"));
    assert_eq!(i.area, Some(ContentArea::AdministrativeReform));

    let response = pb::AnswerPressIssueRequest {
        header: header(),
        issue_id: String::new(),
        answered_on: "2018-05-02".into(),
        channel: pb::Channel::LocalPress.into(),
        response: "Đã làm rõ".into(),
    };
    assert_eq!(
        refusal(response),
        ("response.issue_id".into(), Rule::Required)
    );

    let visit = pb::HostReporterVisitRequest {
        header: header(),
        visit_id: String::new(),
        date: "2018-13-01".into(),
        outlet: "Đài PT-TH Đồng Tháp".into(),
        reporter: "Trần Văn A".into(),
        purpose: "Phóng sự".into(),
        area: 3,
    };
    assert_eq!(refusal(visit).0, "visit.date");
}

#[test]
fn commendation_and_criteria() {
    let nomination = pb::NominateRequest {
        header: header(),
        nomination_id: String::new(),
        date: "2018-05-20".into(),
        nominee_kind: pb::NomineeKind::Collective.into(),
        nominee: "Tổ Toán".into(),
        achievement: "Dẫn đầu phong trào".into(),
        proposed_level: pb::CommendationLevel::District.into(),
    };
    let Command::Nominate(n) = convert(nomination.clone()).unwrap().command else {
        panic!("not a nomination");
    };
    assert_eq!(
        (n.nominee_kind, n.proposed_level),
        (NomineeKind::Collective, CommendationLevel::District)
    );
    let mut bad = nomination.clone();
    bad.nominee_kind = 0;
    assert_eq!(
        refusal(bad),
        ("nomination.nominee_kind".into(), Rule::Required)
    );
    let mut bad = nomination;
    bad.proposed_level = 42;
    assert_eq!(refusal(bad).0, "nomination.proposed_level");

    let award = pb::AwardCommendationRequest {
        header: header(),
        nomination_id: Uuid::from_u128(9).to_string(),
        level: pb::CommendationLevel::Province.into(),
        decision_number: "25/QĐ-UBND".into(),
        decision_date: "2018-06-31".into(),
    };
    assert_eq!(refusal(award).0, "commendation.decision_date");

    let criteria = pb::AdoptEmulationCriteriaRequest {
        header: header(),
        school_year: 2018,
        adopted_on: "2018-09-10".into(),
        criteria: vec![pb::Criterion {
            title: "Có tin bài trên cổng thông tin".into(),
            points: 10,
        }],
    };
    let Command::AdoptEmulationCriteria(c) = convert(criteria).unwrap().command else {
        panic!("not criteria");
    };
    assert_eq!((c.school_year, c.criteria[0].points), (2018, 10));
}

#[test]
fn negative_and_huge_amounts_are_named() {
    let estimate = pb::EstimateBudgetRequest {
        header: header(),
        year: 2018,
        estimated_on: "2018-01-05".into(),
        lines: vec![
            pb::BudgetLine {
                item: "In ấn".into(),
                amount: 1_500_000,
            },
            pb::BudgetLine {
                item: "Tài liệu".into(),
                amount: -2,
            },
        ],
    };
    assert_eq!(
        refusal(estimate),
        (
            "budget.lines[1].amount".into(),
            Rule::Negative { value: -2 }
        )
    );

    let expense = pb::RecordExpenseRequest {
        header: header(),
        expense_id: String::new(),
        spent_on: "2018-03-04".into(),
        item: "In tờ rơi".into(),
        amount: 500_000,
        activity_id: String::new(),
        voucher: "PC-12".into(),
    };
    let Command::RecordExpense(e) = convert(expense.clone()).unwrap().command else {
        panic!("not an expense");
    };
    assert_eq!(
        (e.amount.dong(), e.activity_id, e.voucher.as_deref()),
        (500_000, None, Some("PC-12"))
    );
    let mut bad = expense.clone();
    bad.amount = -500_000;
    assert_eq!(
        refusal(bad),
        ("expense.amount".into(), Rule::Negative { value: -500_000 })
    );
    let mut bad = expense;
    bad.activity_id = "12".into();
    assert_eq!(refusal(bad).0, "expense.activity_id");

    let settlement = pb::SettleBudgetRequest {
        header: header(),
        year: 2018,
        settled_on: "2018-12-31".into(),
        settled_amount: i64::MAX,
        note: String::new(),
    };
    let (field, rule) = refusal(settlement);
    assert_eq!(field, "settlement.settled_amount");
    assert!(matches!(rule, Rule::TooLarge { .. }));
}

#[test]
fn duty_assignment() {
    let request = pb::AssignDutyRequest {
        header: header(),
        role: pb::Role::DepartmentHead.into(),
        person: "Lê Văn B".into(),
        duty: "Cập nhật cổng thông tin tổ Toán".into(),
        since: "2017-11-01".into(),
    };
    let Command::AssignDuty(duty) = convert(request.clone()).unwrap().command else {
        panic!("not a duty");
    };
    assert_eq!(
        (duty.role, duty.since),
        (Role::DepartmentHead, d(2017, 11, 1))
    );
    let mut bad = request;
    bad.role = 0;
    assert_eq!(refusal(bad), ("duty.role".into(), Rule::Required));
}

#[test]
fn envelope_becomes_an_event_record() {
    let school = SchoolRef::parse("dong-thap", "tam-nong", "thcs-an-hoa").unwrap();
    let Command::RecordActivity(recorded) = convert(record_activity()).unwrap().command else {
        panic!("not an activity");
    };
    let event = Event::ActivityRecorded(recorded);
    let at: DateTime<Utc> = "2018-03-05T02:14:09.120Z".parse().unwrap();
    let actor = domain::Actor::parse(Role::VicePrincipal, "Nguyễn Thị Hồng").unwrap();
    let id = Uuid::from_u128(77);
    let envelope = Envelope::seal(&school, 7, id, at, actor, &event);

    let record = event_record(&envelope, true);
    assert_eq!(record.id, id.to_string());
    assert_eq!((record.seq, record.schema), (7, 1));
    assert_eq!(record.r#type, "activity.recorded");
    assert!(record.published);
    assert_eq!(datetime(record.recorded_at.as_ref().unwrap()), Some(at));
    // 2018-03-04 00:00 in Vietnam is 17:00 UTC the day before.
    assert_eq!(
        datetime(record.occurred_at.as_ref().unwrap()),
        Some("2018-03-03T17:00:00Z".parse().unwrap())
    );
    let actor = record.actor.unwrap();
    assert_eq!(actor.role, pb::Role::VicePrincipal as i32);
    assert_eq!(actor.person, "Nguyễn Thị Hồng");
    let data: serde_json::Value = serde_json::from_str(&record.data_json).unwrap();
    assert_eq!(data, envelope.data.to_value().unwrap());
    assert_eq!(Event::from_data(&record.r#type, data).unwrap(), event);
}

#[test]
fn command_reply_carries_ids_and_warnings() {
    let reply = command_reply(3, Uuid::from_u128(1), None, &[]);
    assert_eq!((reply.seq, reply.entity_id.as_str()), (3, ""));
    assert_eq!(reply.event_id, Uuid::from_u128(1).to_string());
    let reply = command_reply(4, Uuid::from_u128(2), Some(Uuid::from_u128(3)), &[]);
    assert_eq!(reply.entity_id, Uuid::from_u128(3).to_string());
}

#[test]
fn timestamps_round_trip() {
    let at: DateTime<Utc> = "2020-12-31T16:59:59.999999999Z".parse().unwrap();
    assert_eq!(datetime(&timestamp(at)), Some(at));
    let bad = prost_types::Timestamp {
        seconds: 0,
        nanos: -1,
    };
    assert_eq!(datetime(&bad), None);
}

#[test]
fn descriptor_set_describes_the_service_and_its_imports() {
    let fds: prost_types::FileDescriptorSet =
        prost::Message::decode(crate::FILE_DESCRIPTOR_SET).unwrap();
    let names: Vec<_> = fds.file.iter().map(|f| f.name()).collect();
    for expected in [
        "google/protobuf/timestamp.proto",
        "truyenthong/v1/common.proto",
        "truyenthong/v1/school_agent.proto",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let agent = fds
        .file
        .iter()
        .find(|f| f.name() == "truyenthong/v1/school_agent.proto")
        .unwrap();
    let methods: Vec<_> = agent.service[0].method.iter().map(|m| m.name()).collect();
    assert_eq!(agent.service[0].name(), "SchoolAgent");
    // 17 commands, AttachEvidence; ListEvents, GetStatus, GetPlan, SendNow; GetEvidence and
    // ListEvidence; ExportBundle and ImportReply; BackUpNow and GetBackups.
    assert_eq!(methods.len(), 17 + 1 + 4 + 2 + 2 + 2, "{methods:?}");
    assert_eq!(
        crate::pb::school_agent_server::SERVICE_NAME,
        "truyenthong.v1.SchoolAgent"
    );
}
