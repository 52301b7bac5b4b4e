//! Making sure the external programs the tests and the demo run are installed.
//!
//! Integration tests use real servers (see the `test-harness` crate), so `cargo xtask test`
//! installs them with apt when missing: a fresh Debian machine needs only cargo. The list of
//! what is needed lives in [`REQUIREMENTS`]; add an entry there when tests need another program.
//! `cargo xtask demo` installs only what the running system needs (not the tests' browser).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

/// A Debian package and the programs whose presence shows it is installed.
#[derive(Debug)]
pub struct Requirement {
    /// The package `apt-get install` installs.
    pub package: &'static str,
    /// Programs that must all be found (on `PATH` or in [`EXTRA_DIRS`]).
    pub programs: &'static [&'static str],
    /// Whether the demo needs it too, or only the tests.
    pub for_demo: bool,
}

/// What the programs are needed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Tests,
    Demo,
}

/// Everything the tests and the demo need from the system.
pub const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        package: "nats-server",
        programs: &["nats-server"],
        for_demo: true,
    },
    Requirement {
        package: "postgresql",
        programs: &["initdb", "postgres"],
        for_demo: true,
    },
    // The dashboard's tests drive a real headless browser; reporting's paper tests print the
    // report's printable page to PDF with it.
    Requirement {
        package: "chromium",
        programs: &["chromium"],
        for_demo: false,
    },
    // Reporting's paper tests convert the Word report to PDF with LibreOffice …
    Requirement {
        package: "libreoffice-writer-nogui",
        programs: &["soffice"],
        for_demo: false,
    },
    // … and read the pages back with poppler.
    Requirement {
        package: "poppler-utils",
        programs: &["pdfinfo", "pdftotext"],
        for_demo: false,
    },
    // Both need Times New Roman's metric twin, or they set the report in another font's
    // widths. LibreOffice only recommends it, and a font has no program to look for: it is
    // installed with LibreOffice (the same program marks both as missing), and the paper
    // tests check `fc-match "Times New Roman"` and name this package when it is not there.
    Requirement {
        package: "fonts-liberation2",
        programs: &["soffice"],
        for_demo: false,
    },
];

/// Searched after `PATH`: Debian installs `nats-server` in `/usr/sbin` and PostgreSQL's
/// server programs in `/usr/lib/postgresql/<version>/bin`, neither on a normal user's `PATH`.
/// Must match where `test-harness` looks.
const EXTRA_DIRS: &[&str] = &["/usr/sbin", "/sbin", "/usr/lib/postgresql/*/bin"];

/// Installs the packages of any [`REQUIREMENTS`] needed for `purpose` whose programs are
/// missing.
pub fn ensure_installed(purpose: Purpose) -> anyhow::Result<()> {
    let missing = missing_packages(purpose);
    if missing.is_empty() {
        return Ok(());
    }
    let packages = missing.join(" ");
    let prefix = privilege_prefix().with_context(|| {
        format!(
            "these Debian packages are needed and missing: {packages}\n\
             install them (`apt-get install {packages}`) or run this as root"
        )
    })?;
    eprintln!("xtask: installing missing packages: {packages}");
    run_apt(&prefix, &["update"])?;
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend(missing.iter().copied());
    run_apt(&prefix, &install)?;

    let still_missing = missing_packages(purpose);
    anyhow::ensure!(
        still_missing.is_empty(),
        "installed {packages}, but programs are still missing for: {}",
        still_missing.join(" ")
    );
    Ok(())
}

/// Packages with at least one program not found.
fn missing_packages(purpose: Purpose) -> Vec<&'static str> {
    REQUIREMENTS
        .iter()
        .filter(|r| purpose == Purpose::Tests || r.for_demo)
        .filter(|r| r.programs.iter().any(|p| find_program(p).is_none()))
        .map(|r| r.package)
        .collect()
}

/// Empty when we are root, `sudo -n` when passwordless sudo works; an error otherwise.
fn privilege_prefix() -> anyhow::Result<Vec<&'static str>> {
    if nix::unistd::geteuid().is_root() {
        return Ok(Vec::new());
    }
    let sudo_works = Command::new("sudo")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|s| s.success());
    anyhow::ensure!(sudo_works, "not root and `sudo -n` is not available");
    Ok(vec!["sudo", "-n"])
}

/// Runs `apt-get <args>` non-interactively, echoing the command.
fn run_apt(prefix: &[&str], args: &[&str]) -> anyhow::Result<()> {
    // `env` carries DEBIAN_FRONTEND through sudo, which resets the environment.
    let mut argv: Vec<&str> = prefix.to_vec();
    argv.extend(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
    argv.extend(args);
    eprintln!("xtask: running: {}", argv.join(" "));
    let (program, rest) = argv.split_first().expect("argv starts with a program");
    let status = Command::new(program)
        .args(rest)
        .status()
        .with_context(|| format!("starting `{}`", argv.join(" ")))?;
    anyhow::ensure!(status.success(), "`{}` failed: {status}", argv.join(" "));
    Ok(())
}

/// Finds an executable on `PATH` or in [`EXTRA_DIRS`].
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    path_dirs
        .into_iter()
        .chain(EXTRA_DIRS.iter().flat_map(|d| expand_dir(d)))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// Expands one `*` directory component (`/usr/lib/postgresql/*/bin`).
fn expand_dir(pattern: &str) -> Vec<PathBuf> {
    let Some((prefix, suffix)) = pattern.split_once("/*/") else {
        return vec![PathBuf::from(pattern)];
    };
    std::fs::read_dir(prefix)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join(suffix))
                .collect()
        })
        .unwrap_or_default()
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
