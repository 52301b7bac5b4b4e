//! Delivery: each `(author, seq)` once and in order; gaps and unenrolled schools held; a
//! reused seq is a divergence; an unknown version is held; only the office authors `_district`.

use super::*;
use crate::calendar::Period;
use crate::codes::Author;
use crate::district::model::{Outcome, Position};

const AN_HOA: &str = "thcs-an-hoa";

fn q1() -> Period {
    "2018-Q1".parse().unwrap()
}

/// Live activities of a school in area 3 in 2018-Q1, from the plan view.
fn area_3_activities(model: &DistrictModel, school: &str) -> Option<i64> {
    model
        .plan_view(q1())
        .unwrap()
        .rows
        .iter()
        .find(|r| r.school == school && r.area == 3)
        .map(|r| r.activities)
}

fn school(code: &str) -> Author {
    Author::School(slug(code))
}

#[test]
fn a_duplicate_is_applied_once() {
    let mut history = History::district_with(None, &[(AN_HOA, SchoolLevel::Thcs)]);
    let recorded = history.school(
        AN_HOA,
        activity(1, d(2018, 2, 1), ContentArea::Tasks, Channel::Meeting),
    );
    let mut model = history.fold();
    assert_eq!(model.apply(&recorded), Outcome::Duplicate);
    assert_eq!(area_3_activities(&model, AN_HOA), Some(1));
    assert_eq!(model.completeness(q1()).unwrap().schools[0].events, 1);
}

#[test]
fn a_gap_is_held_until_filled_then_applied_in_order() {
    let mut history = History::district_with(None, &[(AN_HOA, SchoolLevel::Thcs)]);
    let setup = history.envelopes.len();
    // seq 2 records activity 1, seq 3 retracts it, seq 4 records activity 2.
    let seq2 = history.school(
        AN_HOA,
        activity(1, d(2018, 2, 1), ContentArea::Tasks, Channel::Meeting),
    );
    let seq3 = history.school_on(AN_HOA, d(2018, 2, 2), retraction(1));
    let seq4 = history.school(
        AN_HOA,
        activity(2, d(2018, 2, 3), ContentArea::Tasks, Channel::Email),
    );
    assert_eq!((seq2.seq, seq3.seq, seq4.seq), (2, 3, 4));

    let mut model = model();
    model.apply_all(&history.envelopes[..setup]);
    // When seq 3 and 4 arrive before seq 2 …
    assert_eq!(model.apply(&seq4), Outcome::HeldForGap { missing_seq: 2 });
    assert_eq!(model.apply(&seq3), Outcome::HeldForGap { missing_seq: 2 });
    assert_eq!(model.apply(&seq3), Outcome::Duplicate, "held already");
    // … then they are held and reported, not applied.
    assert_eq!(
        model.position(&school(AN_HOA)),
        Position {
            applied_seq: 1,
            held_seqs: vec![3, 4],
            first_missing_seq: Some(2),
        }
    );
    assert_eq!(area_3_activities(&model, AN_HOA), Some(0));
    // When seq 2 arrives, 2, 3 and 4 apply in order: activity 1 recorded then retracted.
    assert_eq!(model.apply(&seq2), Outcome::Applied);
    assert_eq!(
        model.position(&school(AN_HOA)),
        Position {
            applied_seq: 4,
            held_seqs: vec![],
            first_missing_seq: None,
        }
    );
    assert_eq!(area_3_activities(&model, AN_HOA), Some(1));
    assert_eq!(model.dead_letters(), &[]);
}

#[test]
fn an_unenrolled_schools_events_are_held_then_applied_on_enrolment() {
    let mut history = History::default();
    let plan = history.school(AN_HOA, school_plan());
    let recorded = history.school(
        AN_HOA,
        activity(1, d(2018, 2, 1), ContentArea::Tasks, Channel::Meeting),
    );
    let enrolled = history.district(DistrictEvent::SchoolEnrolled(enrolment(
        AN_HOA,
        SchoolLevel::Thcs,
    )));

    let mut model = model();
    assert_eq!(model.apply(&recorded), Outcome::HeldUnenrolled);
    assert_eq!(model.apply(&plan), Outcome::HeldUnenrolled);
    // Not part of any view meanwhile, and not a gap.
    assert_eq!(model.plan_view(q1()).unwrap().rows, vec![]);
    assert_eq!(model.completeness(q1()).unwrap().enrolled, 0);
    assert_eq!(
        model.position(&school(AN_HOA)),
        Position {
            applied_seq: 0,
            held_seqs: vec![1, 2],
            first_missing_seq: None,
        }
    );
    // Enrolment applies them in order (the plan first, so the activity validates).
    assert_eq!(model.apply(&enrolled), Outcome::Applied);
    assert_eq!(model.position(&school(AN_HOA)).applied_seq, 2);
    assert_eq!(area_3_activities(&model, AN_HOA), Some(1));
    assert_eq!(model.dead_letters(), &[]);
    assert_eq!(model.schools()[0].level, "thcs");
}

