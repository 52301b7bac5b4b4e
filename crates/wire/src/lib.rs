//! truyenthong's gRPC contract, and the only crate that knows protobuf.
//!
//! - [`pb`]: the messages, enums, clients and servers generated from `proto/` (package
//!   `truyenthong.v1`), and [`FILE_DESCRIPTOR_SET`] for server reflection.
//! - [`convert`]: requests → domain commands, domain types → messages. Thin: parsing of
//!   dates, enums, ids, areas and amounts only; the rules are `domain::decide`'s.
//! - [`status`]: domain refusals → `tonic::Status` with rich details, and back for clients.
//! - [`bearer`]: the client side of `authorization: Bearer ttp_…`, the staff session token.
//!
//! Wire types are not domain types: services speak [`pb`] on the network and
//! [`domain`] inside, converting here at the edge.

pub mod bearer;
pub mod bundle_chunks;
pub mod convert;
pub mod status;

/// Code generated from `proto/truyenthong/v1/*.proto`.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rustdoc::all
)]
pub mod pb {
    tonic::include_proto!("truyenthong.v1");

    /// The well-known type the messages use for instants, so that callers name it through
    /// `wire` and need no protobuf crate of their own.
    pub use prost_types::Timestamp;
}

/// The encoded `FileDescriptorSet` of `proto/` (with its imports), for `tonic-reflection`'s
/// `register_encoded_file_descriptor_set`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/truyenthong_descriptor.bin"));
