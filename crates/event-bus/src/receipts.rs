//! What the district tells one school about its events: how far it applied the school's log
//! and which events it refused or holds, so that the school's staff can see *Phòng đã nhận*
//! and *Phòng từ chối* on their own records.
//!
//! The school is behind NAT and only ever connects out, so the receipt rides on the head
//! announcement it already makes (`crate::heads`): the announcement carries a reply subject
//! inside the school's own inbox (`_INBOX.<p>.<d>.<s>.receipts`), and the aggregator answers
//! there with a JSON [`Receipt`]. Only that school may subscribe to its inbox, and the
//! aggregator may publish only to reply subjects of messages it received (`allow_responses`),
//! so no school reads another's receipt and the aggregator cannot be made to write elsewhere.
//! The answer is computed from the *subject's* school, never from anything in the body.
//!
//! Wire format: a JSON [`Receipt`] body; unknown fields are ignored, so the district can add
//! to it without breaking older agents.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::subjects::{SchoolAddress, inbox_prefix};

/// Most refusals one receipt lists (the newest); a school with more has a problem the
/// district's officers see on their own pages.
pub const MAX_REFUSALS: usize = 50;

/// The district's answer to one school's head announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Every seq up to this one was applied or refused by the district, exactly once.
    pub applied_seq: u64,
    /// Events the district refused (dead-lettered), newest last, at most [`MAX_REFUSALS`].
    #[serde(default)]
    pub refused: Vec<Refusal>,
    /// Events the district holds back (a gap before them, the school not enrolled yet).
    #[serde(default)]
    pub held: Vec<Refusal>,
    /// When the district answered.
    pub at: DateTime<Utc>,
    /// The district plan's terms for this school: answer deadlines and activity targets.
    /// Absent before the district adopted its plan (and from older aggregators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<DistrictTerms>,
}

/// What the district's plan asks of this school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistrictTerms {
    /// The district plan's number, e.g. `1442/KH-PGDĐT`.
    pub plan_number: String,
    /// Days to answer a citizen's feedback, and a press issue.
    pub answer_feedback_days: u32,
    pub answer_press_days: u32,
    /// The targets for the school's level: at least `min_activities` in `area` (every area
    /// when absent) per `per` (`quarter`, `semester`, `school_year`, `calendar_year`).
    #[serde(default)]
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<u8>,
    pub per: String,
    pub min_activities: u32,
}

/// One event the district did not apply, and why, in the district's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<Uuid>,
    pub reason: String,
}

/// The subject a school receives its receipts on: inside its own inbox.
pub fn receipts_subject(school: &SchoolAddress) -> String {
    format!("{}.receipts", inbox_prefix(school))
}

/// Reads a receipt; `None` for anything malformed (the next announcement brings another).
pub fn parse(payload: &[u8]) -> Option<Receipt> {
    serde_json::from_slice(payload).ok()
}

/// The receipt's JSON body.
pub fn encode(receipt: &Receipt) -> Vec<u8> {
    serde_json::to_vec(receipt).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_receipt_reads_back_and_ignores_fields_it_does_not_know() {
        let receipt = Receipt {
            applied_seq: 12,
            refused: vec![Refusal {
                seq: 9,
                event_id: Some(Uuid::now_v7()),
                reason: "rule: activity date outside the plan period".into(),
            }],
            held: vec![],
            at: Utc::now(),
            district: Some(DistrictTerms {
                plan_number: "1442/KH-PGDĐT".into(),
                answer_feedback_days: 15,
                answer_press_days: 7,
                targets: vec![Target {
                    area: None,
                    per: "semester".into(),
                    min_activities: 2,
                }],
            }),
        };
        assert_eq!(parse(&encode(&receipt)), Some(receipt.clone()));
        let mut value = serde_json::to_value(&receipt).unwrap();
        value["targets"] = serde_json::json!({"later": true});
        assert_eq!(
            parse(&serde_json::to_vec(&value).unwrap()),
            Some(receipt),
            "a newer district's fields are ignored"
        );
        assert_eq!(parse(b"not json"), None);
    }

    #[test]
    fn the_subject_is_in_the_school_s_own_inbox() {
        let school = SchoolAddress::parse("dong-thap", "tam-nong", "thcs-an-hoa").unwrap();
        assert_eq!(
            receipts_subject(&school),
            "_INBOX.dong-thap.tam-nong.thcs-an-hoa.receipts"
        );
    }
}
