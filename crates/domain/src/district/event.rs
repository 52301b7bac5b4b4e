//! The district office's facts, as events published under `_district` with their own gapless
//! seq. `docs/events.md` documents both types; keep the two in step.

use chrono::NaiveDate;

use crate::district::facts::{DistrictPlan, Enrolment};
use crate::event::events;

events! {
    /// Every fact the district office can record.
    DistrictEvent;
    SchoolEnrolled(Enrolment) = "school.enrolled", schema 1;
    DistrictPlanAdopted(DistrictPlan) = "district_plan.adopted", schema 1;
}

impl DistrictEvent {
    /// The local date the fact happened on; the envelope's `occurred_at` is its start.
    pub fn occurred_on(&self) -> NaiveDate {
        match self {
            DistrictEvent::SchoolEnrolled(e) => e.enrolled_on,
            DistrictEvent::DistrictPlanAdopted(p) => p.date,
        }
    }
}
