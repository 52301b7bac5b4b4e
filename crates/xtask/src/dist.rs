//! `cargo xtask dist`: the two Debian packages a district installs, in `target/dist/`.
//!
//! - `truyenthong-district`: the district server — `district-aggregator`, `reporting` (reports
//!   and the dashboard) and `district-admin` (NATS identities and set-up), their units, the
//!   lame-duck drop-in for Debian's `nats-server`, example configuration.
//! - `truyenthong-school`: a school's office PC — `school-agent` (with the school app) and
//!   `truyenthong` (the staff command line), the agent's unit, example configuration.
//!
//! Both install configuration under `/etc/truyenthong/` as dpkg conffiles (an upgrade never
//! overwrites a file the operator changed: dpkg asks, or keeps it unattended), readable by
//! root and the `truyenthong` system user only (0640, made by `postinst`), and data under
//! `/var/lib/truyenthong/`. They are built with `dpkg-deb` from a staging tree, so nothing
//! but Debian's own tools is needed; the binaries are the release build of this checkout.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail, ensure};

/// What `cargo xtask dist` builds.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the packages go (`target/dist` by default).
    pub out: PathBuf,
    /// The cargo profile the binaries come from (`release`; `dev` for a quick check of the
    /// packaging itself).
    pub profile: String,
}

/// One package: its name, what it is, what it depends on, and its files.
struct Package {
    name: &'static str,
    description: &'static str,
    depends: &'static str,
    binaries: &'static [&'static str],
    /// (source in the repository, installed path)
    files: &'static [(&'static str, &'static str)],
    /// Installed paths under /etc that are the operator's to change.
    conffiles: &'static [&'static str],
    /// Units `postinst` enables (never starts: set-up comes first).
    units: &'static [&'static str],
}

const DISTRICT: Package = Package {
    name: "truyenthong-district",
    description: "truyenthong: máy chủ của Phòng GD-ĐT (tổng hợp, báo cáo, bảng điều khiển)\n \
        The district aggregator, reporting and dashboard, and district-admin for the\n \
        district's NATS identities, with their systemd units.",
    depends: "adduser, nats-server (>= 2.9), postgresql (>= 15), postgresql-client",
    binaries: &["district-aggregator", "reporting", "district-admin"],
    files: &[
        (
            "crates/district-aggregator/aggregator.example.toml",
            "etc/truyenthong/aggregator.toml",
        ),
        (
            "crates/reporting/reporting.example.toml",
            "etc/truyenthong/reporting.toml",
        ),
        (
            "deploy/systemd/truyenthong-aggregator.service",
            "lib/systemd/system/truyenthong-aggregator.service",
        ),
        (
            "deploy/systemd/truyenthong-reporting.service",
            "lib/systemd/system/truyenthong-reporting.service",
        ),
        (
            "deploy/systemd/nats-server.service.d/truyenthong.conf",
            "lib/systemd/system/nats-server.service.d/truyenthong.conf",
        ),
        (
            "deploy/plans/kh-1442-pgddt-tam-nong-2017.toml",
            "usr/share/truyenthong/plans/kh-1442-pgddt-tam-nong-2017.toml",
        ),
        ("README.md", "usr/share/doc/truyenthong-district/README.md"),
        ("docs/nats.md", "usr/share/doc/truyenthong-district/nats.md"),
        (
            "docs/database.md",
            "usr/share/doc/truyenthong-district/database.md",
        ),
    ],
    conffiles: &[
        "/etc/truyenthong/aggregator.toml",
        "/etc/truyenthong/reporting.toml",
    ],
    units: &[
        "truyenthong-aggregator.service",
        "truyenthong-reporting.service",
    ],
};

const SCHOOL: Package = Package {
    name: "truyenthong-school",
    description: "truyenthong: sổ truyền thông của trường (máy văn phòng)\n \
        The school agent with the school app, and the staff command line, with the\n \
        agent's systemd unit.",
    depends: "adduser",
    binaries: &["school-agent", "truyenthong"],
    files: &[
        ("deploy/agent.example.toml", "etc/truyenthong/agent.toml"),
        (
            "deploy/systemd/truyenthong-agent.service",
            "lib/systemd/system/truyenthong-agent.service",
        ),
        (
            "deploy/plans/kh-114-thcs-an-hoa-2017.toml",
            "usr/share/truyenthong/plans/kh-114-thcs-an-hoa-2017.toml",
        ),
        ("README.md", "usr/share/doc/truyenthong-school/README.md"),
        (
            "docs/school-app.md",
            "usr/share/doc/truyenthong-school/school-app.md",
        ),
    ],
    conffiles: &["/etc/truyenthong/agent.toml"],
    units: &["truyenthong-agent.service"],
};

