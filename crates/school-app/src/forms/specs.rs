//! Every school command but recording and correcting an activity (which have their own page,
//! `crate::pages::activities`), as a [`Spec`]. Field names are the request's, so a refusal
//! the agent names lands beside the right field.

use domain::duties::Duty;
use domain::roles::{CommendationLevel, NomineeKind};
use domain::school::records::CaseKind;
use domain::{Channel, ContentArea, Role};
use wire::pb;

use super::{
    Context, Field, Input, Refusal, Sent, Spec, Values, date, line_money, money, number, pairs,
    text,
};
use crate::agent::Agent;

/// Every form, in the order of the menu.
pub const ALL: &[Spec] = &[
    Spec {
        slug: "tiep-nhan-y-kien",
        title: "Tiếp nhận ý kiến của người dân",
        intro: "Ghi một câu hỏi, phản ánh hay góp ý của phụ huynh, người dân.",
        duty: Duty::Feedback,
        fields: feedback_fields,
        send: receive_feedback,
    },
    Spec {
        slug: "tra-loi-y-kien",
        title: "Trả lời ý kiến của người dân",
        intro: "Ghi câu trả lời cho một ý kiến đã tiếp nhận.",
        duty: Duty::Feedback,
        fields: answer_feedback_fields,
        send: answer_feedback,
    },
    Spec {
        slug: "bao-chi-neu",
        title: "Báo chí nêu vấn đề",
        intro: "Ghi một bài báo, phóng sự nêu vấn đề về nhà trường.",
        duty: Duty::Press,
        fields: press_fields,
        send: raise_press_issue,
    },
    Spec {
        slug: "tra-loi-bao-chi",
        title: "Trả lời báo chí",
        intro: "Ghi nội dung nhà trường trả lời một vấn đề báo chí nêu.",
        duty: Duty::Press,
        fields: answer_press_fields,
        send: answer_press_issue,
    },
    Spec {
        slug: "don-phong-vien",
        title: "Đón tiếp phóng viên",
        intro: "Ghi một lần phóng viên đến làm việc với nhà trường.",
        duty: Duty::Press,
        fields: visit_fields,
        send: host_visit,
    },
    Spec {
        slug: "de-nghi-khen-thuong",
        title: "Đề nghị khen thưởng",
        intro: "Đề nghị khen thưởng một cá nhân hay tập thể điển hình.",
        duty: Duty::Commendation,
        fields: nominate_fields,
        send: nominate,
    },
    Spec {
        slug: "ghi-khen-thuong",
        title: "Ghi nhận khen thưởng",
        intro: "Ghi quyết định khen thưởng cho một đề nghị.",
        duty: Duty::Commendation,
        fields: award_fields,
        send: award,
    },
    Spec {
        slug: "tieu-chi-thi-dua",
        title: "Tiêu chí thi đua về truyền thông",
        intro: "Ban hành tiêu chí thi đua của một năm học.",
        duty: Duty::EmulationCriteria,
        fields: criteria_fields,
        send: adopt_criteria,
    },
    Spec {
        slug: "du-tru-kinh-phi",
        title: "Dự trù kinh phí",
        intro: "Dự trù kinh phí truyền thông của một năm.",
        duty: Duty::BudgetEstimate,
        fields: estimate_fields,
        send: estimate_budget,
    },
    Spec {
        slug: "ghi-chi",
        title: "Ghi một khoản chi",
        intro: "Ghi một khoản đã chi cho truyền thông, kèm số chứng từ.",
        duty: Duty::Spending,
        fields: expense_fields,
        send: record_expense,
    },
    Spec {
        slug: "quyet-toan",
        title: "Quyết toán kinh phí",
        intro: "Ghi số quyết toán kinh phí truyền thông của một năm.",
        duty: Duty::Spending,
        fields: settle_fields,
        send: settle_budget,
    },
    Spec {
        slug: "phan-cong",
        title: "Phân công nhiệm vụ",
        intro: "Giao nhiệm vụ truyền thông cho một người, theo vai trò trong kế hoạch.",
        duty: Duty::AssignDuties,
        fields: duty_fields,
        send: assign_duty,
    },
    Spec {
        slug: "bo-sung-ke-hoach",
        title: "Bổ sung kế hoạch",
        intro: "Bổ sung chủ đề, gia hạn kế hoạch theo văn bản bổ sung.",
        duty: Duty::Plan,
        fields: amend_fields,
        send: amend_plan,
    },
    Spec {
        slug: "rut-hoat-dong",
        title: "Rút một hoạt động",
        intro: "Rút một hoạt động ghi nhầm; hoạt động vẫn còn trong sổ, kèm lý do.",
        duty: Duty::Activities,
        fields: retract_fields,
        send: retract_activity,
    },
];

