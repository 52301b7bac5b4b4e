//! Vietnamese for clap: help layout, headings, the help and version flags, and clap's own
//! errors, so that nothing English reaches staff.
//!
//! The derive definitions in [`crate::args`] carry the Vietnamese help texts; this module
//! walks the built [`Command`] tree to set the help template (`Cách dùng:` instead of
//! `Usage:`), the section headings (`Đối số`, `Tùy chọn`, `Tùy chọn chung`, `Lệnh`), its own
//! `-h/--help` and `-V/--version` with Vietnamese descriptions, and to hide clap's English
//! annotations (`[default: …]`, `[env: …]`) — the help texts state defaults and environment
//! variables themselves. [`report`] prints a clap error as a Vietnamese message.

use std::io::Write as _;
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command, CommandFactory};

const TEMPLATE: &str = "{about-with-newline}\nCách dùng: {usage}\n\n{all-args}{after-help}";
const GLOBAL_HEADING: &str = "Tùy chọn chung";

/// The localised command tree.
pub fn command() -> Command {
    let root = crate::args::Cli::command()
        .disable_version_flag(true)
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("In số phiên bản"),
        )
        .mut_args(|a| {
            if a.is_global_set() {
                a.help_heading(GLOBAL_HEADING)
            } else {
                a
            }
        });
    localise(root)
}

fn localise(cmd: Command) -> Command {
    cmd.help_template(TEMPLATE)
        .subcommand_help_heading("Lệnh")
        .subcommand_value_name("LỆNH")
        .disable_help_flag(true)
        .disable_help_subcommand(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("In hướng dẫn sử dụng"),
        )
        .mut_args(|a| {
            let a = if a.get_action().takes_values() {
                a.hide_default_value(true)
                    .hide_env(true)
                    .hide_possible_values(true)
            } else {
                a.hide_env(true)
            };
            if a.get_help_heading().is_some() {
                a
            } else if a.is_positional() {
                a.help_heading("Đối số")
            } else {
                a.help_heading("Tùy chọn")
            }
        })
        .mut_subcommands(localise)
}

/// Replaces what clap writes in English inside a usage line or help.
fn translate(text: &str) -> String {
    text.replace("Usage:", "Cách dùng:")
        .replace("[OPTIONS]", "[TÙY CHỌN]")
        .replace("<COMMAND>", "<LỆNH>")
}

/// Prints a clap error (or the help and version it uses as errors) and returns the exit code:
/// 0 for help and version, 2 otherwise.
pub fn report(err: &clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let text = translate(&err.render().to_string());
            let _ = writeln!(std::io::stdout().lock(), "{}", text.trim_end());
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let text = translate(&err.render().to_string());
            let _ = writeln!(std::io::stderr().lock(), "{}", text.trim_end());
            ExitCode::from(2)
        }
        _ => {
            let _ = writeln!(std::io::stderr().lock(), "{}", vietnamese(err));
            ExitCode::from(2)
        }
    }
}

