//! An uploaded file: .docx or .txt, told apart by its name and its first bytes.

use crate::{DocxError, Reading, read_docx, read_text};

/// Largest file accepted. A plan is a few pages: tens of kilobytes of text, a few hundred of
/// Word (more with pictures).
pub const MAX_UPLOAD: usize = 5 * 1024 * 1024;

/// Why an uploaded file could not be read. The messages are for school staff.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UploadError {
    #[error("Tệp rỗng.")]
    Empty,
    #[error("Tệp quá lớn ({size} byte); chỉ nhận tệp đến {} MB.", MAX_UPLOAD / (1024 * 1024))]
    TooLarge { size: usize },
    #[error("Tệp không phải .docx hoặc .txt.")]
    UnsupportedType,
    #[error("Tệp .doc (Word 97–2003) chưa được hỗ trợ; xin mở bằng Word và lưu lại thành .docx.")]
    OldWord,
    #[error("Tệp văn bản không phải UTF-8 ({0}); xin lưu lại tệp với mã hóa UTF-8.")]
    NotUtf8(String),
    #[error(transparent)]
    Docx(#[from] DocxError),
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// The compound file of Word 97–2003.
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// Reads an uploaded plan: a .docx (a zip archive) or UTF-8 text (with or without a
/// byte-order mark), by the file's extension and checked against its first bytes.
pub fn read_upload(file_name: &str, bytes: &[u8]) -> Result<Reading, UploadError> {
    if bytes.len() > MAX_UPLOAD {
        return Err(UploadError::TooLarge { size: bytes.len() });
    }
    if bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "docx" => {
            if bytes.starts_with(OLE_MAGIC) {
                return Err(UploadError::OldWord);
            }
            if !bytes.starts_with(ZIP_MAGIC) {
                return Err(DocxError::Corrupt("không phải tệp Word .docx".to_string()).into());
            }
            Ok(read_docx(bytes)?)
        }
        "txt" | "text" => {
            if bytes.starts_with(ZIP_MAGIC) {
                // A .docx renamed to .txt: read what it is.
                return Ok(read_docx(bytes)?);
            }
            Ok(read_text(&utf8(bytes)?))
        }
        "doc" => Err(UploadError::OldWord),
        _ => Err(UploadError::UnsupportedType),
    }
}

/// The text of a .txt file: UTF-8, its byte-order mark removed; UTF-16 and other encodings
/// refused with what they look like.
fn utf8(bytes: &[u8]) -> Result<String, UploadError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(UploadError::NotUtf8(
            "có vẻ là UTF-16 (Unicode của Notepad)".to_string(),
        ));
    }
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) if text.contains('\0') => Err(UploadError::NotUtf8(
            "tệp chứa ký tự NUL, có vẻ là tệp nhị phân hoặc UTF-16".to_string(),
        )),
        Ok(text) => Ok(text.to_string()),
        Err(e) => Err(UploadError::NotUtf8(format!(
            "byte không hợp lệ ở vị trí {}; có thể là TCVN3 hoặc Windows-1258",
            e.valid_up_to()
        ))),
    }
}
