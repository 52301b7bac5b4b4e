//! `cargo xtask test`: the project's single test command.
//!
//! Ensures the external programs exist, then runs `cargo test --workspace` with the caller's
//! extra arguments, inheriting stdio and passing cargo's exit code through. `--workspace` is
//! left out when the caller selects packages (`-p`), because cargo would otherwise silently
//! ignore the selection and test everything.

use std::process::{Command, ExitCode};

use anyhow::Context as _;

use crate::install;

/// Runs the whole test suite; returns cargo's exit code.
pub fn run(cargo_args: &[String]) -> anyhow::Result<ExitCode> {
    install::ensure_installed(install::Purpose::Tests)
        .context("preparing the external programs the tests need")?;

    // `CARGO` is set when we run under `cargo run` (the `cargo xtask` alias).
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut args = vec!["test".to_string()];
    if !selects_packages(cargo_args) {
        args.push("--workspace".to_string());
    }
    args.extend(cargo_args.iter().cloned());
    eprintln!("xtask: running: cargo {}", args.join(" "));
    let mut command = Command::new(&cargo);
    command.args(&args);
    let status = command
        .status()
        .with_context(|| format!("starting {}", cargo.to_string_lossy()))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        // Killed by a signal.
        None => ExitCode::FAILURE,
    })
}

/// Whether cargo's own arguments (those before `--`) choose packages or a manifest.
fn selects_packages(cargo_args: &[String]) -> bool {
    cargo_args.iter().take_while(|a| *a != "--").any(|a| {
        a == "-p"
            || a == "--package"
            || a == "--manifest-path"
            || a.starts_with("--package=")
            || a.starts_with("--manifest-path=")
            || (a.starts_with("-p") && !a.starts_with("--"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn package_selection_is_detected_before_the_separator_only() {
        assert!(selects_packages(&args("-p domain")));
        assert!(selects_packages(&args("-pdomain --lib")));
        assert!(selects_packages(&args("--package=domain")));
        assert!(!selects_packages(&args("")));
        assert!(!selects_packages(&args("--release -- -p")));
        assert!(!selects_packages(&args("--test it -- --nocapture")));
    }
}
