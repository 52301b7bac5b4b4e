//! Evidence files: the photos, scanned minutes and PDFs attached to a school's records.
//!
//! The event [`crate::event::EvidenceAttached`] names a file by its SHA-256, with its name,
//! media type and size; the bytes travel apart (the agent's content-addressed store, then the
//! school's JetStream Object Store bucket). The limits here are shared by every surface — the
//! school app, the agent's gRPC service and the aggregator's re-check — so a file one accepts
//! is accepted by all.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{DomainError, Rule};
use crate::text;

/// The media types an evidence file may have.
pub const MEDIA_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp", "application/pdf"];
/// The largest evidence file, in bytes (20 MiB).
pub const MAX_FILE_SIZE: u64 = 20 * 1024 * 1024;
/// The most files one record may carry.
pub const MAX_FILES_PER_RECORD: usize = 20;
/// The longest file name, in characters after NFC.
pub const MAX_NAME: usize = 200;

/// The record a file is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum EvidenceTarget {
    /// A communication activity (not retracted).
    Activity(Uuid),
    /// A reporter's visit.
    ReporterVisit(Uuid),
    /// The answer to a press issue (the issue must have been answered).
    PressAnswer(Uuid),
    /// An expense voucher.
    Expense(Uuid),
}

impl EvidenceTarget {
    /// The stable code of the record kind, as on the wire and in the district's rows.
    pub fn kind(&self) -> &'static str {
        match self {
            EvidenceTarget::Activity(_) => "activity",
            EvidenceTarget::ReporterVisit(_) => "reporter_visit",
            EvidenceTarget::PressAnswer(_) => "press_answer",
            EvidenceTarget::Expense(_) => "expense",
        }
    }

    pub fn id(&self) -> Uuid {
        match *self {
            EvidenceTarget::Activity(id)
            | EvidenceTarget::ReporterVisit(id)
            | EvidenceTarget::PressAnswer(id)
            | EvidenceTarget::Expense(id) => id,
        }
    }

    /// The target of a kind code and an id, `None` for an unknown kind.
    pub fn from_kind(kind: &str, id: Uuid) -> Option<Self> {
        Some(match kind {
            "activity" => EvidenceTarget::Activity(id),
            "reporter_visit" => EvidenceTarget::ReporterVisit(id),
            "press_answer" => EvidenceTarget::PressAnswer(id),
            "expense" => EvidenceTarget::Expense(id),
            _ => return None,
        })
    }

    /// The record kind in Vietnamese.
    pub fn label_vi(&self) -> &'static str {
        match self {
            EvidenceTarget::Activity(_) => "Hoạt động truyền thông",
            EvidenceTarget::ReporterVisit(_) => "Đón tiếp phóng viên",
            EvidenceTarget::PressAnswer(_) => "Trả lời báo chí",
            EvidenceTarget::Expense(_) => "Chứng từ chi",
        }
    }
}

/// What the log says of one file: the bytes are elsewhere, named by `sha256`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceFile {
    pub name: String,
    pub media_type: String,
    pub size: u64,
    /// 64 lowercase hexadecimal digits.
    pub sha256: String,
}

/// Whether `value` is a SHA-256 as the contract writes it: 64 lowercase hex digits.
pub fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks a media type against [`MEDIA_TYPES`] (field `{prefix}.media_type`).
pub fn check_media_type(field: &str, media_type: &str) -> Result<String, DomainError> {
    let normal = media_type.trim().to_ascii_lowercase();
    if MEDIA_TYPES.contains(&normal.as_str()) {
        Ok(normal)
    } else {
        Err(DomainError::invalid(
            field,
            Rule::MediaTypeNotAllowed {
                value: media_type.to_owned(),
            },
        ))
    }
}

/// Checks a size against `1..=`[`MAX_FILE_SIZE`].
pub fn check_size(field: &str, size: u64) -> Result<(), DomainError> {
    if size == 0 || size > MAX_FILE_SIZE {
        return Err(DomainError::invalid(
            field,
            Rule::FileSize {
                size,
                max: MAX_FILE_SIZE,
            },
        ));
    }
    Ok(())
}

/// A file name: non-empty, at most [`MAX_NAME`] characters after NFC, no path separator.
pub fn check_name(field: &str, name: &str) -> Result<String, DomainError> {
    let name = text::required_line(field, name, MAX_NAME)?;
    if name.contains(['/', '\\']) {
        return Err(DomainError::invalid(field, Rule::PathSeparator));
    }
    Ok(name)
}

impl EvidenceFile {
    /// The file's fields checked and normalised; each refusal names `evidence.file.<field>`.
    pub fn validated(&self) -> Result<EvidenceFile, DomainError> {
        let name = check_name("evidence.file.name", &self.name)?;
        let media_type = check_media_type("evidence.file.media_type", &self.media_type)?;
        check_size("evidence.file.size", self.size)?;
        if !is_sha256_hex(&self.sha256) {
            return Err(DomainError::invalid(
                "evidence.file.sha256",
                Rule::InvalidValue {
                    value: self.sha256.clone(),
                    expected: "64 lowercase hexadecimal digits (SHA-256)",
                },
            ));
        }
        Ok(EvidenceFile {
            name,
            media_type,
            size: self.size,
            sha256: self.sha256.clone(),
        })
    }
}
