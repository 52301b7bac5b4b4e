//! The communication budget: estimate, expenses, settlement. Amounts are integer đồng.

use uuid::Uuid;

use domain::event::{BudgetEstimated, BudgetLine, BudgetSettled, ExpenseRecorded};
use domain::{Command, DomainError};

use super::parse;
use super::{CommandRequest, SchoolCommand, with_header};
use crate::pb;

impl CommandRequest for pb::EstimateBudgetRequest {
    fn into_command(self, _: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            let lines = self
                .lines
                .into_iter()
                .enumerate()
                .map(|(i, l)| {
                    Ok(BudgetLine {
                        amount: parse::vnd(&format!("budget.lines[{i}].amount"), l.amount)?,
                        item: l.item,
                    })
                })
                .collect::<Result<_, DomainError>>()?;
            Ok(Command::EstimateBudget(BudgetEstimated {
                year: self.year,
                estimated_on: parse::date("budget.estimated_on", &self.estimated_on)?,
                lines,
            }))
        })
    }
}

impl CommandRequest for pb::RecordExpenseRequest {
    fn into_command(self, new_id: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            let spent_on = parse::date("expense.spent_on", &self.spent_on)?;
            let amount = parse::vnd("expense.amount", self.amount)?;
            let activity_id = parse::optional_uuid("expense.activity_id", &self.activity_id)?;
            Ok(Command::RecordExpense(ExpenseRecorded {
                expense_id: parse::id_or_new("expense.expense_id", &self.expense_id, new_id)?,
                spent_on,
                item: self.item,
                amount,
                activity_id,
                voucher: parse::optional_text(self.voucher),
            }))
        })
    }
}

impl CommandRequest for pb::SettleBudgetRequest {
    fn into_command(self, _: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            Ok(Command::SettleBudget(BudgetSettled {
                year: self.year,
                settled_on: parse::date("settlement.settled_on", &self.settled_on)?,
                settled_amount: parse::vnd("settlement.settled_amount", self.settled_amount)?,
                note: parse::optional_text(self.note),
            }))
        })
    }
}
