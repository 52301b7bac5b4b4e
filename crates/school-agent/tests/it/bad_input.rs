//! A table of bad inputs: each refused with the right code, naming the field; the log unchanged.

use tonic::Code;
use wire::pb;

use test_harness::NatsServer;

use crate::support::*;

fn with_activity(edit: impl FnOnce(&mut pb::Activity)) -> pb::RecordActivityRequest {
    let mut request = activity(1);
    edit(request.activity.as_mut().unwrap());
    request
}

#[tokio::test]
async fn bad_inputs_are_refused_with_code_and_field_and_change_nothing() {
    let nats = NatsServer::start().await.unwrap();
    let school = SchoolDir::new(&nats.url()).unwrap();
    let agent = AgentInProcess::start(&school).await.unwrap();
    let mut client = connect(agent.grpc).await.unwrap();

    // Before any plan: a precondition.
    let err = client.record_activity(activity(1)).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("plan"), "{}", err.message());

    adopt_seed_plan(&mut client).await.unwrap();
    let before = status(&mut client).await.unwrap().head_seq;

    let cases: Vec<(&str, pb::RecordActivityRequest, Code, &str)> = vec![
        (
            "empty title",
            with_activity(|a| a.title = "   ".into()),
            Code::InvalidArgument,
            "activity.title",
        ),
        (
            "unknown content area",
            with_activity(|a| a.area = 9),
            Code::InvalidArgument,
            "activity.area",
        ),
        (
            "unknown topic",
            with_activity(|a| a.topic = "bong-da".into()),
            Code::InvalidArgument,
            "activity.topic",
        ),
        (
            "date outside the period",
            with_activity(|a| a.date = "2031-01-01".into()),
            Code::InvalidArgument,
            "activity.date",
        ),
        (
            "not a date",
            with_activity(|a| a.date = "20/10/2018".into()),
            Code::InvalidArgument,
            "activity.date",
        ),
        (
            "1 MB text",
            with_activity(|a| a.summary = "ư".repeat(1 << 19)),
            Code::InvalidArgument,
            "activity.summary",
        ),
        (
            "right-to-left override in the title",
            with_activity(|a| a.title = "Họp phụ huynh \u{202E}ãđ\u{202C}".into()),
            Code::InvalidArgument,
            "activity.title",
        ),
        (
            "zero-width space in the partner",
            with_activity(|a| a.partner = "Đài\u{200B} Truyền thanh".into()),
            Code::InvalidArgument,
            "activity.partner",
        ),
        (
            "no channel",
            with_activity(|a| a.channel = 0),
            Code::InvalidArgument,
            "activity.channel",
        ),
        (
            "wrong school code",
            {
                let mut r = activity(1);
                r.header.as_mut().unwrap().school = "thcs-phu-cuong".into();
                r
            },
            Code::InvalidArgument,
            "school",
        ),
        (
            "bad activity id",
            {
                let mut r = activity(1);
                r.activity_id = "not-a-uuid".into();
                r
            },
            Code::InvalidArgument,
            "activity_id",
        ),
    ];
    for (name, request, code, field) in cases {
        let err = client.record_activity(request).await.unwrap_err();
        assert_eq!(err.code(), code, "{name}: {err:?}");
        assert!(
            err.message().contains(field),
            "{name}: {:?} does not name {field}",
            err.message()
        );
        let vi = wire::status::vietnamese_message(&err).unwrap_or_default();
        assert!(!vi.is_empty(), "{name}: no Vietnamese message");
    }

    let spoofed = client
        .record_activity(with_activity(|a| {
            a.summary = "Nội dung\n\u{2067}khác\u{2069}".into()
        }))
        .await
        .unwrap_err();
    assert_eq!(spoofed.code(), Code::InvalidArgument);
    assert!(
        spoofed.message().contains("activity.summary") && spoofed.message().contains("U+2067"),
        "{}",
        spoofed.message()
    );
    let vi = wire::status::vietnamese_message(&spoofed).unwrap_or_default();
    assert!(vi.contains("ký tự định dạng vô hình U+2067"), "{vi}");

    let negative = client
        .record_expense(pb::RecordExpenseRequest {
            header: header(),
            expense_id: String::new(),
            spent_on: "2018-03-01".into(),
            item: "Băng rôn tuyên truyền".into(),
            amount: -350_000,
            activity_id: String::new(),
            voucher: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(negative.code(), Code::InvalidArgument);
    assert!(
        negative.message().contains("expense.amount"),
        "{}",
        negative.message()
    );

    let feedback = client
        .receive_feedback(pb::ReceiveFeedbackRequest {
            header: header(),
            feedback_id: String::new(),
            received_on: "2018-09-10".into(),
            channel: pb::Channel::Hotline as i32,
            citizen: "Phụ huynh em Trần Văn Bình".into(),
            subject: "Hỏi về các khoản thu".into(),
            content: "Đề nghị công khai các khoản thu đầu năm.".into(),
            area: 5,
        })
        .await
        .unwrap()
        .into_inner();
    let early = client
        .answer_feedback(pb::AnswerFeedbackRequest {
            header: header(),
            feedback_id: feedback.entity_id.clone(),
            answered_on: "2018-09-09".into(),
            channel: pb::Channel::Meeting as i32,
            answer: "Đã công khai tại cuộc họp phụ huynh.".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::InvalidArgument);
    assert!(
        early.message().contains("answer.answered_on"),
        "{}",
        early.message()
    );

    let unknown = client
        .correct_activity(pb::CorrectActivityRequest {
            header: header(),
            activity_id: uuid::Uuid::now_v7().to_string(),
            reason: "Sửa ngày".into(),
            activity: activity(1).activity,
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    // Only the one good feedback was stored.
    let after = status(&mut client).await.unwrap().head_seq;
    assert_eq!(after, before + 1);
    agent.shutdown().await.unwrap();
}
