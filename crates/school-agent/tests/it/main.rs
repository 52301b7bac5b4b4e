//! The school agent against a real nats-server (JetStream), real SQLite, real processes.
#![allow(clippy::unwrap_used)]

mod accounts;
mod backup;
mod bad_input;
mod delivery;
mod faults;
mod resend;
mod secured_nats;
mod support;
