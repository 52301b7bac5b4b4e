//! A school to test against: the real school agent, in this process on port 0 or as a child
//! process of its binary, with its settings, a client and the requests staff send.
//!
//! The agent was started by hand in six test files, each writing its own TOML, its own
//! "wait until delivered" loop and its own copy of the seed plan and demo activities; they
//! drifted (batch sizes, whether the agent creates the stream, how long a stop may take).
//! Here each of those is written once:
//!
//! * [`SchoolDir`] — a school's directory (its SQLite log, its configuration file), kept
//!   across agent restarts, and [`SchoolDir::settings`], *the* test settings of an agent:
//!   typed [`Settings`] built in Rust with the waits shortened. A child process reads the same
//!   settings from the TOML file [`SchoolDir::write_config`] writes — the one place an
//!   agent's TOML is written ([`settings::to_toml`]).
//! * [`RunningAgent`] — `school_agent::run` in this process on port 0, stopped gracefully or
//!   dropped wherever it is (a PC switched off).
//! * [`AgentProcess`] — the agent binary as a child process, for SIGKILL. The binary's path is
//!   passed in: `CARGO_BIN_EXE_school-agent` exists only in the agent's own tests.
//! * [`sessions`] — every agent started here gets a head account signed in, and
//!   [`connect`] attaches its token; other staff sign in with [`sessions::staff_member`].
//! * [`requests`] — the command header, the seed plan 114/KH-THCSAH and demo activities.
//! * Waits on the agent's own status: [`wait_delivered`] (everything up to seq N acknowledged
//!   by JetStream) and [`wait_published`] (at least N acknowledged: the trigger fault tests
//!   kill on, instead of sleeping).
//!
//! The district's codes come from `demo_data` ([`PROVINCE`], [`DISTRICT`]).

pub mod requests;
mod running;
pub mod sessions;
pub mod settings;

use std::time::Duration;

use anyhow::Context as _;
use wire::pb;

pub use demo_data::{DISTRICT, PROVINCE};
pub use running::{AgentProcess, RunningAgent};
pub use school_agent::config::Settings;
pub use sessions::{HEAD_LOGIN, HEAD_NAME, PASSWORD, connect_anonymous, connect_with};
pub use settings::SchoolDir;

/// THCS An Hòa, the school of the seed plan, which most agent tests record for.
pub const SCHOOL: &str = "thcs-an-hoa";
/// Its name, as its settings give it.
pub const SCHOOL_NAME: &str = "Trường THCS An Hòa";

/// A gRPC client of an agent, signed in as one staff account (or as nobody).
pub type Client = wire::bearer::AgentClient;

/// Connects a client to the agent at `addr` (`127.0.0.1:port`), signed in as its head when
/// the fixture started that agent (see [`sessions`]), else without a session.
pub async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Client> {
    match sessions::head_token(addr) {
        Some(token) => connect_with(addr, &token).await,
        None => connect_anonymous(addr).await,
    }
}

/// The agent's status.
pub async fn status(client: &mut Client) -> anyhow::Result<pb::AgentStatus> {
    Ok(client
        .get_status(pb::GetStatusRequest {})
        .await
        .context("GetStatus")?
        .into_inner())
}

/// Waits until the agent's log ends at `head` and JetStream has acknowledged all of it.
pub async fn wait_delivered(client: &Client, head: u64, timeout: Duration) -> anyhow::Result<()> {
    let last = wait_for_status(client, timeout, |s| {
        s.head_seq == head && s.last_published_seq == head && s.backlog == 0
    })
    .await;
    last.map(|_| ())
        .with_context(|| format!("events up to {head} were not all delivered"))
}

/// Waits until everything the agent has recorded is acknowledged by JetStream; returns its
/// head seq. For callers that do not know the head in advance (a history fed elsewhere).
pub async fn wait_all_delivered(client: &Client, timeout: Duration) -> anyhow::Result<u64> {
    let last = wait_for_status(client, timeout, |s| {
        s.backlog == 0 && s.last_published_seq == s.head_seq
    })
    .await
    .context("the agent did not deliver its log")?;
    Ok(last.head_seq)
}

/// Waits until JetStream has acknowledged at least `seq` of the agent's events; returns the
/// last acknowledged seq. Fault tests kill on this instead of after a sleep: the moment is
/// defined by work done, whatever the machine's speed.
pub async fn wait_published(client: &Client, seq: u64, timeout: Duration) -> anyhow::Result<u64> {
    let last = wait_for_status(client, timeout, |s| s.last_published_seq >= seq)
        .await
        .with_context(|| format!("fewer than {seq} events were published"))?;
    Ok(last.last_published_seq)
}

/// Polls the agent's status until `done` holds; returns that status, or an error naming the
/// last status seen.
pub async fn wait_for_status(
    client: &Client,
    timeout: Duration,
    done: impl Fn(&pb::AgentStatus) -> bool,
) -> anyhow::Result<pb::AgentStatus> {
    let last = std::sync::Mutex::new(None::<pb::AgentStatus>);
    let outcome = test_harness::wait_until(timeout, || {
        let (mut client, last, done) = (client.clone(), &last, &done);
        async move {
            let Ok(s) = status(&mut client).await else {
                return false;
            };
            let ok = done(&s);
            *last
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(s);
            ok
        }
    })
    .await;
    let last = last
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match (outcome, last) {
        (Ok(()), Some(s)) => Ok(s),
        (Ok(()), None) => anyhow::bail!("no status was read"),
        (Err(e), last) => Err(e).with_context(|| format!("last status: {last:?}")),
    }
}
