//! The district office's side of the domain: its own facts (enrolled schools, the district
//! plan with its targets), their commands and decision, and the reference model of every
//! district view.
//!
//! - [`facts`]: [`SchoolLevel`], [`Enrolment`], [`DistrictPlan`], [`Target`];
//! - [`event`]: [`DistrictEvent`] (`school.enrolled`, `district_plan.adopted`), published with
//!   envelope `school = "_district"`;
//! - [`decide`]: [`DistrictCommand`], [`DistrictState`], [`decide_district`];
//! - [`periods`]: which dates a query covers, how many target periods fit in them;
//! - [`folding`]: [`fold_vietnamese`] for accent-insensitive search;
//! - [`views`]: the answers, as plain data — the contract the aggregator's SQL must equal;
//! - [`assemble`]: the figures each view derives from its rows (targets, statuses, summaries,
//!   orders, tallies, rates, totals, pages), computed once for the aggregator and the model;
//! - [`model`]: [`DistrictModel`], a pure fold of envelopes answering every view of
//!   `docs/district-views.md`: it obtains the rows by folding, then calls [`assemble`].
//! - [`access`]: the roles of district accounts, what each may do and how much of the
//!   district it sees — a pure table the aggregator's authorisation reads.
//!
//! Pure like the rest of the crate: no I/O, no clock ("today" comes in a
//! [`DecisionContext`](crate::school::DecisionContext) or from an envelope's `recorded_at`).

pub mod access;
pub mod assemble;
pub mod decide;
pub mod event;
pub mod facts;
pub mod folding;
pub mod model;
pub mod periods;
mod queries;
pub mod views;

pub use decide::{DistrictCommand, DistrictState, check_district_actor, decide_district};
pub use event::DistrictEvent;
pub use facts::{AnswerWithinDays, DistrictPlan, Enrolment, SchoolLevel, Target, TargetPer};
pub use folding::fold_vietnamese;
pub use model::{DeadLetter, DistrictModel, Outcome, Position};
pub use periods::{resolve_period, target_periods_within};

#[cfg(test)]
mod tests;