/// The spec at `/ghi/<slug>`.
pub fn by_slug(slug: &str) -> Option<&'static Spec> {
    ALL.iter().find(|s| s.slug == slug)
}

fn channels() -> Input {
    Input::Choice(
        Channel::ALL
            .iter()
            .map(|c| (c.code().to_owned(), c.label_vi().to_owned()))
            .collect(),
    )
}

fn areas(context: &Context) -> Input {
    let mut choices = vec![(String::new(), "(không gắn lĩnh vực)".to_owned())];
    choices.extend(
        ContentArea::ALL
            .iter()
            .filter(|a| {
                context
                    .plan
                    .is_none_or(|p| p.content_areas.iter().any(|x| x.area == **a))
            })
            .map(|a| {
                (
                    a.number().to_string(),
                    format!("{}. {}", a.number(), a.label_vi()),
                )
            }),
    );
    Input::Choice(choices)
}

fn levels() -> Input {
    Input::Choice(
        CommendationLevel::ALL
            .iter()
            .map(|l| (l.code().to_owned(), l.label_vi().to_owned()))
            .collect(),
    )
}

fn cases(context: &Context, kind: CaseKind) -> Input {
    Input::Choice(
        context
            .records
            .open(kind)
            .iter()
            .map(|c| {
                (
                    c.id.to_string(),
                    format!(
                        "{} – {} ({})",
                        domain::vi::date(c.received_on),
                        c.subject,
                        if c.from.is_empty() {
                            "ẩn danh"
                        } else {
                            c.from.as_str()
                        }
                    ),
                )
            })
            .collect(),
    )
}

fn channel(values: &Values, name: &str) -> i32 {
    Channel::parse(name, text(values, name))
        .map(|c| pb::Channel::from(c) as i32)
        .unwrap_or(0)
}

fn area(values: &Values, name: &str) -> u32 {
    text(values, name).parse().unwrap_or(0)
}

fn level(values: &Values, name: &str) -> i32 {
    CommendationLevel::parse(name, text(values, name))
        .map(|l| pb::CommendationLevel::from(l) as i32)
        .unwrap_or(0)
}

fn owned(values: &Values, name: &str) -> String {
    text(values, name).to_owned()
}

/// Sends a request with `call` once everything typed is readable.
macro_rules! send {
    ($agent:ident, $request:expr, $call:ident) => {{
        Box::pin(async move {
            let request = $request;
            $agent.$call(request).await?;
            Ok(())
        }) as Sent<'_>
    }};
}

fn feedback_fields(context: &Context) -> Vec<Field> {
    vec![
        Field::new("received_on", "Ngày tiếp nhận", Input::Date),
        Field::new("channel", "Qua kênh", channels()),
        Field::new("citizen", "Người gửi (để trống nếu ẩn danh)", Input::Text).optional(),
        Field::new("subject", "Vấn đề", Input::Text),
        Field::new("content", "Nội dung", Input::Long),
        Field::new("area", "Lĩnh vực", areas(context)).optional(),
    ]
}