#[test]
fn the_district_offices_own_gap_holds_its_enrolments_and_their_schools() {
    let mut history = History::default();
    let plan = history.district(DistrictEvent::DistrictPlanAdopted(district_plan(
        vec![],
        AnswerWithinDays::DEFAULT,
    )));
    let enrolled = history.district(DistrictEvent::SchoolEnrolled(enrolment(
        AN_HOA,
        SchoolLevel::Thcs,
    )));
    let school_plan = history.school(AN_HOA, school_plan());

    let mut model = model();
    assert_eq!(model.apply(&school_plan), Outcome::HeldUnenrolled);
    assert_eq!(
        model.apply(&enrolled),
        Outcome::HeldForGap { missing_seq: 1 }
    );
    assert_eq!(
        model.position(&Author::DistrictOffice).first_missing_seq,
        Some(1)
    );
    assert_eq!(model.apply(&plan), Outcome::Applied);
    assert_eq!(model.position(&Author::DistrictOffice).applied_seq, 2);
    assert_eq!(model.position(&school(AN_HOA)).applied_seq, 1);
    assert!(model.school_state(&slug(AN_HOA)).unwrap().plan().is_some());
}

#[test]
fn an_invalid_event_is_dead_lettered_and_does_not_block_the_next() {
    let mut history = History::district_with(None, &[(AN_HOA, SchoolLevel::Thcs)]);
    // Recorded on 1 Feb about 5 Feb: in the future when it was recorded.
    let future = history.school_on(
        AN_HOA,
        d(2018, 2, 1),
        activity(1, d(2018, 2, 5), ContentArea::Tasks, Channel::Meeting),
    );
    let mut garbled = history.school(
        AN_HOA,
        activity(2, d(2018, 2, 6), ContentArea::Tasks, Channel::Meeting),
    );
    garbled.data = (&serde_json::json!({"activity_id": "not a uuid"})).into();
    let fine = history.school(
        AN_HOA,
        activity(3, d(2018, 2, 7), ContentArea::Tasks, Channel::Meeting),
    );

    let mut model = model();
    let n = history.envelopes.len();
    model.apply_all(&history.envelopes[..n - 3]);
    assert_eq!(model.apply(&future), Outcome::Applied);
    assert_eq!(model.apply(&garbled), Outcome::Applied);
    assert_eq!(model.apply(&fine), Outcome::Applied);

    let letters = model.dead_letters();
    assert_eq!(
        letters
            .iter()
            .map(|l| (l.author.as_str(), l.seq))
            .collect::<Vec<_>>(),
        [(AN_HOA, 2), (AN_HOA, 3)]
    );
    assert!(
        letters[0].reason.contains("activity.date"),
        "{}",
        letters[0].reason
    );
    assert!(
        letters[1].reason.contains("activity.recorded"),
        "{}",
        letters[1].reason
    );
    assert_eq!(model.position(&school(AN_HOA)).applied_seq, 4);
    assert_eq!(
        area_3_activities(&model, AN_HOA),
        Some(1),
        "only activity 3"
    );
    assert_eq!(
        model.completeness(q1()).unwrap().schools[0].events,
        1,
        "dead letters are part of no view"
    );
}

#[test]
fn an_old_agents_event_with_a_bidi_override_is_dead_lettered_with_the_reason() {
    // Given an agent from before the rule, which recorded a title with U+202E, then a
    // correction of that activity, then another activity …
    let mut history = History::district_with(None, &[(AN_HOA, SchoolLevel::Thcs)]);
    let mut spoofed = details(d(2018, 2, 1), ContentArea::Tasks, Channel::Meeting);
    spoofed.title = "Họp phụ huynh \u{202E}ãđ\u{202C}".into();
    let recorded = history.school(
        AN_HOA,
        Event::ActivityRecorded(ActivityRecorded {
            activity_id: id(1),
            details: spoofed,
        }),
    );
    let corrected = history.school_on(
        AN_HOA,
        d(2018, 2, 2),
        correction(
            1,
            details(d(2018, 2, 1), ContentArea::Tasks, Channel::Meeting),
        ),
    );
    let fine = history.school(
        AN_HOA,
        activity(2, d(2018, 2, 3), ContentArea::Tasks, Channel::Email),
    );

    // … when the district folds them …
    let mut model = model();
    model.apply_all(&history.envelopes);

    // … then the spoofed event is refused with a reason naming the field and the character,
    // the correction of an activity the district never saw is refused too, and the next
    // event applies: nothing panics, nothing blocks.
    let letters = model.dead_letters();
    assert_eq!(
        letters.iter().map(|l| l.seq).collect::<Vec<_>>(),
        [recorded.seq, corrected.seq]
    );
    assert!(
        letters[0].reason.contains("activity.title")
            && letters[0]
                .reason
                .contains("invisible format character U+202E"),
        "{}",
        letters[0].reason
    );
    assert!(
        letters[1].reason.contains(&id(1).to_string()),
        "{}",
        letters[1].reason
    );
    assert_eq!(model.position(&school(AN_HOA)).applied_seq, fine.seq);
    assert_eq!(
        area_3_activities(&model, AN_HOA),
        Some(1),
        "only activity 2"
    );
}

