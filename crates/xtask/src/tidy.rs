//! Tidy: the architecture invariants of `ARCHITECTURE.md`, checked on the workspace's manifests
//! and sources by `cargo test` (in the manner of rust-analyzer's `xtask/src/tidy.rs`).
//!
//! An invariant that only a document states drifts: `truyenthong` had come to depend on
//! `prost-types` while ARCHITECTURE.md said only `wire` knows protobuf. Each rule here is a
//! function over parsed manifests or source text that returns its violations, so that the
//! rules themselves are tested on deliberately bad input (`mod tests`) and then run over the
//! real tree (`the_workspace_keeps_its_invariants`). A failure names the file and the rule.
//!
//! The rules:
//! 1. `domain` depends on no tokio, sqlx, async-nats, tonic, prost (or anything that does I/O),
//!    and its non-test code reads no clock and draws no random number.
//! 2. Only `wire` depends on prost (or its code generators).
//! 3. `event-bus` does not depend on `domain`.
//! 4. `reporting` and `dashboard` read the aggregator's gRPC API, never its tables: they do not
//!    depend on `sqlx` or `district-aggregator`.
//! 5. Every crate inherits `[workspace.lints]`.
//! 6. Every Rust module opens with a `//!` comment that says what it is for.
//! 7. Code and docs refer to documents inside the repository only.
//! 8. `bundle` (the signed bundle format) is pure like `domain` and knows neither the domain
//!    nor NATS: no I/O crate, no `domain`, no `event-bus`.

use std::path::{Path, PathBuf};

/// How a manifest uses a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepKind {
    Normal,
    Dev,
    Build,
}

/// One dependency of one crate, as its `Cargo.toml` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The package depended on (after `package = "…"` renames).
    pub package: String,
    pub kind: DepKind,
}

/// A workspace member's manifest, reduced to what the rules read.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: PathBuf,
    pub package: String,
    pub dependencies: Vec<Dependency>,
    /// `[lints] workspace = true`.
    pub inherits_lints: bool,
}

impl Manifest {
    /// Parses a member's `Cargo.toml`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, String> {
        let value: toml::Table = text
            .parse()
            .map_err(|e| format!("{}: not TOML: {e}", path.display()))?;
        let package = value
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .ok_or_else(|| format!("{}: no [package] name", path.display()))?
            .to_owned();
        let mut dependencies = Vec::new();
        collect_dependencies(&value, &mut dependencies);
        if let Some(targets) = value.get("target").and_then(|t| t.as_table()) {
            for target in targets.values() {
                if let Some(target) = target.as_table() {
                    collect_dependencies(target, &mut dependencies);
                }
            }
        }
        let inherits_lints = value
            .get("lints")
            .and_then(|l| l.get("workspace"))
            .and_then(|w| w.as_bool())
            == Some(true);
        Ok(Self {
            path: path.to_owned(),
            package,
            dependencies,
            inherits_lints,
        })
    }

    fn depends_on(&self, package: &str, kinds: &[DepKind]) -> bool {
        self.dependencies
            .iter()
            .any(|d| d.package == package && kinds.contains(&d.kind))
    }
}

fn collect_dependencies(table: &toml::Table, out: &mut Vec<Dependency>) {
    for (section, kind) in [
        ("dependencies", DepKind::Normal),
        ("dev-dependencies", DepKind::Dev),
        ("build-dependencies", DepKind::Build),
    ] {
        let Some(deps) = table.get(section).and_then(|d| d.as_table()) else {
            continue;
        };
        for (name, spec) in deps {
            let package = spec
                .get("package")
                .and_then(|p| p.as_str())
                .unwrap_or(name)
                .to_owned();
            out.push(Dependency { package, kind });
        }
    }
}

/// One broken rule, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: PathBuf,
    pub rule: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.rule)
    }
}

fn violation(path: &Path, rule: impl Into<String>) -> Violation {
    Violation {
        path: path.to_owned(),
        rule: rule.into(),
    }
}