fn receive_feedback<'a>(agent: &'a mut Agent, v: &'a Values) -> Sent<'a> {
    let received_on = match date(v, "received_on") {
        Ok(d) => d,
        Err(r) => return refused(r),
    };
    send!(
        agent,
        pb::ReceiveFeedbackRequest {
            header: None,
            feedback_id: String::new(),
            received_on,
            channel: channel(v, "channel"),
            citizen: owned(v, "citizen"),
            subject: owned(v, "subject"),
            content: owned(v, "content"),
            area: area(v, "area")
        },
        receive_feedback
    )
}

fn answer_feedback_fields(context: &Context) -> Vec<Field> {
    vec![
        Field::new("feedback_id", "Ý kiến", cases(context, CaseKind::Feedback)),
        Field::new("answered_on", "Ngày trả lời", Input::Date),
        Field::new("channel", "Trả lời qua kênh", channels()),
        Field::new("answer", "Nội dung trả lời", Input::Long),
    ]
}

fn answer_feedback<'a>(agent: &'a mut Agent, v: &'a Values) -> Sent<'a> {
    let answered_on = match date(v, "answered_on") {
        Ok(d) => d,
        Err(r) => return refused(r),
    };
    send!(
        agent,
        pb::AnswerFeedbackRequest {
            header: None,
            feedback_id: owned(v, "feedback_id"),
            answered_on,
            channel: channel(v, "channel"),
            answer: owned(v, "answer")
        },
        answer_feedback
    )
}

fn press_fields(context: &Context) -> Vec<Field> {
    vec![
        Field::new("raised_on", "Ngày báo đăng", Input::Date),
        Field::new("outlet", "Tên báo, đài", Input::Text),
        Field::new("title", "Tên bài", Input::Text),
        Field::new("summary", "Tóm tắt vấn đề", Input::Long),
        Field::new("url", "Đường dẫn bài báo", Input::Text).optional(),
        Field::new("area", "Lĩnh vực", areas(context)).optional(),
    ]
}

fn raise_press_issue<'a>(agent: &'a mut Agent, v: &'a Values) -> Sent<'a> {
    let raised_on = match date(v, "raised_on") {
        Ok(d) => d,
        Err(r) => return refused(r),
    };
    send!(
        agent,
        pb::RaisePressIssueRequest {
            header: None,
            issue_id: String::new(),
            raised_on,
            outlet: owned(v, "outlet"),
            title: owned(v, "title"),
            summary: owned(v, "summary"),
            url: owned(v, "url"),
            area: area(v, "area")
        },
        raise_press_issue
    )
}

fn answer_press_fields(context: &Context) -> Vec<Field> {
    vec![
        Field::new(
            "issue_id",
            "Vấn đề báo chí nêu",
            cases(context, CaseKind::Press),
        ),
        Field::new("answered_on", "Ngày trả lời", Input::Date),
        Field::new("channel", "Trả lời qua kênh", channels()),
        Field::new("response", "Nội dung trả lời", Input::Long),
    ]
}

fn answer_press_issue<'a>(agent: &'a mut Agent, v: &'a Values) -> Sent<'a> {
    let answered_on = match date(v, "answered_on") {
        Ok(d) => d,
        Err(r) => return refused(r),
    };
    send!(
        agent,
        pb::AnswerPressIssueRequest {
            header: None,
            issue_id: owned(v, "issue_id"),
            answered_on,
            channel: channel(v, "channel"),
            response: owned(v, "response")
        },
        answer_press_issue
    )
}

fn visit_fields(context: &Context) -> Vec<Field> {
    vec![
        Field::new("date", "Ngày đón tiếp", Input::Date),
        Field::new("outlet", "Cơ quan báo, đài", Input::Text),
        Field::new("reporter", "Tên phóng viên", Input::Text),
        Field::new("purpose", "Nội dung làm việc", Input::Long),
        Field::new("area", "Lĩnh vực", areas(context)).optional(),
    ]
}

