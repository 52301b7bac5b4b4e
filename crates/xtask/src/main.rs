//! Project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! Kept in Rust so the only prerequisite on a fresh machine is cargo. `main` only parses the
//! command line; each command lives in its own module.

mod install;
mod test;

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
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