/// Crates that do I/O (or are only useful to code that does): `domain` must not depend on them.
const IO_CRATES: &[&str] = &[
    "tokio",
    "sqlx",
    "async-nats",
    "tonic",
    "tonic-prost",
    "prost",
    "prost-types",
    "reqwest",
    "axum",
    "rand",
    "getrandom",
];

/// The protobuf runtime and its code generators: only `wire` may use them.
const PROTOBUF_CRATES: &[&str] = &[
    "prost",
    "prost-types",
    "prost-build",
    "prost-reflect",
    "tonic-prost",
    "tonic-prost-build",
    "protox",
];

/// Rules 1–5 and 8, over every member's manifest.
pub fn check_manifests(manifests: &[Manifest]) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in manifests {
        let shipped = [DepKind::Normal, DepKind::Build];
        if m.package == "domain" {
            for io in IO_CRATES {
                if m.depends_on(io, &shipped) {
                    found.push(violation(
                        &m.path,
                        format!("domain must stay pure, but depends on `{io}`"),
                    ));
                }
            }
        }
        if m.package != "wire" {
            for pb in PROTOBUF_CRATES {
                if m.depends_on(pb, &[DepKind::Normal, DepKind::Build, DepKind::Dev]) {
                    found.push(violation(
                        &m.path,
                        format!(
                            "only `wire` knows protobuf, but `{}` depends on `{pb}`",
                            m.package
                        ),
                    ));
                }
            }
        }
        if m.package == "bundle" {
            for forbidden in IO_CRATES.iter().chain(&["domain", "event-bus"]) {
                if m.depends_on(forbidden, &shipped) {
                    found.push(violation(
                        &m.path,
                        format!(
                            "bundle is bytes in, bytes out (no I/O, no domain, no NATS), but depends on `{forbidden}`"
                        ),
                    ));
                }
            }
        }
        if m.package == "event-bus" && m.depends_on("domain", &shipped) {
            found.push(violation(
                &m.path,
                "event-bus must not depend on domain (the NATS contract is codes, subjects and bytes)",
            ));
        }
        if matches!(m.package.as_str(), "reporting" | "dashboard") {
            for forbidden in ["sqlx", "district-aggregator"] {
                if m.depends_on(forbidden, &shipped) {
                    found.push(violation(
                        &m.path,
                        format!(
                            "`{}` reads the aggregator's gRPC API, never its tables, but depends on `{forbidden}`",
                            m.package
                        ),
                    ));
                }
            }
        }
        if !m.inherits_lints {
            found.push(violation(
                &m.path,
                "the crate does not inherit the workspace lints (`[lints] workspace = true`)",
            ));
        }
    }
    found
}

/// Calls that read a clock, draw randomness or do I/O: none belongs in `domain`'s own code.
const IMPURE_CALLS: &[&str] = &[
    "Utc::now(",
    "Local::now(",
    "SystemTime::now(",
    "Instant::now(",
    "Uuid::now_v7(",
    "Uuid::new_v4(",
    "chrono::offset::Local",
    "std::fs::",
    "std::net::",
    "std::env::",
    "std::process::",
    "std::io::stdin",
    "std::thread::sleep",
];

/// Rule 1, over one source file of `domain` (its tests excluded: from `#[cfg(test)]` on).
pub fn check_domain_source(path: &Path, text: &str) -> Vec<Violation> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        for call in IMPURE_CALLS {
            if line.contains(call) {
                found.push(violation(
                    path,
                    format!(
                        "line {}: domain reads no clock, draws no random number and does no I/O (`{call}`); pass it in",
                        n + 1
                    ),
                ));
            }
        }
    }
    found
}

/// Rule 6: the file's first non-blank line is a `//!` comment.
pub fn check_module_doc(path: &Path, text: &str) -> Option<Violation> {
    let first = text.lines().find(|l| !l.trim().is_empty());
    match first {
        Some(line) if line.trim_start().starts_with("//!") => None,
        _ => Some(violation(
            path,
            "the module does not open with a `//!` comment saying what it is for",
        )),
    }
}

