//! A school's log head, announced on core NATS while the school is connected.
//!
//! JetStream's acknowledgement is not an fsync on nats-server 2.9 (it has no `sync_interval`):
//! a power cut at the district can lose the last events a school was told were stored. The
//! school then believes them delivered and would send them again only with its next event.
//! So each agent announces, every minute or so, the newest seq (and its event id) in its log
//! on `truyenthong.heads.<province>.<district>.<school>`; the aggregator compares it with what
//! it applied and asks for a re-send when it is behind. Core NATS is enough: a lost
//! announcement is followed by the next one.
//!
//! Wire format: a JSON [`Head`] body.

use async_nats::Client;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::subjects::{self, AddressError, SchoolAddress};

/// The newest event in a school's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The newest seq; 0 for an empty log.
    pub seq: u64,
    /// That event's id (absent for an empty log), so the district can tell a log that was
    /// re-created with the same seqs from the one it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
}

/// Announces `head` for `school` (core NATS publish: no acknowledgement, nothing stored),
/// asking for the district's receipt on the school's receipts subject
/// (`crate::receipts`), where the school listens.
pub async fn announce(
    client: &Client,
    school: &SchoolAddress,
    head: Head,
) -> Result<(), async_nats::PublishError> {
    let body = serde_json::to_vec(&head).unwrap_or_default();
    client
        .publish_with_reply(
            subjects::heads_subject(school),
            crate::receipts::receipts_subject(school),
            body.into(),
        )
        .await
}

/// Every school's announcements in a district.
pub async fn subscribe(
    client: &Client,
    province: &str,
    district: &str,
) -> Result<async_nats::Subscriber, SubscribeHeadsError> {
    let filter = subjects::district_heads_filter(province, district)?;
    Ok(client.subscribe(filter).await?)
}

/// Why the district cannot hear the heads.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeHeadsError {
    #[error(transparent)]
    Address(#[from] AddressError),
    #[error("cannot subscribe to the schools' heads: {0}")]
    Subscribe(#[from] async_nats::SubscribeError),
}

/// Reads one announcement: the school from its subject, the head from its body. `None` for
/// anything malformed (ignored: the next announcement will do).
pub fn parse(message: &async_nats::Message) -> Option<(SchoolAddress, Head)> {
    let school = subjects::parse_heads_subject(message.subject.as_str())?;
    let head: Head = serde_json::from_slice(&message.payload).ok()?;
    Some((school, head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_reads_back_and_an_empty_log_has_no_id() {
        let id = Uuid::now_v7();
        let text = serde_json::to_string(&Head {
            seq: 42,
            id: Some(id),
        })
        .unwrap();
        assert_eq!(text, format!("{{\"seq\":42,\"id\":\"{id}\"}}"));
        let empty: Head = serde_json::from_str("{\"seq\":0}").unwrap();
        assert_eq!(empty, Head { seq: 0, id: None });
    }
}
