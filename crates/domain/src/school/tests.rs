//! Given these events, when this command, then these events or this error.

use chrono::NaiveDate;
use uuid::Uuid;

use super::*;
use crate::codes::Slug;
use crate::error::ErrorKind;
use crate::event::{ActivityCorrected, ActivityRecorded, ActivityRetracted, BudgetLine};
use crate::plan::{AddedTopic, PlanAmendment, Topic};
use crate::roles::{Channel, CommendationLevel, NomineeKind, Role};
use crate::school::snapshot::{BudgetYearSnapshot, SchoolStateSnapshot};

const SEED_PLAN: &str = include_str!("../../../../deploy/plans/kh-114-thcs-an-hoa-2017.toml");

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn ctx() -> DecisionContext {
    DecisionContext {
        today: d(2026, 11, 26),
    }
}

fn seed_plan() -> Plan {
    toml::from_str(SEED_PLAN).expect("the shipped plan file parses")
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// Given these events …
fn given(events: &[Event]) -> SchoolState {
    SchoolState::from_events(events)
}

fn adopted() -> Event {
    let (plan, _) = seed_plan().validated().unwrap();
    Event::PlanAdopted(crate::event::PlanAdopted { plan })
}

fn activity(n: u128) -> ActivityRecorded {
    ActivityRecorded {
        activity_id: id(n),
        details: ActivityDetails {
            date: d(2018, 3, 5),
            area: ContentArea::Tasks,
            topic: Some(Slug::parse("t", "huong-nghiep").unwrap()),
            channel: Channel::DistrictRadio,
            title: "Chuyên mục giáo dục hướng nghiệp cho học sinh lớp 9".into(),
            summary: "Phát trên Đài Truyền thanh huyện, thời lượng 15 phút.".into(),
            audience: Some("Phụ huynh và học sinh khối 9".into()),
            reach: Some(1200),
            partner: Some("Đài Truyền thanh huyện Tam Nông".into()),
            evidence_url: Some("https://thcsanhoa.tamnong.edu.vn/tin-tuc/huong-nghiep-2018".into()),
            responsible: Role::VicePrincipal,
        },
    }
}

/// … when this command, then these events.
fn then_events(state: &SchoolState, command: Command) -> Vec<Event> {
    decide(state, command, ctx())
        .expect("command accepted")
        .events
}

/// … when this command, then this error.
fn then_error(state: &SchoolState, command: Command) -> DomainError {
    decide(state, command, ctx()).expect_err("command refused")
}

#[test]
fn seed_plan_adopts_with_the_legal_basis_warning() {
    let decision = decide(&given(&[]), Command::AdoptPlan(seed_plan()), ctx()).unwrap();
    assert_eq!(decision.events.len(), 1);
    let Event::PlanAdopted(adopted) = &decision.events[0] else {
        panic!("not plan.adopted")
    };
    assert_eq!(adopted.plan.number, "114/KH-THCSAH");
    assert_eq!(adopted.plan.content_areas.len(), 6);
    assert_eq!(adopted.plan.period.to_string(), "2017-10-20..2020-12-31");
    assert_eq!(decision.warnings.len(), 1, "{:?}", decision.warnings);
    let warning = &decision.warnings[0];
    assert!(warning.english().contains("175/KH-UBND"), "{warning}");
    assert!(
        warning.vietnamese().contains("30/12/2017"),
        "{}",
        warning.vietnamese()
    );
}

#[test]
fn a_plan_is_adopted_once_then_amended() {
    let state = given(&[adopted()]);
    let err = then_error(&state, Command::AdoptPlan(seed_plan()));
    assert_eq!(
        (err.kind, err.field.as_str()),
        (ErrorKind::FailedPrecondition, "plan")
    );

    let amendment = PlanAmendment {
        number: Some("25/KH-THCSAH".into()),
        date: d(2019, 9, 5),
        reason: "Bổ sung nội dung chuyển đổi số".into(),
        legal_bases: vec![],
        topics: vec![AddedTopic {
            area: ContentArea::Other,
            topic: Topic {
                code: Slug::parse("t", "chuyen-doi-so").unwrap(),
                title: "Chuyển đổi số".into(),
            },
        }],
        period_end: None,
        duties: vec![],
    };
    let events = then_events(&state, Command::AmendPlan(amendment));
    let state = given(&[adopted(), events[0].clone()]);
    let mut a = activity(1);
    a.details.area = ContentArea::Other;
    a.details.topic = Some(Slug::parse("t", "chuyen-doi-so").unwrap());
    a.details.date = d(2019, 10, 1);
    then_events(&state, Command::RecordActivity(a));
}

#[test]
fn nothing_but_a_plan_before_a_plan() {
    let err = then_error(&given(&[]), Command::RecordActivity(activity(1)));
    assert_eq!(
        (err.kind, err.field.as_str(), err.rule),
        (ErrorKind::FailedPrecondition, "plan", Rule::NoPlan)
    );
}

#[test]
fn activity_is_recorded_normalised() {
    let mut a = activity(1);
    a.details.title = "  Tuyên truyền tại An Ho\u{0300}a ".into();
    let events = then_events(&given(&[adopted()]), Command::RecordActivity(a));
    let Event::ActivityRecorded(recorded) = &events[0] else {
        panic!()
    };
    assert_eq!(recorded.details.title, "Tuyên truyền tại An Hòa");
}

#[test]
fn bad_activities_name_the_field_and_rule() {
    let state = given(&[adopted()]);
    type Edit = fn(&mut ActivityDetails);
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("empty title", |a| a.title = " ".into(), "activity.title"),
        (
            "date after the plan",
            |a| a.date = NaiveDate::from_ymd_opt(2031, 1, 1).unwrap(),
            "activity.date",
        ),
        (
            "date before the plan",
            |a| a.date = NaiveDate::from_ymd_opt(2017, 1, 1).unwrap(),
            "activity.date",
        ),
        (
            "unknown topic",
            |a| a.topic = Some(Slug::parse("t", "bong-da").unwrap()),
            "activity.topic",
        ),
        ("missing topic", |a| a.topic = None, "activity.topic"),
        (
            "megabyte summary",
            |a| a.summary = "x".repeat(1 << 20),
            "activity.summary",
        ),
        (
            "ftp evidence",
            |a| a.evidence_url = Some("ftp://x".into()),
            "activity.evidence_url",
        ),
    ];
    for (name, edit, field) in cases {
        let mut a = activity(1);
        edit(&mut a.details);
        let err = then_error(&state, Command::RecordActivity(a));
        assert_eq!(
            (err.kind, err.field.as_str()),
            (ErrorKind::InvalidArgument, field),
            "{name}: {err}"
        );
    }
    let mut a = activity(1);
    a.details.date = d(2031, 1, 1);
    assert_eq!(
        then_error(&state, Command::RecordActivity(a)).to_string(),
        "activity.date 2031-01-01 is outside plan period 2017-10-20..2020-12-31"
    );
}

