//! What the district office sends its aggregator in tests, over gRPC: enrolments of the demo
//! schools and the district plan 1442/KH-PGDĐT with targets of every kind.

use demo_data::{DemoSchool, TAM_NONG_SCHOOLS};
use wire::pb;

/// The office's clerk who signs the office's commands.
pub fn office_actor() -> Option<pb::Actor> {
    Some(pb::Actor {
        role: pb::Role::DistrictOffice.into(),
        person: "Trần Văn Bình".into(),
    })
}

/// The demo school `code`; panics on a code that is not one (a test's typo).
pub fn demo_school(code: &str) -> &'static DemoSchool {
    TAM_NONG_SCHOOLS
        .iter()
        .find(|s| s.code == code)
        .unwrap_or_else(|| panic!("{code} is not a demo school"))
}

/// The office enrols `school` in `commune` on 18 October 2017, the plan's first day.
pub fn enrolment(school: &DemoSchool, commune: &str) -> pb::EnrollSchoolRequest {
    let level = pb::SchoolLevel::from(demo_data::sealed::level(school));
    pb::EnrollSchoolRequest {
        actor: office_actor(),
        enrolment: Some(pb::Enrolment {
            code: school.code.into(),
            name: school.name.into(),
            level: level.into(),
            commune: commune.into(),
            enrolled_on: "2017-10-18".into(),
        }),
    }
}

fn target(level: Option<pb::SchoolLevel>, area: u32, per: pb::TargetPer, min: u32) -> pb::Target {
    pb::Target {
        level: level.map_or(0, i32::from),
        area,
        per: per.into(),
        min_activities: min,
    }
}

/// The district's plan 1442/KH-PGDĐT with targets of every kind (per quarter, semester,
/// school year and calendar year; for every level and for one).
pub fn district_plan() -> pb::DistrictPlan {
    use pb::{SchoolLevel as L, TargetPer as P};
    pb::DistrictPlan {
        number: "1442/KH-PGDĐT".into(),
        issuer: "Phòng Giáo dục và Đào tạo Tam Nông".into(),
        parent_agency: "UBND huyện Tam Nông".into(),
        place: "Tam Nông".into(),
        date: "2017-10-18".into(),
        title: "Kế hoạch truyền thông về giáo dục và đào tạo giai đoạn 2017-2020".into(),
        period_start: "2017-10-18".into(),
        period_end: "2020-12-31".into(),
        targets: vec![
            target(None, 0, P::Quarter, 2),
            target(Some(L::Thcs), 3, P::Semester, 4),
            target(Some(L::MamNon), 1, P::SchoolYear, 3),
            target(None, 4, P::CalendarYear, 3),
            target(Some(L::TieuHoc), 0, P::SchoolYear, 2),
        ],
        answer_within_days: Some(pb::AnswerWithinDays {
            feedback: 10,
            press: 5,
        }),
    }
}
