//! Stopping servers that are never dropped, when the test process exits.
//!
//! A server shared by every test of a test binary lives in a `static`, and statics are never
//! dropped: without help its process would outlive the binary and its temporary directory
//! would stay behind. `PR_SET_PDEATHSIG` is no answer here: it needs `unsafe` (`pre_exec`),
//! which the workspace forbids, and it fires when the *thread* that spawned the child ends,
//! not the process.
//!
//! So one small guardian shell process per test process holds the read end of a pipe whose
//! write end only this process has (Rust opens it close-on-exec, so no other child inherits
//! it). The harness writes to it what to stop and remove. However this process ends — normal
//! exit, panic, SIGKILL — the kernel closes the write end, the guardian reads end-of-file and
//! then signals each registered process, waits up to five seconds for them to go, SIGKILLs
//! what is left and removes the registered directories. It ignores SIGINT, SIGTERM and SIGHUP,
//! so a Ctrl-C sent to the whole process group still leaves it to clean up.

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};

use anyhow::Context as _;
use nix::sys::signal::Signal;

/// The guardian: reads `kill SIGNAL PID` and `remove - DIR` lines until end-of-file, then acts.
const GUARDIAN: &str = r#"
trap '' INT TERM HUP
kills=""
dirs=""
while read -r what arg rest; do
  case "$what" in
    kill) kills="$kills $arg:$rest" ;;
    remove) dirs="$dirs $rest" ;;
  esac
done
for entry in $kills; do kill -s "${entry%%:*}" "${entry#*:}" 2>/dev/null; done
tries=0
while [ "$tries" -lt 50 ]; do
  alive=""
  for entry in $kills; do kill -0 "${entry#*:}" 2>/dev/null && alive=yes; done
  [ -z "$alive" ] && break
  sleep 0.1
  tries=$((tries + 1))
done
for entry in $kills; do kill -s KILL "${entry#*:}" 2>/dev/null; done
for dir in $dirs; do rm -rf "$dir"; done
"#;

struct Guardian {
    /// Never closed while the process lives: its closing is the guardian's signal.
    stdin: Mutex<ChildStdin>,
    /// Kept so the handle is not reaped early; never waited for.
    _child: Child,
}

static GUARDIAN_PROCESS: OnceLock<Result<Guardian, String>> = OnceLock::new();

fn guardian() -> anyhow::Result<&'static Guardian> {
    GUARDIAN_PROCESS
        .get_or_init(|| spawn_guardian().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow::anyhow!("the exit guardian could not start: {e}"))
}

fn spawn_guardian() -> anyhow::Result<Guardian> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(GUARDIAN)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("spawning the exit guardian (/bin/sh)")?;
    let stdin = child.stdin.take().context("the guardian's stdin")?;
    Ok(Guardian {
        stdin: Mutex::new(stdin),
        _child: child,
    })
}

fn tell(line: &str) -> anyhow::Result<()> {
    let guardian = guardian()?;
    let mut stdin = guardian
        .stdin
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    stdin
        .write_all(line.as_bytes())
        .and_then(|()| stdin.flush())
        .context("writing to the exit guardian")
}

/// Sends `signal` to `pid` when this process exits (SIGKILL five seconds later if it is still
/// there).
pub(crate) fn kill_at_exit(pid: u32, signal: Signal) -> anyhow::Result<()> {
    let name = signal.as_str().trim_start_matches("SIG");
    tell(&format!("kill {name} {pid}\n"))
}

/// Removes `dir` and everything in it when this process exits, after the processes are gone.
pub(crate) fn remove_at_exit(dir: &Path) -> anyhow::Result<()> {
    let text = dir
        .to_str()
        .filter(|t| !t.contains(char::is_whitespace))
        .with_context(|| format!("{} cannot be passed to the guardian", dir.display()))?;
    tell(&format!("remove - {text}\n"))
}
