//! The receipt the district answers a school's head announcement with
//! (`event_bus::receipts`): how far it applied the school's log, what it refused and why, and
//! the district plan's terms for the school — sent to the school's own inbox.

use demo_data::TAM_NONG_SCHOOLS;
use demo_data::sealed::DistrictOfficeLog;
use domain::event::{Event, FeedbackAnswered};
use event_bus::heads::{self, Head};
use event_bus::subjects::SchoolAddress;
use futures::StreamExt as _;
use uuid::Uuid;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_announcement_is_answered_with_the_school_s_receipt() {
    let env = Env::start().await.unwrap();
    let s = &TAM_NONG_SCHOOLS[0];
    let mut office = DistrictOfficeLog::new();
    office.enrol(s);
    office.adopt_plan();
    publish(&env.js, office.envelopes()).await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();

    // The plan, two activities, then an answer to feedback the school never received: the
    // district's rules refuse it.
    let mut log = SchoolLog::with_plan_and_activities(s.code, 2);
    log.push(Event::FeedbackAnswered(FeedbackAnswered {
        feedback_id: Uuid::now_v7(),
        answered_on: date(2018, 3, 5),
        channel: domain::Channel::Hotline,
        answer: "Đã trả lời phụ huynh qua điện thoại.".into(),
    }));
    publish(&env.js, &log.envelopes).await.unwrap();
    env.wait_applied(s.code, 4).await.unwrap();

    let school = SchoolAddress::parse(PROVINCE, DISTRICT, s.code).unwrap();
    let client = async_nats::connect(env.nats.url()).await.unwrap();
    let mut receipts = client
        .subscribe(event_bus::receipts::receipts_subject(&school))
        .await
        .unwrap();
    client.flush().await.unwrap();
    heads::announce(&client, &school, Head { seq: 4, id: None })
        .await
        .unwrap();
    let message = tokio::time::timeout(WAIT, receipts.next())
        .await
        .expect("a receipt in time")
        .expect("a receipt");
    let receipt = event_bus::receipts::parse(&message.payload).expect("a readable receipt");
    assert_eq!(receipt.applied_seq, 4);
    assert_eq!(receipt.refused.len(), 1, "{receipt:?}");
    assert_eq!(receipt.refused[0].seq, 4);
    assert!(!receipt.refused[0].reason.is_empty());
    assert!(receipt.held.is_empty());
    let terms = receipt.district.expect("the district plan's terms");
    assert_eq!(terms.plan_number, "1442/KH-PGDĐT");
    assert!(terms.answer_feedback_days > 0 && terms.answer_press_days > 0);
    assert!(!terms.targets.is_empty(), "the targets of a THCS");
    running.stop().await.unwrap();
}
