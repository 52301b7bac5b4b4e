//! The shutdown signal, and the background tasks a service stops when it comes.
//!
//! A service's `run` takes a shutdown future (so tests stop it with a oneshot); its binary
//! passes [`shutdown_signal`]. Background tasks (the relay, the ingest, the re-send server…)
//! take a broadcast receiver from [`BackgroundTasks`] and return between two units of work
//! when it fires; [`BackgroundTasks::stop_and_wait`] sends it and waits for every one.

use std::collections::HashMap;
use std::future::Future;

use tokio::sync::broadcast;
use tokio::task::{Id, JoinSet};
use tracing::{debug, error};

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT) everywhere, and SIGTERM on
/// Unix (what systemd and `kill` send). School office PCs are often Windows, where Ctrl-C and
/// the console's close are what a service gets, so the Unix part is behind `cfg(unix)`.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            // Without a handler the process can still be stopped by the other signal (or
            // killed); waiting for ever here keeps the service running rather than stopping it.
            error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        _ = ctrl_c => debug!("Ctrl-C received"),
        _ = terminate() => debug!("SIGTERM received"),
    }
}

#[cfg(unix)]
async fn terminate() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            term.recv().await;
        }
        Err(e) => {
            error!(error = %e, "cannot listen for SIGTERM");
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending::<()>().await;
}

/// A service's background tasks and the broadcast that stops them.
#[derive(Debug)]
pub struct BackgroundTasks {
    stop: broadcast::Sender<()>,
    tasks: JoinSet<()>,
    /// Each task's name, so that a panic says which task it was.
    names: HashMap<Id, &'static str>,
}

impl Default for BackgroundTasks {
    fn default() -> Self {
        Self::new()
    }
}

/// A background task panicked; the others were still waited for.
#[derive(Debug, thiserror::Error)]
#[error("the background task `{name}` panicked")]
pub struct TaskPanicked {
    pub name: &'static str,
}

impl BackgroundTasks {
    pub fn new() -> Self {
        let (stop, _) = broadcast::channel(1);
        Self {
            stop,
            tasks: JoinSet::new(),
            names: HashMap::new(),
        }
    }

    /// A receiver of the stop broadcast, for a task about to be spawned.
    pub fn stop_signal(&self) -> broadcast::Receiver<()> {
        self.stop.subscribe()
    }

    /// Runs `task` until it returns; it should return soon after its stop signal fires.
    pub fn spawn(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let handle = self.tasks.spawn(async move {
            task.await;
            debug!(task = name, "background task ended");
        });
        self.names.insert(handle.id(), name);
    }

    /// Tells every task to stop and waits until all have ended; the first panic, if any, is
    /// returned after the rest have ended too.
    pub async fn stop_and_wait(mut self) -> Result<(), TaskPanicked> {
        let _ = self.stop.send(());
        let mut panicked = None;
        while let Some(joined) = self.tasks.join_next().await {
            if let Err(e) = joined
                && e.is_panic()
            {
                let name = self.names.get(&e.id()).copied().unwrap_or("unnamed");
                error!(task = name, "a background task panicked");
                panicked.get_or_insert(TaskPanicked { name });
            }
        }
        panicked.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn stop_and_wait_ends_tasks_that_wait_for_the_signal() {
        let mut tasks = BackgroundTasks::new();
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
        for n in 0..3 {
            let mut stop = tasks.stop_signal();
            let done = done_tx.clone();
            tasks.spawn("waiter", async move {
                let _ = stop.recv().await;
                done.send(n).unwrap();
            });
        }
        drop(done_tx);
        tasks.stop_and_wait().await.unwrap();
        let mut ended = Vec::new();
        while let Some(n) = done_rx.recv().await {
            ended.push(n);
        }
        ended.sort();
        assert_eq!(ended, vec![0, 1, 2]);
    }

    #[tokio::test]
    async fn a_panic_is_reported_after_the_others_have_ended() {
        let mut tasks = BackgroundTasks::new();
        tasks.spawn("panics", async { panic!("on purpose") });
        let mut stop = tasks.stop_signal();
        let (ended_tx, ended_rx) = tokio::sync::oneshot::channel();
        tasks.spawn("waits", async move {
            let _ = stop.recv().await;
            ended_tx.send(()).unwrap();
        });
        let err = tasks.stop_and_wait().await.unwrap_err();
        assert_eq!(err.name, "panics");
        ended_rx.await.unwrap();
    }
}
