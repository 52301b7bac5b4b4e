//! Telling the running nats-server to re-read its configuration (SIGHUP), so that an issued,
//! rotated or revoked identity takes effect without a restart: on reload the server closes
//! the connections of users that are no longer in its configuration.
//!
//! The signal is asynchronous, so [`reload`] then watches the server's monitoring endpoint
//! (`/varz`, on the loopback) until its `config_load_time` moves: when it returns, the new
//! identities are in force, and the operator is told so only then.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a reload may take before the operator is told it did not happen.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// What became of a reload request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reloaded {
    /// The server with this process id reloaded its configuration.
    Reloaded(i32),
    /// No server is running (no pid file, or its process is gone): the configuration takes
    /// effect when it starts.
    NotRunning,
}

/// Why the server could not be made to reload.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("tệp pid {path} không chứa số tiến trình: {content:?}")]
    BadPidFile { path: String, content: String },
    #[error("không gửi được tín hiệu nạp lại tới nats-server (pid {pid}): {reason}")]
    Signal { pid: i32, reason: String },
    #[error(
        "nats-server (pid {pid}) chưa nạp lại cấu hình sau {seconds} giây; xem nhật ký của nats-server (cấu hình mới có lỗi?)"
    )]
    NotReloaded { pid: i32, seconds: u64 },
    #[error("nạp lại bằng tín hiệu chỉ có trên Linux/Unix; hãy khởi động lại nats-server")]
    Unsupported,
}

/// Sends SIGHUP to the process named by `pid_file` and waits until the server on
/// `127.0.0.1:<monitor_port>` says it loaded its configuration again.
pub fn reload(pid_file: &Path, monitor_port: u16) -> Result<Reloaded, ReloadError> {
    let Ok(content) = std::fs::read_to_string(pid_file) else {
        return Ok(Reloaded::NotRunning);
    };
    let pid: i32 = content
        .trim()
        .parse()
        .map_err(|_| ReloadError::BadPidFile {
            path: pid_file.display().to_string(),
            content: content.clone(),
        })?;
    let before = config_load_time(monitor_port);
    if !signal_hup(pid)? {
        return Ok(Reloaded::NotRunning);
    }
    let deadline = Instant::now() + RELOAD_TIMEOUT;
    loop {
        let now = config_load_time(monitor_port);
        // Without monitoring there is nothing to watch: the signal is all that can be said.
        if now.is_none() || now != before {
            return Ok(Reloaded::Reloaded(pid));
        }
        if Instant::now() >= deadline {
            return Err(ReloadError::NotReloaded {
                pid,
                seconds: RELOAD_TIMEOUT.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `config_load_time` from the server's `/varz`, or `None` when monitoring does not answer.
fn config_load_time(monitor_port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", monitor_port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET /varz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut body = String::new();
    stream.read_to_string(&mut body).ok()?;
    let field = body.split("\"config_load_time\"").nth(1)?;
    let value = field.split('"').nth(1)?;
    Some(value.to_owned())
}

/// Sends SIGHUP; `false` when the process is gone (a pid file left behind).
#[cfg(unix)]
fn signal_hup(pid: i32) -> Result<bool, ReloadError> {
    use nix::errno::Errno;
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    match kill(Pid::from_raw(pid), Signal::SIGHUP) {
        Ok(()) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(e) => Err(ReloadError::Signal {
            pid,
            reason: e.to_string(),
        }),
    }
}

#[cfg(not(unix))]
fn signal_hup(_pid: i32) -> Result<bool, ReloadError> {
    Err(ReloadError::Unsupported)
}
