//! The NATS side of the truyenthong contract (`docs/contract.md`), shared by the school agent
//! and the district aggregator.
//!
//! This crate deals in codes, subjects, headers and bytes only; it deliberately does not
//! depend on the domain crate, so the wire contract can be read, tested and changed in one
//! place without pulling in event types, and so the domain stays free of I/O.
//!
//! * [`subjects`]: validated school addresses and every subject, inbox and stream name.
//! * [`stream`]: the district's permanent JetStream stream and how it is ensured.
//! * [`headers`]: CloudEvents headers plus `Nats-Msg-Id`, written and read back.
//! * [`connect`]: a client that starts offline and reconnects for ever.
//! * [`publish`]: in-order, pipelined publishing of an outbox batch with its acked prefix.
//! * [`replay`]: the district's re-send request and the school's answering loop.
//! * [`heads`]: a school's log head, announced on core NATS so a district that lost the tail
//!   of what it acknowledged notices.
//! * [`recover`]: a school reading its own events back from the district stream.
//! * [`permissions`]: what each identity (school, aggregator, administrator) may publish and
//!   subscribe to on the district's server.
//! * [`registry`]: the district's identity registry (`identities.toml`, public keys only),
//!   written by `district-admin`, read by the aggregator to verify a school's bundle.

pub mod connect;
pub mod headers;
pub mod heads;
pub mod permissions;
pub mod publish;
pub mod receipts;
pub mod recover;
pub mod registry;
pub mod replay;
pub mod stream;
pub mod subjects;

pub use connect::{ConnectError, NatsSettings, TlsSettings, connect};
pub use headers::{CloudEventHeaders, HeaderError, source_for};
pub use publish::{OutgoingEvent, PublishError, PublishOutcome, publish_in_order};
pub use replay::{ReplayError, ReplayReply, ReplayRequest, request_replay, serve_replay_requests};
pub use stream::{
    StreamError, district_stream_config, ensure_district_stream, ensure_evidence_bucket,
};
pub use subjects::{
    AddressError, AddressPart, EventOrigin, SchoolAddress, SlugError, district_events_filter,
    district_own_subject, events_subject, inbox_prefix, parse_event_origin, parse_events_subject,
    replay_subject, stream_name,
};
