//! Every `(school, seq)` applied exactly once, in order; duplicates (redeliveries, re-sends
//! JetStream cannot recognise) have no effect, before or after a restart.

use district_aggregator::ActivityChange;
use district_aggregator::db::use_projection;
use district_aggregator::projection::restore_school;
use domain::event::*;
use domain::roles::{CommendationLevel, NomineeKind};
use domain::{Channel, Role, SchoolState, Vnd};
use uuid::Uuid;

use crate::support::*;

/// A history touching every event type, valid under the domain's rules.
fn rich_history(log: &mut SchoolLog) {
    log.push(Event::PlanAdopted(PlanAdopted { plan: seed_plan() }));
    log.push(Event::DutyAssigned(DutyAssigned {
        role: Role::VicePrincipal,
        person: "Nguyễn Thị Hồng Nhung".into(),
        duty: "Phụ trách chuyên mục trên Đài Truyền thanh huyện".into(),
        since: date(2017, 10, 25),
    }));
    let kept = Uuid::now_v7();
    let retracted = Uuid::now_v7();
    log.push(Event::ActivityRecorded(ActivityRecorded {
        activity_id: kept,
        details: details(1),
    }));
    log.push(Event::ActivityRecorded(ActivityRecorded {
        activity_id: retracted,
        details: details(2),
    }));
    let mut corrected = details(1);
    corrected.title = "Hội nghị cha mẹ học sinh về hướng nghiệp".into();
    corrected.partner = Some("Hội Khuyến học xã An Hòa".into());
    log.push(Event::ActivityCorrected(ActivityCorrected {
        activity_id: kept,
        reason: "Sai tiêu đề".into(),
        details: corrected,
    }));
    log.push(Event::ActivityRetracted(ActivityRetracted {
        activity_id: retracted,
        reason: "Trùng".into(),
    }));
    let feedback = Uuid::now_v7();
    log.push(Event::FeedbackReceived(FeedbackReceived {
        feedback_id: feedback,
        received_on: date(2018, 3, 1),
        channel: Channel::Hotline,
        citizen: Some("Lê Văn Tám".into()),
        subject: "Học phí".into(),
        content: "Xin hỏi về học phí học kỳ II.".into(),
        area: None,
    }));
    log.push(Event::FeedbackAnswered(FeedbackAnswered {
        feedback_id: feedback,
        answered_on: date(2018, 3, 5),
        channel: Channel::Hotline,
        answer: "Đã trả lời qua điện thoại.".into(),
    }));
    let issue = Uuid::now_v7();
    log.push(Event::PressIssueRaised(PressIssueRaised {
        issue_id: issue,
        raised_on: date(2018, 4, 2),
        outlet: "Báo Đồng Tháp".into(),
        title: "Phòng học xuống cấp".into(),
        summary: "Phản ánh phòng học xuống cấp.".into(),
        url: None,
        area: Some(domain::ContentArea::AdministrativeReform),
    }));
    log.push(Event::PressIssueAnswered(PressIssueAnswered {
        issue_id: issue,
        answered_on: date(2018, 4, 6),
        channel: Channel::LocalPress,
        response: "Đã sửa chữa.".into(),
    }));
    log.push(Event::ReporterVisitHosted(ReporterVisitHosted {
        visit_id: Uuid::now_v7(),
        date: date(2018, 5, 10),
        outlet: "Đài PT-TH Đồng Tháp".into(),
        reporter: "Phạm Thu".into(),
        purpose: "Phóng sự về phổ cập giáo dục".into(),
        area: None,
    }));
    let nomination = Uuid::now_v7();
    log.push(Event::NomineeNominated(NomineeNominated {
        nomination_id: nomination,
        date: date(2018, 5, 20),
        nominee_kind: NomineeKind::Individual,
        nominee: "Cô Trần Thị Mai".into(),
        achievement: "Giáo viên dạy giỏi cấp tỉnh".into(),
        proposed_level: CommendationLevel::District,
    }));
    log.push(Event::CommendationAwarded(CommendationAwarded {
        nomination_id: nomination,
        level: CommendationLevel::District,
        decision_number: "123/QĐ-UBND".into(),
        decision_date: date(2018, 6, 1),
    }));
    log.push(Event::EmulationCriteriaAdopted(EmulationCriteriaAdopted {
        school_year: 2018,
        adopted_on: date(2018, 9, 5),
        criteria: vec![Criterion {
            title: "Tin bài trên cổng thông tin".into(),
            points: 10,
        }],
    }));
    let amount = |v| Vnd::parse("amount", v).expect("valid amount");
    log.push(Event::BudgetEstimated(BudgetEstimated {
        year: 2018,
        estimated_on: date(2018, 1, 10),
        lines: vec![BudgetLine {
            item: "Tin bài".into(),
            amount: amount(5_000_000),
        }],
    }));
    log.push(Event::ExpenseRecorded(ExpenseRecorded {
        expense_id: Uuid::now_v7(),
        spent_on: date(2018, 6, 3),
        item: "Nhuận bút".into(),
        amount: amount(1_200_000),
        activity_id: Some(kept),
        voucher: Some("PC-01".into()),
    }));
    log.push(Event::BudgetSettled(BudgetSettled {
        year: 2018,
        settled_on: date(2019, 1, 15),
        settled_amount: amount(1_200_000),
        note: None,
    }));
    log.push(Event::ExpenseRecorded(ExpenseRecorded {
        expense_id: Uuid::now_v7(),
        spent_on: date(2019, 3, 3),
        item: "In tờ rơi".into(),
        amount: amount(300_000),
        activity_id: None,
        voucher: None,
    }));
    for n in 10..30 {
        log.push(activity(n));
    }
}

