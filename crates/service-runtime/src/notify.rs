//! Readiness and stopping notifications to systemd (`Type=notify` units, `deploy/systemd/`).
//!
//! systemd passes a datagram socket in `NOTIFY_SOCKET`; a service writes `READY=1` once it
//! answers calls and `STOPPING=1` when it starts to drain, so `systemctl start` returns only
//! when the service is usable and units ordered after it (reporting after the aggregator)
//! start against a server that answers. Outside systemd the variable is unset and these are
//! no-ops. The protocol is two lines of text on a Unix socket; no crate is needed for it.

use std::os::unix::net::UnixDatagram;

use tracing::{debug, warn};

/// Tells systemd the service is ready (`READY=1`).
pub fn ready() {
    send("READY=1");
}

/// Tells systemd the service is stopping (`STOPPING=1`).
pub fn stopping() {
    send("STOPPING=1");
}

fn send(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    match notify(&path, state) {
        Ok(()) => debug!(state, "notified systemd"),
        // Not fatal: the service works; systemd will report the unit as not started in time.
        Err(error) => warn!(state, %error, "could not notify systemd"),
    }
}

fn notify(path: &std::ffi::OsStr, state: &str) -> std::io::Result<()> {
    let socket = UnixDatagram::unbound()?;
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path);
    match bytes.split_first() {
        // An abstract socket: `@name` stands for a leading NUL byte.
        Some((b'@', name)) => {
            use std::os::linux::net::SocketAddrExt as _;
            let address = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            socket.send_to_addr(state.as_bytes(), &address)?;
        }
        _ => {
            socket.send_to(state.as_bytes(), std::path::Path::new(path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_notification_reaches_a_socket_at_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let listener = UnixDatagram::bind(&path).unwrap();
        notify(path.as_os_str(), "READY=1").unwrap();
        let mut buffer = [0u8; 64];
        let n = listener.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"READY=1");
    }

    #[test]
    fn a_notification_reaches_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt as _;
        let name = format!("truyenthong-notify-test-{}", std::process::id());
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&address).unwrap();
        notify(std::ffi::OsStr::new(&format!("@{name}")), "STOPPING=1").unwrap();
        let mut buffer = [0u8; 64];
        let n = listener.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"STOPPING=1");
    }
}
