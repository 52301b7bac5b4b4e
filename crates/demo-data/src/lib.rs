//! Simulated 2017–2020 histories of the schools of Tam Nông, as `SchoolAgent` requests.
//!
//! The demo (`cargo xtask demo`), integration tests and benchmarks need data that feels like the
//! district's: the seed plan 114/KH-THCSAH for THCS An Hòa, plans like it for the other schools,
//! radio columns and portal articles on the plan's topics, parents calling the hotline, a press
//! article now and then, nominations by the trade union, a budget each year. Some schools are
//! diligent and some lag, so the district's views have something to show.
//!
//! Generation is deterministic for a given seed: no clock, no global randomness, ids derived
//! from the seed, so a test can compute the same history twice (once to send, once as a
//! reference). Generation does no I/O; [`send`] delivers a request to an agent.

mod people;
mod rng;
mod schools;
pub mod sealed;
mod send;
mod texts;

use chrono::{Datelike, Days, NaiveDate};
use wire::pb;

pub use schools::{DemoSchool, Level, TAM_NONG_SCHOOLS, seed_plan};
pub use send::send;

use rng::Rng;

/// The province of the demo district (Đồng Tháp): the one place its code is written. Tests,
/// fixtures and the demo take it from here (and the stream's name from
/// `event_bus::subjects::stream_name`), so no two of them can disagree on the district.
pub const PROVINCE: &str = "dong-thap";
/// The demo district, Tam Nông, whose schools are [`TAM_NONG_SCHOOLS`].
pub const DISTRICT: &str = "tam-nong";
/// The district office's name, as the aggregator's settings give it.
pub const DISTRICT_OFFICE: &str = "Phòng GD-ĐT Tam Nông";

/// One request to a school agent, in the order it must be sent.
#[derive(Debug, Clone, PartialEq)]
pub enum DemoRequest {
    AdoptPlan(pb::AdoptPlanRequest),
    AssignDuty(pb::AssignDutyRequest),
    RecordActivity(pb::RecordActivityRequest),
    CorrectActivity(pb::CorrectActivityRequest),
    RetractActivity(pb::RetractActivityRequest),
    ReceiveFeedback(pb::ReceiveFeedbackRequest),
    AnswerFeedback(pb::AnswerFeedbackRequest),
    RaisePressIssue(pb::RaisePressIssueRequest),
    AnswerPressIssue(pb::AnswerPressIssueRequest),
    HostReporterVisit(pb::HostReporterVisitRequest),
    Nominate(pb::NominateRequest),
    AwardCommendation(pb::AwardCommendationRequest),
    AdoptEmulationCriteria(pb::AdoptEmulationCriteriaRequest),
    EstimateBudget(pb::EstimateBudgetRequest),
    RecordExpense(pb::RecordExpenseRequest),
    SettleBudget(pb::SettleBudgetRequest),
}

/// How much history to make for one school.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Volume {
    /// Activities over the whole plan period for a fully diligent school.
    pub activities: u32,
    /// Citizen feedback cases over the period.
    pub feedback: u32,
    /// Press issues over the period.
    pub press_issues: u32,
}

impl Volume {
    /// About 400 events for a diligent school: a realistic four years.
    pub const DEMO: Volume = Volume {
        activities: 260,
        feedback: 40,
        press_issues: 6,
    };
}

/// The history of one school: its requests, sorted by the date they happened.
pub fn history(school: &DemoSchool, volume: Volume, seed: u64) -> Vec<DemoRequest> {
    let mut g = Generator::new(school, seed);
    g.plan_and_duties();
    g.activities(volume.activities);
    g.feedback(volume.feedback);
    g.press(volume.press_issues);
    g.commendation();
    g.emulation_criteria();
    g.budget();
    g.finish()
}

/// A staff account the demo creates on a school's agent: one per role of the plan, named as
/// the history's actors are, so that each request is sent with the session of the staff
/// member it is by (and the duties of their role allow it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    pub login: &'static str,
    pub role: domain::Role,
    pub full_name: String,
}

/// The school's staff accounts for `seed`, the head first: the people of [`history`] for the
/// same seed.
pub fn staff(school: &DemoSchool, seed: u64) -> Vec<DemoAccount> {
    use domain::Role;
    let g = Generator::new(school, seed);
    [
        ("hieu.truong", Role::Principal),
        ("pho.hieu.truong", Role::VicePrincipal),
        ("to.truong", Role::DepartmentHead),
        ("van.phong", Role::OfficeTeam),
        ("cong.doan", Role::TradeUnion),
        ("giao.vien", Role::Teacher),
    ]
    .into_iter()
    .map(|(login, role)| DemoAccount {
        login,
        role,
        full_name: g.people.name(role).to_owned(),
    })
    .collect()
}