#[test]
fn an_area_left_out_of_the_plan_is_refused() {
    let mut plan = seed_plan();
    plan.content_areas
        .retain(|a| a.area != ContentArea::AdministrativeReform);
    let (plan, _) = plan.validated().unwrap();
    let state = given(&[Event::PlanAdopted(crate::event::PlanAdopted { plan })]);
    let mut a = activity(1);
    a.details.area = ContentArea::AdministrativeReform;
    let err = then_error(&state, Command::RecordActivity(a));
    assert_eq!(err.field, "activity.area");
}

#[test]
fn future_dates_are_refused() {
    let state = given(&[adopted()]);
    let mut a = activity(1);
    a.details.date = d(2019, 6, 1);
    let err = decide(
        &state,
        Command::RecordActivity(a),
        DecisionContext {
            today: d(2019, 5, 31),
        },
    )
    .unwrap_err();
    assert_eq!(
        err.rule,
        Rule::InFuture {
            date: d(2019, 6, 1),
            today: d(2019, 5, 31)
        }
    );
}

#[test]
fn same_activity_id_twice_already_exists() {
    let state = given(&[adopted(), Event::ActivityRecorded(activity(1))]);
    let err = then_error(&state, Command::RecordActivity(activity(1)));
    assert_eq!(err.kind, ErrorKind::AlreadyExists);
}

