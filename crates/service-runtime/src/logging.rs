//! Tracing set-up for a service binary: one way, for every service.
//!
//! Logs go to standard error, as human-readable lines or JSON lines (`--json-logs`), filtered
//! by `RUST_LOG` or, when it is unset, by the binary's default. Standard output stays free for
//! what a command prints as its result (a report's path, a rebuild's summary).

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

impl LogFormat {
    /// `--json-logs` on the command line.
    pub fn json_if(json: bool) -> Self {
        if json { Self::Json } else { Self::Text }
    }
}

/// Installs the global subscriber. `default_filter` (e.g. `"info"`) applies when `RUST_LOG`
/// is unset or unparsable. Calling it twice keeps the first subscriber.
pub fn init(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // Colours only for a person at a terminal: a log file (systemd, the demo) gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