fn host_visit<'a>(agent: &'a mut Agent, v: &'a Values) -> Sent<'a> {
    let day = match date(v, "date") {
        Ok(d) => d,
        Err(r) => return refused(r),
    };
    send!(
        agent,
        pb::HostReporterVisitRequest {
            header: None,
            visit_id: String::new(),
            date: day,
            outlet: owned(v, "outlet"),
            reporter: owned(v, "reporter"),
            purpose: owned(v, "purpose"),
            area: area(v, "area")
        },
        host_reporter_visit
    )
}

fn nominate_fields(_: &Context) -> Vec<Field> {
    vec![
        Field::new("date", "Ngày đề nghị", Input::Date),
        Field::new(
            "nominee_kind",
            "Đề nghị cho",
            Input::Choice(
                NomineeKind::ALL
                    .iter()
                    .map(|k| (k.code().to_owned(), k.label_vi().to_owned()))
                    .collect(),
            ),
        ),
        Field::new("nominee", "Tên cá nhân, tập thể", Input::Text),
        Field::new("achievement", "Thành tích", Input::Long),
        Field::new("proposed_level", "Hình thức đề nghị", levels()),
    ]
}

fn nominate<'a>(agent: &'a mut Agent, v: &'a Values) -> Sent<'a> {
    let day = match date(v, "date") {
        Ok(d) => d,
        Err(r) => return refused(r),
    };
    let kind = NomineeKind::parse("nominee_kind", text(v, "nominee_kind"))
        .map(|k| pb::NomineeKind::from(k) as i32)
        .unwrap_or(0);
    send!(
        agent,
        pb::NominateRequest {
            header: None,
            nomination_id: String::new(),
            date: day,
            nominee_kind: kind,
            nominee: owned(v, "nominee"),
            achievement: owned(v, "achievement"),
            proposed_level: level(v, "proposed_level")
        },
        nominate
    )
}

fn award_fields(context: &Context) -> Vec<Field> {
    vec![
        Field::new(
            "nomination_id",
            "Đề nghị",
            Input::Choice(
                context
                    .records
                    .nominations()
                    .filter(|n| n.awarded.is_none())
                    .map(|n| {
                        (
                            n.id.to_string(),
                            format!("{} – {}", domain::vi::date(n.date), n.nominee),
                        )
                    })
                    .collect(),
            ),
        ),
        Field::new("level", "Hình thức khen thưởng", levels()),
        Field::new("decision_number", "Số quyết định", Input::Text),
        Field::new("decision_date", "Ngày quyết định", Input::Date),
    ]
}

fn award<'a>(agent: &'a mut Agent, v: &'a Values) -> Sent<'a> {
    let decision_date = match date(v, "decision_date") {
        Ok(d) => d,
        Err(r) => return refused(r),
    };
    send!(
        agent,
        pb::AwardCommendationRequest {
            header: None,
            nomination_id: owned(v, "nomination_id"),
            level: level(v, "level"),
            decision_number: owned(v, "decision_number"),
            decision_date
        },
        award_commendation
    )
}

fn criteria_fields(_: &Context) -> Vec<Field> {
    vec![
        Field::new(
            "school_year",
            "Năm học bắt đầu (ví dụ 2018 cho năm học 2018–2019)",
            Input::Number,
        ),
        Field::new("adopted_on", "Ngày ban hành", Input::Date),
        Field::new(
            "criteria",
            "Tiêu chí, mỗi dòng «tiêu chí | điểm»",
            Input::Long,
        ),
    ]
}

fn adopt_criteria<'a>(agent: &'a mut Agent, v: &'a Values) -> Sent<'a> {
    let built = (|| -> Result<pb::AdoptEmulationCriteriaRequest, Refusal> {
        let school_year = i32::try_from(number(v, "school_year")?)
            .map_err(|_| Refusal::at("school_year", "Năm học không hợp lệ."))?;
        let criteria = pairs(v, "criteria", "tiêu chí | điểm")?
            .into_iter()
            .enumerate()
            .map(|(i, (title, points))| {
                let points = points.parse::<u32>().map_err(|_| {
                    Refusal::at(
                        "criteria",
                        format!("Dòng {}: «{points}» không phải là số điểm.", i + 1),
                    )
                })?;
                Ok(pb::Criterion {
                    title: title.to_owned(),
                    points,
                })
            })
            .collect::<Result<Vec<_>, Refusal>>()?;
        Ok(pb::AdoptEmulationCriteriaRequest {
            header: None,
            school_year,
            adopted_on: date(v, "adopted_on")?,
            criteria,
        })
    })();
    match built {
        Ok(request) => send!(agent, request, adopt_emulation_criteria),
        Err(r) => refused(r),
    }
}

