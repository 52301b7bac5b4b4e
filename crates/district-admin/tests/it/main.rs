//! The district's shipped NATS configuration, rendered by `district-admin` and run by a real
//! nats-server: only the district's own parts may speak on it, each only as far as its
//! permissions go.

#![allow(clippy::unwrap_used)]

mod support;

mod agent;
mod evidence_bucket;
mod grpc_tls;
mod permissions;
mod revocation;
