//! The school's other records as its staff work from them: citizen feedback and press issues
//! with their answers (the school app's inbox), reporter visits, nominations and their
//! outcome, and the budget of each year (estimated, spent, settled). Folded from the school's
//! own log in seq order, with the seq of each record's latest change (its delivery to the
//! district). Pure, like [`super::activity_list`].

use std::collections::BTreeMap;

use chrono::{Datelike as _, NaiveDate};
use uuid::Uuid;

use crate::event::Event;
use crate::roles::{Channel, CommendationLevel, NomineeKind};

/// Whether an inbox item is a citizen's feedback or a press issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind {
    Feedback,
    Press,
}

/// A citizen's feedback or a press issue, and its answer once given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEntry {
    pub kind: CaseKind,
    pub id: Uuid,
    pub received_on: NaiveDate,
    /// Who raised it: the citizen (empty when anonymous) or the outlet.
    pub from: String,
    pub subject: String,
    pub channel: Option<Channel>,
    pub answered_on: Option<NaiveDate>,
    pub answer: Option<String>,
    pub last_seq: u64,
}

/// A nomination and the commendation it led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NominationEntry {
    pub id: Uuid,
    pub date: NaiveDate,
    pub nominee_kind: NomineeKind,
    pub nominee: String,
    pub achievement: String,
    pub proposed_level: CommendationLevel,
    /// The level awarded, the decision's number and date.
    pub awarded: Option<(CommendationLevel, String, NaiveDate)>,
    pub last_seq: u64,
}

/// A reporter's visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitEntry {
    pub id: Uuid,
    pub date: NaiveDate,
    pub outlet: String,
    pub reporter: String,
    pub purpose: String,
    pub seq: u64,
}

/// One year's communication budget, in đồng.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BudgetYearEntry {
    pub estimated: Option<i64>,
    pub spent: i64,
    pub expenses: u32,
    pub settled: Option<i64>,
    pub last_seq: u64,
}

/// The school's records other than activities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Records {
    cases: Vec<CaseEntry>,
    nominations: Vec<NominationEntry>,
    visits: Vec<VisitEntry>,
    budgets: BTreeMap<i32, BudgetYearEntry>,
    /// Emulation criteria adopted: school year → (seq, number of criteria).
    criteria: BTreeMap<i32, (u64, usize)>,
}

impl Records {
    /// Folds one event at `seq` (in seq order); activities and plan events are skipped.
    pub fn apply(&mut self, seq: u64, event: &Event) {
        match event {
            Event::FeedbackReceived(e) => self.cases.push(CaseEntry {
                kind: CaseKind::Feedback,
                id: e.feedback_id,
                received_on: e.received_on,
                from: e.citizen.clone().unwrap_or_default(),
                subject: e.subject.clone(),
                channel: Some(e.channel),
                answered_on: None,
                answer: None,
                last_seq: seq,
            }),
            Event::PressIssueRaised(e) => self.cases.push(CaseEntry {
                kind: CaseKind::Press,
                id: e.issue_id,
                received_on: e.raised_on,
                from: e.outlet.clone(),
                subject: e.title.clone(),
                channel: None,
                answered_on: None,
                answer: None,
                last_seq: seq,
            }),
            Event::FeedbackAnswered(e) => self.answer(
                CaseKind::Feedback,
                e.feedback_id,
                e.answered_on,
                &e.answer,
                seq,
            ),
            Event::PressIssueAnswered(e) => {
                self.answer(CaseKind::Press, e.issue_id, e.answered_on, &e.response, seq)
            }
            Event::ReporterVisitHosted(e) => self.visits.push(VisitEntry {
                id: e.visit_id,
                date: e.date,
                outlet: e.outlet.clone(),
                reporter: e.reporter.clone(),
                purpose: e.purpose.clone(),
                seq,
            }),
            Event::NomineeNominated(e) => self.nominations.push(NominationEntry {
                id: e.nomination_id,
                date: e.date,
                nominee_kind: e.nominee_kind,
                nominee: e.nominee.clone(),
                achievement: e.achievement.clone(),
                proposed_level: e.proposed_level,
                awarded: None,
                last_seq: seq,
            }),
            Event::CommendationAwarded(e) => {
                if let Some(n) = self
                    .nominations
                    .iter_mut()
                    .find(|n| n.id == e.nomination_id)
                {
                    n.awarded = Some((e.level, e.decision_number.clone(), e.decision_date));
                    n.last_seq = seq;
                }
            }
            Event::EmulationCriteriaAdopted(e) => {
                self.criteria.insert(e.school_year, (seq, e.criteria.len()));
            }
            Event::BudgetEstimated(e) => {
                let year = self.budgets.entry(e.year).or_default();
                year.estimated = Some(e.total().dong());
                year.last_seq = seq;
            }
            Event::ExpenseRecorded(e) => {
                let year = self.budgets.entry(e.spent_on.year()).or_default();
                year.spent += e.amount.dong();
                year.expenses += 1;
                year.last_seq = seq;
            }
            Event::BudgetSettled(e) => {
                let year = self.budgets.entry(e.year).or_default();
                year.settled = Some(e.settled_amount.dong());
                year.last_seq = seq;
            }
            _ => {}
        }
    }

    fn answer(&mut self, kind: CaseKind, id: Uuid, on: NaiveDate, answer: &str, seq: u64) {
        if let Some(case) = self.cases.iter_mut().find(|c| c.kind == kind && c.id == id) {
            case.answered_on = Some(on);
            case.answer = Some(answer.to_owned());
            case.last_seq = seq;
        }
    }

