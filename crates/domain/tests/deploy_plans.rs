//! The plan files shipped under deploy/plans are valid and adopt as the README says.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use domain::district::{DistrictCommand, DistrictPlan, DistrictState, decide_district};
use domain::{Command, DecisionContext, SchoolState, decide};

fn ctx() -> DecisionContext {
    DecisionContext {
        today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
    }
}

#[test]
fn the_district_plan_1442_adopts() {
    let plan: DistrictPlan = toml::from_str(include_str!(
        "../../../deploy/plans/kh-1442-pgddt-tam-nong-2017.toml"
    ))
    .unwrap();
    assert_eq!(plan.number, "1442/KH-PGDĐT");
    assert_eq!(plan.targets.len(), 7);
    let events = decide_district(
        &DistrictState::default(),
        DistrictCommand::AdoptDistrictPlan(plan),
        ctx(),
    )
    .unwrap();
    assert_eq!(events.len(), 1);
}

#[test]
fn the_school_plan_114_adopts_with_one_warning() {
    let plan: domain::Plan = toml::from_str(include_str!(
        "../../../deploy/plans/kh-114-thcs-an-hoa-2017.toml"
    ))
    .unwrap();
    let decision = decide(&SchoolState::default(), Command::AdoptPlan(plan), ctx()).unwrap();
    assert_eq!(decision.warnings.len(), 1);
}