#[test]
fn corrections_need_a_live_activity() {
    let correction = |n| {
        Command::CorrectActivity(ActivityCorrected {
            activity_id: id(n),
            reason: "Sai ngày".into(),
            details: activity(n).details,
        })
    };
    let retract = |n| {
        Command::RetractActivity(ActivityRetracted {
            activity_id: id(n),
            reason: "Nhập trùng".into(),
        })
    };

    let state = given(&[adopted(), Event::ActivityRecorded(activity(1))]);
    assert_eq!(then_events(&state, correction(1)).len(), 1);
    assert_eq!(then_error(&state, correction(2)).kind, ErrorKind::NotFound);

    let retracted = given(&[
        adopted(),
        Event::ActivityRecorded(activity(1)),
        Event::ActivityRetracted(ActivityRetracted {
            activity_id: id(1),
            reason: "Nhập trùng".into(),
        }),
    ]);
    let err = then_error(&retracted, correction(1));
    assert_eq!(
        (err.kind, err.field.as_str()),
        (ErrorKind::FailedPrecondition, "correction.activity_id")
    );
    assert_eq!(
        then_error(&retracted, retract(1)).kind,
        ErrorKind::FailedPrecondition
    );
}

fn feedback(n: u128, on: NaiveDate) -> FeedbackReceived {
    FeedbackReceived {
        feedback_id: id(n),
        received_on: on,
        channel: Channel::Hotline,
        citizen: Some("Phụ huynh em Trần Văn Bình, lớp 8A".into()),
        subject: "Hỏi về các khoản thu đầu năm".into(),
        content: "Đề nghị nhà trường công khai các khoản thu năm học 2018–2019.".into(),
        area: Some(ContentArea::AdministrativeReform),
    }
}

#[test]
fn feedback_is_answered_once_and_not_before_it_arrived() {
    let state = given(&[
        adopted(),
        Event::FeedbackReceived(feedback(7, d(2018, 9, 10))),
    ]);
    let answer = |on| {
        Command::AnswerFeedback(FeedbackAnswered {
            feedback_id: id(7),
            answered_on: on,
            channel: Channel::Meeting,
            answer: "Nhà trường đã công khai tại cuộc họp phụ huynh ngày 15/9/2018.".into(),
        })
    };
    let err = then_error(&state, answer(d(2018, 9, 9)));
    assert_eq!(
        (err.kind, err.field.as_str()),
        (ErrorKind::InvalidArgument, "answer.answered_on")
    );
    let events = then_events(&state, answer(d(2018, 9, 15)));

    let answered = given(&[
        adopted(),
        Event::FeedbackReceived(feedback(7, d(2018, 9, 10))),
        events[0].clone(),
    ]);
    let err = then_error(&answered, answer(d(2018, 9, 20)));
    assert_eq!(
        err.rule,
        Rule::AlreadyAnswered {
            id: id(7).to_string(),
            on: d(2018, 9, 15)
        }
    );
}

#[test]
fn press_issue_answer_before_it_was_raised_is_refused() {
    let raised = PressIssueRaised {
        issue_id: id(3),
        raised_on: d(2019, 4, 2),
        outlet: "Báo Đồng Tháp".into(),
        title: "Phụ huynh phản ánh việc dạy thêm".into(),
        summary: "Bài báo nêu ý kiến phụ huynh về dạy thêm, học thêm.".into(),
        url: None,
        area: None,
    };
    let state = given(&[adopted(), Event::PressIssueRaised(raised)]);
    let err = then_error(
        &state,
        Command::AnswerPressIssue(PressIssueAnswered {
            issue_id: id(3),
            answered_on: d(2019, 4, 1),
            channel: Channel::LocalPress,
            response: "Nhà trường đã kiểm tra.".into(),
        }),
    );
    assert_eq!(err.field, "response.answered_on");
}

