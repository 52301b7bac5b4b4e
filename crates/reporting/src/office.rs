//! The issuing office as its reports present it: the agency names of the header, the place of
//! the date line, the document symbol, the signer and the recipients. Configuration, not data:
//! the district aggregator knows the district plan, not how the office signs its letters.

use serde::Deserialize;

/// The office that issues reports (Decree 30/2020/NĐ-CP header and footer).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Office {
    /// The parent agency, upper case: "UBND HUYỆN TAM NÔNG".
    pub parent_agency: String,
    /// The issuing agency, upper case and bold: "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO".
    pub agency: String,
    /// The place of the date line: "Tam Nông".
    pub place: String,
    /// The symbol after the number: "BC-PGDĐT".
    pub symbol: String,
    /// The signer's capacity: "TRƯỞNG PHÒNG" (or "KT. TRƯỞNG PHÒNG\nPHÓ TRƯỞNG PHÒNG").
    pub signer_title: String,
    /// The signer's full name; empty leaves it for the hand.
    pub signer_name: String,
    /// "Nơi nhận:" lines as written.
    pub recipients: Vec<String>,
}

impl Default for Office {
    fn default() -> Self {
        Self {
            parent_agency: "UBND HUYỆN TAM NÔNG".into(),
            agency: "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO".into(),
            place: "Tam Nông".into(),
            symbol: "BC-PGDĐT".into(),
            signer_title: "TRƯỞNG PHÒNG".into(),
            signer_name: String::new(),
            recipients: vec![
                "- UBND huyện Tam Nông (để báo cáo);".into(),
                "- Sở GD&ĐT Đồng Tháp (để báo cáo);".into(),
                "- Lãnh đạo Phòng GD&ĐT;".into(),
                "- Các trường MN, TH, THCS;".into(),
                "- Lưu: VT.".into(),
            ],
        }
    }
}
