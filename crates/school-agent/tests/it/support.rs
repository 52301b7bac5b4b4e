//! The agent's tests start it through `agent_fixture` — in this process on port 0, or as a
//! child process of this crate's binary (for SIGKILL) — and read what reached JetStream with
//! a plain async-nats consumer.

use std::time::Duration;

use async_nats::jetstream;
use futures::StreamExt;

pub use agent_fixture::requests::{activity, adopt_seed_plan, header};
pub use agent_fixture::{
    DISTRICT, PROVINCE, RunningAgent, SCHOOL, SchoolDir, status, wait_delivered, wait_published,
};
// The agent's bench includes this file (`#[path]`) and uses these.
#[allow(unused_imports)]
pub use agent_fixture::{Client, connect};
use event_bus::subjects::{SchoolAddress, events_subject, stream_name};

/// The agent's binary, built for this crate's tests.
pub const AGENT_BINARY: &str = env!("CARGO_BIN_EXE_school-agent");

/// The agent as a child process of its binary, on the school's settings for `nats_url`.
pub async fn spawn_process(
    school: &SchoolDir,
    nats_url: &str,
) -> anyhow::Result<agent_fixture::AgentProcess> {
    let settings = school.settings(nats_url);
    agent_fixture::AgentProcess::spawn(AGENT_BINARY.as_ref(), school, &settings).await
}

/// THCS An Hòa's subject.
pub fn subject() -> String {
    events_subject(&SchoolAddress::parse(PROVINCE, DISTRICT, SCHOOL).expect("a valid school"))
}

/// Every message in the district stream on the school's subject, in stream order, read with a
/// plain async-nats ordered consumer.
pub async fn stream_messages(
    nats_url: &str,
) -> anyhow::Result<Vec<async_nats::jetstream::Message>> {
    let client = async_nats::connect(nats_url).await?;
    let js = jetstream::new(client);
    let mut stream = js.get_stream(stream_name(PROVINCE, DISTRICT)?).await?;
    let expected = stream.info().await?.state.messages;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            filter_subject: subject(),
            ..Default::default()
        })
        .await?;
    let mut out = Vec::new();
    if expected == 0 {
        return Ok(out);
    }
    let mut messages = consumer.messages().await?;
    while let Some(message) = tokio::time::timeout(Duration::from_secs(10), messages.next()).await?
    {
        out.push(message?);
        if out.len() as u64 >= expected {
            break;
        }
    }
    Ok(out)
}

/// Checks the stream holds seq 1..=n exactly once each, in order, with the contract's headers.
pub fn assert_delivered_once_in_order(messages: &[async_nats::jetstream::Message], n: u64) {
    let seqs: Vec<u64> = messages
        .iter()
        .map(|m| {
            domain::Envelope::parse(&m.payload)
                .expect("every message is an envelope")
                .seq
        })
        .collect();
    let expected: Vec<u64> = (1..=n).collect();
    assert_eq!(seqs.len(), expected.len(), "message count");
    assert_eq!(seqs, expected, "each seq once, in order");
}