#[test]
fn commendation_follows_a_nomination_once() {
    let nomination = NomineeNominated {
        nomination_id: id(9),
        date: d(2019, 5, 20),
        nominee_kind: NomineeKind::Individual,
        nominee: "Cô Lê Thị Mỹ Duyên".into(),
        achievement: "Viết 12 tin bài cho Cổng thông tin điện tử của trường.".into(),
        proposed_level: CommendationLevel::District,
    };
    let award = |on| {
        Command::AwardCommendation(CommendationAwarded {
            nomination_id: id(9),
            level: CommendationLevel::District,
            decision_number: "312/QĐ-UBND".into(),
            decision_date: on,
        })
    };
    assert_eq!(
        then_error(&given(&[adopted()]), award(d(2019, 6, 1))).kind,
        ErrorKind::NotFound
    );
    let state = given(&[adopted(), Event::NomineeNominated(nomination.clone())]);
    assert_eq!(
        then_error(&state, award(d(2019, 5, 1))).field,
        "commendation.decision_date"
    );
    let events = then_events(&state, award(d(2019, 6, 1)));
    let awarded = given(&[
        adopted(),
        Event::NomineeNominated(nomination),
        events[0].clone(),
    ]);
    assert_eq!(
        then_error(&awarded, award(d(2019, 6, 2))).kind,
        ErrorKind::FailedPrecondition
    );
}

#[test]
fn budget_amounts_and_settlement() {
    let state = given(&[adopted()]);
    let estimate = Command::EstimateBudget(BudgetEstimated {
        year: 2018,
        estimated_on: d(2018, 1, 10),
        lines: vec![
            BudgetLine {
                item: "Tin bài, phóng sự".into(),
                amount: Vnd::parse("a", 3_000_000).unwrap(),
            },
            BudgetLine {
                item: "Pano, áp phích".into(),
                amount: Vnd::parse("a", 1_500_000).unwrap(),
            },
        ],
    });
    let estimated = then_events(&state, estimate);
    let Event::BudgetEstimated(e) = &estimated[0] else {
        panic!()
    };
    assert_eq!(e.total().dong(), 4_500_000);

    let year_outside = Command::EstimateBudget(BudgetEstimated {
        year: 2016,
        ..e.clone()
    });
    assert_eq!(then_error(&state, year_outside).field, "budget.year");

    let settle = BudgetSettled {
        year: 2018,
        settled_on: d(2019, 1, 20),
        settled_amount: Vnd::parse("a", 4_200_000).unwrap(),
        note: None,
    };
    let settled = given(&[
        adopted(),
        estimated[0].clone(),
        Event::BudgetSettled(settle.clone()),
    ]);
    let expense = Command::RecordExpense(ExpenseRecorded {
        expense_id: id(11),
        spent_on: d(2018, 12, 1),
        item: "In tờ rơi".into(),
        amount: Vnd::parse("a", 200_000).unwrap(),
        activity_id: None,
        voucher: Some("PC-118".into()),
    });
    let err = then_error(&settled, expense);
    assert_eq!(
        (err.kind, err.field.as_str()),
        (ErrorKind::FailedPrecondition, "expense.spent_on")
    );
    assert_eq!(
        then_error(&settled, Command::SettleBudget(settle)).kind,
        ErrorKind::FailedPrecondition
    );
}

#[test]
fn expense_for_an_unknown_activity_is_not_found() {
    let err = then_error(
        &given(&[adopted()]),
        Command::RecordExpense(ExpenseRecorded {
            expense_id: id(1),
            spent_on: d(2018, 3, 1),
            item: "Băng rôn".into(),
            amount: Vnd::parse("a", 350_000).unwrap(),
            activity_id: Some(id(99)),
            voucher: None,
        }),
    );
    assert_eq!(
        (err.kind, err.field.as_str()),
        (ErrorKind::NotFound, "expense.activity_id")
    );
}

