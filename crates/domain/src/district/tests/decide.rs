//! District commands: given the district's state, when a command, then events or an error.

use super::*;
use crate::district::{DistrictCommand, DistrictState, decide_district};
use crate::envelope::{AnyEvent, DecodeError};
use crate::error::{ErrorKind, Rule};
use crate::school::DecisionContext;

fn ctx() -> DecisionContext {
    DecisionContext {
        today: d(2018, 1, 1),
    }
}

fn then_error(state: &DistrictState, command: DistrictCommand) -> DomainErrorParts {
    let err = decide_district(state, command, ctx()).expect_err("command refused");
    (err.kind, err.field, err.rule)
}

type DomainErrorParts = (ErrorKind, String, Rule);

fn plan_with(edit: impl FnOnce(&mut DistrictPlan)) -> DistrictCommand {
    let mut plan = district_plan(
        vec![target(None, None, TargetPer::Quarter, 2)],
        AnswerWithinDays::DEFAULT,
    );
    edit(&mut plan);
    DistrictCommand::AdoptDistrictPlan(plan)
}

#[test]
fn a_school_is_enrolled_with_normalised_names_then_updated() {
    let state = DistrictState::default();
    let mut e = enrolment("thcs-an-hoa", SchoolLevel::Thcs);
    e.name = "  Trường THCS An Ho\u{0300}a ".into();
    let events = decide_district(&state, DistrictCommand::EnrollSchool(e), ctx()).unwrap();
    let [DistrictEvent::SchoolEnrolled(enrolled)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(enrolled.name, "Trường THCS An Hòa");
    assert_eq!(enrolled.level.label_vi(), "THCS");

    let state = DistrictState::from_events(&events);
    // The same again changes nothing: refused.
    let same = DistrictCommand::EnrollSchool(enrolled.clone());
    assert_eq!(
        then_error(&state, same).0,
        ErrorKind::AlreadyExists,
        "an enrolment that changes nothing"
    );
    // A new commune updates the school but keeps the first enrolment date.
    let mut moved = enrolled.clone();
    moved.commune = "Thị trấn Tràm Chim".into();
    moved.enrolled_on = d(2017, 12, 1);
    let events = decide_district(&state, DistrictCommand::EnrollSchool(moved), ctx()).unwrap();
    let mut state = state;
    state.apply(&events[0]);
    let now = state.enrolment(&slug("thcs-an-hoa")).unwrap();
    assert_eq!(now.commune, "Thị trấn Tràm Chim");
    assert_eq!(now.enrolled_on, d(2017, 10, 18));
}

#[test]
fn bad_enrolments_name_the_field() {
    let state = DistrictState::default();
    let mut e = enrolment("thcs-an-hoa", SchoolLevel::Thcs);
    e.name = " ".into();
    assert_eq!(
        then_error(&state, DistrictCommand::EnrollSchool(e)),
        (
            ErrorKind::InvalidArgument,
            "enrolment.name".into(),
            Rule::Required
        )
    );
    let mut e = enrolment("thcs-an-hoa", SchoolLevel::Thcs);
    e.commune = String::new();
    assert_eq!(
        then_error(&state, DistrictCommand::EnrollSchool(e)).1,
        "enrolment.commune"
    );
    let mut e = enrolment("thcs-an-hoa", SchoolLevel::Thcs);
    e.name = "Trường THCS An\u{200D} Hòa".into();
    assert_eq!(
        then_error(&state, DistrictCommand::EnrollSchool(e)),
        (
            ErrorKind::InvalidArgument,
            "enrolment.name".into(),
            Rule::InvisibleFormatCharacter {
                character: '\u{200D}'
            }
        )
    );
    let mut e = enrolment("thcs-an-hoa", SchoolLevel::Thcs);
    e.enrolled_on = d(2018, 1, 2);
    assert_eq!(
        then_error(&state, DistrictCommand::EnrollSchool(e)).1,
        "enrolment.enrolled_on"
    );
}

#[test]
fn bad_district_plans_name_the_field_and_rule() {
    let state = DistrictState::default();
    let cases: Vec<(&str, DistrictCommand, &str)> = vec![
        (
            "no number",
            plan_with(|p| p.number = "Kế hoạch".into()),
            "district_plan.number",
        ),
        (
            "no title",
            plan_with(|p| p.title = "".into()),
            "district_plan.title",
        ),
        (
            "no issuer",
            plan_with(|p| p.issuer = " ".into()),
            "district_plan.issuer",
        ),
        (
            "no parent agency",
            plan_with(|p| p.parent_agency = "".into()),
            "district_plan.parent_agency",
        ),
        (
            "no place",
            plan_with(|p| p.place = "".into()),
            "district_plan.place",
        ),
        (
            "zero activities",
            plan_with(|p| p.targets[0].min_activities = 0),
            "district_plan.targets[0].min_activities",
        ),
        (
            "too many activities",
            plan_with(|p| p.targets[0].min_activities = 1_001),
            "district_plan.targets[0].min_activities",
        ),
        (
            "the same target twice",
            plan_with(|p| p.targets.push(p.targets[0])),
            "district_plan.targets[1]",
        ),
        (
            "no days to answer feedback",
            plan_with(|p| p.answer_within_days.feedback = 0),
            "district_plan.answer_within_days.feedback",
        ),
        (
            "more than a year to answer the press",
            plan_with(|p| p.answer_within_days.press = 366),
            "district_plan.answer_within_days.press",
        ),
        (
            "dated after its period",
            plan_with(|p| p.period = DateRange::new(d(2015, 1, 1), d(2016, 12, 31)).unwrap()),
            "district_plan.date",
        ),
        (
            "dated in the future",
            plan_with(|p| p.date = d(2018, 1, 2)),
            "district_plan.date",
        ),
    ];
    for (name, command, field) in cases {
        let (kind, actual, rule) = then_error(&state, command);
        assert_eq!(
            (kind, actual.as_str()),
            (ErrorKind::InvalidArgument, field),
            "{name}: {rule:?}"
        );
    }
    let (_, _, rule) = then_error(&state, plan_with(|p| p.targets[0].min_activities = 0));
    assert_eq!(
        rule,
        Rule::OutOfRange {
            value: 0,
            min: 1,
            max: 1_000
        }
    );
    let events = decide_district(&state, plan_with(|_| {}), ctx()).unwrap();
    assert_eq!(events[0].type_name(), "district_plan.adopted");
}

#[test]
fn a_later_plan_replaces_the_earlier_whole() {
    let first = decide_district(&DistrictState::default(), plan_with(|_| {}), ctx()).unwrap();
    let state = DistrictState::from_events(&first);
    let second = decide_district(
        &state,
        plan_with(|p| {
            p.number = "20/KH-PGDĐT".into();
            p.targets.clear();
        }),
        ctx(),
    )
    .unwrap();
    let state = DistrictState::from_events(first.iter().chain(&second));
    let plan = state.plan().unwrap();
    assert_eq!(
        (plan.number.as_str(), plan.targets.len()),
        ("20/KH-PGDĐT", 0)
    );
    assert!(state.check(&second[0], ctx()).is_ok());
}

#[test]
fn district_events_travel_under_the_district_token() {
    let mut history = History::default();
    let envelope = history.district(DistrictEvent::SchoolEnrolled(enrolment(
        "thcs-an-hoa",
        SchoolLevel::Thcs,
    )));
    let text = String::from_utf8(envelope.to_json()).unwrap();
    assert!(text.contains(r#""school":"_district""#), "{text}");
    assert!(text.contains(r#""type":"school.enrolled""#), "{text}");
    assert!(text.contains(r#""level":"thcs""#), "{text}");
    let back = Envelope::parse(text.as_bytes()).unwrap();
    assert_eq!(back, envelope);
    assert_eq!(back.school_ref(), None);
    assert!(matches!(back.decode_any(), Ok(AnyEvent::District(_))));
    assert_eq!(
        back.decode(),
        Err(DecodeError::NotSchoolEvent {
            event_type: "school.enrolled".into()
        })
    );
    assert_eq!(back.occurred_at, start_of_local_day(d(2017, 10, 18)));

    // A school cannot publish district facts, nor the district school facts.
    let mut forged = back.clone();
    forged.school = crate::codes::Author::School(slug("thcs-an-hoa"));
    assert!(matches!(
        forged.decode_any(),
        Err(DecodeError::WrongAuthor { .. })
    ));
    let school_event = history.school("thcs-an-hoa", school_plan());
    assert_eq!(
        school_event.school_ref().unwrap().to_string(),
        "dong-thap/tam-nong/thcs-an-hoa"
    );
    let mut forged = school_event;
    forged.school = crate::codes::Author::DistrictOffice;
    assert!(matches!(
        forged.decode_any(),
        Err(DecodeError::WrongAuthor { .. })
    ));
}

#[test]
fn targets_read_from_json_check_the_area() {
    let data = serde_json::json!({
        "number": "1442/KH-PGDĐT", "issuer": "Phòng GD-ĐT Tam Nông",
        "parent_agency": "UBND huyện Tam Nông", "place": "Tam Nông", "date": "2017-10-18",
        "title": "Kế hoạch", "period": {"start": "2017-10-18", "end": "2020-12-31"},
        "targets": [{"level": null, "area": 7, "per": "quarter", "min_activities": 2}],
        "answer_within_days": {"feedback": 15, "press": 7}
    });
    let err = DistrictEvent::from_data("district_plan.adopted", data.clone()).unwrap_err();
    assert!(err.to_string().contains("area"), "{err}");
    let mut data = data;
    data["targets"][0]["area"] = 3.into();
    data["targets"][0]["level"] = "mam_non".into();
    let DistrictEvent::DistrictPlanAdopted(plan) =
        DistrictEvent::from_data("district_plan.adopted", data).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        plan.targets[0],
        target(
            Some(SchoolLevel::MamNon),
            Some(ContentArea::Tasks),
            TargetPer::Quarter,
            2
        )
    );
}

#[test]
fn a_state_restricted_to_one_school_enrols_that_school_alone() {
    use crate::district::access::Scope;
    let state = DistrictState::restore(
        [
            enrolment("thcs-an-hoa", SchoolLevel::Thcs),
            enrolment("th-phu-duc", SchoolLevel::TieuHoc),
        ],
        None,
    );
    let one = state.restricted_to(&Scope::School(slug("thcs-an-hoa")));
    let codes: Vec<&str> = one.enrolments().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["thcs-an-hoa"]);
    assert_eq!(state.restricted_to(&Scope::District), state);
    assert_eq!(state.restricted_to(&Scope::Nothing).enrolments().count(), 0);
}
