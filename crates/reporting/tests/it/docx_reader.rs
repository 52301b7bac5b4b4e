//! Reading a .docx back: unzip it and walk `word/document.xml` with quick-xml into the body's
//! paragraphs and tables in order, with the run properties tests care about. A reader of the
//! file format, independent of how the report wrote it.

use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::Event;

/// A top-level element of the document body.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Paragraph(Paragraph),
    /// Rows of cells; each cell's text (its paragraphs joined by newlines).
    Table(Vec<Vec<String>>),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Paragraph {
    pub text: String,
    /// Some run of the paragraph is bold / italic.
    pub bold: bool,
    pub italic: bool,
}

/// A .docx file, opened.
pub struct Docx {
    pub items: Vec<Item>,
    /// `word/document.xml` as text, for the section properties.
    pub xml: String,
    /// The names of the files in the archive.
    pub files: Vec<String>,
    pub styles: String,
}

pub fn open(bytes: &[u8]) -> Docx {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let files: Vec<String> = zip.file_names().map(String::from).collect();
    let read = |zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str| {
        let mut text = String::new();
        zip.by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    };
    let xml = read(&mut zip, "word/document.xml");
    let styles = read(&mut zip, "word/styles.xml");
    Docx {
        items: parse(&xml),
        xml,
        files,
        styles,
    }
}

fn entity(name: &[u8]) -> &'static str {
    match name {
        b"amp" => "&",
        b"lt" => "<",
        b"gt" => ">",
        b"quot" => "\"",
        b"apos" => "'",
        _ => "",
    }
}

fn parse(xml: &str) -> Vec<Item> {
    let mut reader = Reader::from_str(xml);
    let mut items = Vec::new();
    // Nesting: inside a table (depth of w:tbl), a row, a cell, a paragraph, a text run.
    let mut table_depth = 0;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut cell = String::new();
    let mut paragraph = Paragraph::default();
    let mut in_text = false;
    let mut in_run_props = false;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => match e.name().as_ref() {
                b"w:tbl" => {
                    table_depth += 1;
                    if table_depth == 1 {
                        rows.clear();
                    }
                }
                b"w:tr" if table_depth == 1 => row.clear(),
                b"w:tc" if table_depth == 1 => cell.clear(),
                b"w:p" => paragraph = Paragraph::default(),
                b"w:t" => in_text = true,
                b"w:rPr" => in_run_props = true,
                _ => {}
            },
            Event::Empty(e) => match e.name().as_ref() {
                b"w:b" if in_run_props => paragraph.bold = true,
                b"w:i" if in_run_props => paragraph.italic = true,
                b"w:p" if table_depth == 0 => items.push(Item::Paragraph(Paragraph::default())),
                _ => {}
            },
            Event::End(e) => match e.name().as_ref() {
                b"w:tbl" => {
                    table_depth -= 1;
                    if table_depth == 0 {
                        items.push(Item::Table(std::mem::take(&mut rows)));
                    }
                }
                b"w:tr" if table_depth == 1 => rows.push(std::mem::take(&mut row)),
                b"w:tc" if table_depth == 1 => row.push(std::mem::take(&mut cell)),
                b"w:p" => {
                    if table_depth == 0 {
                        items.push(Item::Paragraph(std::mem::take(&mut paragraph)));
                    } else {
                        if !cell.is_empty() {
                            cell.push('\n');
                        }
                        cell.push_str(&paragraph.text);
                    }
                }
                b"w:t" => in_text = false,
                b"w:rPr" => in_run_props = false,
                _ => {}
            },
            Event::Text(t) if in_text => paragraph.text.push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) if in_text => match r.resolve_char_ref().unwrap() {
                Some(c) => paragraph.text.push(c),
                None => paragraph.text.push_str(entity(r.as_ref())),
            },
            Event::Eof => break,
            _ => {}
        }
    }
    items
}

impl Docx {
    /// The paragraphs' texts, in order.
    pub fn paragraphs(&self) -> Vec<&Paragraph> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Paragraph(p) => Some(p),
                Item::Table(_) => None,
            })
            .collect()
    }

    /// The table that follows the paragraph whose text ends with `caption` ("Bảng 3. …").
    pub fn table_after(&self, caption: &str) -> &Vec<Vec<String>> {
        let at = self
            .items
            .iter()
            .position(|i| matches!(i, Item::Paragraph(p) if p.text.starts_with("Bảng ") && p.text.ends_with(caption)))
            .unwrap_or_else(|| panic!("no caption {caption:?}"));
        self.items[at + 1..]
            .iter()
            .find_map(|i| match i {
                Item::Table(t) => Some(t),
                Item::Paragraph(_) => None,
            })
            .unwrap()
    }

    /// The tables, in order.
    pub fn tables(&self) -> Vec<&Vec<Vec<String>>> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Table(t) => Some(t),
                Item::Paragraph(_) => None,
            })
            .collect()
    }
}
