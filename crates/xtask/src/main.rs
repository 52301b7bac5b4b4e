//! Project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! Kept in Rust so the only prerequisite on a fresh machine is cargo. `main` only parses the
//! command line; each command lives in its own module.

mod demo;
mod dist;
mod install;
mod test;
#[cfg(test)]
mod tidy;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    about = "Project automation for truyenthong"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the whole system on this machine with demo data (a simulated 2017–2020 history
    /// of the schools of Tam Nông) and print where to look. Ctrl-C stops it.
    Demo {
        /// Where the demo keeps its data and logs; recreated at each run.
        #[arg(long, default_value = "var/demo")]
        dir: PathBuf,
        /// The NATS server's port.
        #[arg(long, default_value_t = 14222)]
        nats_port: u16,
        /// The NATS server's monitoring port (on 127.0.0.1).
        #[arg(long, default_value_t = 18222)]
        nats_monitor_port: u16,
        /// The first school agent's gRPC port; the others follow.
        #[arg(long, default_value_t = 50051)]
        agent_port: u16,
        /// The district aggregator's gRPC port.
        #[arg(long, default_value_t = 50061)]
        aggregator_port: u16,
        /// The reporting service's gRPC port.
        #[arg(long, default_value_t = 50071)]
        reporting_port: u16,
        /// The district dashboard's HTTP port.
        #[arg(long, default_value_t = 8080)]
        dashboard_port: u16,
        /// Stop once the data is loaded and delivered instead of waiting for Ctrl-C.
        #[arg(long)]
        exit_when_loaded: bool,
    },
    /// Build the Debian packages of the district server and of a school PC into
    /// `target/dist/` (release binaries of this checkout; see crates/xtask/src/dist.rs).
    Dist {
        /// Where the packages go.
        #[arg(long, default_value = "target/dist")]
        out: PathBuf,
        /// The cargo profile of the binaries (`dev` checks the packaging quickly).
        #[arg(long, default_value = "release")]
        profile: String,
    },
    /// Install the external programs the tests use (nats-server, PostgreSQL) when missing,
    /// then run `cargo test --workspace` with any extra arguments.
    Test {
        /// Passed to `cargo test` verbatim (e.g. `-p reporting -- --nocapture`); `--workspace`
        /// is added unless packages are selected with `-p`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        cargo_args: Vec<String>,
    },
}

/// The process arguments after the first `subcommand` argument, unparsed.
fn args_after_subcommand(subcommand: &str) -> Vec<String> {
    std::env::args()
        .skip(1)
        .skip_while(|a| a != subcommand)
        .skip(1)
        .collect()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        // clap swallows a leading `--` (`cargo xtask test -- --nocapture`), which cargo needs
        // to tell its own options from the test binary's; so pass the raw arguments on.
        Command::Test { cargo_args: _ } => test::run(&args_after_subcommand("test")),
        Command::Dist { out, profile } => dist::run(&dist::Options { out, profile }),
        Command::Demo {
            dir,
            nats_port,
            nats_monitor_port,
            agent_port,
            aggregator_port,
            reporting_port,
            dashboard_port,
            exit_when_loaded,
        } => demo::run(demo::Options {
            dir,
            nats_port,
            nats_monitor_port,
            first_agent_port: agent_port,
            aggregator_port,
            reporting_port,
            dashboard_port,
            exit_when_loaded,
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
