//! How a truyenthong server process starts, serves and stops.
//!
//! The school agent, the district aggregator and reporting are three binaries with one life
//! cycle: read typed [`settings`] from a TOML file and the environment, set up [`logging`],
//! bind their listeners, run their background tasks and their [`grpc`] server until the
//! [`shutdown`] signal, then drain. Each service used to write these steps itself, and the
//! copies drifted (one set TCP_NODELAY, one bounded its last flush, one logged to stdout);
//! here they are written once.
//!
//! This is also where the cross-cutting concerns of every server and client live — TLS with
//! the district CA ([`tls`], [`client`]), request deadlines, concurrency limits and keep-alive
//! ([`grpc::GrpcLimits`]) — so that every service gets them alike. It knows nothing of the domain, NATS or PostgreSQL.

pub mod client;
pub mod credential;
pub mod grpc;
pub mod logging;
pub mod notify;
pub mod settings;
pub mod shutdown;
pub mod tls;

pub use client::{ConnectError, ServerAddress};
pub use credential::{AuthorizedChannel, Credential, CredentialError};
pub use grpc::{GrpcLimits, GrpcServer, GrpcSettings, ServeError};
pub use shutdown::{BackgroundTasks, shutdown_signal};
pub use tls::{ClientTlsFiles, ServerTlsFiles, TlsError};
