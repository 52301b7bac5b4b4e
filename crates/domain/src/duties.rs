//! Who may issue which school command: the duties of the plan's "Tổ chức thực hiện".
//!
//! The school agent signs its staff in with accounts that carry one plan [`Role`]; before a
//! command is decided, [`check`] says whether that role's duties in the plan include it. The
//! table follows the plan's section on organising the work:
//! - the head (Hiệu trưởng) directs everything and may do every command;
//! - the head and the vice principal (Phó Hiệu trưởng) adopt and amend the plan; the vice
//!   principal is the focal point for the press, reporters' visits and the channels with
//!   citizens (feedback);
//! - the head assigns duties;
//! - the department heads (Tổ trưởng chuyên môn) put communication in the emulation criteria;
//! - the office team (Tổ văn phòng) estimates, spends and settles the communication budget;
//! - the trade union (Công đoàn) and the head propose exemplary people and record their
//!   commendations;
//! - any staff member records, corrects and retracts an activity;
//! - evidence is attached by whoever may record the record it is attached to.
//!
//! A refusal is a [`DomainError`] of kind [`ErrorKind::PermissionDenied`] whose Vietnamese
//! message names the duty and who holds it. `docs/school-accounts.md` shows the table.

use crate::command::Command;
use crate::error::{DomainError, ErrorKind, Rule};
use crate::evidence::EvidenceTarget;
use crate::roles::Role;

/// A duty of the plan: a group of commands and the roles that hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    /// Ban hành và bổ sung kế hoạch.
    Plan,
    /// Phân công nhiệm vụ.
    AssignDuties,
    /// Ghi nhận hoạt động truyền thông.
    Activities,
    /// Tiếp nhận và trả lời ý kiến của người dân.
    Feedback,
    /// Làm việc với báo chí, đón tiếp phóng viên.
    Press,
    /// Đề nghị và ghi nhận khen thưởng.
    Commendation,
    /// Đưa truyền thông vào tiêu chí thi đua.
    EmulationCriteria,
    /// Dự trù kinh phí.
    BudgetEstimate,
    /// Ghi chi và quyết toán kinh phí.
    Spending,
}

use Role::{DepartmentHead, OfficeTeam, Principal, Teacher, TradeUnion, VicePrincipal};

/// Every staff role, for the duties any staff member holds.
const ALL_STAFF: &[Role] = &[
    Principal,
    VicePrincipal,
    DepartmentHead,
    OfficeTeam,
    TradeUnion,
    Teacher,
];

impl Duty {
    pub const ALL: [Duty; 9] = [
        Duty::Plan,
        Duty::AssignDuties,
        Duty::Activities,
        Duty::Feedback,
        Duty::Press,
        Duty::Commendation,
        Duty::EmulationCriteria,
        Duty::BudgetEstimate,
        Duty::Spending,
    ];

    /// The duty a command belongs to.
    pub fn of(command: &Command) -> Duty {
        match command {
            Command::AdoptPlan(_) | Command::AmendPlan(_) => Duty::Plan,
            Command::AssignDuty(_) => Duty::AssignDuties,
            Command::RecordActivity(_)
            | Command::CorrectActivity(_)
            | Command::RetractActivity(_) => Duty::Activities,
            Command::ReceiveFeedback(_) | Command::AnswerFeedback(_) => Duty::Feedback,
            Command::RaisePressIssue(_)
            | Command::AnswerPressIssue(_)
            | Command::HostReporterVisit(_) => Duty::Press,
            Command::Nominate(_) | Command::AwardCommendation(_) => Duty::Commendation,
            Command::AdoptEmulationCriteria(_) => Duty::EmulationCriteria,
            Command::EstimateBudget(_) => Duty::BudgetEstimate,
            Command::RecordExpense(_) | Command::SettleBudget(_) => Duty::Spending,
            // Whoever may record the record may attach evidence to it.
            Command::AttachEvidence(c) => match c.record {
                EvidenceTarget::Activity(_) => Duty::Activities,
                EvidenceTarget::ReporterVisit(_) | EvidenceTarget::PressAnswer(_) => Duty::Press,
                EvidenceTarget::Expense(_) => Duty::Spending,
            },
        }
    }

