//! The report as JSON: its metadata, text and tables, numbers as numbers (rates as shares
//! 0..1, amounts in đồng), for other programs. The shape is [`crate::model::Report`]'s.

use crate::model::Report;

pub fn render(report: &Report) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec_pretty(report)
}