/// Rule 7: no reference to the brief outside the repository.
pub fn check_references(path: &Path, text: &str) -> Vec<Violation> {
    // Spelled in parts so that this file does not match itself.
    let outside = [
        concat!("../", "shared"),
        concat!("DESIGN", ".md"),
        concat!("DESIGN", " invariant"),
        concat!("DESIGN", " §"),
        concat!("DESIGN", "'s"),
    ];
    text.lines()
        .enumerate()
        .filter_map(|(n, line)| {
            outside.iter().find(|p| line.contains(**p)).map(|p| {
                violation(
                    path,
                    format!(
                        "line {}: refers to `{p}`, a document outside the repository; refer to the repository's own docs (docs/contract.md, ARCHITECTURE.md)",
                        n + 1
                    ),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn manifest(text: &str) -> Manifest {
        Manifest::parse(Path::new("crates/x/Cargo.toml"), text).unwrap()
    }

    const LINTS: &str = "\n[lints]\nworkspace = true\n";

    #[test]
    fn domain_depending_on_tokio_is_refused_but_a_dev_dependency_is_not() {
        let bad = manifest(&format!(
            "[package]\nname = \"domain\"\n[dependencies]\ntokio.workspace = true\n{LINTS}"
        ));
        let found = check_manifests(&[bad]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].rule.contains("`tokio`"), "{}", found[0]);

        let fine = manifest(&format!(
            "[package]\nname = \"domain\"\n[dev-dependencies]\ntokio.workspace = true\n{LINTS}"
        ));
        assert_eq!(check_manifests(&[fine]), vec![]);
    }

    #[test]
    fn prost_outside_wire_is_refused_even_renamed_or_for_a_target() {
        let renamed = manifest(&format!(
            "[package]\nname = \"truyenthong\"\n[dependencies]\npt = {{ package = \"prost-types\", version = \"0.14\" }}\n{LINTS}"
        ));
        assert_eq!(check_manifests(&[renamed]).len(), 1);
        let target = manifest(&format!(
            "[package]\nname = \"reporting\"\n[target.'cfg(unix)'.dependencies]\nprost.workspace = true\n{LINTS}"
        ));
        assert_eq!(check_manifests(&[target]).len(), 1);
        let wire = manifest(&format!(
            "[package]\nname = \"wire\"\n[dependencies]\nprost.workspace = true\n[build-dependencies]\nprotox.workspace = true\n{LINTS}"
        ));
        assert_eq!(check_manifests(&[wire]), vec![]);
    }

    #[test]
    fn event_bus_on_domain_and_reporting_on_sqlx_are_refused() {
        let bus = manifest(&format!(
            "[package]\nname = \"event-bus\"\n[dependencies]\ndomain.workspace = true\n{LINTS}"
        ));
        let reporting = manifest(&format!(
            "[package]\nname = \"reporting\"\n[dependencies]\nsqlx.workspace = true\ndistrict-aggregator.workspace = true\n{LINTS}"
        ));
        let found = check_manifests(&[bus, reporting]);
        assert_eq!(found.len(), 3, "{found:?}");
    }

    #[test]
    fn the_bundle_format_on_tokio_or_the_domain_is_refused() {
        let bundle = manifest(&format!(
            "[package]\nname = \"bundle\"\n[dependencies]\ntokio.workspace = true\ndomain.workspace = true\nnkeys.workspace = true\n{LINTS}"
        ));
        let found = check_manifests(&[bundle]);
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn a_crate_without_the_workspace_lints_is_named() {
        let found = check_manifests(&[manifest("[package]\nname = \"dashboard\"\n")]);
        assert_eq!(found.len(), 1);
        assert!(found[0].rule.contains("[lints]"));
    }

    #[test]
    fn a_clock_in_domain_code_is_refused_but_not_in_its_tests_or_comments() {
        let path = Path::new("crates/domain/src/x.rs");
        let bad = "//! x\nfn today() -> NaiveDate { Utc::now().date_naive() }\n";
        let found = check_domain_source(path, bad);
        assert_eq!(found.len(), 1);
        assert!(found[0].rule.starts_with("line 2:"), "{}", found[0]);

        let fine = "//! x\n// never Utc::now() here\nfn f() {}\n#[cfg(test)]\nmod tests { fn t() { let _ = Utc::now(); } }\n";
        assert_eq!(check_domain_source(path, fine), vec![]);
    }

    #[test]
    fn a_module_without_its_doc_is_named() {
        let path = Path::new("crates/x/src/y.rs");
        assert!(check_module_doc(path, "\n//! What it is for.\nfn f() {}\n").is_none());
        assert!(
            check_module_doc(path, "/// An item doc is not a module doc.\nfn f() {}\n").is_some()
        );
        assert!(check_module_doc(path, "").is_some());
    }

    #[test]
    fn a_reference_outside_the_repository_is_named_with_its_line() {
        let path = Path::new("crates/x/src/y.rs");
        let text = format!(
            "//! ok\n// see {}/{}\n",
            concat!("..", "/shared"),
            "notes.txt"
        );
        let found = check_references(path, &text);
        assert_eq!(found.len(), 1);
        assert!(found[0].rule.starts_with("line 2:"));
    }

    // ------------------------------------------------------------------------------------
    // The real tree.

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// Every workspace member's manifest: `crates/*/Cargo.toml` and `tests/Cargo.toml`.
    fn member_manifests(root: &Path) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
            .unwrap()
            .map(|e| e.unwrap().path().join("Cargo.toml"))
            .filter(|p| p.is_file())
            .collect();
        paths.push(root.join("tests/Cargo.toml"));
        paths.sort();
        paths
    }

    /// Files git tracks (or would: untracked but not ignored), so that `target/` and `var/`
    /// are never read.
    fn repository_files(root: &Path) -> Vec<PathBuf> {
        let output = std::process::Command::new("git")
            .args([
                "ls-files",
                "--cached",
                "--others",
                "--exclude-standard",
                "-z",
            ])
            .current_dir(root)
            .output()
            .expect("git runs");
        assert!(output.status.success(), "git ls-files failed");
        output
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| root.join(String::from_utf8_lossy(p).as_ref()))
            .filter(|p| p.is_file())
            .collect()
    }

    #[test]
    fn the_workspace_keeps_its_invariants() {
        let root = root();
        let mut found = Vec::new();
        let manifests: Vec<Manifest> = member_manifests(&root)
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).unwrap();
                Manifest::parse(p.strip_prefix(&root).unwrap_or(p), &text).unwrap()
            })
            .collect();
        assert!(
            manifests.iter().any(|m| m.package == "domain"),
            "the tidy test found no domain crate under {}",
            root.display()
        );
        found.extend(check_manifests(&manifests));

        let files = repository_files(&root);
        let mut rust_files = 0;
        for path in &files {
            let relative = path.strip_prefix(&root).unwrap_or(path);
            let text_like = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("rs" | "md" | "toml" | "proto" | "sql" | "sh")
            ) || relative.starts_with(".ci");
            if !text_like {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            found.extend(check_references(relative, &text));
            if path.extension().is_some_and(|e| e == "rs") {
                rust_files += 1;
                found.extend(check_module_doc(relative, &text));
                if relative.starts_with("crates/domain/src") && !is_test_file(relative) {
                    found.extend(check_domain_source(relative, &text));
                }
            }
        }
        assert!(rust_files > 100, "only {rust_files} Rust files found");
        assert!(
            found.is_empty(),
            "{} architecture invariant(s) broken (see ARCHITECTURE.md):\n{}",
            found.len(),
            found
                .iter()
                .map(|v| format!("  {v}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// `tests.rs` files and files under a `tests/` folder are test modules.
    fn is_test_file(relative: &Path) -> bool {
        relative.file_name().is_some_and(|n| n == "tests.rs")
            || relative.components().any(|c| c.as_os_str() == "tests")
    }
}