    /// The roles that hold the duty, the plan's order (the head first).
    pub fn holders(self) -> &'static [Role] {
        match self {
            Duty::Plan => &[Principal, VicePrincipal],
            Duty::AssignDuties => &[Principal],
            Duty::Activities => ALL_STAFF,
            Duty::Feedback | Duty::Press => &[Principal, VicePrincipal],
            Duty::Commendation => &[Principal, TradeUnion],
            Duty::EmulationCriteria => &[Principal, DepartmentHead],
            Duty::BudgetEstimate | Duty::Spending => &[Principal, OfficeTeam],
        }
    }

    /// A stable code, for logs and the English message.
    pub fn code(self) -> &'static str {
        match self {
            Duty::Plan => "plan",
            Duty::AssignDuties => "assign_duties",
            Duty::Activities => "activities",
            Duty::Feedback => "feedback",
            Duty::Press => "press",
            Duty::Commendation => "commendation",
            Duty::EmulationCriteria => "emulation_criteria",
            Duty::BudgetEstimate => "budget_estimate",
            Duty::Spending => "spending",
        }
    }

    /// The duty as the plan's people say it.
    pub fn label_vi(self) -> &'static str {
        match self {
            Duty::Plan => "Ban hành và bổ sung kế hoạch",
            Duty::AssignDuties => "Phân công nhiệm vụ",
            Duty::Activities => "Ghi nhận hoạt động truyền thông",
            Duty::Feedback => "Tiếp nhận và trả lời ý kiến của người dân",
            Duty::Press => "Làm việc với báo chí và đón tiếp phóng viên",
            Duty::Commendation => "Đề nghị và ghi nhận khen thưởng",
            Duty::EmulationCriteria => "Đưa nội dung truyền thông vào tiêu chí thi đua",
            Duty::BudgetEstimate => "Dự trù kinh phí",
            Duty::Spending => "Ghi chi và quyết toán kinh phí",
        }
    }

    /// Whether `role` holds this duty.
    pub fn allows(self, role: Role) -> bool {
        self.holders().contains(&role)
    }
}

/// Whether a staff member of `role` may issue `command`: `Ok` or a refusal naming the duty.
pub fn check(role: Role, command: &Command) -> Result<(), DomainError> {
    let duty = Duty::of(command);
    if duty.allows(role) {
        Ok(())
    } else {
        Err(DomainError {
            kind: ErrorKind::PermissionDenied,
            field: "actor.role".to_owned(),
            rule: Rule::NotYourDuty {
                command: command.name(),
                duty,
                role,
            },
        })
    }
}

/// "Tổ văn phòng và Hiệu trưởng": the holders, the head last, as a sentence names them.
pub(crate) fn holders_vi(duty: Duty) -> String {
    if duty == Duty::Activities {
        return "mọi cán bộ, giáo viên của trường".to_owned();
    }
    let mut names: Vec<&str> = duty
        .holders()
        .iter()
        .filter(|r| **r != Principal)
        .map(|r| r.label_vi())
        .collect();
    names.push(Principal.label_vi());
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} và {last}", rest.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use uuid::Uuid;

    use super::*;
    use crate::event::BudgetSettled;
    use crate::money::Vnd;

    fn settle() -> Command {
        Command::SettleBudget(BudgetSettled {
            year: 2018,
            settled_on: NaiveDate::from_ymd_opt(2018, 12, 28).unwrap(),
            settled_amount: Vnd::parse("amount", 1_000_000).unwrap(),
            note: None,
        })
    }

    #[test]
    fn a_teacher_is_refused_settling_the_budget_with_the_duty_named() {
        // given a teacher's account, when it asks to settle the budget
        let err = check(Teacher, &settle()).unwrap_err();
        // then it is refused as not their duty, naming the command, the duty and its holders
        assert_eq!(err.kind, ErrorKind::PermissionDenied);
        assert_eq!(err.field, "actor.role");
        assert_eq!(
            err.to_string(),
            "actor.role teacher may not settle_budget: the plan gives duty spending to \
             principal, office_team"
        );
        assert_eq!(
            err.vietnamese(),
            "Ghi chi và quyết toán kinh phí là nhiệm vụ của Tổ văn phòng và Hiệu trưởng \
             (Kế hoạch, mục Tổ chức thực hiện); tài khoản Giáo viên không được làm."
        );
    }

    #[test]
    fn the_head_and_the_office_team_settle_the_budget() {
        assert_eq!(check(Principal, &settle()), Ok(()));
        assert_eq!(check(OfficeTeam, &settle()), Ok(()));
        assert!(check(VicePrincipal, &settle()).is_err());
        assert!(check(TradeUnion, &settle()).is_err());
    }

    #[test]
    fn the_head_holds_every_duty_and_the_district_office_none() {
        for duty in Duty::ALL {
            assert!(duty.allows(Principal), "{duty:?}");
            assert!(!duty.allows(Role::DistrictOffice), "{duty:?}");
        }
    }

    #[test]
    fn the_plans_duties_go_to_their_roles() {
        assert_eq!(Duty::Plan.holders(), &[Principal, VicePrincipal]);
        assert_eq!(Duty::Commendation.holders(), &[Principal, TradeUnion]);
        assert!(Duty::EmulationCriteria.allows(DepartmentHead));
        assert!(!Duty::Spending.allows(DepartmentHead));
        for role in ALL_STAFF {
            assert!(Duty::Activities.allows(*role));
        }
        assert_eq!(holders_vi(Duty::Plan), "Phó Hiệu trưởng và Hiệu trưởng");
        assert_eq!(holders_vi(Duty::AssignDuties), "Hiệu trưởng");
    }

    #[test]
    fn any_staff_member_may_retract_an_activity() {
        let retract = Command::RetractActivity(crate::event::ActivityRetracted {
            activity_id: Uuid::nil(),
            reason: "x".into(),
        });
        assert_eq!(check(Teacher, &retract), Ok(()));
    }
}
