//! Child-process plumbing shared by the server handles.
//!
//! Finding the server binaries (they are often outside `PATH`: Debian puts `nats-server` in
//! `/usr/sbin` and PostgreSQL's in `/usr/lib/postgresql/<version>/bin`), stopping a child with
//! a signal and a bounded wait, and reading the tail of a log file for error messages.
//!
//! Children are `std::process::Child` rather than tokio's so that `Drop` can kill and reap them
//! synchronously, without needing a runtime.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::Duration;

use anyhow::Context as _;
use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

/// Directories searched after `PATH`, in order. A trailing `*` directory component is expanded
/// to every matching entry, highest version first.
const EXTRA_DIRS: &[&str] = &["/usr/sbin", "/sbin", "/usr/lib/postgresql/*/bin"];

/// Finds an executable named `name` on `PATH` or in the usual Debian locations.
pub(crate) fn find_program(name: &str) -> anyhow::Result<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let extra_dirs = EXTRA_DIRS.iter().flat_map(|d| expand_dir(d));
    path_dirs
        .into_iter()
        .chain(extra_dirs)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
        .with_context(|| {
            format!(
                "program `{name}` not found on PATH nor in {EXTRA_DIRS:?}; \
                 run `cargo xtask test`, which installs it"
            )
        })
}

/// Expands `/a/*/b` into the existing `/a/<x>/b` directories, highest version number first.
fn expand_dir(pattern: &str) -> Vec<PathBuf> {
    let Some((prefix, suffix)) = pattern.split_once("/*/") else {
        return vec![PathBuf::from(pattern)];
    };
    let Ok(entries) = std::fs::read_dir(prefix) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort_by_key(|n| std::cmp::Reverse(version_key(n)));
    names
        .into_iter()
        .map(|n| Path::new(prefix).join(n).join(suffix))
        .collect()
}

/// Sort key comparing dotted version numbers numerically ("15" > "9.6").
fn version_key(name: &str) -> Vec<u64> {
    name.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The last `max_lines` lines of a log file, for error messages.
pub(crate) fn log_tail(path: &Path, max_lines: usize) -> String {
    const MAX_BYTES: u64 = 16 * 1024;
    let read = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(MAX_BYTES)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(max_lines)..].join("\n")
        }
        Err(e) => format!("(could not read {}: {e})", path.display()),
    }
}

/// A running child process owned by a server handle.
#[derive(Debug)]
pub(crate) struct ChildProcess {
    child: Child,
}

impl ChildProcess {
    pub(crate) fn new(child: Child) -> Self {
        Self { child }
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).expect("pids fit in i32"))
    }

    /// The operating system's id of the process.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` once the process has exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        // An error here means the child was already reaped; treat that as exited.
        match self.child.try_wait() {
            Ok(status) => status,
            Err(_) => Some(ExitStatus::default()),
        }
    }

    /// Sends `sig` and waits up to `grace` for the process to exit; then SIGKILLs it.
    pub(crate) async fn terminate(&mut self, sig: Signal, grace: Duration) -> anyhow::Result<()> {
        if self.exited().is_some() {
            return Ok(());
        }
        signal::kill(self.pid(), sig)
            .with_context(|| format!("sending {sig} to {}", self.pid()))?;
        let deadline = tokio::time::Instant::now() + grace;
        while tokio::time::Instant::now() < deadline {
            if self.exited().is_some() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill();
        Ok(())
    }

    /// SIGKILLs the process and reaps it. Blocks only as long as the kernel takes to tear the
    /// process down.
    pub(crate) fn kill(&mut self) {
        if self.exited().is_none() {
            // Errors mean it exited in between; either way, reap it below.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Sends `sig` and waits (blocking, for use in `Drop`) up to `grace`; then SIGKILLs.
    pub(crate) fn terminate_blocking(&mut self, sig: Signal, grace: Duration) {
        if self.exited().is_some() {
            return;
        }
        let _ = signal::kill(self.pid(), sig);
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.kill();
    }
}

/// Opens (creating or appending to) a log file for a child's stdout and stderr.
pub(crate) fn open_log(path: &Path) -> anyhow::Result<(File, File)> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening log file {}", path.display()))?;
    let second = file
        .try_clone()
        .context("duplicating the log file handle")?;
    Ok((file, second))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically() {
        let mut v = vec!["9.6", "15", "13", "16"];
        v.sort_by_key(|n| std::cmp::Reverse(version_key(n)));
        assert_eq!(v, ["16", "15", "13", "9.6"]);
    }

    #[test]
    fn finds_sh() {
        assert!(find_program("sh").is_ok());
        assert!(find_program("definitely-not-a-program-xyz").is_err());
    }
}
