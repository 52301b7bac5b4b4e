//! The rules of `evidence.attached`: the record, the file's fields, the limits, the duty.

use super::*;
use crate::duties;
use crate::event::EvidenceAttached;
use crate::evidence::{EvidenceFile, EvidenceTarget, MAX_FILE_SIZE, MAX_FILES_PER_RECORD};

fn hash(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn photo(n: u8) -> EvidenceFile {
    EvidenceFile {
        name: format!("anh-hoat-dong-{n}.jpg"),
        media_type: "image/jpeg".into(),
        size: 12_345,
        sha256: hash(n),
    }
}

fn attach(record: EvidenceTarget, file: EvidenceFile) -> Command {
    Command::AttachEvidence(EvidenceAttached { record, file })
}

fn with_activity() -> SchoolState {
    given(&[adopted(), Event::ActivityRecorded(activity(1))])
}

#[test]
fn a_photo_is_attached_to_a_live_activity_with_its_name_normalised() {
    let state = with_activity();
    let mut file = photo(1);
    file.name = "  Ho\u{0300}a.JPG ".into();
    file.media_type = "IMAGE/JPEG".into();
    let events = then_events(&state, attach(EvidenceTarget::Activity(id(1)), file));
    let Event::EvidenceAttached(e) = &events[0] else {
        panic!("not evidence.attached")
    };
    assert_eq!(e.file.name, "Hòa.JPG");
    assert_eq!(e.file.media_type, "image/jpeg");
    let mut state = state;
    state.apply(&events[0]);
    assert_eq!(
        state.evidence_of(&EvidenceTarget::Activity(id(1))),
        &[hash(1)]
    );
}

#[test]
fn the_record_must_exist_and_not_be_retracted() {
    let state = with_activity();
    let err = then_error(&state, attach(EvidenceTarget::Activity(id(9)), photo(1)));
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.field, "evidence.record.id");
    let retracted = given(&[
        adopted(),
        Event::ActivityRecorded(activity(1)),
        Event::ActivityRetracted(ActivityRetracted {
            activity_id: id(1),
            reason: "Ghi nhầm".into(),
        }),
    ]);
    let err = then_error(
        &retracted,
        attach(EvidenceTarget::Activity(id(1)), photo(1)),
    );
    assert_eq!(err.kind, ErrorKind::FailedPrecondition);
    for record in [
        EvidenceTarget::ReporterVisit(id(1)),
        EvidenceTarget::Expense(id(1)),
        EvidenceTarget::PressAnswer(id(1)),
    ] {
        assert_eq!(
            then_error(&state, attach(record, photo(1))).kind,
            ErrorKind::NotFound
        );
    }
}

#[test]
fn a_press_issue_takes_evidence_only_once_answered() {
    let raised = PressIssueRaised {
        issue_id: id(3),
        raised_on: d(2019, 4, 2),
        outlet: "Báo Đồng Tháp".into(),
        title: "Phụ huynh phản ánh việc dạy thêm".into(),
        summary: "Bài báo nêu ý kiến phụ huynh.".into(),
        url: None,
        area: None,
    };
    let mut state = given(&[adopted(), Event::PressIssueRaised(raised)]);
    let record = EvidenceTarget::PressAnswer(id(3));
    assert_eq!(
        then_error(&state, attach(record, photo(1))).kind,
        ErrorKind::FailedPrecondition
    );
    state.apply(&Event::PressIssueAnswered(PressIssueAnswered {
        issue_id: id(3),
        answered_on: d(2019, 4, 5),
        channel: Channel::LocalPress,
        response: "Nhà trường đã kiểm tra.".into(),
    }));
    assert_eq!(then_events(&state, attach(record, photo(1))).len(), 1);
}

