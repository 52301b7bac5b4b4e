//! Where a record stands on its way to the district, in the words the staff read.
//!
//! The agent publishes its log in seq order, so a record whose latest change has seq `s` is
//! *đã gửi* once JetStream acknowledged `s`; the district's receipt says how far the
//! aggregator applied the log and which seqs it refused or holds. Three states and a fourth
//! for refusals, never "queued" and "submitted" that look alike.

use wire::pb;

/// One record's delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Only on this PC.
    NotSent,
    /// In the district's stream; not yet applied there.
    Sent,
    /// Applied by the district's aggregator.
    Received,
    /// The district refused it; its reason.
    Refused(String),
    /// The district holds it back (a gap before it); its reason.
    Held(String),
}

impl Delivery {
    /// The delivery of the change at `seq`, from the agent's status.
    pub fn of(seq: u64, status: &pb::AgentStatus) -> Self {
        if let Some(refusal) = status.district_refusals.iter().find(|r| r.seq == seq) {
            return if refusal.held {
                Delivery::Held(held_reason(&refusal.reason))
            } else {
                Delivery::Refused(refusal.reason.clone())
            };
        }
        if seq <= status.district_applied_seq {
            Delivery::Received
        } else if seq <= status.last_published_seq {
            Delivery::Sent
        } else {
            Delivery::NotSent
        }
    }

    /// What the staff read.
    pub fn label(&self) -> &'static str {
        match self {
            Delivery::NotSent => "chưa gửi",
            Delivery::Sent => "đã gửi",
            Delivery::Received => "Phòng đã nhận",
            Delivery::Refused(_) => "Phòng từ chối",
            Delivery::Held(_) => "Phòng giữ lại",
        }
    }

    /// The CSS class and the `data-delivery` value tests read.
    pub fn code(&self) -> &'static str {
        match self {
            Delivery::NotSent => "chua-gui",
            Delivery::Sent => "da-gui",
            Delivery::Received => "phong-da-nhan",
            Delivery::Refused(_) => "phong-tu-choi",
            Delivery::Held(_) => "phong-giu-lai",
        }
    }

    /// What it means, for the tooltip and the legend.
    pub fn explanation(&self) -> String {
        match self {
            Delivery::NotSent => "Mới lưu trên máy này; sẽ gửi khi có mạng.".into(),
            Delivery::Sent => "Đã đến máy chủ của Phòng; Phòng chưa xử lý.".into(),
            Delivery::Received => "Phòng GD-ĐT đã nhận và ghi vào số liệu của huyện.".into(),
            Delivery::Refused(reason) => format!("Phòng không nhận (lý do của Phòng: {reason})"),
            Delivery::Held(reason) => format!("Phòng tạm giữ: {reason}"),
        }
    }
}

/// Why the district holds a record, in the staff's words (the aggregator sends its codes).
fn held_reason(code: &str) -> String {
    match code {
        "gap" => {
            "Phòng còn thiếu bản ghi trước bản ghi này; máy sẽ gửi bù khi Phòng yêu cầu.".into()
        }
        "not_enrolled" => {
            "Trường chưa có trong danh sách của Phòng; Phòng sẽ nhận khi thêm trường.".into()
        }
        "diverged" => "Sổ của trường khác với bản Phòng đã nhận; cần Phòng đối chiếu.".into(),
        "unknown_version" => {
            "Máy của Phòng chưa đọc được loại bản ghi này; sẽ nhận sau khi Phòng nâng cấp.".into()
        }
        other => other.to_owned(),
    }
}

/// How many records are in each state: for the summary every page shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub not_sent: usize,
    pub sent: usize,
    pub received: usize,
    pub refused: usize,
    pub held: usize,
}

impl Tally {
    pub fn add(&mut self, delivery: &Delivery) {
        match delivery {
            Delivery::NotSent => self.not_sent += 1,
            Delivery::Sent => self.sent += 1,
            Delivery::Received => self.received += 1,
            Delivery::Refused(_) => self.refused += 1,
            Delivery::Held(_) => self.held += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(published: u64, applied: u64, refusals: Vec<pb::DistrictRefusal>) -> pb::AgentStatus {
        pb::AgentStatus {
            last_published_seq: published,
            district_applied_seq: applied,
            district_refusals: refusals,
            ..Default::default()
        }
    }

    #[test]
    fn a_record_is_local_then_sent_then_received_and_a_refusal_says_why() {
        let s = status(
            7,
            5,
            vec![pb::DistrictRefusal {
                seq: 4,
                reason: "ngày ngoài kế hoạch".into(),
                held: false,
            }],
        );
        assert_eq!(Delivery::of(9, &s), Delivery::NotSent);
        assert_eq!(Delivery::of(7, &s), Delivery::Sent);
        assert_eq!(Delivery::of(5, &s), Delivery::Received);
        assert_eq!(
            Delivery::of(4, &s),
            Delivery::Refused("ngày ngoài kế hoạch".into())
        );
        let mut tally = Tally::default();
        for seq in 1..=9 {
            tally.add(&Delivery::of(seq, &s));
        }
        assert_eq!(
            tally,
            Tally {
                not_sent: 2,
                sent: 2,
                received: 4,
                refused: 1,
                held: 0,
            }
        );
    }

    #[test]
    fn a_held_record_says_why_in_words() {
        let s = status(
            2,
            1,
            vec![pb::DistrictRefusal {
                seq: 2,
                reason: "not_enrolled".into(),
                held: true,
            }],
        );
        match Delivery::of(2, &s) {
            Delivery::Held(why) => assert!(why.contains("chưa có trong danh sách"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn before_any_receipt_nothing_is_received() {
        let s = status(3, 0, vec![]);
        assert_eq!(Delivery::of(1, &s), Delivery::Sent);
        assert_eq!(Delivery::of(4, &s).label(), "chưa gửi");
    }
}
