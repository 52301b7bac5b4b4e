//! The school's commands as forms: one declarative [`Spec`] per command (its fields, the duty
//! it needs, how what was typed becomes the gRPC request), rendered and submitted by one pair
//! of handlers (`crate::pages::commands`). What the domain judges — dates in the plan, answers
//! after questions, amounts — is left to the agent, so the message shown beside a field is the
//! domain's own; only what cannot even be sent (a date or an amount that is not one) is refused
//! here, against its field, in the same words.

pub mod specs;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use chrono::NaiveDate;
use domain::duties::Duty;
use domain::school::activity_list::ActivityList;
use domain::school::records::Records;
use domain::{Plan, Role};

use crate::agent::Agent;

/// What a person typed, by field name.
pub type Values = BTreeMap<String, String>;

/// How a field is typed.
#[derive(Debug, Clone)]
pub enum Input {
    Text,
    /// Several lines (a long text, or one entry per line where the label says so).
    Long,
    /// A date picker; `dd/mm/yyyy` typed by hand is read too.
    Date,
    /// A whole number (a year, points).
    Number,
    /// An amount in đồng, typed with or without grouping dots.
    Money,
    /// One of (value, label).
    Choice(Vec<(String, String)>),
}

/// One field of a form. Its `name` is the request field the agent names in a refusal.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
    pub optional: bool,
}

impl Field {
    pub fn new(name: &'static str, label: &'static str, input: Input) -> Self {
        Self {
            name,
            label,
            input,
            optional: false,
        }
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
}

/// What the forms' choices come from: the plan and the records the log holds.
#[derive(Debug)]
pub struct Context<'a> {
    pub plan: Option<&'a Plan>,
    pub activities: &'a ActivityList,
    pub records: &'a Records,
    pub today: NaiveDate,
}

/// A refusal against one field (`field` empty: the form as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: String,
    pub message: String,
}

impl Refusal {
    pub fn at(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

pub type Sent<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// Why a form did not go through.
#[derive(Debug)]
pub enum SendError {
    /// What was typed cannot be sent (refused here).
    Typed(Refusal),
    /// The agent's answer.
    Status(tonic::Status),
}

impl From<Refusal> for SendError {
    fn from(r: Refusal) -> Self {
        SendError::Typed(r)
    }
}

impl From<tonic::Status> for SendError {
    fn from(s: tonic::Status) -> Self {
        SendError::Status(s)
    }
}

/// One command as a form.
#[derive(Debug)]
pub struct Spec {
    /// Its address: `/ghi/<slug>`.
    pub slug: &'static str,
    pub title: &'static str,
    /// One sentence under the title: what it is for.
    pub intro: &'static str,
    pub duty: Duty,
    pub fields: fn(&Context) -> Vec<Field>,
    pub send: for<'a> fn(&'a mut Agent, &'a Values) -> Sent<'a>,
}

impl Spec {
    /// Whether `role` may use it (the form is offered only then; the agent checks again).
    pub fn allowed(&self, role: Role) -> bool {
        self.duty.allows(role)
    }

    /// The form's field a refused request field names, the most specific segment that is one:
    /// `criteria[1].points` → `criteria`, `duty.person` → `person` (though `duty` is a field
    /// too); empty when none of the form's fields matches.
    pub fn field_of(&self, context: &Context, path: &str) -> String {
        let names: Vec<&str> = (self.fields)(context).iter().map(|f| f.name).collect();
        path.rsplit('.')
            .map(|segment| segment.split('[').next().unwrap_or(segment))
            .find(|segment| names.contains(segment))
            .unwrap_or("")
            .to_owned()
    }
}

/// The value of `name`, trimmed.
pub fn text<'v>(values: &'v Values, name: &str) -> &'v str {
    values.get(name).map_or("", |v| v.trim())
}

/// A date as the wire wants it (`YYYY-MM-DD`), from the picker or `dd/mm/yyyy`; empty stays
/// empty (the domain says it is required, in its words).
pub fn date(values: &Values, name: &str) -> Result<String, Refusal> {
    let typed = text(values, name);
    if typed.is_empty() {
        return Ok(String::new());
    }
    NaiveDate::parse_from_str(typed, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(typed, "%d/%m/%Y"))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| {
            Refusal::at(
                name,
                format!("«{typed}» không phải là ngày (ngày/tháng/năm)."),
            )
        })
}

/// An amount in đồng: `1.500.000`, `1 500 000`, `1500000 đ`.
pub fn money(values: &Values, name: &str) -> Result<i64, Refusal> {
    let typed = text(values, name);
    parse_money(typed).ok_or_else(|| {
        Refusal::at(
            name,
            format!("«{typed}» không phải là số tiền (đồng), ví dụ 1.500.000."),
        )
    })
}

fn parse_money(typed: &str) -> Option<i64> {
    let digits: String = typed
        .trim_end_matches(['đ', 'Đ'])
        .trim()
        .chars()
        .filter(|c| !matches!(c, '.' | ' ' | '\u{a0}'))
        .collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A whole number.
pub fn number(values: &Values, name: &str) -> Result<i64, Refusal> {
    let typed = text(values, name);
    typed
        .parse()
        .map_err(|_| Refusal::at(name, format!("«{typed}» không phải là một số nguyên.")))
}

/// Lines of `a | b`, each split in two (empty lines skipped); `what` names the line's parts
/// in the refusal.
pub fn pairs<'v>(
    values: &'v Values,
    name: &str,
    what: &str,
) -> Result<Vec<(&'v str, &'v str)>, Refusal> {
    text(values, name)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, line)| {
            line.rsplit_once('|')
                .map(|(a, b)| (a.trim(), b.trim()))
                .ok_or_else(|| {
                    Refusal::at(
                        name,
                        format!("Dòng {}: cần ghi «{what}», cách nhau bằng dấu |.", i + 1),
                    )
                })
        })
        .collect()
}

/// An amount of a line, refused against the whole field.
pub fn line_money(name: &str, line: usize, typed: &str) -> Result<i64, Refusal> {
    parse_money(typed).ok_or_else(|| {
        Refusal::at(
            name,
            format!("Dòng {line}: «{typed}» không phải là số tiền (đồng)."),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn dates_and_amounts_as_people_type_them() {
        let v = values(&[
            ("d", "08/03/2018"),
            ("p", "2018-03-08"),
            ("x", "8 tháng 3"),
            ("m", "1.500.000 đ"),
            ("n", "1,5 triệu"),
        ]);
        assert_eq!(date(&v, "d").unwrap(), "2018-03-08");
        assert_eq!(date(&v, "p").unwrap(), "2018-03-08");
        assert_eq!(date(&v, "x").unwrap_err().field, "x");
        assert_eq!(date(&v, "absent").unwrap(), "");
        assert_eq!(money(&v, "m").unwrap(), 1_500_000);
        assert!(money(&v, "n").unwrap_err().message.contains("1,5 triệu"));
    }

    #[test]
    fn lines_split_at_the_last_bar() {
        let v = values(&[
            ("l", "In tờ rơi | 2.000.000\n\nThuê loa | 500.000"),
            ("bad", "In tờ rơi 2.000.000"),
        ]);
        assert_eq!(
            pairs(&v, "l", "khoản | số tiền").unwrap(),
            [("In tờ rơi", "2.000.000"), ("Thuê loa", "500.000")]
        );
        assert!(
            pairs(&v, "bad", "khoản | số tiền")
                .unwrap_err()
                .message
                .starts_with("Dòng 1")
        );
    }
}
