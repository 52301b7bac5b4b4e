//! The `district-aggregator` binary, built from the current sources before any test uses it.
//!
//! `env!("CARGO_BIN_EXE_…")` only names binaries of the package under test, and a dev-dependency
//! on `district-aggregator` builds its library, never its binary. So the first test that needs
//! the binary runs `cargo build -p district-aggregator --bin district-aggregator` once per test
//! process (a `OnceLock`), into the target directory this test executable lives in, with the
//! same profile. Cargo decides whether anything is stale — a timestamp comparison of our own
//! would miss a changed dependency — and is a no-op costing about a second when nothing is.
//! `cargo test` releases the build directory lock before it runs tests, so the nested build
//! does not dead-lock; it waits if another cargo holds the lock.
//!
//! `SYSTEM_TESTS_AGGREGATOR_BIN=/path/to/district-aggregator` skips the build (for a binary
//! built elsewhere, e.g. with another target triple).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

const PACKAGE: &str = "district-aggregator";
const BIN: &str = "district-aggregator";
pub const OVERRIDE_VAR: &str = "SYSTEM_TESTS_AGGREGATOR_BIN";

static AGGREGATOR: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The path of an up-to-date `district-aggregator` binary; panics with cargo's output when it
/// cannot be built.
pub fn aggregator() -> PathBuf {
    match AGGREGATOR.get_or_init(build_aggregator) {
        Ok(path) => path.clone(),
        Err(e) => panic!("{e}"),
    }
}

fn build_aggregator() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(OVERRIDE_VAR).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{OVERRIDE_VAR}={} is not a file", path.display()))
        };
    }
    // target/<profile>/deps/it-<hash>
    let exe = std::env::current_exe().map_err(|e| format!("locating the test executable: {e}"))?;
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .ok_or_else(|| format!("{} is not in target/<profile>/deps", exe.display()))?;
    let target_dir = profile_dir
        .parent()
        .ok_or_else(|| format!("{} has no parent", profile_dir.display()))?;
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{} has no profile name", profile_dir.display()))?;

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .args(["build", "-p", PACKAGE, "--bin", BIN, "--target-dir"])
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    match profile {
        "debug" => {}
        "release" => {
            command.arg("--release");
        }
        other => {
            command.args(["--profile", other]);
        }
    }
    let started = Instant::now();
    let output = command
        .output()
        .map_err(|e| format!("running {}: {e}", cargo.to_string_lossy()))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo build -p {PACKAGE} --bin {BIN}` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let path = profile_dir.join(BIN);
    if !path.is_file() {
        return Err(format!(
            "cargo built {BIN} but {} is missing",
            path.display()
        ));
    }
    eprintln!(
        "system-tests: {} is up to date ({:.1} s)",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(path)
}
