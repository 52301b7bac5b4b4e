//! What a caller asks for: a period, an optional school, a format and an optional number —
//! parsed and checked before anything is fetched, with the field named in every refusal.

use std::fmt;
use std::str::FromStr;

use domain::{Period, Slug};

use crate::error::ReportError;

/// A report request, valid in form (whether the school exists and the period fits the plan
/// is checked against the aggregator by [`crate::gather`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRequest {
    pub period: Period,
    pub school: Option<Slug>,
    pub format: Format,
    /// The number in the office's register; `None` leaves it blank.
    pub number: Option<String>,
}

impl ReportRequest {
    /// Parses the parts as a user gives them. `fields` names each part the way the caller's
    /// interface does (`period`/`school`/`format` on gRPC, `ky`/`truong`/`dinh-dang` on HTTP).
    pub fn parse(
        fields: &Fields,
        period: &str,
        school: Option<&str>,
        format: &str,
        number: Option<&str>,
    ) -> Result<Self, ReportError> {
        let period = parse_period(fields.period, period)?;
        let school = match school.map(str::trim).filter(|s| !s.is_empty()) {
            Some(code) => Some(
                Slug::parse(fields.school, code)
                    .map_err(|e| ReportError::from_domain(fields.school, e))?,
            ),
            None => None,
        };
        let format = Format::parse(fields.format, format)?;
        let number = number
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| {
                if n.chars().count() <= 20 && !n.contains(['/', '\n']) {
                    Ok(n.to_string())
                } else {
                    Err(ReportError::invalid(
                        fields.number,
                        format!("«{n}» is not a register number such as 12"),
                        format!("số văn bản «{n}» không hợp lệ: chỉ ghi số thứ tự, ví dụ 12"),
                    ))
                }
            })
            .transpose()?;
        Ok(Self {
            period,
            school,
            format,
            number,
        })
    }
}

/// A period, refusing blanks and unknown forms under `field`.
pub fn parse_period(field: &str, value: &str) -> Result<Period, ReportError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ReportError::invalid(
            field,
            "must not be empty: give a period such as 2018-Q1, 2017-2018-HK1, 2017-2018, 2018 or plan",
            "chưa chọn kỳ báo cáo (ví dụ 2018-Q1, 2017-2018-HK1, 2017-2018, 2018 hoặc plan)",
        ));
    }
    Period::from_str(value).map_err(|e| ReportError::from_domain(field, e))
}

/// How the fields of a request are named on one interface.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub period: &'static str,
    pub school: &'static str,
    pub format: &'static str,
    pub number: &'static str,
}

impl Fields {
    /// As `GenerateReportRequest` names them.
    pub const GRPC: Fields = Fields {
        period: "period",
        school: "school",
        format: "format",
        number: "number",
    };
    /// As the download URL and the command line name them.
    pub const VI: Fields = Fields {
        period: "ky",
        school: "truong",
        format: "dinh-dang",
        number: "so",
    };
}

/// A report's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Docx,
    Xlsx,
    Html,
    Csv,
    Json,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Docx,
        Format::Xlsx,
        Format::Html,
        Format::Csv,
        Format::Json,
    ];

    /// The file extension, also the code users type.
    pub fn extension(&self) -> &'static str {
        match self {
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Html => "html",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    pub fn media_type(&self) -> &'static str {
        match self {
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Html => "text/html; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        }
    }

    /// A format by its code (`docx`, `xlsx`, `html`, `csv`, `json`; `word` and `excel` too),
    /// refused under `field` otherwise.
    pub fn parse(field: &str, value: &str) -> Result<Self, ReportError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "docx" | "word" => Ok(Format::Docx),
            "xlsx" | "excel" => Ok(Format::Xlsx),
            "html" => Ok(Format::Html),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "" => Err(ReportError::invalid(
                field,
                "must not be empty: docx, xlsx, html, csv or json",
                "chưa chọn định dạng (docx, xlsx, html, csv hoặc json)",
            )),
            other => Err(ReportError::invalid(
                field,
                format!("{other:?} is not a format; expected docx, xlsx, html, csv or json"),
                format!("định dạng «{other}» không hỗ trợ (chỉ có docx, xlsx, html, csv, json)"),
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_request_parses_and_names_its_fields_when_wrong() {
        let r = ReportRequest::parse(&Fields::VI, "2018-Q1", Some("thcs-an-hoa"), "DOCX", None)
            .unwrap();
        assert_eq!(
            r.period,
            Period::Quarter {
                year: 2018,
                quarter: 1
            }
        );
        assert_eq!(r.school.unwrap().as_str(), "thcs-an-hoa");
        assert_eq!(r.format, Format::Docx);

        let e = ReportRequest::parse(&Fields::VI, "2018-Q5", None, "docx", None).unwrap_err();
        assert_eq!(e.field(), Some("ky"));
        assert!(e.vietnamese().contains("2018-Q5"), "{}", e.vietnamese());

        let e = ReportRequest::parse(&Fields::GRPC, "2018", Some("THCS An Hoa"), "docx", None)
            .unwrap_err();
        assert_eq!(e.field(), Some("school"));

        let e = ReportRequest::parse(&Fields::GRPC, "2018", None, "pdf", None).unwrap_err();
        assert_eq!(e.field(), Some("format"));
        assert!(e.vietnamese().contains("pdf"));

        let e = ReportRequest::parse(&Fields::GRPC, " ", None, "pdf", None).unwrap_err();
        assert_eq!(e.field(), Some("period"));
    }
}