fn string(err: &clap::Error, kind: ContextKind) -> Option<String> {
    match err.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::StyledStr(s) => Some(s.to_string()),
        ContextValue::Strings(v) => Some(v.join(", ")),
        ContextValue::StyledStrs(v) => Some(
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ContextValue::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn list(err: &clap::Error, kind: ContextKind) -> Vec<String> {
    match err.get(kind) {
        Some(ContextValue::Strings(v)) => v.clone(),
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::StyledStrs(v)) => v.iter().map(ToString::to_string).collect(),
        Some(ContextValue::StyledStr(s)) => vec![s.to_string()],
        _ => Vec::new(),
    }
}

/// A clap error in Vietnamese: what is wrong, a suggestion where clap has one, the usage line
/// and where to find help.
pub fn vietnamese(err: &clap::Error) -> String {
    let arg = string(err, ContextKind::InvalidArg).unwrap_or_default();
    let value = string(err, ContextKind::InvalidValue).unwrap_or_default();
    let mut message = match err.kind() {
        ErrorKind::InvalidValue if value.is_empty() => format!("Tùy chọn {arg} cần một giá trị."),
        ErrorKind::InvalidValue => {
            let valid = list(err, ContextKind::ValidValue);
            if valid.is_empty() {
                format!("Giá trị «{value}» không hợp lệ cho {arg}.")
            } else {
                format!(
                    "Giá trị «{value}» không hợp lệ cho {arg}. Các giá trị hợp lệ: {}.",
                    valid.join(", ")
                )
            }
        }
        ErrorKind::ValueValidation => {
            let reason = std::error::Error::source(err)
                .map(ToString::to_string)
                .unwrap_or_default();
            if reason.is_empty() {
                format!("Giá trị «{value}» không hợp lệ cho {arg}.")
            } else {
                format!("Giá trị «{value}» không hợp lệ cho {arg}: {reason}.")
            }
        }
        ErrorKind::UnknownArgument => format!("Không có tùy chọn «{arg}»."),
        ErrorKind::InvalidSubcommand => {
            let sub = string(err, ContextKind::InvalidSubcommand).unwrap_or_default();
            format!("Không có lệnh «{sub}».")
        }
        ErrorKind::NoEquals => format!("Tùy chọn {arg} cần dấu «=» trước giá trị."),
        ErrorKind::TooManyValues => format!("Tùy chọn {arg} nhận quá nhiều giá trị («{value}»)."),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("Tùy chọn {arg} không đủ giá trị.")
        }
        ErrorKind::ArgumentConflict => {
            let prior = string(err, ContextKind::PriorArg).unwrap_or_default();
            if prior.is_empty() || prior == arg {
                format!("Tùy chọn {arg} chỉ được dùng một lần.")
            } else {
                format!("Tùy chọn {arg} không dùng cùng với {prior}.")
            }
        }
        ErrorKind::MissingRequiredArgument => {
            let missing = list(err, ContextKind::InvalidArg);
            format!("Thiếu tùy chọn bắt buộc: {}.", missing.join(", "))
        }
        ErrorKind::MissingSubcommand => {
            let valid = list(err, ContextKind::ValidSubcommand);
            format!("Thiếu lệnh; hãy chọn một trong: {}.", valid.join(", "))
        }
        ErrorKind::InvalidUtf8 => "Dòng lệnh có ký tự không đọc được (không phải UTF-8).".into(),
        _ => "Dòng lệnh không hợp lệ.".into(),
    };
    let suggestions: Vec<String> = [
        ContextKind::SuggestedArg,
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedValue,
    ]
    .into_iter()
    .flat_map(|k| list(err, k))
    .collect();
    if !suggestions.is_empty() {
        message.push_str(&format!(
            " Có phải ý bạn là «{}»?",
            suggestions.join("», «")
        ));
    }
    if let Some(usage) = string(err, ContextKind::Usage) {
        let usage = translate(usage.trim());
        let usage = if usage.starts_with("Cách dùng:") {
            usage
        } else {
            format!("Cách dùng: {usage}")
        };
        message.push_str(&format!(
            "\n\n{usage}\n\nXem hướng dẫn: thêm --help vào lệnh."
        ));
    }
    format!("Lỗi: {message}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn error(args: &[&str]) -> clap::Error {
        command().try_get_matches_from(args).unwrap_err()
    }

    fn help(args: &[&str]) -> String {
        let err = error(args);
        assert_eq!(err.kind(), ErrorKind::DisplayHelp);
        translate(&err.render().to_string())
    }

    /// English words clap would print if something were left unlocalised.
    const ENGLISH: &[&str] = &[
        "Usage",
        "Options",
        "Arguments",
        "Commands",
        "Print",
        "default:",
        "env:",
        "aliases",
        "[OPTIONS]",
        "error:",
        "[COMMAND]",
        "<COMMAND>",
    ];

    #[test]
    fn help_is_vietnamese_everywhere() {
        fn walk(cmd: &Command, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            out.push(path.clone());
            for sub in cmd.get_subcommands() {
                path.push(sub.get_name().to_string());
                walk(sub, path, out);
                path.pop();
            }
        }
        let mut paths = Vec::new();
        walk(&command(), &mut vec!["truyenthong".to_string()], &mut paths);
        assert!(paths.len() > 20, "{paths:?}");
        for path in paths {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push("--help");
            let text = help(&args);
            for word in ENGLISH {
                assert!(
                    !text.contains(word),
                    "{path:?} help contains {word:?}:\n{text}"
                );
            }
            assert!(text.contains("Cách dùng:"), "{text}");
            assert!(text.contains("In hướng dẫn sử dụng"), "{text}");
        }
    }

    #[test]
    fn errors_are_vietnamese() {
        let unknown = vietnamese(&error(&["truyenthong", "trang-thai", "--nhanh"]));
        assert!(
            unknown.starts_with("Lỗi: Không có tùy chọn «--nhanh»."),
            "{unknown}"
        );
        assert!(
            unknown.contains("Cách dùng: truyenthong trang-thai"),
            "{unknown}"
        );
        let sub = vietnamese(&error(&["truyenthong", "hoat-dong", "ghi-lai"]));
        assert!(sub.contains("Không có lệnh «ghi-lai»"), "{sub}");
        assert!(sub.contains("Có phải ý bạn là «ghi»?"), "{sub}");
        let missing = vietnamese(&error(&["truyenthong", "hoat-dong", "huy", "x"]));
        assert!(
            missing.contains("Thiếu tùy chọn bắt buộc: --ly-do <LÝ DO>"),
            "{missing}"
        );
        let number = vietnamese(&error(&["truyenthong", "nhat-ky", "--so-luong", "mười"]));
        assert!(
            number.contains("Giá trị «mười» không hợp lệ cho --so-luong <SỐ>: «mười» không phải số nguyên không âm"),
            "{number}"
        );
        for text in [unknown, sub, missing, number] {
            for word in ENGLISH {
                assert!(!text.contains(word), "{text}");
            }
        }
    }

    #[test]
    fn english_aliases_work() {
        let m = command()
            .try_get_matches_from([
                "truyenthong",
                "plan",
                "adopt",
                "x.toml",
                "--agent",
                "http://x:1",
            ])
            .unwrap();
        let (name, sub) = m.subcommand().unwrap();
        assert_eq!(name, "ke-hoach");
        assert_eq!(sub.subcommand_name(), Some("ban-hanh"));
        assert!(
            command()
                .try_get_matches_from(["truyenthong", "events"])
                .is_ok()
        );
        assert!(
            command()
                .try_get_matches_from(["truyenthong", "status"])
                .is_ok()
        );
        assert!(
            command()
                .try_get_matches_from(["truyenthong", "activity", "record"])
                .is_ok()
        );
    }

    #[test]
    fn the_tree_is_consistent() {
        command().debug_assert();
    }
}