#[test]
fn emulation_criteria_points_are_bounded() {
    let criteria = |points| {
        Command::AdoptEmulationCriteria(EmulationCriteriaAdopted {
            school_year: 2018,
            adopted_on: d(2018, 9, 15),
            criteria: vec![Criterion {
                title: "Mỗi tổ có ít nhất 2 tin bài mỗi học kỳ".into(),
                points,
            }],
        })
    };
    let state = given(&[adopted()]);
    assert_eq!(then_events(&state, criteria(10)).len(), 1);
    assert_eq!(
        then_error(&state, criteria(5_000)).field,
        "criteria.criteria[0].points"
    );
}

#[test]
fn check_accepts_what_decide_produced_and_refuses_what_it_would_refuse() {
    let state = given(&[adopted()]);
    let events = then_events(&state, Command::RecordActivity(activity(1)));
    assert!(state.check(&events[0], ctx()).is_ok());
    let mut bad = activity(2);
    bad.details.date = d(2031, 1, 1);
    assert!(state.check(&Event::ActivityRecorded(bad), ctx()).is_err());
}

#[test]
fn invisible_format_characters_are_refused_in_titles_names_and_bodies() {
    let state = given(&[
        adopted(),
        Event::FeedbackReceived(feedback(7, d(2018, 9, 10))),
    ]);
    let invisible = |rule: &Rule| matches!(rule, Rule::InvisibleFormatCharacter { .. });

    // Given a plan, when an activity's title carries a right-to-left override …
    let mut a = activity(1);
    a.details.title = "Tuyên truyền \u{202E}9 pớl\u{202C}".into();
    let err = then_error(&state, Command::RecordActivity(a));
    // … then it is refused, naming the field and the character.
    assert_eq!(
        (err.kind, err.field.as_str(), &err.rule),
        (
            ErrorKind::InvalidArgument,
            "activity.title",
            &Rule::InvisibleFormatCharacter {
                character: '\u{202E}'
            }
        )
    );
    assert_eq!(
        err.to_string(),
        "activity.title contains the invisible format character U+202E (bidirectional controls \
         and zero-width characters are not allowed)"
    );
    assert!(
        err.vietnamese()
            .starts_with("Chứa ký tự định dạng vô hình U+202E"),
        "{}",
        err.vietnamese()
    );
    assert!(
        err.vietnamese()
            .ends_with("(trường dữ liệu: activity.title)")
    );

    // A name (single line) and a body (multi-line: its newline is fine, the isolate is not).
    let mut f = feedback(8, d(2018, 9, 11));
    f.citizen = Some("Phụ huynh\u{200B} em Bình".into());
    let err = then_error(&state, Command::ReceiveFeedback(f));
    assert_eq!(err.field, "feedback.citizen");
    assert!(invisible(&err.rule), "{err}");
    let answer = |text: &str| {
        Command::AnswerFeedback(FeedbackAnswered {
            feedback_id: id(7),
            answered_on: d(2018, 9, 15),
            channel: Channel::Meeting,
            answer: text.into(),
        })
    };
    let err = then_error(&state, answer("Đã trả lời.\n\u{2067}Ký tên\u{2069}"));
    assert_eq!(err.field, "answer.answer");
    assert!(invisible(&err.rule), "{err}");
    assert_eq!(then_events(&state, answer("Đã trả lời.\nKý tên")).len(), 1);
}

#[test]
fn an_event_from_an_agent_that_allowed_invisible_characters_is_refused_by_check() {
    // An older agent recorded this; the district re-checks it with today's rules.
    let state = given(&[adopted()]);
    let mut old = activity(1);
    old.details.partner = Some("Đài Truyền thanh\u{FEFF} huyện".into());
    let err = state
        .check(&Event::ActivityRecorded(old), ctx())
        .unwrap_err();
    assert_eq!(err.field, "activity.partner");
    assert_eq!(
        err.rule,
        Rule::InvisibleFormatCharacter {
            character: '\u{FEFF}'
        }
    );
}

