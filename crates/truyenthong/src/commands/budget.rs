//! `kinh-phi du-toan | chi | quyet-toan` (the office team's budget duty) and
//! `thi-dua tieu-chi` (the department heads' emulation criteria). Amounts are typed with or
//! without thousands separators and sent as integer đồng.

use domain::vi;
use wire::pb;

use super::{Ctx, date_or_today, existing_id, id_or_new};
use crate::args::{BudgetCommand, EmulationCommand};
use crate::client;
use crate::error::CliError;
use crate::output::Sent;
use crate::values;

pub async fn run(ctx: &Ctx, command: BudgetCommand) -> Result<(), CliError> {
    match command {
        BudgetCommand::Estimate { year, date, lines } => {
            let lines = lines
                .iter()
                .enumerate()
                .map(|(i, line)| {
                    let field = format!("budget.lines[{i}]");
                    let (item, amount) = values::pair(line, "Tin bài, phóng sự=3.000.000")
                        .map_err(|m| CliError::option(m, &field, "--muc"))?;
                    let amount = values::amount(amount)
                        .map_err(|m| CliError::option(m, &format!("{field}.amount"), "--muc"))?;
                    Ok(pb::BudgetLine {
                        item: item.to_string(),
                        amount,
                    })
                })
                .collect::<Result<Vec<_>, CliError>>()?;
            let total: i64 = lines.iter().map(|l| l.amount).fold(0, i64::saturating_add);
            let request = pb::EstimateBudgetRequest {
                header: Some(ctx.header()?),
                year,
                estimated_on: date_or_today(date.as_deref(), "budget.estimated_on", "--ngay")?,
                lines,
            };
            let mut agent = ctx.client().await?;
            let sent = client::send_once(agent.estimate_budget(request))
                .await
                .map_err(|s| ctx.refused(s))?;
            ctx.out.sent(
                &format!(
                    "Đã ghi dự toán kinh phí năm {year}: tổng {} đồng",
                    vi::int(total)
                ),
                None,
                &sent,
            );
        }
        BudgetCommand::Expense {
            date,
            item,
            amount,
            activity,
            voucher,
            id,
        } => {
            let amount = values::amount(&amount)
                .map_err(|m| CliError::option(m, "expense.amount", "--so-tien"))?;
            let activity_id = match activity.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
                Some(a) => existing_id(a, "expense.activity_id", "--hoat-dong")?,
                None => String::new(),
            };
            let expense_id = id_or_new(id.as_deref(), "expense.expense_id")?;
            let request = pb::RecordExpenseRequest {
                header: Some(ctx.header()?),
                expense_id: expense_id.clone(),
                spent_on: date_or_today(date.as_deref(), "expense.spent_on", "--ngay")?,
                item,
                amount,
                activity_id,
                voucher: values::text(voucher.as_deref()),
            };
            let agent = ctx.client().await?;
            let sent = client::send(&expense_id, || {
                let mut agent = agent.clone();
                let request = request.clone();
                async move { agent.record_expense(request).await }
            })
            .await
            .map_err(|s| ctx.refused(s))?;
            ctx.out.sent(
                &format!("Đã ghi khoản chi {} đồng", vi::int(amount)),
                Some("khoản chi"),
                &sent,
            );
        }
        BudgetCommand::Settle {
            year,
            date,
            amount,
            note,
        } => {
            let amount = values::amount(&amount)
                .map_err(|m| CliError::option(m, "settlement.settled_amount", "--so-tien"))?;
            let request = pb::SettleBudgetRequest {
                header: Some(ctx.header()?),
                year,
                settled_on: date_or_today(date.as_deref(), "settlement.settled_on", "--ngay")?,
                settled_amount: amount,
                note: values::text(note.as_deref()),
            };
            let mut agent = ctx.client().await?;
            let sent = client::send_once(agent.settle_budget(request))
                .await
                .map_err(|s| ctx.refused(s))?;
            ctx.out.sent(
                &format!(
                    "Đã quyết toán kinh phí năm {year}: {} đồng",
                    vi::int(amount)
                ),
                None,
                &sent,
            );
        }
    }
    Ok(())
}

pub async fn emulation(ctx: &Ctx, command: EmulationCommand) -> Result<(), CliError> {
    let EmulationCommand::Criteria {
        school_year,
        date,
        criteria,
    } = command;
    let criteria = criteria
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let field = format!("criteria.criteria[{i}]");
            let (title, points) = values::pair(c, "Có tin bài trên cổng thông tin=10")
                .map_err(|m| CliError::option(m, &field, "--tieu-chi"))?;
            let points = values::points(points)
                .map_err(|m| CliError::option(m, &format!("{field}.points"), "--tieu-chi"))?;
            Ok(pb::Criterion {
                title: title.to_string(),
                points,
            })
        })
        .collect::<Result<Vec<_>, CliError>>()?;
    let count = criteria.len();
    let request = pb::AdoptEmulationCriteriaRequest {
        header: Some(ctx.header()?),
        school_year,
        adopted_on: date_or_today(date.as_deref(), "criteria.adopted_on", "--ngay")?,
        criteria,
    };
    let mut agent = ctx.client().await?;
    let sent: Sent = client::send_once(agent.adopt_emulation_criteria(request))
        .await
        .map_err(|s| ctx.refused(s))?;
    ctx.out.sent(
        &format!(
            "Đã ban hành {count} tiêu chí thi đua năm học {school_year}–{}",
            school_year + 1
        ),
        None,
        &sent,
    );
    Ok(())
}
