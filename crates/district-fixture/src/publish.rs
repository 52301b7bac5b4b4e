//! Publishing envelopes to the district stream the way agents' relays and the district office
//! do: one author's run at a time, in seq order, pipelined, each message carrying its
//! CloudEvents headers and `Nats-Msg-Id`.

use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;
use demo_data::{DISTRICT, PROVINCE};
use domain::{Author, Envelope};
use event_bus::headers::{CloudEventHeaders, source_for};
use event_bus::publish::{OutgoingEvent, publish_in_order};
use event_bus::subjects::{SchoolAddress, district_own_subject, events_subject};

/// Events per `publish_in_order` call: one relay batch.
const PUBLISH_RUN: usize = 250;

/// The subject `envelope` is published on: its school's, or the district office's own.
pub fn subject_of(envelope: &Envelope) -> anyhow::Result<String> {
    Ok(match &envelope.school {
        Author::School(code) => {
            events_subject(&SchoolAddress::parse(PROVINCE, DISTRICT, code.as_str())?)
        }
        Author::DistrictOffice => district_own_subject(PROVINCE, DISTRICT)?,
    })
}

/// Each author's newest seq.
pub(crate) fn heads(envelopes: &[Envelope]) -> Vec<(String, u64)> {
    let mut heads: std::collections::BTreeMap<String, u64> = Default::default();
    for e in envelopes {
        let head = heads.entry(author_code(&e.school)).or_default();
        *head = (*head).max(e.seq);
    }
    heads.into_iter().collect()
}

fn author_code(author: &Author) -> String {
    match author {
        Author::School(code) => code.as_str().to_owned(),
        Author::DistrictOffice => Author::DISTRICT_TOKEN.to_owned(),
    }
}

/// The message an agent (or the office) publishes for `envelope`.
pub fn outgoing(envelope: &Envelope, outbox_head: Option<u64>) -> anyhow::Result<OutgoingEvent> {
    let subject = subject_of(envelope)?;
    let source = match &envelope.school {
        Author::School(code) => {
            source_for(&SchoolAddress::parse(PROVINCE, DISTRICT, code.as_str())?)
        }
        Author::DistrictOffice => format!(
            "/truyenthong/{PROVINCE}/{DISTRICT}/{}",
            Author::DISTRICT_TOKEN
        ),
    };
    Ok(OutgoingEvent {
        subject,
        headers: CloudEventHeaders {
            id: envelope.id,
            source,
            event_type: envelope.event_type.clone(),
            time: envelope.occurred_at,
        },
        body: Bytes::from(envelope.to_json()),
        seq: envelope.seq,
        outbox_head,
    })
}

/// Publishes envelopes in the order given, one author run at a time, as relays do; each
/// message's `Nats-Msg-Id` is its event id.
pub async fn publish(js: &jetstream::Context, envelopes: &[Envelope]) -> anyhow::Result<()> {
    publish_with_ids(js, envelopes, |e| e.id).await
}

/// [`publish`] with the `Nats-Msg-Id` `msg_id` gives each envelope: fresh ids make copies
/// JetStream cannot recognise, as a school re-sending after the duplicate window does.
pub async fn publish_with_ids(
    js: &jetstream::Context,
    envelopes: &[Envelope],
    msg_id: impl Fn(&Envelope) -> uuid::Uuid,
) -> anyhow::Result<()> {
    let heads: std::collections::BTreeMap<String, u64> = heads(envelopes).into_iter().collect();
    let mut run: Vec<OutgoingEvent> = Vec::new();
    for envelope in envelopes {
        let head = heads.get(&author_code(&envelope.school)).copied();
        let mut next = outgoing(envelope, head)?;
        next.headers.id = msg_id(envelope);
        let breaks_run = run.last().is_some_and(|last| {
            last.subject != next.subject || last.seq >= next.seq || run.len() >= PUBLISH_RUN
        });
        if breaks_run {
            flush(js, &mut run).await?;
        }
        run.push(next);
    }
    flush(js, &mut run).await
}

async fn flush(js: &jetstream::Context, run: &mut Vec<OutgoingEvent>) -> anyhow::Result<()> {
    if run.is_empty() {
        return Ok(());
    }
    let outcome = publish_in_order(js, run, Duration::from_secs(10)).await;
    if let Some(error) = outcome.error {
        anyhow::bail!("publishing failed after {} acks: {error}", outcome.acked);
    }
    run.clear();
    Ok(())
}
