//! The district office's administration commands (`district-admin`).
//!
//! The district's NATS server faces the internet: only the district's own parts may speak on
//! it. This crate issues and keeps what that takes, in the district's NATS directory
//! ([`nats_dir`]): the district's CA and the server's certificate ([`pki`]), one nkey
//! identity per school and per service with its least-privilege permissions ([`registry`],
//! permissions from `event_bus::permissions`), the nats-server configuration rendered from
//! the shipped template ([`server_config`]) and its reload without a restart ([`reload`]),
//! and the district stream, which only the administrator may create ([`stream`]).
//!
//! Secrets (seeds, the CA key) live in 0600 files ([`secret_file`]) and are never printed or
//! logged; the registry holds public keys only.

pub mod cli;
pub mod nats_dir;
pub mod pki;
pub mod registry;
pub mod reload;
pub mod secret_file;
pub mod server_config;
pub mod stream;

pub use nats_dir::{AdminError, NatsDir};