impl DemoRequest {
    /// The staff member the request is by (its header's actor): whose session sends it, and
    /// so the actor the agent records. An agent ignores the header's actor; the demo names it
    /// so that it knows whose account to send each request with.
    pub fn actor(&self) -> Option<domain::Actor> {
        let actor = self.header()?.actor.as_ref()?;
        let role = wire::convert::role("actor.role", actor.role).ok()?;
        domain::Actor::parse(role, &actor.person).ok()
    }

    /// The role of [`DemoRequest::actor`].
    pub fn role(&self) -> Option<domain::Role> {
        self.actor().map(|a| a.role)
    }

    fn header(&self) -> Option<&pb::CommandHeader> {
        let header = match self {
            DemoRequest::AdoptPlan(r) => &r.header,
            DemoRequest::AssignDuty(r) => &r.header,
            DemoRequest::RecordActivity(r) => &r.header,
            DemoRequest::CorrectActivity(r) => &r.header,
            DemoRequest::RetractActivity(r) => &r.header,
            DemoRequest::ReceiveFeedback(r) => &r.header,
            DemoRequest::AnswerFeedback(r) => &r.header,
            DemoRequest::RaisePressIssue(r) => &r.header,
            DemoRequest::AnswerPressIssue(r) => &r.header,
            DemoRequest::HostReporterVisit(r) => &r.header,
            DemoRequest::Nominate(r) => &r.header,
            DemoRequest::AwardCommendation(r) => &r.header,
            DemoRequest::AdoptEmulationCriteria(r) => &r.header,
            DemoRequest::EstimateBudget(r) => &r.header,
            DemoRequest::RecordExpense(r) => &r.header,
            DemoRequest::SettleBudget(r) => &r.header,
        };
        header.as_ref()
    }
}

/// The last date the simulation reaches: the end of the 2017–2020 plans.
pub fn plan_end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 12, 31).expect("valid date")
}

struct Generator<'a> {
    school: &'a DemoSchool,
    rng: Rng,
    seed: u64,
    ids: u64,
    plan: domain::Plan,
    people: people::Staff,
    /// (date, order of generation, request): sorted at the end, stable on the order.
    out: Vec<(NaiveDate, u64, DemoRequest)>,
}

impl<'a> Generator<'a> {
    fn new(school: &'a DemoSchool, seed: u64) -> Self {
        let mixed = seed ^ schools::hash(school.code);
        let mut rng = Rng::new(mixed);
        let people = people::Staff::new(&mut rng);
        let plan = school.plan();
        Self {
            school,
            rng,
            seed: mixed,
            ids: 0,
            plan,
            people,
            out: Vec::new(),
        }
    }

