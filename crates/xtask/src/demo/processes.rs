//! The demo's child processes: spawned with their output in a log file, stopped gracefully
//! (SIGTERM, then SIGKILL after a grace period) when the demo ends or fails.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

#[derive(Debug, Default)]
pub struct Processes {
    children: Vec<(String, Child)>,
}

impl Processes {
    pub fn spawn(
        &mut self,
        name: &str,
        program: &Path,
        args: &[&OsStr],
        log: &Path,
    ) -> anyhow::Result<()> {
        let log_file =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new(program)
            .args(args)
            .stdout(Stdio::from(log_file.try_clone()?))
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {name} ({})", program.display()))?;
        self.children.push((name.to_string(), child));
        Ok(())
    }

    /// Stops children in reverse start order, so agents stop before the NATS they publish to.
    pub async fn stop_all(&mut self) {
        while let Some((name, mut child)) = self.children.pop() {
            if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            }
            match tokio::time::timeout(Duration::from_secs(10), child.wait()).await {
                Ok(_) => {}
                Err(_) => {
                    eprintln!("demo: {name} did not stop in 10 s; killing it");
                    let _ = child.kill().await;
                }
            }
        }
    }
}