fn estimate_fields(_: &Context) -> Vec<Field> {
    vec![
        Field::new("year", "Năm", Input::Number),
        Field::new("estimated_on", "Ngày lập dự trù", Input::Date),
        Field::new(
            "lines",
            "Các khoản, mỗi dòng «khoản | số tiền»",
            Input::Long,
        ),
    ]
}

fn estimate_budget<'a>(agent: &'a mut Agent, v: &'a Values) -> Sent<'a> {
    let built = (|| -> Result<pb::EstimateBudgetRequest, Refusal> {
        let year = i32::try_from(number(v, "year")?)
            .map_err(|_| Refusal::at("year", "Năm không hợp lệ."))?;
        let lines = pairs(v, "lines", "khoản | số tiền")?
            .into_iter()
            .enumerate()
            .map(|(i, (item, amount))| {
                Ok(pb::BudgetLine {
                    item: item.to_owned(),
                    amount: line_money("lines", i + 1, amount)?,
                })
            })
            .collect::<Result<Vec<_>, Refusal>>()?;
        Ok(pb::EstimateBudgetRequest {
            header: None,
            year,
            estimated_on: date(v, "estimated_on")?,
            lines,
        })
    })();
    match built {
        Ok(request) => send!(agent, request, estimate_budget),
        Err(r) => refused(r),
    }
}

fn expense_fields(_: &Context) -> Vec<Field> {
    vec![
        Field::new("spent_on", "Ngày chi", Input::Date),
        Field::new("item", "Nội dung chi", Input::Text),
        Field::new("amount", "Số tiền (đồng)", Input::Money),
        Field::new("voucher", "Số chứng từ", Input::Text).optional(),
    ]
}

fn record_expense<'a>(agent: &'a mut Agent, v: &'a Values) -> Sent<'a> {
    let built = (|| -> Result<pb::RecordExpenseRequest, Refusal> {
        Ok(pb::RecordExpenseRequest {
            header: None,
            expense_id: String::new(),
            spent_on: date(v, "spent_on")?,
            item: owned(v, "item"),
            amount: money(v, "amount")?,
            activity_id: String::new(),
            voucher: owned(v, "voucher"),
        })
    })();
    match built {
        Ok(request) => send!(agent, request, record_expense),
        Err(r) => refused(r),
    }
}

fn settle_fields(_: &Context) -> Vec<Field> {
    vec![
        Field::new("year", "Năm", Input::Number),
        Field::new("settled_on", "Ngày quyết toán", Input::Date),
        Field::new("settled_amount", "Số quyết toán (đồng)", Input::Money),
        Field::new("note", "Ghi chú", Input::Text).optional(),
    ]
}

fn settle_budget<'a>(agent: &'a mut Agent, v: &'a Values) -> Sent<'a> {
    let built = (|| -> Result<pb::SettleBudgetRequest, Refusal> {
        let year = i32::try_from(number(v, "year")?)
            .map_err(|_| Refusal::at("year", "Năm không hợp lệ."))?;
        Ok(pb::SettleBudgetRequest {
            header: None,
            year,
            settled_on: date(v, "settled_on")?,
            settled_amount: money(v, "settled_amount")?,
            note: owned(v, "note"),
        })
    })();
    match built {
        Ok(request) => send!(agent, request, settle_budget),
        Err(r) => refused(r),
    }
}