    /// The inbox: unanswered first, the oldest of them first; then the answered, newest first.
    pub fn inbox(&self) -> Vec<&CaseEntry> {
        let mut open: Vec<&CaseEntry> = self
            .cases
            .iter()
            .filter(|c| c.answered_on.is_none())
            .collect();
        open.sort_by_key(|c| c.received_on);
        let mut answered: Vec<&CaseEntry> = self
            .cases
            .iter()
            .filter(|c| c.answered_on.is_some())
            .collect();
        answered.sort_by_key(|c| std::cmp::Reverse(c.answered_on));
        open.extend(answered);
        open
    }

    /// The unanswered cases of `kind`, oldest first (the answer form's choices).
    pub fn open(&self, kind: CaseKind) -> Vec<&CaseEntry> {
        let mut open: Vec<&CaseEntry> = self
            .cases
            .iter()
            .filter(|c| c.kind == kind && c.answered_on.is_none())
            .collect();
        open.sort_by_key(|c| c.received_on);
        open
    }

    /// Newest first.
    pub fn nominations(&self) -> impl Iterator<Item = &NominationEntry> {
        self.nominations.iter().rev()
    }

    /// Newest first.
    pub fn visits(&self) -> impl Iterator<Item = &VisitEntry> {
        self.visits.iter().rev()
    }

    /// By year.
    pub fn budgets(&self) -> &BTreeMap<i32, BudgetYearEntry> {
        &self.budgets
    }

    /// School year → (seq, how many criteria).
    pub fn criteria(&self) -> &BTreeMap<i32, (u64, usize)> {
        &self.criteria
    }

    /// The seq of every record's latest change, for the delivery tally.
    pub fn latest_seqs(&self) -> impl Iterator<Item = u64> + '_ {
        self.cases
            .iter()
            .map(|c| c.last_seq)
            .chain(self.nominations.iter().map(|n| n.last_seq))
            .chain(self.visits.iter().map(|v| v.seq))
            .chain(self.budgets.values().map(|b| b.last_seq))
            .chain(self.criteria.values().map(|(seq, _)| *seq))
    }
}

/// Days from `received_on` until the answer is due (`within` days), counted from `today`:
/// negative when overdue.
pub fn days_left(received_on: NaiveDate, within: u32, today: NaiveDate) -> i64 {
    (received_on + chrono::Days::new(u64::from(within)) - today).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vnd;
    use crate::event::{
        BudgetEstimated, BudgetLine, ExpenseRecorded, FeedbackAnswered, FeedbackReceived,
        PressIssueRaised,
    };

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    fn feedback(id: Uuid, on: NaiveDate) -> Event {
        Event::FeedbackReceived(FeedbackReceived {
            feedback_id: id,
            received_on: on,
            channel: Channel::Hotline,
            citizen: Some("Lê Văn Tám".into()),
            subject: "Hỏi về tuyển sinh lớp 6".into(),
            content: "Con tôi ở ấp 3 có được học ở trường không?".into(),
            area: None,
        })
    }

    #[test]
    fn the_inbox_puts_the_oldest_unanswered_first_and_answers_move_down() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut r = Records::default();
        r.apply(1, &feedback(a, d(2018, 3, 1)));
        r.apply(
            2,
            &Event::PressIssueRaised(PressIssueRaised {
                issue_id: b,
                raised_on: d(2018, 2, 20),
                outlet: "Báo Đồng Tháp".into(),
                title: "Phụ huynh phản ánh khoản thu đầu năm".into(),
                summary: "Bài báo nêu khoản thu quỹ phụ huynh.".into(),
                url: None,
                area: None,
            }),
        );
        r.apply(3, &feedback(c, d(2018, 3, 5)));
        r.apply(
            4,
            &Event::FeedbackAnswered(FeedbackAnswered {
                feedback_id: a,
                answered_on: d(2018, 3, 6),
                channel: Channel::Hotline,
                answer: "Được, theo tuyến tuyển sinh của xã.".into(),
            }),
        );
        let order: Vec<Uuid> = r.inbox().iter().map(|c| c.id).collect();
        assert_eq!(order, [b, c, a]);
        assert_eq!(r.open(CaseKind::Feedback).len(), 1);
        assert_eq!(r.inbox()[2].last_seq, 4);
        assert_eq!(days_left(d(2018, 3, 5), 15, d(2018, 3, 10)), 10);
        assert_eq!(days_left(d(2018, 2, 20), 7, d(2018, 3, 10)), -11);
    }

    #[test]
    fn a_year_s_budget_sums_its_expenses() {
        let mut r = Records::default();
        r.apply(
            1,
            &Event::BudgetEstimated(BudgetEstimated {
                year: 2018,
                estimated_on: d(2018, 1, 5),
                lines: vec![BudgetLine {
                    item: "In tờ rơi tuyển sinh".into(),
                    amount: Vnd::parse("amount", 2_000_000).expect("valid"),
                }],
            }),
        );
        for (seq, amount) in [(2, 500_000), (3, 750_000)] {
            r.apply(
                seq,
                &Event::ExpenseRecorded(ExpenseRecorded {
                    expense_id: Uuid::now_v7(),
                    spent_on: d(2018, 4, 2),
                    item: "In tờ rơi".into(),
                    amount: Vnd::parse("amount", amount).expect("valid"),
                    activity_id: None,
                    voucher: None,
                }),
            );
        }
        let year = &r.budgets()[&2018];
        assert_eq!(
            (
                year.estimated,
                year.spent,
                year.expenses,
                year.settled,
                year.last_seq
            ),
            (Some(2_000_000), 1_250_000, 2, None, 3)
        );
    }
}
