//! The domain of truyenthong: communication on education and training by the schools of a
//! district, as plan No. 114/KH-THCSAH of THCS An Hòa lays it out.
//!
//! Everything here is pure: no async, no I/O, no clock, no randomness. Services generate ids
//! and read the clock, then call [`decide`](school::decide) to turn a [`Command`] into
//! [`Event`]s (or refuse it with a [`DomainError`] that names the field and the rule), store
//! and publish those events, and [`apply`](school::SchoolState::apply) them to fold state.
//!
//! The district office's own facts, their decision, and the reference model of every district
//! view are in [`district`].
//!
//! This crate owns one wire format on purpose: the JSON of the event [`Envelope`] and its
//! `data`, because events are the domain's permanent facts and their schema versions and
//! upcasting are domain decisions. Protobuf lives only in `wire`.
//!
//! How people read numbers, money, dates and the vocabularies' labels is decided here too,
//! once, in [`vi`] and the vocabularies' `label_vi`: every surface (report, dashboard,
//! command line) writes them through these.

pub mod calendar;
pub mod codes;
pub mod command;
pub mod district;
pub mod duties;
pub mod envelope;
pub mod error;
pub mod event;
pub mod evidence;
pub mod money;
pub mod plan;
pub mod roles;
pub mod school;
pub mod staff;
pub mod text;
pub mod upcast;
pub mod vi;

pub use calendar::{DateRange, Period};
pub use codes::{Author, SchoolRef, Slug};
pub use command::Command;
pub use envelope::{Actor, AnyEvent, DecodeError, Envelope, EventData};
pub use error::{DomainError, ErrorKind, Rule, Warning};
pub use event::Event;
pub use money::Vnd;
pub use plan::Plan;
pub use roles::{Channel, ContentArea, Role};
pub use school::{Decision, DecisionContext, SchoolState, SchoolStateSnapshot, decide};
