//! Reads the plan a school already wrote — a Word file (.docx) or plain text like
//! `deploy/plans/kh-114-thcs-an-hoa-2017.txt` — into a *proposed* structured plan.
//!
//! Every school has its communication plan (Kế hoạch truyền thông) as a document laid out by the
//! administrative conventions of Decree 30/2020/NĐ-CP. Typing it again into a form is slow and
//! error-prone, so the school app uploads the document, calls [`read_upload`] with its bytes and
//! shows the [`Reading`] as a review form. The person corrects it; the app then calls
//! [`ProposedPlan::to_plan`] and adopts what the person confirmed.
//!
//! The reader proposes, it never decides. Two lists say what it did not take from the text:
//!
//! - [`Reading::unread`]: what it could not read (a missing date, a legal basis without an
//!   issuer, a duty heading that names no known role). Each names the field path as the form
//!   shows it (`number`, `date`, `legal_bases[2].date`, `content_areas`, `duties[3].role`) and
//!   says in Vietnamese what is missing, with the text it found when there was some.
//! - [`Reading::notes`]: what it filled in or changed by a rule rather than by reading it
//!   verbatim, for the person to check: topic codes generated from the titles, a period's end
//!   taken as 31 December of the year the title names, agency names converted from upper case,
//!   a document cited in the body proposed as a legal basis, a paragraph it left out.
//!
//! Nothing is guessed silently: a value is either read from the text, derived by a rule a
//! note names, or reported unread.
//!
//! Pure and synchronous: no network, no filesystem, no clock. It runs on the server (the
//! uploaded bytes are untrusted, so sizes are capped, archives are read within limits and no
//! input makes it panic).

mod citation;
mod docx;
mod proposal;
mod reader;
mod text;
mod upload;

#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use domain::codes::Slug;
use domain::roles::{ContentArea, Role};
use serde::{Deserialize, Serialize};

pub use docx::{DocxError, MAX_DOCUMENT_XML, read_docx};
pub use reader::read_text;
pub use upload::{MAX_UPLOAD, UploadError, read_upload};

/// What the reader made of a document: the proposal, what it could not read, what to check.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reading {
    pub proposal: ProposedPlan,
    /// What could not be read, in the order of the plan's fields.
    pub unread: Vec<Unread>,
    /// What was filled in or changed by a rule, for the person to check.
    pub notes: Vec<Note>,
}

/// A field the reader could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unread {
    /// The field path as the review form names it: `date`, `legal_bases[1].issuer`, `duties`.
    pub field: String,
    /// What is missing or wrong, in Vietnamese, for school staff.
    pub message: String,
    /// The text the reader found there, if any (e.g. a date that does not exist).
    pub found: Option<String>,
}

/// A value the reader derived, generated or changed by a rule: correct it if the rule is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The field path, as in [`Unread::field`].
    pub field: String,
    /// What was done, in Vietnamese.
    pub message: String,
}

/// The plan as far as it could be read: the fields of [`domain::plan::Plan`], each optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProposedPlan {
    /// Number and symbol, `114/KH-THCSAH`, as [`domain::plan::document_number`] accepts it.
    pub number: Option<String>,
    pub issuer: Option<String>,
    pub parent_agency: Option<String>,
    pub place: Option<String>,
    pub date: Option<NaiveDate>,
    pub title: Option<String>,
    pub period: ProposedPeriod,
    pub legal_bases: Vec<ProposedBasis>,
    pub purposes: Option<String>,
    pub requirements: Option<String>,
    pub content_areas: Vec<ProposedArea>,
    pub duties: Vec<ProposedDuties>,
}

/// The plan period: the years as written ("giai đoạn 2017 – 2020") and the dates proposed
/// from them (see the notes on `period.start` / `period.end`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProposedPeriod {
    /// The period as the text writes it: "giai đoạn 2017 – 2020".
    pub written: Option<String>,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
}

/// A document the plan is based on, as far as it could be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedBasis {
    pub number: Option<String>,
    pub date: Option<NaiveDate>,
    pub issuer: Option<String>,
    pub title: Option<String>,
    /// Where the reader found it.
    pub source: BasisSource,
    /// The text it was read from, for the review form.
    pub text: String,
}

/// Where a legal basis was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BasisSource {
    /// A "Căn cứ …" paragraph (or an item of a section of legal bases).
    Preamble,
    /// A document cited in the body of the plan, in the field named (`purposes`,
    /// `content_areas[0]`): proposed as a basis, for the person to confirm.
    Cited { field: String },
}

/// A content area as the plan covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedArea {
    /// The heading as written, numbering included: "3. Nhiệm vụ :".
    pub heading: String,
    /// The area, from the heading's wording or else its number; `None` when neither says.
    pub area: Option<ContentArea>,
    /// The plan's own wording of the area: the heading without numbering and final colon.
    pub title: String,
    pub topics: Vec<ProposedTopic>,
}

/// A topic of an area: a paragraph or list item of the area's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedTopic {
    /// Generated from the title (the text has no codes), unique within the area.
    pub code: Slug,
    pub title: String,
}

/// The duties under one heading of "Tổ chức thực hiện".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedDuties {
    /// The heading as written: "2. Phó Hiệu trường:".
    pub heading: String,
    /// The role the heading names; `None` when it names none the system knows.
    pub role: Option<Role>,
    pub duties: Vec<String>,
}