#[test]
fn bad_files_name_the_field_and_rule() {
    let state = with_activity();
    let record = EvidenceTarget::Activity(id(1));
    let cases: Vec<(EvidenceFile, &str)> = vec![
        (
            EvidenceFile {
                name: " ".into(),
                ..photo(1)
            },
            "evidence.file.name",
        ),
        (
            EvidenceFile {
                name: "a".repeat(201),
                ..photo(1)
            },
            "evidence.file.name",
        ),
        (
            EvidenceFile {
                name: "../etc/passwd".into(),
                ..photo(1)
            },
            "evidence.file.name",
        ),
        (
            EvidenceFile {
                media_type: "application/zip".into(),
                ..photo(1)
            },
            "evidence.file.media_type",
        ),
        (
            EvidenceFile {
                size: 0,
                ..photo(1)
            },
            "evidence.file.size",
        ),
        (
            EvidenceFile {
                size: MAX_FILE_SIZE + 1,
                ..photo(1)
            },
            "evidence.file.size",
        ),
        (
            EvidenceFile {
                sha256: hash(0xab).to_uppercase(),
                ..photo(1)
            },
            "evidence.file.sha256",
        ),
        (
            EvidenceFile {
                sha256: "abc".into(),
                ..photo(1)
            },
            "evidence.file.sha256",
        ),
    ];
    for (file, field) in cases {
        let err = then_error(&state, attach(record, file.clone()));
        assert_eq!(err.field, field, "{file:?}");
        assert_eq!(err.kind, ErrorKind::InvalidArgument, "{file:?}");
    }
    let big = then_error(
        &state,
        attach(
            record,
            EvidenceFile {
                size: MAX_FILE_SIZE + 1,
                ..photo(1)
            },
        ),
    );
    assert!(big.vietnamese().contains("20 MB"), "{}", big.vietnamese());
    let zip = then_error(
        &state,
        attach(
            record,
            EvidenceFile {
                media_type: "application/zip".into(),
                ..photo(1)
            },
        ),
    );
    assert!(
        zip.vietnamese()
            .contains("chỉ nhận ảnh JPEG, PNG, WebP hoặc tệp PDF")
    );
    // The largest file allowed is allowed.
    let edge = EvidenceFile {
        size: MAX_FILE_SIZE,
        media_type: "application/pdf".into(),
        ..photo(1)
    };
    assert_eq!(then_events(&state, attach(record, edge)).len(), 1);
}

#[test]
fn one_hash_once_per_record_and_at_most_twenty_files() {
    let mut state = with_activity();
    let record = EvidenceTarget::Activity(id(1));
    for n in 0..MAX_FILES_PER_RECORD as u8 {
        for e in then_events(&state, attach(record, photo(n))) {
            state.apply(&e);
        }
    }
    let again = then_error(&state, attach(record, photo(3)));
    assert_eq!(again.kind, ErrorKind::AlreadyExists);
    assert_eq!(again.field, "evidence.file.sha256");
    let full = then_error(&state, attach(record, photo(200)));
    assert_eq!(full.field, "evidence.record");
    assert_eq!(
        full.rule,
        Rule::TooMany {
            max: MAX_FILES_PER_RECORD,
            actual: MAX_FILES_PER_RECORD + 1
        }
    );
    // The same file may still be evidence of another record.
    state.apply(&Event::ActivityRecorded(activity(2)));
    assert_eq!(
        then_events(&state, attach(EvidenceTarget::Activity(id(2)), photo(3))).len(),
        1
    );
}

#[test]
fn whoever_may_record_the_record_may_attach_to_it() {
    let by = |record| duties::Duty::of(&attach(record, photo(1)));
    assert_eq!(
        by(EvidenceTarget::Activity(id(1))),
        duties::Duty::Activities
    );
    assert_eq!(
        by(EvidenceTarget::ReporterVisit(id(1))),
        duties::Duty::Press
    );
    assert_eq!(by(EvidenceTarget::PressAnswer(id(1))), duties::Duty::Press);
    assert_eq!(by(EvidenceTarget::Expense(id(1))), duties::Duty::Spending);
}

#[test]
fn the_event_round_trips_with_a_tagged_record_and_the_snapshot_keeps_the_hashes() {
    let mut state = with_activity();
    let events = then_events(&state, attach(EvidenceTarget::Activity(id(1)), photo(1)));
    let data = events[0].to_data();
    let json: serde_json::Value = serde_json::from_str(data.as_str()).unwrap();
    assert_eq!(json["record"]["kind"], "activity");
    assert_eq!(json["record"]["id"], id(1).to_string());
    assert_eq!(
        Event::from_json("evidence.attached", data.as_str()).unwrap(),
        events[0]
    );
    state.apply(&events[0]);
    assert_eq!(SchoolState::from_snapshot(state.snapshot()), state);
    // A snapshot written before evidence existed still reads.
    let mut old = serde_json::to_value(state.snapshot()).unwrap();
    old.as_object_mut().unwrap().remove("evidence");
    let old: SchoolStateSnapshot = serde_json::from_value(old).unwrap();
    assert!(old.evidence.is_empty());
}
