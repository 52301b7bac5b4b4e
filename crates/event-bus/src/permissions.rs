//! Who may publish and subscribe to what on a district's NATS: least privilege per identity.
//!
//! The district's NATS server faces the internet (schools reach it from wherever they are), so
//! each part of the system connects with its own identity, and each identity may use only the
//! subjects its features need. The sets are defined here, beside the subjects themselves, so
//! that the server configuration rendered for a district (`district-admin`) and the tests
//! that probe it read one definition.
//!
//! - A **school** publishes only its events subject (a JetStream publish needs no `$JS.API`
//!   right: the PubAck comes back on the reply inbox) and its heads subject; it subscribes only
//!   to its re-send subject and its own inbox prefix, and may answer requests made to it
//!   (`allow_responses`). Never `_INBOX.>`: that would let it read other schools' replies.
//!   To recover its log (`crate::recover`) it may create, pull from and delete one consumer
//!   on the district stream, named `recover-<school>` and filtered to its own events subject:
//!   the server refuses a create whose body's filter differs from the subject's, so it reads
//!   its own events only.
//! - The **aggregator** reads the district stream through its durable consumer (and the
//!   rebuild's ephemeral ones), publishes the district office's own events, sends re-send
//!   requests to schools, and hears their heads, answering each with the school's receipt
//!   (`allow_responses`: only to the reply subject of a message it received); it cannot
//!   create, update, delete or purge the stream. It may also publish on the schools' events
//!   subjects: it does so only to put a school's **signed bundle** (carried on a USB stick,
//!   `docs/bundles.md`) into the stream, and only the events of a bundle whose signature
//!   checked against that school's registered key (`district_aggregator::bundles`), with
//!   the envelopes' bytes and `Nats-Msg-Id` unchanged — so the stream keeps holding every
//!   event the district applied. What the server cannot check here, the aggregator's code
//!   does: this right widens what a stolen aggregator seed could do (write events as a
//!   school), which is why that seed stays in a 0600 file on the district server.
//! - The **administrator** may do anything: it creates and repairs the stream. Its
//!   credentials stay on the district server, used by set-up commands only.
//!
//! - Each school has an **evidence bucket** (JetStream Object Store,
//!   [`subjects::evidence_bucket`]): the school may put, read and inspect objects of its own
//!   bucket only ([`object_store_access`]); the aggregator may only read every school's
//!   bucket of its district. The administrator creates each bucket when it issues the
//!   school (in `insecure` development the agent creates its own).
//!
//! Facts these sets rely on were checked on nats-server 2.9.10 with async-nats 0.51: a
//! durable pull consumer with a filter is created on `CONSUMER.CREATE.<stream>.<name>.<filter>`,
//! an unnamed ephemeral one on `CONSUMER.CREATE.<stream>`; `get_last_raw_message_by_subject`
//! asks `STREAM.MSG.GET.<stream>`.

use crate::subjects::{self, AddressError, SchoolAddress};

/// The subjects one identity may publish and subscribe to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    /// Subjects (with wildcards) the identity may publish on.
    pub publish: Vec<String>,
    /// Subjects (with wildcards) the identity may subscribe to.
    pub subscribe: Vec<String>,
    /// Whether it may reply to requests it received, whatever their reply subject.
    pub allow_responses: bool,
}

impl Permissions {
    /// Everything: the administrator's.
    pub fn everything() -> Self {
        Self {
            publish: vec![">".into()],
            subscribe: vec![">".into()],
            allow_responses: true,
        }
    }
}

/// The `$JS.API` and `$O` subjects the object store of `bucket` needs to put, read and
/// inspect objects (async-nats 0.51): the bucket's stream info (opening the store), the last
/// meta message (object info, by `STREAM.MSG.GET` or direct get), the chunks and meta
/// published (each a JetStream publish acknowledged on the reply inbox), and the ordered
/// consumer a read creates (with its flow control and deletion). Never the create, update,
/// delete or purge of the bucket's stream: the agent's uploader never replaces an object
/// (names are hashes), so it needs no purge, and a school cannot erase what it sent.
pub fn object_store_access(bucket: &str) -> Vec<String> {
    let stream = format!("OBJ_{bucket}");
    let api = "$JS.API";
    vec![
        format!("$O.{bucket}.>"),
        format!("{api}.STREAM.INFO.{stream}"),
        format!("{api}.STREAM.MSG.GET.{stream}"),
        format!("{api}.DIRECT.GET.{stream}.>"),
        format!("{api}.CONSUMER.CREATE.{stream}"),
        format!("{api}.CONSUMER.CREATE.{stream}.>"),
        format!("{api}.CONSUMER.INFO.{stream}.*"),
        format!("{api}.CONSUMER.DELETE.{stream}.*"),
        format!("$JS.FC.{stream}.>"),
    ]
}

