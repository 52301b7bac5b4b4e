//! Reading a plan file: TOML in the shape of `domain::Plan` (see
//! `deploy/plans/kh-114-thcs-an-hoa-2017.toml`), with every failure told in Vietnamese and
//! located in the file — a missing file, bytes that are not UTF-8 (with the byte offset), TOML
//! syntax (with line and column), a missing or mistyped field.
//!
//! Only the shape is checked here; the plan's rules (document numbers, dates in order, areas
//! 1..6, unique topic codes) are the agent's, which answers in Vietnamese too.

use std::path::Path;

use crate::error::CliError;

/// Reads and parses the plan file at `path`.
pub fn read(path: &Path) -> Result<domain::Plan, CliError> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| CliError::File(io_message(path, &e)))?;
    let text = decode(&bytes).map_err(|m| CliError::File(format!("Tệp kế hoạch «{shown}» {m}")))?;
    parse(&text).map_err(|m| CliError::File(format!("Tệp kế hoạch «{shown}» có lỗi: {m}")))
}

/// Why a file could not be read, in Vietnamese.
pub fn io_message(path: &Path, err: &std::io::Error) -> String {
    let shown = path.display();
    match err.kind() {
        std::io::ErrorKind::NotFound => format!("Không tìm thấy tệp «{shown}»."),
        std::io::ErrorKind::PermissionDenied => {
            format!("Không có quyền đọc tệp «{shown}».")
        }
        std::io::ErrorKind::IsADirectory => {
            format!("«{shown}» là một thư mục, không phải tệp.")
        }
        _ if path.is_dir() => format!("«{shown}» là một thư mục, không phải tệp."),
        _ => format!("Không đọc được tệp «{shown}» (lỗi hệ thống: {err})."),
    }
}

/// The bytes as UTF-8 text (a leading byte-order mark dropped), or a Vietnamese account of
/// where they stop being UTF-8.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match String::from_utf8(bytes.to_vec()) {
        Ok(text) => Ok(text),
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let valid = &bytes[..offset];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
            let column = String::from_utf8_lossy(&valid[line_start..])
                .chars()
                .count()
                + 1;
            Err(format!(
                "không phải văn bản UTF-8 hợp lệ: byte thứ {offset} (tính từ 0; dòng {line}, cột {column}) có giá trị 0x{:02X} không đọc được. Hãy mở tệp và lưu lại với mã hóa UTF-8 (ví dụ trong Notepad: Lưu thành… → Mã hóa: UTF-8).",
                bytes.get(offset).copied().unwrap_or(0)
            ))
        }
    }
}

