//! The connection to the school agent, signed in with the stored session's token
//! (`wire::bearer`), and sending commands so that a retry cannot record a fact twice.
//!
//! Commands that create something carry an id chosen here (UUIDv7), so when a reply is lost
//! and the request is sent again, the agent answers `ALREADY_EXISTS` instead of recording it
//! twice; [`send`] takes that answer to a retry as success.

use std::future::Future;
use std::time::Duration;

use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Response, Status};
use wire::bearer::{Bearer, StaffClient};
use wire::pb;

use crate::error::{CliError, is_transient};
use crate::output::Sent;

/// A `SchoolAgent` client sending the staff member's session token.
pub type Client = wire::bearer::AgentClient;

/// How long to wait for the TCP connection to the agent.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long to wait for any one answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts after the first when the link fails for a moment.
const RETRIES: u32 = 4;

/// The agent's address as given, with `http://` added when staff left it out.
pub fn normalise_url(raw: &str) -> Result<String, CliError> {
    let raw = raw.trim();
    let url = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("http://{raw}")
    };
    let valid = Endpoint::from_shared(url.clone())
        .ok()
        .is_some_and(|e| e.uri().host().is_some_and(|h| !h.is_empty()));
    if valid && (url.starts_with("http://") || url.starts_with("https://")) {
        Ok(url)
    } else {
        Err(CliError::Usage(format!(
            "Địa chỉ máy chủ «{raw}» không hợp lệ; cần dạng http://127.0.0.1:50051 (tùy chọn --may-chu hoặc biến môi trường TRUYENTHONG_AGENT_URL)."
        )))
    }
}

/// Connects to the agent at `url` (already normalised), sending `token` on every call.
pub async fn connect(url: &str, token: &str) -> Result<Client, CliError> {
    Ok(wire::bearer::agent_client(
        channel(url).await?,
        bearer(Some(token))?,
    ))
}

/// A `SchoolStaff` client of the agent at `url`, sending `token` when there is one (none for
/// signing in).
pub async fn connect_staff(url: &str, token: Option<&str>) -> Result<StaffClient, CliError> {
    Ok(wire::bearer::staff_client(
        channel(url).await?,
        bearer(token)?,
    ))
}

fn bearer(token: Option<&str>) -> Result<Bearer, CliError> {
    match token {
        None => Ok(Bearer::none()),
        Some(token) => Bearer::new(token).map_err(|_| {
            CliError::File(
                "Phiên đăng nhập đã lưu bị hỏng; chạy lại `truyenthong dang-nhap`.".to_string(),
            )
        }),
    }
}

async fn channel(url: &str) -> Result<Channel, CliError> {
    let endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|_| CliError::Connect {
            url: url.to_string(),
        })?
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .tcp_nodelay(true);
    endpoint.connect().await.map_err(|_| CliError::Connect {
        url: url.to_string(),
    })
}

/// The pause before retry number `attempt` (0-based): 250 ms, 500 ms, 1 s, 2 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64 << attempt.min(4))
}

/// Sends a command that carries a client-chosen id, retrying while the link fails. An
/// `ALREADY_EXISTS` answer to a retry means an earlier attempt was recorded: success.
pub async fn send<F, Fut>(entity_id: &str, mut call: F) -> Result<Sent, Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Response<pb::CommandReply>, Status>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Ok(reply) => return Ok(Sent::Reply(reply.into_inner())),
            Err(status) if attempt > 0 && status.code() == Code::AlreadyExists => {
                return Ok(Sent::AlreadyRecorded {
                    entity_id: entity_id.to_string(),
                });
            }
            Err(status) if is_transient(&status) && attempt < RETRIES => {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            Err(status) => return Err(status),
        }
    }
}

/// Sends a command once: those without a client-chosen id are not retried, since a lost
/// reply may hide a recorded fact.
pub async fn send_once<Fut>(call: Fut) -> Result<Sent, Status>
where
    Fut: Future<Output = Result<Response<pb::CommandReply>, Status>>,
{
    call.await.map(|r| Sent::Reply(r.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_a_scheme_and_bad_ones_are_usage_errors() {
        assert_eq!(
            normalise_url("127.0.0.1:50051").ok().as_deref(),
            Some("http://127.0.0.1:50051")
        );
        assert_eq!(
            normalise_url("http://may-truong:50051").ok().as_deref(),
            Some("http://may-truong:50051")
        );
        for bad in ["", "ftp://x:1", "http://", "máy chủ"] {
            assert!(
                matches!(normalise_url(bad), Err(CliError::Usage(_))),
                "{bad}"
            );
        }
    }
}
