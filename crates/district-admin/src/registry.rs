//! The district's NATS identities: the file format and its operations live in
//! `event_bus::registry`, so that the aggregator (which verifies school bundles against the
//! registered keys) reads the very definition this command writes.

pub use event_bus::registry::*;
