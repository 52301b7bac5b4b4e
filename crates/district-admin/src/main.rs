//! `district-admin`: the district office's administration commands. See the crate docs.

use std::process::ExitCode;

use clap::Parser as _;
use district_admin::cli::{Args, run};
use service_runtime::logging::{self, LogFormat};

fn main() -> ExitCode {
    let args = Args::parse();
    logging::init(LogFormat::Text, "warn");
    match run(args) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Lỗi: {e:#}");
            ExitCode::FAILURE
        }
    }
}
