//! Integration tests of the reporting service against the real district aggregator loaded
//! with the Tam Nông demo history: nothing is mocked.
//!
//! Loading the district takes tens of seconds, so the test binary loads it once
//! (`district_fixture::shared`: the first test to ask starts it on a runtime thread of its
//! own; its `nats-server` and PostgreSQL are stopped when the binary exits). Every check is a
//! test of its own — `cargo test -p reporting --test it excel` picks the Excel ones — with its
//! own reporting service reading the shared aggregator (`support::Env`), so each fails or
//! passes on its own.

#![allow(clippy::unwrap_used)]

mod access;
mod browser;
mod cli;
mod docx_reader;
mod errors;
mod files;
mod http;
mod paper;
mod support;