/// Builds the binaries and both packages; prints where they are.
pub fn run(options: &Options) -> anyhow::Result<std::process::ExitCode> {
    let root = workspace_root()?;
    for tool in ["dpkg-deb", "dpkg"] {
        ensure!(
            crate::install::find_program(tool).is_some(),
            "`{tool}` is needed to build Debian packages (a Debian machine has it)"
        );
    }
    let binaries: Vec<&str> = DISTRICT
        .binaries
        .iter()
        .chain(SCHOOL.binaries)
        .copied()
        .collect();
    build_binaries(&root, &options.profile, &binaries)?;
    let arch = command_output(Command::new("dpkg").arg("--print-architecture"))?;
    let version = package_version(&root)?;
    let out = if options.out.is_absolute() {
        options.out.clone()
    } else {
        root.join(&options.out)
    };
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let bin_dir = root.join("target").join(profile_dir(&options.profile));
    for package in [&DISTRICT, &SCHOOL] {
        let deb = build_package(&root, &bin_dir, &out, package, &version, &arch)?;
        println!("{}", deb.display());
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn profile_dir(profile: &str) -> &str {
    if profile == "dev" { "debug" } else { profile }
}

fn workspace_root() -> anyhow::Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .context("finding the workspace root from the xtask crate")
}

fn build_binaries(root: &Path, profile: &str, binaries: &[&str]) -> anyhow::Result<()> {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .current_dir(root)
        .args(["build", "--locked", "--profile", profile]);
    for binary in binaries {
        cargo.args(["--bin", binary]);
    }
    eprintln!(
        "==> cargo build --profile {profile} ({})",
        binaries.join(", ")
    );
    let status = cargo.status().context("running cargo build")?;
    ensure!(status.success(), "cargo build failed");
    Ok(())
}

/// `<workspace version>+git<commit date>.<short hash>`, so that a later commit sorts later.
fn package_version(root: &Path) -> anyhow::Result<String> {
    let base = env!("CARGO_PKG_VERSION");
    let git = |args: &[&str]| command_output(Command::new("git").current_dir(root).args(args));
    match (
        git(&["log", "-1", "--format=%cd", "--date=format:%Y%m%d%H%M%S"]),
        git(&["rev-parse", "--short=10", "HEAD"]),
    ) {
        (Ok(date), Ok(hash)) => Ok(format!("{base}+git{date}.{hash}")),
        // A source tree without git (an unpacked tarball): the version alone.
        _ => Ok(base.to_string()),
    }
}

fn build_package(
    root: &Path,
    bin_dir: &Path,
    out: &Path,
    package: &Package,
    version: &str,
    arch: &str,
) -> anyhow::Result<PathBuf> {
    let staging = root.join("target").join("dist-staging").join(package.name);
    if staging.exists() {
        fs::remove_dir_all(&staging).with_context(|| format!("clearing {}", staging.display()))?;
    }
    for binary in package.binaries {
        let from = bin_dir.join(binary);
        ensure!(from.is_file(), "{} was not built", from.display());
        install(&from, &staging.join("usr/bin").join(binary), 0o755)?;
    }
    for (from, to) in package.files {
        let mode = if to.starts_with("etc/") { 0o640 } else { 0o644 };
        install(&root.join(from), &staging.join(to), mode)?;
    }
    let debian = staging.join("DEBIAN");
    fs::create_dir_all(&debian)?;
    write(
        &debian.join("control"),
        &control(package, version, arch, installed_size_kib(&staging)?),
        0o644,
    )?;
    write(
        &debian.join("conffiles"),
        &package
            .conffiles
            .iter()
            .map(|c| format!("{c}\n"))
            .collect::<String>(),
        0o644,
    )?;
    write(&debian.join("postinst"), &postinst(package), 0o755)?;
    write(&debian.join("postrm"), &postrm(package), 0o755)?;

    let deb = out.join(format!("{}_{version}_{arch}.deb", package.name));
    eprintln!("==> dpkg-deb --build {}", deb.display());
    let status = Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zxz", "--build"])
        .arg(&staging)
        .arg(&deb)
        .status()
        .context("running dpkg-deb")?;
    ensure!(status.success(), "dpkg-deb failed for {}", package.name);
    Ok(deb)
}

fn control(package: &Package, version: &str, arch: &str, size_kib: u64) -> String {
    format!(
        "Package: {name}\nVersion: {version}\nArchitecture: {arch}\nMaintainer: truyenthong <truyenthong@localhost>\n\
         Installed-Size: {size_kib}\nDepends: {depends}\nSection: misc\nPriority: optional\n\
         Description: {description}\n",
        name = package.name,
        depends = package.depends,
        description = package.description,
    )
}

/// Makes the system user, the data folder and the configuration's rights; enables the units
/// where systemd runs. Idempotent: runs on every install and upgrade.
fn postinst(package: &Package) -> String {
    let units = package.units.join(" ");
    let nats_group = if package.name == DISTRICT.name {
        // The district's NATS directory is written by district-admin (run as root or the
        // truyenthong user) and read by Debian's nats user through the group.
        "    if getent passwd nats >/dev/null; then adduser --quiet nats truyenthong || true; fi\n\
         \x20   install -d -m 0750 -o root -g truyenthong /etc/truyenthong/nats\n"
    } else {
        ""
    };
    format!(
        "#!/bin/sh\n\
         # postinst of {name}: generated by `cargo xtask dist` (crates/xtask/src/dist.rs).\n\
         set -e\n\
         if [ \"$1\" = configure ]; then\n\
         \x20   if ! getent passwd truyenthong >/dev/null; then\n\
         \x20       adduser --quiet --system --group --home /var/lib/truyenthong --no-create-home truyenthong\n\
         \x20   fi\n\
         \x20   install -d -m 0750 -o truyenthong -g truyenthong /var/lib/truyenthong\n\
         \x20   install -d -m 0750 -o root -g truyenthong /etc/truyenthong\n\
         {nats_group}\
         \x20   for f in {conffiles}; do\n\
         \x20       [ -f \"$f\" ] && chown root:truyenthong \"$f\" && chmod 0640 \"$f\"\n\
         \x20   done\n\
         \x20   if [ -d /run/systemd/system ]; then\n\
         \x20       systemctl daemon-reload\n\
         \x20       systemctl enable {units} >/dev/null\n\
         \x20   fi\n\
         fi\n\
         exit 0\n",
        name = package.name,
        conffiles = package.conffiles.join(" "),
    )
}

/// On purge only: the units are disabled; data and the system user are left (a district's
/// records are never removed by a package manager).
fn postrm(package: &Package) -> String {
    format!(
        "#!/bin/sh\n\
         # postrm of {name}: generated by `cargo xtask dist`. Data under /var/lib/truyenthong\n\
         # is never removed here: it is the school's or the district's record.\n\
         set -e\n\
         if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n\
         exit 0\n",
        name = package.name,
    )
}

fn install(from: &Path, to: &Path, mode: u32) -> anyhow::Result<()> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    fs::set_permissions(to, fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn write(path: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn installed_size_kib(dir: &Path) -> anyhow::Result<u64> {
    fn walk(dir: &Path, total: &mut u64) -> std::io::Result<()> {
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                walk(&entry.path(), total)?;
            } else {
                *total += meta.len();
            }
        }
        Ok(())
    }
    let mut total = 0;
    walk(dir, &mut total)?;
    Ok(total.div_ceil(1024))
}

fn command_output(command: &mut Command) -> anyhow::Result<String> {
    let output = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The units the packages ship pass `systemd-analyze verify` (where the tool exists):
    /// each is verified as installed, except that `/usr/bin/<binary>` points at a stand-in
    /// executable in a temporary folder (verify checks that ExecStart exists).
    #[test]
    fn the_shipped_units_pass_systemd_analyze_verify() {
        let Some(analyze) = crate::install::find_program("systemd-analyze") else {
            eprintln!("systemd-analyze is not installed: the units were not verified");
            return;
        };
        let root = workspace_root().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        fs::create_dir_all(&bin).unwrap();
        let units: Vec<&str> = [&DISTRICT, &SCHOOL]
            .iter()
            .flat_map(|p| p.units.iter().copied())
            .collect();
        assert_eq!(units.len(), 3);
        for binary in DISTRICT.binaries.iter().chain(SCHOOL.binaries) {
            install(Path::new("/bin/true"), &bin.join(binary), 0o755).unwrap();
        }
        for unit in units {
            let text = fs::read_to_string(root.join("deploy/systemd").join(unit)).unwrap();
            assert!(text.contains("ExecStart=/usr/bin/"), "{unit}");
            let path = dir.path().join(unit);
            let stand_in = format!("{}/", bin.display());
            fs::write(&path, text.replace("/usr/bin/", &stand_in)).unwrap();
            let output = Command::new(&analyze)
                .arg("verify")
                .arg(&path)
                .output()
                .unwrap();
            let complaints = String::from_utf8_lossy(&output.stderr);
            assert!(
                output.status.success() && complaints.trim().is_empty(),
                "{unit}: {complaints}"
            );
        }
    }

    /// The lame-duck drop-in waits longer than the server drains (30 s + 10 s by default).
    #[test]
    fn the_nats_drop_in_stops_by_lame_duck_and_outlasts_the_drain() {
        let root = workspace_root().unwrap();
        let text =
            fs::read_to_string(root.join("deploy/systemd/nats-server.service.d/truyenthong.conf"))
                .unwrap();
        assert!(text.contains("ExecStop=/usr/sbin/nats-server --signal ldm=$MAINPID"));
        let timeout: u32 = text
            .lines()
            .find_map(|l| l.strip_prefix("TimeoutStopSec="))
            .unwrap()
            .parse()
            .unwrap();
        assert!(timeout > 30 + 10, "{timeout}");
    }
}
