//! The pages, one module each, and what they share: the query parameters and the schools'
//! names.
//!
//! Every handler reads the aggregator (never anything else), returns a whole page or a
//! [`PageError`], and checks the period against the district plan before asking for a view.

pub mod account;
pub mod admin;
pub mod bundles;
pub mod completeness;
pub mod dead_letters;
pub mod evidence;
pub mod ingest;
pub mod plan;
pub mod reports;
pub mod responsiveness;
pub mod school;
pub mod sign_in;

use std::collections::HashMap;

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use serde::Deserialize;

use wire::pb;

use crate::error::PageError;

/// The query parameters the pages understand, in Vietnamese as the office sees them in the
/// address bar. Each page reads those it needs and ignores the others.
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    /// The period (`kỳ`): `2018-Q1`, `2017-2018-HK1`, `plan`, …
    pub ky: Option<String>,
    /// A school code (`trường`), for the report downloads.
    pub truong: Option<String>,
    /// The as-of date of the responsiveness view (`đến ngày`).
    #[serde(rename = "den-ngay")]
    pub den_ngay: Option<String>,
    /// The author filter of the dead letters (`tác giả`).
    #[serde(rename = "tac-gia")]
    pub tac_gia: Option<String>,
    /// The page token of the next page of dead letters (`tiếp`).
    pub tiep: Option<String>,
}

/// The query as an extractor result: a query string that does not decode is a bad request.
pub type ParamsQuery = Result<Query<Params>, QueryRejection>;

impl Params {
    pub fn read(query: ParamsQuery) -> Result<Params, PageError> {
        query.map(|Query(p)| p).map_err(|e| {
            PageError::bad_request(
                format!("the query string does not decode: {e}"),
                "Địa chỉ trang có tham số không đọc được.",
            )
        })
    }

    /// A parameter, `None` when absent or blank.
    pub fn given(value: &Option<String>) -> Option<&str> {
        value.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
}

/// The enrolled schools by code, for showing names where the views have codes.
#[derive(Debug, Default)]
pub struct SchoolNames<'a> {
    by_code: HashMap<&'a str, &'a pb::EnrolledSchool>,
}

impl<'a> SchoolNames<'a> {
    pub fn new(schools: &'a [pb::EnrolledSchool]) -> Self {
        Self {
            by_code: schools.iter().map(|s| (s.code.as_str(), s)).collect(),
        }
    }

    /// The school's name, or its code when the aggregator knows no name (not enrolled), or
    /// "Phòng GD-ĐT" for the district office's own log.
    pub fn name(&self, code: &str) -> String {
        if code == "_district" {
            return "Phòng GD-ĐT (nhật ký của Phòng)".to_string();
        }
        self.by_code
            .get(code)
            .map_or_else(|| code.to_string(), |s| s.name.clone())
    }

    pub fn get(&self, code: &str) -> Option<&'a pb::EnrolledSchool> {
        self.by_code.get(code).copied()
    }
}

/// `value` percent-encoded for a query string: everything but the unreserved characters of
/// RFC 3986 (opaque page tokens may hold `+`, `/` or `=`).
pub fn query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The address of a school's page for a period.
pub fn school_href(code: &str, ky: &str) -> String {
    format!("/truong/{code}?ky={ky}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(query_value("thcs-an-hoa_1.x~"), "thcs-an-hoa_1.x~");
        assert_eq!(query_value("a+b/c=="), "a%2Bb%2Fc%3D%3D");
        assert_eq!(query_value("Hòa"), "H%C3%B2a");
    }
}