/// A school's: its own events and heads out, its own re-send requests and replies in, its
/// own events read back through its recovery consumer, and its own evidence bucket
/// ([`object_store_access`]).
pub fn school(school: &SchoolAddress) -> Permissions {
    let api = "$JS.API";
    // Both codes were validated by `SchoolAddress`; the stream name cannot fail for them.
    let stream = subjects::stream_name(school.province(), school.district()).unwrap_or_default();
    let consumer = crate::recover::consumer_name(school);
    let mut publish = vec![
        subjects::events_subject(school),
        subjects::heads_subject(school),
        format!(
            "{api}.CONSUMER.CREATE.{stream}.{consumer}.{}",
            subjects::events_subject(school)
        ),
        format!("{api}.CONSUMER.MSG.NEXT.{stream}.{consumer}"),
        format!("{api}.CONSUMER.DELETE.{stream}.{consumer}"),
    ];
    publish.extend(object_store_access(&subjects::evidence_bucket(school)));
    Permissions {
        publish,
        subscribe: vec![
            subjects::replay_subject(school),
            format!("{}.>", subjects::inbox_prefix(school)),
        ],
        allow_responses: true,
    }
}

/// The district aggregator's, for a stream read through the durable consumer `consumer`.
pub fn aggregator(
    province: &str,
    district: &str,
    consumer: &str,
) -> Result<Permissions, AddressError> {
    let stream = subjects::stream_name(province, district)?;
    let api = "$JS.API";
    Ok(Permissions {
        publish: vec![
            format!("{api}.STREAM.INFO.{stream}"),
            format!("{api}.STREAM.MSG.GET.{stream}"),
            // The live ingest's durable consumer (created with a filter) and its state.
            format!("{api}.CONSUMER.CREATE.{stream}.{consumer}.>"),
            format!("{api}.CONSUMER.INFO.{stream}.{consumer}"),
            format!("{api}.CONSUMER.MSG.NEXT.{stream}.{consumer}"),
            format!("$JS.ACK.{stream}.{consumer}.>"),
            // A rebuild's ephemeral consumer: created unnamed, named by the server.
            format!("{api}.CONSUMER.CREATE.{stream}"),
            format!("{api}.CONSUMER.INFO.{stream}.*"),
            format!("{api}.CONSUMER.MSG.NEXT.{stream}.*"),
            format!("{api}.CONSUMER.DELETE.{stream}.*"),
            // Every school's evidence bucket, read only. A NATS wildcard is a whole token and a
            // bucket's stream name is one token (`OBJ_tt-ev_<province>_<district>_<school>`),
            // so these read rights cover every stream: stream info, a message by subject, and
            // consumers (the ordered consumer an object read creates). Never a create, update,
            // delete or purge of a stream, and never a publish on `$O.`.
            format!("{api}.STREAM.INFO.*"),
            format!("{api}.STREAM.MSG.GET.*"),
            format!("{api}.DIRECT.GET.*.>"),
            format!("{api}.CONSUMER.CREATE.*"),
            format!("{api}.CONSUMER.CREATE.*.>"),
            format!("{api}.CONSUMER.INFO.*.*"),
            format!("{api}.CONSUMER.DELETE.*.*"),
            "$JS.FC.*.>".to_string(),
            // The district office's own facts (`._district`) and — only for the events of a
            // school's verified bundle — the schools' events subjects; re-send requests.
            subjects::district_events_filter(province, district)?,
            format!("{}.{province}.{district}.*", subjects::REPLAY_PREFIX),
        ],
        subscribe: vec![
            subjects::district_heads_filter(province, district)?,
            format!(
                "{}.>",
                subjects::aggregator_inbox_prefix(province, district)?
            ),
        ],
        // The receipts it answers a school's head announcement with (`crate::receipts`):
        // only to the reply subject of a message it received, nowhere else.
        allow_responses: true,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_school_may_use_only_its_own_subjects_and_never_every_inbox() {
        let an_hoa = SchoolAddress::parse("dong-thap", "tam-nong", "thcs-an-hoa").unwrap();
        let p = school(&an_hoa);
        assert_eq!(
            p.publish[..5],
            [
                "truyenthong.events.dong-thap.tam-nong.thcs-an-hoa",
                "truyenthong.heads.dong-thap.tam-nong.thcs-an-hoa",
                "$JS.API.CONSUMER.CREATE.TRUYENTHONG_DONG-THAP_TAM-NONG.recover-thcs-an-hoa.truyenthong.events.dong-thap.tam-nong.thcs-an-hoa",
                "$JS.API.CONSUMER.MSG.NEXT.TRUYENTHONG_DONG-THAP_TAM-NONG.recover-thcs-an-hoa",
                "$JS.API.CONSUMER.DELETE.TRUYENTHONG_DONG-THAP_TAM-NONG.recover-thcs-an-hoa",
            ]
        );
        let bucket = "tt-ev_dong-thap_tam-nong_thcs-an-hoa";
        assert!(p.publish.contains(&format!("$O.{bucket}.>")));
        // Every other right is about its own bucket's stream, and none changes the stream.
        for s in &p.publish[5..] {
            assert!(s.contains(bucket), "{s}");
            for forbidden in [
                "STREAM.CREATE",
                "STREAM.UPDATE",
                "STREAM.DELETE",
                "STREAM.PURGE",
            ] {
                assert!(!s.contains(forbidden), "{s}");
            }
        }
        assert_eq!(
            p.subscribe,
            vec![
                "truyenthong.replay.dong-thap.tam-nong.thcs-an-hoa",
                "_INBOX.dong-thap.tam-nong.thcs-an-hoa.>",
            ]
        );
        assert!(p.allow_responses);
        assert!(
            !p.publish[..5]
                .iter()
                .chain(&p.subscribe)
                .any(|s| s.contains('*')
                    || (s.contains('>') && !s.starts_with("_INBOX.dong-thap"))
                    || s == "_INBOX.>")
        );
        // On the district stream, its only JetStream API rights are its recovery consumer's.
        assert!(
            p.publish
                .iter()
                .filter(|s| s.starts_with("$JS") && s.contains("TRUYENTHONG_"))
                .all(|s| s.contains(".recover-thcs-an-hoa"))
        );
        // No wildcard that could reach another school's bucket.
        assert!(
            !p.publish
                .iter()
                .any(|s| s.contains("tt-ev_dong-thap_tam-nong_*") || s == ">")
        );
    }

    #[test]
    fn the_aggregator_reads_the_stream_but_cannot_change_it() {
        let p = aggregator("dong-thap", "tam-nong", "district-aggregator").unwrap();
        let stream = "TRUYENTHONG_DONG-THAP_TAM-NONG";
        assert!(p.publish.contains(&format!(
            "$JS.API.CONSUMER.MSG.NEXT.{stream}.district-aggregator"
        )));
        for forbidden in [
            "STREAM.CREATE",
            "STREAM.UPDATE",
            "STREAM.DELETE",
            "STREAM.PURGE",
        ] {
            assert!(
                !p.publish.iter().any(|s| s.contains(forbidden) || s == ">"),
                "{forbidden}"
            );
        }
        // The office's own events, and a school's events from a verified bundle only
        // (`district_aggregator::bundles`): the district's events subjects, nothing wider.
        let events: Vec<&String> = p
            .publish
            .iter()
            .filter(|s| s.starts_with("truyenthong."))
            .collect();
        assert_eq!(
            events,
            [
                "truyenthong.events.dong-thap.tam-nong.>",
                "truyenthong.replay.dong-thap.tam-nong.*",
            ]
        );
        assert!(
            !p.publish.iter().any(|s| s.starts_with("$O.")),
            "the aggregator never writes an evidence object"
        );
        assert!(p.publish.contains(&"$JS.API.STREAM.INFO.*".to_string()));
        assert_eq!(
            p.subscribe,
            vec![
                "truyenthong.heads.dong-thap.tam-nong.*",
                "_INBOX.dong-thap.tam-nong._aggregator.>",
            ]
        );
    }
}
