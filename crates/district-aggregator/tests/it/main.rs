//! Integration tests of the district aggregator against a real `nats-server` and a real
//! PostgreSQL, with the real school agent where a school is needed. No mocks.

mod access;
mod agent;
mod bundles;
mod database;
mod dead_letters;
mod delivery;
mod enrolment;
mod evidence;
mod faults;
mod gaps;
mod lost_tail;
mod queries;
mod rebuild;
mod receipts;
mod recovery;
mod school_app;
mod seams;
mod support;