#[test]
fn another_districts_envelope_is_dead_lettered_without_using_a_seq() {
    let mut history = History::district_with(None, &[(AN_HOA, SchoolLevel::Thcs)]);
    let mut elsewhere = history.school(
        AN_HOA,
        activity(1, d(2018, 2, 1), ContentArea::Tasks, Channel::Meeting),
    );
    let own = elsewhere.clone();
    elsewhere.province = slug("phu-tho");
    let mut model = model();
    let n = history.envelopes.len();
    model.apply_all(&history.envelopes[..n - 1]);
    assert_eq!(model.apply(&elsewhere), Outcome::WrongDistrict);
    assert_eq!(model.dead_letters().len(), 1);
    assert_eq!(model.apply(&own), Outcome::Applied);
}

#[test]
fn a_seq_reused_by_another_event_is_a_divergence_and_what_follows_is_held() {
    let mut history = History::district_with(None, &[(AN_HOA, SchoolLevel::Thcs)]);
    let first = history.school(
        AN_HOA,
        activity(1, d(2018, 2, 1), ContentArea::Tasks, Channel::Meeting),
    );
    let mut model = history.fold();
    // The same seq, another event (a log restored from an old copy), then the next seq.
    let mut reused = first.clone();
    reused.id = uuid::Uuid::from_u128(0xd1);
    let mut next = first.clone();
    next.id = uuid::Uuid::from_u128(0xd2);
    next.seq = first.seq + 1;
    assert_eq!(
        model.apply(&first),
        Outcome::Duplicate,
        "the same event again"
    );
    assert_eq!(model.apply(&reused), Outcome::Divergence);
    assert_eq!(model.apply(&reused), Outcome::Duplicate, "recorded once");
    assert_eq!(model.apply(&next), Outcome::HeldDiverged);
    let divergences = model.divergences();
    assert_eq!(
        divergences
            .iter()
            .map(|d| (d.author.as_str(), d.seq, d.id))
            .collect::<Vec<_>>(),
        [(AN_HOA, first.seq, reused.id)]
    );
    assert!(divergences[0].reason.contains(&first.id.to_string()));
    assert!(model.dead_letters().is_empty(), "not a refused event");
    let position = model.position(&school(AN_HOA));
    assert_eq!(
        (
            position.applied_seq,
            position.held_seqs,
            position.first_missing_seq
        ),
        (first.seq, vec![next.seq], None),
        "blocked, not missing"
    );
    assert_eq!(
        area_3_activities(&model, AN_HOA),
        Some(1),
        "nothing applied twice"
    );
}

#[test]
fn an_unknown_type_is_held_and_what_follows_waits_behind_it() {
    let mut history = History::district_with(None, &[(AN_HOA, SchoolLevel::Thcs)]);
    let mut unknown = history.school(
        AN_HOA,
        activity(1, d(2018, 2, 1), ContentArea::Tasks, Channel::Meeting),
    );
    unknown.event_type = "activity.celebrated".into();
    let after = history.school(
        AN_HOA,
        activity(2, d(2018, 2, 2), ContentArea::Tasks, Channel::Meeting),
    );
    let n = history.envelopes.len();
    let mut model = model();
    model.apply_all(&history.envelopes[..n - 2]);
    assert_eq!(model.apply(&unknown), Outcome::HeldUnknownVersion);
    assert!(matches!(model.apply(&after), Outcome::HeldForGap { .. }));
    let position = model.position(&school(AN_HOA));
    assert_eq!(position.held_seqs, vec![unknown.seq, after.seq]);
    assert_eq!(position.first_missing_seq, None, "blocked, not missing");
    assert!(model.dead_letters().is_empty());
    assert_eq!(
        area_3_activities(&model, AN_HOA),
        Some(0),
        "nothing applied"
    );
}

#[test]
fn a_district_event_by_another_role_is_dead_lettered() {
    let mut history = History::district_with(None, &[]);
    let mut forged = history.district(DistrictEvent::SchoolEnrolled(Enrolment {
        code: slug(AN_HOA),
        name: "Trường THCS An Hòa".into(),
        level: SchoolLevel::Thcs,
        commune: "xã An Hòa".into(),
        enrolled_on: d(2017, 10, 18),
    }));
    forged.actor = Actor::parse(Role::Principal, "Nguyễn Văn A").unwrap();
    let mut model = model();
    assert_eq!(model.apply(&forged), Outcome::Applied);
    assert!(model.enrolment(&slug(AN_HOA)).is_none());
    let letters = model.dead_letters();
    assert_eq!(letters.len(), 1);
    assert!(
        letters[0].reason.contains("district_office"),
        "{}",
        letters[0].reason
    );
}