#[tokio::test]
async fn each_event_applies_once_in_order_and_duplicates_change_nothing() {
    let env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    let mut log = SchoolLog::new(AN_HOA);
    rich_history(&mut log);
    let head = log.envelopes.len() as i64;

    let mut running = Running::start(env.settings()).await.unwrap();
    publish(&env.js, &district.envelopes).await.unwrap();
    publish(&env.js, &log.envelopes).await.unwrap();
    // Copies of seq 5..=10 with other message ids (as after JetStream's window), one of
    // them altered: a duplicate seq must change nothing.
    let mut copies: Vec<_> = log.envelopes[4..10].to_vec();
    let mut data = copies[0].data.to_value().unwrap();
    data["reason"] = "changed".into();
    copies[0].data = (&data).into();
    republish(&env.js, &copies).await.unwrap();
    env.wait_applied(AN_HOA, head).await.unwrap();
    env.wait_consumed().await.unwrap();

    assert_eq!(env.position(AN_HOA).await.unwrap(), (head, head, 0));
    assert_eq!(
        env.count("SELECT count(*) FROM live.dead_letters")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.held").await.unwrap(),
        0
    );
    let seqs: Vec<i64> =
        sqlx::query_scalar("SELECT seq FROM live.school_events WHERE school = $1 ORDER BY seq")
            .bind(AN_HOA)
            .fetch_all(&env.db)
            .await
            .unwrap();
    assert_eq!(seqs, (1..=head).collect::<Vec<_>>());
    assert_eq!(
        env.count("SELECT count(*) FROM live.activities")
            .await
            .unwrap(),
        22
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.activities WHERE live")
            .await
            .unwrap(),
        21
    );
    let title: String =
        sqlx::query_scalar("SELECT title FROM live.activities WHERE corrections = 1")
            .fetch_one(&env.db)
            .await
            .unwrap();
    assert_eq!(title, "Hội nghị cha mẹ học sinh về hướng nghiệp");
    // Folded into words for the search: "huong nghiep" and "khuyen hoc" find it.
    let found = env
        .count("SELECT count(*) FROM live.activities WHERE live AND words @@ 'huong & nghiep & khuyen & hoc'::tsquery")
        .await
        .unwrap();
    assert_eq!(found, 1);
    let budget: (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT estimated, settled_amount FROM live.budgets WHERE school = $1 AND year = 2018",
    )
    .bind(AN_HOA)
    .fetch_one(&env.db)
    .await
    .unwrap();
    assert_eq!(budget, (Some(5_000_000), Some(1_200_000)));
    assert_eq!(
        env.count("SELECT count(*) FROM live.nominations WHERE decision_number = '123/QĐ-UBND'")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.feedback WHERE answered_on IS NOT NULL")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.press_issues WHERE answered_on IS NOT NULL")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.plans WHERE number = '114/KH-THCSAH'")
            .await
            .unwrap(),
        1
    );

    // The decision state restored from the projection rows is the state folded from the log.
    let mut tx = env.db.begin().await.unwrap();
    use_projection(&mut tx, "live").await.unwrap();
    let restored = restore_school(&mut tx, AN_HOA).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(restored, SchoolState::from_events(&log.events()));

    // Every activity change was broadcast after its commit, in order.
    let mut changes = Vec::new();
    while let Ok(update) = running.activities.try_recv() {
        changes.push((
            update.seq,
            matches!(update.change, ActivityChange::Recorded(_)),
        ));
    }
    assert_eq!(changes.len(), 24, "{changes:?}");
    assert!(changes.windows(2).all(|w| w[0].0 < w[1].0), "{changes:?}");
    assert!(running.state.counters().duplicates >= 6);
    running.stop().await.unwrap();

    // After a restart, the whole log sent again (past JetStream's window) changes nothing.
    republish(&env.js, &log.envelopes).await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();
    env.wait_consumed().await.unwrap();
    // Acknowledged means committed; the counters follow the commit.
    test_harness::wait_until(WAIT, || async {
        running.state.counters().duplicates >= head as u64
    })
    .await
    .unwrap();
    assert_eq!(env.position(AN_HOA).await.unwrap(), (head, head, 0));
    assert_eq!(
        env.count("SELECT count(*) FROM live.school_events")
            .await
            .unwrap(),
        head
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.activities WHERE live")
            .await
            .unwrap(),
        21
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.expenses")
            .await
            .unwrap(),
        2
    );
    assert_eq!(running.state.counters().duplicates, head as u64);
    assert_eq!(running.state.counters().applied, 0);
    running.stop().await.unwrap();
}
