//! Reading a .docx: the paragraphs of `word/document.xml` in document order (table cells
//! row by row, text boxes where they are anchored), each as one line, then [`read_text`].

use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::{Reading, read_text};

/// Most bytes of `word/document.xml` read once uncompressed. A plan is some tens of
/// kilobytes of XML; a compressed archive that inflates beyond this (a zip bomb) is refused.
pub const MAX_DOCUMENT_XML: u64 = 20 * 1024 * 1024;

/// Why a .docx could not be read. The messages are for school staff.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocxError {
    #[error("Tệp .docx bị hỏng: {0}")]
    Corrupt(String),
    #[error("Tệp .docx không có phần nội dung văn bản (word/document.xml).")]
    NoDocument,
    #[error(
        "Nội dung tệp .docx quá lớn khi giải nén (hơn {} MB); kế hoạch thường chỉ vài trăm KB.",
        MAX_DOCUMENT_XML / (1024 * 1024)
    )]
    TooLarge,
}

/// Reads a plan from the bytes of a .docx file.
pub fn read_docx(bytes: &[u8]) -> Result<Reading, DocxError> {
    let xml = document_xml(bytes)?;
    let text = paragraphs(&xml)?.join("\n");
    Ok(read_text(&text))
}

/// `word/document.xml`, within [`MAX_DOCUMENT_XML`].
fn document_xml(bytes: &[u8]) -> Result<String, DocxError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| DocxError::Corrupt(format!("không mở được tệp nén ({e})")))?;
    let file = match archive.by_name("word/document.xml") {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Err(DocxError::NoDocument),
        Err(e) => return Err(DocxError::Corrupt(format!("không đọc được nội dung ({e})"))),
    };
    if file.size() > MAX_DOCUMENT_XML {
        return Err(DocxError::TooLarge);
    }
    // The declared size can lie: read at most one byte more than allowed and check.
    let mut xml = Vec::new();
    file.take(MAX_DOCUMENT_XML + 1)
        .read_to_end(&mut xml)
        .map_err(|e| DocxError::Corrupt(format!("không giải nén được nội dung ({e})")))?;
    if xml.len() as u64 > MAX_DOCUMENT_XML {
        return Err(DocxError::TooLarge);
    }
    String::from_utf8(xml)
        .map_err(|_| DocxError::Corrupt("nội dung không phải văn bản UTF-8".to_string()))
}

/// The text of a predefined XML entity.
fn entity(name: &[u8]) -> Option<&'static str> {
    match name {
        b"amp" => Some("&"),
        b"lt" => Some("<"),
        b"gt" => Some(">"),
        b"quot" => Some("\""),
        b"apos" => Some("'"),
        _ => None,
    }
}

/// The paragraphs' texts in document order. A line break inside a paragraph (`w:br`,
/// `w:cr`) splits it; a tab is a space. Deleted text of tracked changes (`w:delText`) and the
/// fallback copy of alternate content (`mc:Fallback`) are left out.
fn paragraphs(xml: &str) -> Result<Vec<String>, DocxError> {
    let mut reader = Reader::from_str(xml);
    let corrupt = |e: &dyn std::fmt::Display| {
        DocxError::Corrupt(format!("nội dung XML không đọc được ({e})"))
    };
    let mut out = Vec::new();
    // Paragraphs nest (a text box inside a paragraph): one buffer per open paragraph.
    let mut open: Vec<String> = Vec::new();
    let mut in_text = false;
    let mut fallback_depth = 0_usize;
    loop {
        let event = reader.read_event().map_err(|e| corrupt(&e))?;
        match event {
            Event::Start(e) => match e.name().as_ref() {
                b"mc:Fallback" => fallback_depth += 1,
                _ if fallback_depth > 0 => {}
                b"w:p" => open.push(String::new()),
                b"w:t" => in_text = true,
                _ => {}
            },
            Event::Empty(e) => match e.name().as_ref() {
                _ if fallback_depth > 0 => {}
                b"w:p" => out.push(String::new()),
                b"w:tab" => {
                    if let Some(p) = open.last_mut() {
                        p.push('\t');
                    }
                }
                b"w:br" | b"w:cr" => {
                    if let Some(p) = open.last_mut() {
                        p.push('\n');
                    }
                }
                _ => {}
            },
            Event::End(e) => match e.name().as_ref() {
                b"mc:Fallback" => fallback_depth = fallback_depth.saturating_sub(1),
                _ if fallback_depth > 0 => {}
                b"w:p" => {
                    if let Some(p) = open.pop() {
                        out.push(p);
                    }
                }
                b"w:t" => in_text = false,
                _ => {}
            },
            Event::Text(t) if in_text && fallback_depth == 0 => {
                let text = t.decode().map_err(|e| corrupt(&e))?;
                if let Some(p) = open.last_mut() {
                    p.push_str(&text);
                }
            }
            Event::GeneralRef(r) if in_text && fallback_depth == 0 => {
                let resolved = match r.resolve_char_ref().map_err(|e| corrupt(&e))? {
                    Some(c) => c.to_string(),
                    None => entity(r.as_ref()).unwrap_or_default().to_string(),
                };
                if let Some(p) = open.last_mut() {
                    p.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    // A paragraph left open by a truncated document still counts.
    out.extend(open);
    Ok(out)
}

#[cfg(test)]
pub(crate) fn paragraphs_for_test(xml: &str) -> Result<Vec<String>, DocxError> {
    paragraphs(xml)
}