#[test]
fn wrong_school_is_named() {
    let ours = SchoolRef::parse("dong-thap", "tam-nong", "thcs-an-hoa").unwrap();
    assert!(check_addressed_to("school", &ours, "thcs-an-hoa").is_ok());
    let err = check_addressed_to("school", &ours, "thcs-phu-cuong").unwrap_err();
    assert_eq!(
        err.to_string(),
        "school thcs-phu-cuong is not this agent's school thcs-an-hoa"
    );
}

#[test]
fn events_round_trip_through_json_at_their_schema() {
    let mut state = SchoolState::default();
    let mut all = vec![];
    for command in [
        Command::AdoptPlan(seed_plan()),
        Command::RecordActivity(activity(1)),
    ] {
        for e in decide(&state, command, ctx()).unwrap().events {
            state.apply(&e);
            all.push(e);
        }
    }
    for e in all {
        let back = Event::from_json(e.type_name(), e.to_data().as_str()).unwrap();
        assert_eq!(back, e);
    }
}

#[test]
fn a_snapshot_restores_the_state_it_was_taken_from() {
    // Given a realistic history: plan and amendment, activities recorded, corrected and
    // retracted, feedback and a press issue (one answered each), a visit, a nomination
    // awarded and one not, two estimates, expenses in two years and a settlement …
    let mut state = SchoolState::default();
    let mut history = Vec::new();
    let mut amendment_topic = activity(5);
    amendment_topic.details.area = ContentArea::Other;
    amendment_topic.details.topic = Some(Slug::parse("t", "chuyen-doi-so").unwrap());
    amendment_topic.details.date = d(2019, 10, 1);
    let commands = vec![
        Command::AdoptPlan(seed_plan()),
        Command::AmendPlan(PlanAmendment {
            number: None,
            date: d(2019, 9, 5),
            reason: "Bổ sung nội dung chuyển đổi số".into(),
            legal_bases: vec![],
            topics: vec![AddedTopic {
                area: ContentArea::Other,
                topic: Topic {
                    code: Slug::parse("t", "chuyen-doi-so").unwrap(),
                    title: "Chuyển đổi số".into(),
                },
            }],
            period_end: None,
            duties: vec![],
        }),
        Command::RecordActivity(activity(1)),
        Command::RecordActivity(activity(2)),
        Command::RecordActivity(amendment_topic),
        Command::CorrectActivity(ActivityCorrected {
            activity_id: id(1),
            reason: "Sai ngày".into(),
            details: activity(1).details,
        }),
        Command::RetractActivity(ActivityRetracted {
            activity_id: id(2),
            reason: "Nhập trùng".into(),
        }),
        Command::ReceiveFeedback(feedback(7, d(2018, 9, 10))),
        Command::ReceiveFeedback(feedback(8, d(2018, 9, 11))),
        Command::AnswerFeedback(FeedbackAnswered {
            feedback_id: id(7),
            answered_on: d(2018, 9, 15),
            channel: Channel::Meeting,
            answer: "Đã công khai tại cuộc họp phụ huynh.".into(),
        }),
        Command::RaisePressIssue(PressIssueRaised {
            issue_id: id(3),
            raised_on: d(2019, 4, 2),
            outlet: "Báo Đồng Tháp".into(),
            title: "Phụ huynh phản ánh việc dạy thêm".into(),
            summary: "Bài báo nêu ý kiến phụ huynh.".into(),
            url: None,
            area: None,
        }),
        Command::HostReporterVisit(ReporterVisitHosted {
            visit_id: id(20),
            date: d(2019, 4, 10),
            outlet: "Đài PT-TH Đồng Tháp".into(),
            reporter: "Phóng viên Lê Văn Tám".into(),
            purpose: "Phóng sự về hướng nghiệp.".into(),
            area: Some(ContentArea::Tasks),
        }),
        Command::Nominate(NomineeNominated {
            nomination_id: id(9),
            date: d(2019, 5, 20),
            nominee_kind: NomineeKind::Individual,
            nominee: "Cô Lê Thị Mỹ Duyên".into(),
            achievement: "Viết 12 tin bài.".into(),
            proposed_level: CommendationLevel::District,
        }),
        Command::Nominate(NomineeNominated {
            nomination_id: id(10),
            date: d(2019, 5, 21),
            nominee_kind: NomineeKind::Collective,
            nominee: "Tổ Ngữ văn".into(),
            achievement: "Chuyên mục hay.".into(),
            proposed_level: CommendationLevel::School,
        }),
        Command::AwardCommendation(CommendationAwarded {
            nomination_id: id(9),
            level: CommendationLevel::District,
            decision_number: "312/QĐ-UBND".into(),
            decision_date: d(2019, 6, 1),
        }),
        Command::EstimateBudget(BudgetEstimated {
            year: 2018,
            estimated_on: d(2018, 1, 10),
            lines: vec![BudgetLine {
                item: "Tin bài".into(),
                amount: Vnd::parse("a", 3_000_000).unwrap(),
            }],
        }),
        Command::EstimateBudget(BudgetEstimated {
            year: 2018,
            estimated_on: d(2018, 6, 1),
            lines: vec![BudgetLine {
                item: "Tin bài".into(),
                amount: Vnd::parse("a", 4_000_000).unwrap(),
            }],
        }),
        Command::RecordExpense(ExpenseRecorded {
            expense_id: id(11),
            spent_on: d(2018, 12, 1),
            item: "In tờ rơi".into(),
            amount: Vnd::parse("a", 200_000).unwrap(),
            activity_id: Some(id(1)),
            voucher: Some("PC-118".into()),
        }),
        Command::RecordExpense(ExpenseRecorded {
            expense_id: id(12),
            spent_on: d(2019, 2, 1),
            item: "Băng rôn".into(),
            amount: Vnd::parse("a", 350_000).unwrap(),
            activity_id: None,
            voucher: None,
        }),
        Command::SettleBudget(BudgetSettled {
            year: 2018,
            settled_on: d(2019, 1, 20),
            settled_amount: Vnd::parse("a", 4_200_000).unwrap(),
            note: None,
        }),
    ];
    for command in commands {
        for event in decide(&state, command, ctx()).expect("accepted").events {
            state.apply(&event);
            history.push(event);
        }
    }
    assert_eq!(state.event_count(), 20);

    // … when the state is snapshotted (and stored as JSON) and restored …
    let snapshot = state.snapshot();
    assert_eq!(snapshot.activities.len(), 3);
    assert_eq!(
        snapshot.budget_years,
        vec![
            BudgetYearSnapshot {
                year: 2018,
                estimate: Some(Vnd::parse("a", 4_000_000).unwrap()),
                spent: Vnd::parse("a", 200_000).unwrap(),
                settled: true,
            },
            BudgetYearSnapshot {
                year: 2019,
                estimate: None,
                spent: Vnd::parse("a", 350_000).unwrap(),
                settled: false,
            },
        ]
    );
    let json = serde_json::to_string(&snapshot).unwrap();
    let stored: SchoolStateSnapshot = serde_json::from_str(&json).unwrap();
    let restored = SchoolState::from_snapshot(stored);

    // … then it is the same state, and decides the same.
    assert_eq!(restored, state);
    assert_eq!(restored, SchoolState::from_events(&history));
    assert_eq!(restored.snapshot(), snapshot);
    let retracted_again = Command::RetractActivity(ActivityRetracted {
        activity_id: id(2),
        reason: "Lần nữa".into(),
    });
    assert_eq!(
        decide(&restored, retracted_again.clone(), ctx()),
        decide(&state, retracted_again, ctx())
    );
    assert_eq!(
        SchoolState::from_snapshot(SchoolStateSnapshot::default()),
        SchoolState::default()
    );
}

mod evidence;
