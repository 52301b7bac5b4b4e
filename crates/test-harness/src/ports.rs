//! Loopback port helpers.
//!
//! Each test gets its own servers, so ports are chosen by the OS (bind to port 0) rather than
//! fixed; that lets tests run in parallel. The gap between choosing a port and the server
//! binding it is a small race, which the server types cover by retrying with another port on
//! their first start.

use std::net::{Ipv4Addr, TcpListener};
use std::time::Duration;

use anyhow::Context as _;

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
///
/// The port is released before returning, so another process could take it before the caller
/// binds it; callers that spawn servers should retry on "address in use".
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("binding 127.0.0.1:0 to find a free port")?;
    Ok(listener
        .local_addr()
        .context("reading the bound address")?
        .port())
}

/// Waits until `port` on 127.0.0.1 can be bound again (for restarting a server on the same
/// port), polling for at most `timeout`.
pub(crate) async fn wait_port_bindable(port: u16, timeout: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            Ok(listener) => {
                drop(listener);
                return Ok(());
            }
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(e).with_context(|| {
                    format!("port 127.0.0.1:{port} still not bindable after {timeout:?}")
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