    fn id(&mut self) -> String {
        self.ids += 1;
        // Deterministic, unique per (seed, school, n); shaped as a version-4 UUID.
        let hi = u128::from(self.seed) << 64;
        let bytes = (hi | u128::from(self.ids)).to_be_bytes();
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    fn push(&mut self, date: NaiveDate, request: DemoRequest) {
        let order = self.out.len() as u64;
        self.out.push((date, order, request));
    }

    fn header(&self, role: domain::Role) -> Option<pb::CommandHeader> {
        Some(pb::CommandHeader {
            school: self.school.code.to_string(),
            actor: Some(pb::Actor {
                role: pb::Role::from(role) as i32,
                person: self.people.name(role).to_string(),
            }),
        })
    }

    fn period_start(&self) -> NaiveDate {
        self.plan.period.start()
    }

    /// A date in the plan period, weighted towards school months (few in summer).
    fn school_day(&mut self) -> NaiveDate {
        let start = self.period_start();
        let days = (plan_end() - start).num_days() as u64;
        loop {
            let d = start + Days::new(self.rng.below(days + 1));
            let summer = matches!(d.month(), 6 | 7);
            if !summer || self.rng.chance(0.25) {
                return d;
            }
        }
    }

    fn later(&mut self, date: NaiveDate, min: u64, max: u64) -> NaiveDate {
        date + Days::new(min + self.rng.below(max - min + 1))
    }

    fn plan_and_duties(&mut self) {
        let plan = wire::convert::plan_to_pb(&self.plan);
        let date = self.plan.date;
        let header = self.header(domain::Role::Principal);
        self.push(
            date,
            DemoRequest::AdoptPlan(pb::AdoptPlanRequest {
                header,
                plan: Some(plan),
            }),
        );
        let assignments = [
            (
                domain::Role::VicePrincipal,
                "Đầu mối truyền thông; phụ trách chuyên mục giáo dục trên Đài Truyền thanh huyện, Facebook và đường dây nóng của trường.",
            ),
            (
                domain::Role::DepartmentHead,
                "Phụ trách tin bài chuyên môn trên Cổng thông tin điện tử của trường.",
            ),
            (
                domain::Role::OfficeTeam,
                "Dự trù, chi và quyết toán kinh phí truyền thông.",
            ),
            (
                domain::Role::TradeUnion,
                "Phát hiện, đề nghị khen thưởng cá nhân tiêu biểu trong công tác truyền thông.",
            ),
        ];
        for (role, duty) in assignments {
            let since = self.later(date, 1, 10);
            let header = self.header(domain::Role::Principal);
            self.push(
                since,
                DemoRequest::AssignDuty(pb::AssignDutyRequest {
                    header,
                    role: pb::Role::from(role) as i32,
                    person: self.people.name(role).to_string(),
                    duty: duty.to_string(),
                    since: since.to_string(),
                }),
            );
        }
    }

    fn activities(&mut self, volume: u32) {
        let count = (f64::from(volume) * self.school.diligence).round() as u32;
        let mut recorded: Vec<(String, NaiveDate, pb::Activity)> = Vec::new();
        for _ in 0..count {
            let area = self.school.pick_area(&mut self.rng);
            let Some(planned) = self.plan.area(area) else {
                continue;
            };
            let topic = if planned.topics.is_empty() {
                String::new()
            } else {
                let i = self.rng.below(planned.topics.len() as u64) as usize;
                planned.topics[i].code.to_string()
            };
            let date = self.school_day();
            let channel = texts::channel_for(area, &mut self.rng);
            let (title, summary, audience) =
                texts::activity(area, &topic, channel, self.school, &mut self.rng);
            let responsible = texts::responsible_for(channel, &mut self.rng);
            let id = self.id();
            let activity = pb::Activity {
                date: date.to_string(),
                area: u32::from(area.number()),
                topic,
                channel: pb::Channel::from(channel) as i32,
                title,
                summary,
                audience: audience.to_string(),
                reach: Some(texts::reach(channel, self.school.level, &mut self.rng)),
                partner: texts::partner(channel).to_string(),
                evidence_url: if matches!(
                    channel,
                    domain::Channel::SchoolPortal | domain::Channel::Facebook
                ) {
                    format!(
                        "https://{}.tamnong.edu.vn/tin-tuc/{}",
                        self.school.code.replace('-', ""),
                        &id[..8]
                    )
                } else {
                    String::new()
                },
                responsible: pb::Role::from(responsible) as i32,
            };
            let header = self.header(responsible);
            self.push(
                date,
                DemoRequest::RecordActivity(pb::RecordActivityRequest {
                    header,
                    activity_id: id.clone(),
                    activity: Some(activity.clone()),
                }),
            );
            recorded.push((id, date, activity));
        }
        // A few corrections and retractions, days after the fact.
        for (id, date, activity) in recorded {
            let roll = self.rng.unit();
            if roll < 0.03 {
                let mut fixed = activity.clone();
                fixed.reach = fixed.reach.map(|r| r + 20);
                fixed.title = format!("{} (đính chính)", fixed.title);
                let on = self.later(date, 1, 5);
                let header = self.header(domain::Role::VicePrincipal);
                self.push(
                    on,
                    DemoRequest::CorrectActivity(pb::CorrectActivityRequest {
                        header,
                        activity_id: id,
                        reason: "Cập nhật số người tham dự theo biên bản.".into(),
                        activity: Some(fixed),
                    }),
                );
            } else if roll < 0.04 {
                let on = self.later(date, 1, 3);
                let header = self.header(domain::Role::VicePrincipal);
                self.push(
                    on,
                    DemoRequest::RetractActivity(pb::RetractActivityRequest {
                        header,
                        activity_id: id,
                        reason: "Nhập trùng với hoạt động đã ghi.".into(),
                    }),
                );
            }
        }
    }

    fn feedback(&mut self, volume: u32) {
        let count = (f64::from(volume) * (0.5 + self.school.diligence / 2.0)).round() as u32;
        for _ in 0..count {
            let received = self.school_day();
            let (subject, content, area) = texts::feedback(self.school, &mut self.rng);
            let channel = *self.rng.pick(&[
                domain::Channel::Hotline,
                domain::Channel::Facebook,
                domain::Channel::Email,
                domain::Channel::Meeting,
            ]);
            let id = self.id();
            let citizen = people::parent(&mut self.rng);
            let header = self.header(domain::Role::VicePrincipal);
            self.push(
                received,
                DemoRequest::ReceiveFeedback(pb::ReceiveFeedbackRequest {
                    header,
                    feedback_id: id.clone(),
                    received_on: received.to_string(),
                    channel: pb::Channel::from(channel) as i32,
                    citizen,
                    subject: subject.to_string(),
                    content: content.to_string(),
                    area: u32::from(area),
                }),
            );
            // Diligent schools answer within days; lagging ones slowly, and some never.
            if self.rng.chance(0.55 + 0.4 * self.school.diligence) {
                let slow = if self.rng.chance(self.school.diligence) {
                    12
                } else {
                    45
                };
                let answered = self.later(received, 0, slow);
                let header = self.header(domain::Role::VicePrincipal);
                self.push(
                    answered,
                    DemoRequest::AnswerFeedback(pb::AnswerFeedbackRequest {
                        header,
                        feedback_id: id,
                        answered_on: answered.to_string(),
                        channel: pb::Channel::from(channel) as i32,
                        answer: texts::feedback_answer(subject).to_string(),
                    }),
                );
            }
        }
    }

    fn press(&mut self, volume: u32) {
        for _ in 0..volume {
            let raised = self.school_day();
            let (outlet, title, summary, area) = texts::press_issue(self.school, &mut self.rng);
            let id = self.id();
            let header = self.header(domain::Role::Principal);
            self.push(
                raised,
                DemoRequest::RaisePressIssue(pb::RaisePressIssueRequest {
                    header,
                    issue_id: id.clone(),
                    raised_on: raised.to_string(),
                    outlet: outlet.to_string(),
                    title,
                    summary: summary.to_string(),
                    url: String::new(),
                    area: u32::from(area),
                }),
            );
            if self.rng.chance(0.6 + 0.35 * self.school.diligence) {
                let answered =
                    self.later(raised, 1, if self.school.diligence > 0.7 { 7 } else { 30 });
                let header = self.header(domain::Role::Principal);
                self.push(
                    answered,
                    DemoRequest::AnswerPressIssue(pb::AnswerPressIssueRequest {
                        header,
                        issue_id: id,
                        answered_on: answered.to_string(),
                        channel: pb::Channel::LocalPress as i32,
                        response: "Nhà trường đã kiểm tra, làm rõ và có văn bản phản hồi cơ quan báo chí; kết quả được thông tin công khai trên Cổng thông tin điện tử của trường.".into(),
                    }),
                );
            }
            if self.rng.chance(0.5) {
                let visit = self.later(raised, 0, 10).min(plan_end());
                let id = self.id();
                let reporter = people::reporter(&mut self.rng);
                let header = self.header(domain::Role::VicePrincipal);
                self.push(
                    visit,
                    DemoRequest::HostReporterVisit(pb::HostReporterVisitRequest {
                        header,
                        visit_id: id,
                        date: visit.to_string(),
                        outlet: outlet.to_string(),
                        reporter,
                        purpose: "Tìm hiểu, ghi hình hoạt động dạy và học của nhà trường.".into(),
                        area: u32::from(area),
                    }),
                );
            }
        }
    }

    fn commendation(&mut self) {
        for year in 2018..=2020 {
            let nominations = 1 + self.rng.below(3);
            for _ in 0..nominations {
                let date = NaiveDate::from_ymd_opt(year, 5, 10).expect("valid")
                    + Days::new(self.rng.below(20));
                let (kind, nominee) = if self.rng.chance(0.75) {
                    (
                        domain::roles::NomineeKind::Individual,
                        people::teacher(&mut self.rng),
                    )
                } else {
                    (
                        domain::roles::NomineeKind::Collective,
                        format!(
                            "Tổ {} – {}",
                            self.rng.pick(&[
                                "Ngữ văn",
                                "Toán – Tin",
                                "Tự nhiên",
                                "Xã hội",
                                "Văn phòng"
                            ]),
                            self.school.name
                        ),
                    )
                };
                let level = *self.rng.pick(&[
                    domain::roles::CommendationLevel::School,
                    domain::roles::CommendationLevel::District,
                    domain::roles::CommendationLevel::District,
                    domain::roles::CommendationLevel::Province,
                ]);
                let id = self.id();
                let achievement = texts::achievement(&mut self.rng).to_string();
                let header = self.header(domain::Role::TradeUnion);
                self.push(
                    date,
                    DemoRequest::Nominate(pb::NominateRequest {
                        header,
                        nomination_id: id.clone(),
                        date: date.to_string(),
                        nominee_kind: pb::NomineeKind::from(kind) as i32,
                        nominee,
                        achievement,
                        proposed_level: pb::CommendationLevel::from(level) as i32,
                    }),
                );
                if self.rng.chance(0.7) {
                    let decided = self.later(date, 10, 60);
                    let symbol = match level {
                        domain::roles::CommendationLevel::School => {
                            format!("QĐ-{}", self.school.symbol)
                        }
                        domain::roles::CommendationLevel::District => "QĐ-UBND".to_string(),
                        _ => "QĐ-UBND.TĐKT".to_string(),
                    };
                    let decision_number = format!("{}/{}", 100 + self.rng.below(900), symbol);
                    let header = self.header(domain::Role::Principal);
                    self.push(
                        decided,
                        DemoRequest::AwardCommendation(pb::AwardCommendationRequest {
                            header,
                            nomination_id: id,
                            level: pb::CommendationLevel::from(level) as i32,
                            decision_number,
                            decision_date: decided.to_string(),
                        }),
                    );
                }
            }
        }
    }

    fn emulation_criteria(&mut self) {
        for school_year in 2017..=2020 {
            let adopted = NaiveDate::from_ymd_opt(school_year, 9, 15)
                .expect("valid")
                .max(self.period_start() + Days::new(5));
            if adopted > plan_end() {
                continue;
            }
            let header = self.header(domain::Role::DepartmentHead);
            self.push(
                adopted,
                DemoRequest::AdoptEmulationCriteria(pb::AdoptEmulationCriteriaRequest {
                    header,
                    school_year,
                    adopted_on: adopted.to_string(),
                    criteria: vec![
                        pb::Criterion { title: "Mỗi tổ chuyên môn có ít nhất 2 tin bài trên Cổng thông tin điện tử mỗi học kỳ".into(), points: 10 },
                        pb::Criterion { title: "Tham gia chuyên mục giáo dục trên Đài Truyền thanh huyện".into(), points: 5 },
                        pb::Criterion { title: "Phản hồi ý kiến phụ huynh trong vòng 7 ngày".into(), points: 5 },
                    ],
                }),
            );
        }
    }

    fn budget(&mut self) {
        for year in 2018..=2020 {
            let base: i64 = match self.school.level {
                Level::MamNon => 3_000_000,
                Level::TieuHoc => 4_000_000,
                Level::Thcs => 5_000_000,
            };
            let lines = vec![
                pb::BudgetLine {
                    item: "Tin bài, phóng sự trên Đài Truyền thanh huyện".into(),
                    amount: base,
                },
                pb::BudgetLine {
                    item: "Pano, áp phích, băng rôn tuyên truyền".into(),
                    amount: base / 2,
                },
                pb::BudgetLine {
                    item: "Duy trì Cổng thông tin điện tử".into(),
                    amount: 1_200_000,
                },
            ];
            let estimated =
                NaiveDate::from_ymd_opt(year, 1, 8).expect("valid") + Days::new(self.rng.below(10));
            let header = self.header(domain::Role::OfficeTeam);
            let total: i64 = lines.iter().map(|l| l.amount).sum();
            self.push(
                estimated,
                DemoRequest::EstimateBudget(pb::EstimateBudgetRequest {
                    header,
                    year,
                    estimated_on: estimated.to_string(),
                    lines,
                }),
            );
            let mut spent = 0;
            for month in [3, 5, 9, 11] {
                let amount = (total / 5) / 10_000 * 10_000 + 10_000 * self.rng.below(30) as i64;
                let on = NaiveDate::from_ymd_opt(year, month, 5).expect("valid")
                    + Days::new(self.rng.below(20));
                spent += amount;
                let id = self.id();
                let item = self
                    .rng
                    .pick(&[
                        "In tờ rơi tuyên truyền tuyển sinh",
                        "Băng rôn khai giảng năm học",
                        "Nhuận bút tin bài",
                        "Pano tuyên truyền phổ cập giáo dục",
                    ])
                    .to_string();
                let header = self.header(domain::Role::OfficeTeam);
                self.push(
                    on,
                    DemoRequest::RecordExpense(pb::RecordExpenseRequest {
                        header,
                        expense_id: id,
                        spent_on: on.to_string(),
                        item,
                        amount,
                        activity_id: String::new(),
                        voucher: format!("PC-{year}-{month:02}"),
                    }),
                );
            }
            let settled = NaiveDate::from_ymd_opt(year + 1, 1, 20).expect("valid")
                + Days::new(self.rng.below(10));
            let header = self.header(domain::Role::OfficeTeam);
            self.push(
                settled,
                DemoRequest::SettleBudget(pb::SettleBudgetRequest {
                    header,
                    year,
                    settled_on: settled.to_string(),
                    settled_amount: spent,
                    note: "Quyết toán theo chứng từ chi thực tế.".into(),
                }),
            );
        }
    }

    fn finish(mut self) -> Vec<DemoRequest> {
        self.out.sort_by_key(|(date, order, _)| (*date, *order));
        self.out.into_iter().map(|(_, _, r)| r).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histories_are_deterministic_and_school_specific() {
        let an_hoa = &TAM_NONG_SCHOOLS[0];
        let a = history(an_hoa, Volume::DEMO, 7);
        let b = history(an_hoa, Volume::DEMO, 7);
        assert_eq!(a, b);
        assert!(a.len() > 200, "{}", a.len());
        assert!(matches!(a[0], DemoRequest::AdoptPlan(_)));
        let other = history(&TAM_NONG_SCHOOLS[1], Volume::DEMO, 7);
        assert_ne!(a.len(), 0);
        assert_ne!(a, other);
    }

    #[test]
    fn every_request_converts_and_the_whole_history_is_accepted_by_the_domain() {
        // Decide the whole history in the pure domain: nothing may be refused.
        for (school, seed) in TAM_NONG_SCHOOLS
            .iter()
            .flat_map(|s| [(s, 1), (s, 2017), (s, 42)])
        {
            let mut state = domain::SchoolState::default();
            let ctx = domain::DecisionContext {
                today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            };
            for request in history(school, Volume::DEMO, seed) {
                let command = to_command(request)
                    .unwrap_or_else(|e| panic!("{}: {e}", school.code))
                    .command;
                let decision = domain::decide(&state, command, ctx)
                    .unwrap_or_else(|e| panic!("{}: {e}", school.code));
                for event in &decision.events {
                    state.apply(event);
                }
            }
        }
    }

    fn to_command(
        request: DemoRequest,
    ) -> Result<wire::convert::SchoolCommand, domain::DomainError> {
        use wire::convert::CommandRequest;
        let mut new_id = uuid::Uuid::now_v7;
        match request {
            DemoRequest::AdoptPlan(r) => r.into_command(&mut new_id),
            DemoRequest::AssignDuty(r) => r.into_command(&mut new_id),
            DemoRequest::RecordActivity(r) => r.into_command(&mut new_id),
            DemoRequest::CorrectActivity(r) => r.into_command(&mut new_id),
            DemoRequest::RetractActivity(r) => r.into_command(&mut new_id),
            DemoRequest::ReceiveFeedback(r) => r.into_command(&mut new_id),
            DemoRequest::AnswerFeedback(r) => r.into_command(&mut new_id),
            DemoRequest::RaisePressIssue(r) => r.into_command(&mut new_id),
            DemoRequest::AnswerPressIssue(r) => r.into_command(&mut new_id),
            DemoRequest::HostReporterVisit(r) => r.into_command(&mut new_id),
            DemoRequest::Nominate(r) => r.into_command(&mut new_id),
            DemoRequest::AwardCommendation(r) => r.into_command(&mut new_id),
            DemoRequest::AdoptEmulationCriteria(r) => r.into_command(&mut new_id),
            DemoRequest::EstimateBudget(r) => r.into_command(&mut new_id),
            DemoRequest::RecordExpense(r) => r.into_command(&mut new_id),
            DemoRequest::SettleBudget(r) => r.into_command(&mut new_id),
        }
    }
}
