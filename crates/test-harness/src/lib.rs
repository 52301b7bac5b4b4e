//! Real external services for integration tests — never mocks.
//!
//! The system under test talks to NATS JetStream and PostgreSQL, and the behaviour we care
//! about (redelivery, deduplication, reconnects after a server restart, constraint violations,
//! transactions) lives in those servers, not in our code. So tests run against the real
//! programs, started here on free loopback ports with throwaway data directories:
//!
//! * [`NatsServer`] — a `nats-server` with JetStream, stoppable, killable and restartable on
//!   the same port and store so tests can exercise outages and recovery.
//! * [`Postgres`] — a throwaway PostgreSQL cluster (or the server named by `DATABASE_URL`),
//!   handing out a fresh database per test.
//! * [`free_port`] and [`wait_until`] — small helpers the above use and tests may reuse.
//!
//! Every handle cleans up on `Drop` (the process is killed, the temporary directory removed),
//! and when a test panics the tail of the server's log is printed to stderr to help diagnose it.
//! `cargo xtask test` installs the programs these need (`nats-server`, PostgreSQL).
//! A handle that is never dropped — a server in a `static`, shared by the tests of one binary
//! — registers with `stop_at_exit` instead, and a guardian process stops it and removes its
//! directory when the test process exits, however it exits (`exit_guard.rs`).

pub mod chromium;
mod exit_guard;
mod nats;
mod ports;
mod postgres;
mod process;
mod wait;

pub use nats::{NatsServer, ServerLayout};
pub use ports::free_port;
pub use postgres::{Postgres, SplitRoles};
pub use wait::wait_until;