fn duty_fields(_: &Context) -> Vec<Field> {
    vec![
        Field::new(
            "role",
            "Vai trò",
            Input::Choice(
                Role::ALL
                    .iter()
                    .filter(|r| **r != Role::DistrictOffice)
                    .map(|r| (r.code().to_owned(), r.label_vi().to_owned()))
                    .collect(),
            ),
        ),
        Field::new("person", "Họ và tên người được giao", Input::Text),
        Field::new("duty", "Nhiệm vụ", Input::Long),
        Field::new("since", "Từ ngày", Input::Date),
    ]
}

fn assign_duty<'a>(agent: &'a mut Agent, v: &'a Values) -> Sent<'a> {
    let since = match date(v, "since") {
        Ok(d) => d,
        Err(r) => return refused(r),
    };
    let role = Role::parse("role", text(v, "role"))
        .map(|r| pb::Role::from(r) as i32)
        .unwrap_or(0);
    send!(
        agent,
        pb::AssignDutyRequest {
            header: None,
            role,
            person: owned(v, "person"),
            duty: owned(v, "duty"),
            since
        },
        assign_duty
    )
}

fn amend_fields(_: &Context) -> Vec<Field> {
    vec![
        Field::new("number", "Số văn bản bổ sung", Input::Text).optional(),
        Field::new("date", "Ngày văn bản", Input::Date),
        Field::new("reason", "Lý do bổ sung", Input::Long),
        Field::new(
            "topics",
            "Chủ đề bổ sung, mỗi dòng «số lĩnh vực | mã chủ đề | tên chủ đề»",
            Input::Long,
        )
        .optional(),
        Field::new("period_end", "Kéo dài kế hoạch đến ngày", Input::Date).optional(),
    ]
}

fn amend_plan<'a>(agent: &'a mut Agent, v: &'a Values) -> Sent<'a> {
    let built = (|| -> Result<pb::AmendPlanRequest, Refusal> {
        let topics = text(v, "topics")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .enumerate()
            .map(|(i, line)| {
                let parts: Vec<&str> = line.splitn(3, '|').map(str::trim).collect();
                match parts.as_slice() {
                    [area, code, title] => Ok(pb::AddedTopic {
                        area: area.parse().unwrap_or(0),
                        topic: Some(pb::Topic {
                            code: (*code).to_owned(),
                            title: (*title).to_owned(),
                        }),
                    }),
                    _ => Err(Refusal::at(
                        "topics",
                        format!(
                            "Dòng {}: cần ghi «số lĩnh vực | mã chủ đề | tên chủ đề».",
                            i + 1
                        ),
                    )),
                }
            })
            .collect::<Result<Vec<_>, Refusal>>()?;
        Ok(pb::AmendPlanRequest {
            header: None,
            number: owned(v, "number"),
            date: date(v, "date")?,
            reason: owned(v, "reason"),
            legal_bases: Vec::new(),
            topics,
            period_end: date(v, "period_end")?,
            duties: Vec::new(),
        })
    })();
    match built {
        Ok(request) => send!(agent, request, amend_plan),
        Err(r) => refused(r),
    }
}

fn retract_fields(context: &Context) -> Vec<Field> {
    vec![
        Field::new(
            "activity_id",
            "Hoạt động",
            Input::Choice(
                context
                    .activities
                    .newest_first()
                    .filter(|a| a.retracted.is_none())
                    .map(|a| {
                        (
                            a.activity_id.to_string(),
                            format!("{} – {}", domain::vi::date(a.details.date), a.details.title),
                        )
                    })
                    .collect(),
            ),
        ),
        Field::new("reason", "Lý do rút", Input::Text),
    ]
}

fn retract_activity<'a>(agent: &'a mut Agent, v: &'a Values) -> Sent<'a> {
    send!(
        agent,
        pb::RetractActivityRequest {
            header: None,
            activity_id: owned(v, "activity_id"),
            reason: owned(v, "reason")
        },
        retract_activity
    )
}

fn refused<'a>(refusal: Refusal) -> Sent<'a> {
    Box::pin(async move { Err(refusal.into()) })
}