/// The plan in `text`, or a Vietnamese message with the line and column.
pub fn parse(text: &str) -> Result<domain::Plan, String> {
    toml::from_str::<domain::Plan>(text).map_err(|e| {
        let message = translate(e.message());
        match e.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                format!("dòng {line}, cột {column}: {message}")
            }
            None => message,
        }
    })
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let mut before = &text[..0];
    // Back off to a character boundary, in case the offset falls inside one.
    for end in (0..=offset).rev() {
        if let Some(prefix) = text.get(..end) {
            before = prefix;
            break;
        }
    }
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Extracts the text between the first pair of backticks: "missing field `number`".
fn quoted(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// The TOML and serde messages staff may meet, in Vietnamese. Anything unforeseen keeps the
/// parser's own words as a technical detail after a Vietnamese lead.
fn translate(message: &str) -> String {
    let message = message.trim();
    let first_line = message.lines().next().unwrap_or("");
    if let Some(rest) = message.strip_prefix("missing field") {
        let name = quoted(rest).unwrap_or(rest.trim());
        return format!("thiếu trường «{name}»");
    }
    if message.starts_with("unknown field") {
        let name = quoted(message).unwrap_or("");
        return format!("trường «{name}» không có trong mẫu kế hoạch (viết sai tên trường?)");
    }
    if message.starts_with("duplicate key") || message.starts_with("duplicate field") {
        let name = quoted(message).unwrap_or("");
        return format!("khóa «{name}» bị ghi hai lần");
    }
    if message.starts_with("unknown variant") {
        let name = quoted(message).unwrap_or("");
        let allowed = message
            .split_once("expected")
            .map(|(_, rest)| {
                rest.replace("one of", "")
                    .replace('`', "")
                    .trim()
                    .to_string()
            })
            .unwrap_or_default();
        return format!("giá trị «{name}» không hợp lệ; các giá trị hợp lệ: {allowed}");
    }
    if message.starts_with("invalid type") {
        return format!(
            "giá trị sai kiểu: {}",
            translate_type_mismatch(message.trim_start_matches("invalid type:").trim())
        );
    }
    // chrono's messages for a date that does not parse.
    if [
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
        "input is out of range",
        "no possible date and time matching input",
        "input is not enough for unique date and time",
        "bad or unsupported format string",
    ]
    .iter()
    .any(|m| message.contains(m))
    {
        return "ngày không hợp lệ: cần dạng \"YYYY-MM-DD\", ví dụ \"2017-10-20\"".to_string();
    }
    if message.contains("content area") || message.contains("area ") {
        return format!(
            "nội dung truyền thông phải là một số từ 1 đến 6 (chi tiết kỹ thuật: {first_line})"
        );
    }
    if is_syntax(message) {
        return format!(
            "sai cú pháp TOML (chi tiết kỹ thuật: {})",
            one_line(message)
        );
    }
    format!(
        "giá trị không hợp lệ (chi tiết kỹ thuật: {})",
        one_line(message)
    )
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_syntax(message: &str) -> bool {
    [
        "invalid",
        "expected",
        "unclosed",
        "unexpected",
        "unterminated",
        "missing",
        "newline",
        "escape",
    ]
    .iter()
    .any(|w| message.contains(w))
}

/// "string \"abc\", expected u8" → "chuỗi \"abc\", trong khi cần một số".
fn translate_type_mismatch(detail: &str) -> String {
    let (found, expected) = detail.split_once(", expected").unwrap_or((detail, ""));
    let kind = |s: &str| -> String {
        let s = s.trim();
        if s.starts_with("string") {
            format!("chuỗi{}", s.trim_start_matches("string"))
        } else if s.starts_with("integer") {
            format!("số{}", s.trim_start_matches("integer").replace('`', ""))
        } else if s.starts_with("sequence") || s.starts_with("a sequence") {
            "danh sách".to_string()
        } else if s.starts_with("map") || s.starts_with("struct") || s.contains("a map") {
            "bảng".to_string()
        } else if s.starts_with("boolean") || s.starts_with("a boolean") {
            format!(
                "giá trị đúng/sai{}",
                s.trim_start_matches("boolean").replace('`', "")
            )
        } else if s.starts_with("floating point") {
            format!(
                "số thực{}",
                s.trim_start_matches("floating point").replace('`', "")
            )
        } else if s.starts_with("a string") || s.contains("string") {
            "chuỗi".to_string()
        } else if s.starts_with('u') || s.starts_with('i') || s.contains("integer") {
            "một số nguyên".to_string()
        } else {
            s.to_string()
        }
    };
    if expected.is_empty() {
        kind(found)
    } else {
        format!("{}, trong khi cần {}", kind(found), kind(expected))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn seed() -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/plans/kh-114-thcs-an-hoa-2017.toml");
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn the_seed_plan_parses() {
        let plan = parse(&seed()).unwrap();
        assert_eq!(plan.number, "114/KH-THCSAH");
        assert_eq!(plan.content_areas.len(), 6);
    }

    #[test]
    fn invalid_utf8_names_the_offset_line_and_column() {
        let mut bytes = b"number = \"114\"\ntitle = \"Truy".to_vec();
        bytes.push(0xE1); // a lone Windows-1258 byte
        bytes.extend_from_slice(b"n\"\n");
        let err = decode(&bytes).unwrap_err();
        assert!(err.contains("không phải văn bản UTF-8 hợp lệ"), "{err}");
        assert!(err.contains("byte thứ 28"), "{err}");
        assert!(err.contains("dòng 2, cột 14"), "{err}");
        assert!(err.contains("0xE1"), "{err}");
        assert_eq!(decode("\u{feff}số".as_bytes()).unwrap(), "số");
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let text = seed().replacen("place = \"An Hòa\"", "place = \"An Hòa", 1);
        let err = parse(&text).unwrap_err();
        assert!(err.starts_with("dòng 14, cột"), "{err}");
        assert!(err.contains("sai cú pháp TOML"), "{err}");
    }

    #[test]
    fn a_missing_field_is_named() {
        let text = seed().replacen("number = \"114/KH-THCSAH\"\n", "", 1);
        let err = parse(&text).unwrap_err();
        assert!(err.contains("thiếu trường «number»"), "{err}");
    }

    #[test]
    fn bad_dates_and_roles_are_explained() {
        let text = seed().replacen("date = \"2017-10-20\"", "date = \"20/10/2017\"", 1);
        let err = parse(&text).unwrap_err();
        assert!(err.contains("ngày không hợp lệ"), "{err}");
        assert!(err.starts_with("dòng 15,"), "{err}");
        let text = seed().replacen("role = \"principal\"", "role = \"hieu_truong\"", 1);
        let err = parse(&text).unwrap_err();
        assert!(err.contains("giá trị «hieu_truong» không hợp lệ"), "{err}");
        let text = seed().replacen("area = 6", "area = \"sáu\"", 1);
        let err = parse(&text).unwrap_err();
        assert!(err.contains("giá trị sai kiểu: chuỗi"), "{err}");
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\nđêm x", 8), (2, 4));
        assert_eq!(line_column("ab", 99), (1, 3));
    }
}
