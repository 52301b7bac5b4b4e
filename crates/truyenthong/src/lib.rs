//! `truyenthong`: the command line for school staff, a gRPC client of the school agent.
//!
//! Staff record the school's communication on education — the plan, activities, citizens'
//! feedback, press issues, reporter visits, commendation, emulation criteria, budget and
//! duties — and look at the log and its delivery to the district office, signed in with
//! their own account (`dang-nhap`); the school's head manages the accounts (`tai-khoan`). Everything printed
//! for people is Vietnamese; `--json` prints for programs.
//!
//! - [`args`]: the command tree (clap derive), [`clap_vi`]: clap in Vietnamese.
//! - [`commands`]: one module per group of commands; input is checked before anything is sent.
//! - [`plan_file`]: reading a plan file (TOML), [`values`] and [`vocab`]: what staff type.
//! - [`client`]: the connection and retry-safe sending, [`session`]: the signed-in sessions
//!   under the user's profile, [`error`]: failures and exit codes, [`output`]: printing.
//!
//! Exit codes: 0 done, 1 refused or failed, 2 usage error.

pub mod args;
pub mod clap_vi;
pub mod client;
pub mod commands;
pub mod error;
pub mod output;
pub mod plan_file;
pub mod session;
pub mod values;
pub mod vocab;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::FromArgMatches as _;

use crate::error::CliError;
use crate::output::Output;

/// Runs the command line `args` (the program name first) and returns the exit code.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = match clap_vi::command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => return clap_vi::report(&e),
    };
    let cli = match args::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return clap_vi::report(&e),
    };
    let out = Output {
        json: cli.global.json,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.error(&CliError::Reported(format!(
                "Không khởi động được chương trình (lỗi hệ thống: {e})."
            )));
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out.error(&e);
            e.exit_code()
        }
    }
}
