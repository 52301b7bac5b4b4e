//! The school's activities as its staff work from them: each activity's current details
//! (corrections replace them whole), whether it was retracted and why, and the seq of its
//! latest change — which says whether that change has reached the district. Folded from the
//! school's own log, in seq order; pure, so the school app and its tests share it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::event::{ActivityDetails, Event};

/// One activity as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEntry {
    pub activity_id: Uuid,
    pub details: ActivityDetails,
    /// The seq that recorded it.
    pub recorded_seq: u64,
    /// The seq of its latest change (record, correction or retraction).
    pub last_seq: u64,
    /// When and by whom it was recorded (the account's full name).
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
    pub corrections: u32,
    /// The reason, when it was retracted.
    pub retracted: Option<String>,
}

/// Every activity of a log, in the order they were recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityList {
    entries: Vec<ActivityEntry>,
}

impl ActivityList {
    /// Folds one event at `seq` (in seq order); events other than activities are skipped, as
    /// are corrections of an activity the log never recorded (the agent refuses those).
    pub fn apply(&mut self, seq: u64, recorded_at: DateTime<Utc>, actor: &str, event: &Event) {
        match event {
            Event::ActivityRecorded(e) => self.entries.push(ActivityEntry {
                activity_id: e.activity_id,
                details: e.details.clone(),
                recorded_seq: seq,
                last_seq: seq,
                recorded_at,
                recorded_by: actor.to_owned(),
                corrections: 0,
                retracted: None,
            }),
            Event::ActivityCorrected(e) => {
                if let Some(entry) = self.entry_mut(e.activity_id) {
                    entry.details = e.details.clone();
                    entry.last_seq = seq;
                    entry.corrections += 1;
                }
            }
            Event::ActivityRetracted(e) => {
                if let Some(entry) = self.entry_mut(e.activity_id) {
                    entry.retracted = Some(e.reason.clone());
                    entry.last_seq = seq;
                }
            }
            _ => {}
        }
    }

    fn entry_mut(&mut self, id: Uuid) -> Option<&mut ActivityEntry> {
        self.entries.iter_mut().find(|e| e.activity_id == id)
    }

    pub fn get(&self, id: Uuid) -> Option<&ActivityEntry> {
        self.entries.iter().find(|e| e.activity_id == id)
    }

    /// Newest recorded first.
    pub fn newest_first(&self) -> impl Iterator<Item = &ActivityEntry> {
        self.entries.iter().rev()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::event::{ActivityCorrected, ActivityRecorded, ActivityRetracted};
    use crate::{Channel, ContentArea, Role};

    fn details(title: &str) -> ActivityDetails {
        ActivityDetails {
            date: NaiveDate::from_ymd_opt(2018, 3, 8).expect("valid date"),
            area: ContentArea::ALL[2],
            topic: None,
            channel: Channel::DistrictRadio,
            title: title.into(),
            summary: "Phát thanh về hướng nghiệp cho học sinh lớp 9.".into(),
            audience: None,
            reach: None,
            partner: None,
            evidence_url: None,
            responsible: Role::VicePrincipal,
        }
    }

    #[test]
    fn corrections_replace_the_details_and_the_latest_change_is_remembered() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let at = Utc::now();
        let mut list = ActivityList::default();
        list.apply(
            1,
            at,
            "Nguyễn Thị Hồng Nhung",
            &Event::ActivityRecorded(ActivityRecorded {
                activity_id: a,
                details: details("Chuyên mục hướng nghiệp"),
            }),
        );
        list.apply(
            2,
            at,
            "Trần Văn Lợi",
            &Event::ActivityRecorded(ActivityRecorded {
                activity_id: b,
                details: details("Họp phụ huynh"),
            }),
        );
        list.apply(
            3,
            at,
            "Nguyễn Thị Hồng Nhung",
            &Event::ActivityCorrected(ActivityCorrected {
                activity_id: a,
                reason: "Sai tên chuyên mục".into(),
                details: details("Chuyên mục tư vấn hướng nghiệp"),
            }),
        );
        list.apply(
            4,
            at,
            "Trần Văn Lợi",
            &Event::ActivityRetracted(ActivityRetracted {
                activity_id: b,
                reason: "Ghi trùng".into(),
            }),
        );
        let entry = list.get(a).expect("recorded");
        assert_eq!(entry.details.title, "Chuyên mục tư vấn hướng nghiệp");
        assert_eq!(
            (entry.recorded_seq, entry.last_seq, entry.corrections),
            (1, 3, 1)
        );
        assert_eq!(entry.recorded_by, "Nguyễn Thị Hồng Nhung");
        let retracted = list.get(b).expect("recorded");
        assert_eq!(retracted.retracted.as_deref(), Some("Ghi trùng"));
        assert_eq!(retracted.last_seq, 4);
        let order: Vec<Uuid> = list.newest_first().map(|e| e.activity_id).collect();
        assert_eq!(order, [b, a]);
    }
}
