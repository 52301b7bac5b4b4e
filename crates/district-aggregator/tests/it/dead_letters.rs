//! What cannot be applied goes to the dead letters with its reason and its exact bytes, and
//! blocks nothing: not its own school's later events, not other schools.

use domain::event::{ActivityDetails, ActivityRecorded, Event};
use uuid::Uuid;

use crate::support::*;

#[derive(Debug, sqlx::FromRow)]
struct DeadLetter {
    subject: String,
    author: Option<String>,
    seq: Option<i64>,
    reason: String,
    kind: String,
    raw: Vec<u8>,
    headers: serde_json::Value,
}

#[tokio::test]
async fn bad_messages_are_dead_lettered_with_reason_and_bytes_and_block_nothing() {
    let env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    district.enrol(PHU_CUONG, "Trường THCS Phú Cường");
    let running = Running::start(env.settings()).await.unwrap();
    publish(&env.js, &district.envelopes).await.unwrap();

    let mut an_hoa = SchoolLog::with_plan_and_activities(AN_HOA, 0); // seq 1: the plan
    let phu_cuong = SchoolLog::with_plan_and_activities(PHU_CUONG, 2); // seqs 1..=3
    publish(&env.js, &an_hoa.envelopes[..1]).await.unwrap();
    let subject = subject_of(&an_hoa.envelopes[0]);

    // 1. Not JSON at all.
    let malformed = b"{\"seq\": 2, not json".to_vec();
    publish_raw(&env.js, &subject, malformed.clone())
        .await
        .unwrap();
    // 2. Seq 2 at schema 0, which no build ever wrote: refused, but its seq is used up. (A
    //    schema *newer* than this build is held for an upgraded aggregator: `seams.rs`.)
    let mut schema_zero = an_hoa.push(activity(1));
    schema_zero.schema = 0;
    an_hoa.envelopes[1] = schema_zero.clone();
    let schema_zero_bytes = schema_zero.to_json();
    publish_raw(&env.js, &subject, schema_zero_bytes.clone())
        .await
        .unwrap();
    // 3. Another school's event on An Hòa's subject: rejected, no seq used.
    let foreign = phu_cuong.envelopes[0].to_json();
    publish_raw(&env.js, &subject, foreign.clone())
        .await
        .unwrap();
    // 4. Too big: rejected before it is even parsed.
    let mut big = an_hoa.envelopes[0].clone();
    big.seq = 3;
    big.data = (&serde_json::json!({ "padding": "x".repeat(MAX_MESSAGE_BYTES) })).into();
    let big_bytes = big.to_json();
    publish_raw(&env.js, &subject, big_bytes.clone())
        .await
        .unwrap();
    // 5. Seq 3 breaks a rule: an activity dated after it was recorded.
    let future = an_hoa.push(Event::ActivityRecorded(ActivityRecorded {
        activity_id: Uuid::now_v7(),
        details: ActivityDetails {
            date: date(2020, 12, 25),
            ..details(3)
        },
    }));
    publish(&env.js, std::slice::from_ref(&future))
        .await
        .unwrap();
    // Then three good events of An Hòa, and Phú Cường's whole log.
    for n in 4..7 {
        an_hoa.push(activity(n));
    }
    publish(&env.js, &an_hoa.envelopes[3..]).await.unwrap();
    publish(&env.js, &phu_cuong.envelopes).await.unwrap();

    env.wait_applied(AN_HOA, 6).await.unwrap();
    env.wait_applied(PHU_CUONG, 3).await.unwrap();
    env.wait_consumed().await.unwrap();

    assert_eq!(
        env.position(AN_HOA).await.unwrap(),
        (6, 4, 2),
        "seqs 2 and 3 used up by refused events"
    );
    assert_eq!(env.position(PHU_CUONG).await.unwrap(), (3, 3, 0));
    assert_eq!(
        env.count("SELECT count(*) FROM live.activities WHERE school = 'thcs-an-hoa'")
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.activities WHERE school = 'thcs-phu-cuong'")
            .await
            .unwrap(),
        2
    );

    let letters: Vec<DeadLetter> = sqlx::query_as(
        "SELECT subject, author, seq, reason, kind, raw, headers FROM live.dead_letters ORDER BY stream_seq",
    )
    .fetch_all(&env.db)
    .await
    .unwrap();
    assert_eq!(letters.len(), 5, "{letters:#?}");
    for letter in &letters {
        assert_eq!(letter.subject, subject);
        assert_eq!(letter.author.as_deref(), Some(AN_HOA));
    }
    let expect = [
        (malformed, None, "invalid envelope", "unreadable"),
        (
            schema_zero_bytes,
            Some(2),
            "has no upcaster from schema 0",
            "refused",
        ),
        (
            foreign,
            Some(1),
            "body names dong-thap/tam-nong/thcs-phu-cuong",
            "unreadable",
        ),
        (
            big_bytes,
            None,
            "exceeds the limit of 65536 bytes",
            "unreadable",
        ),
        (future.to_json(), Some(3), "in the future", "refused"),
    ];
    for (letter, (raw, seq, reason, kind)) in letters.iter().zip(expect) {
        assert_eq!(letter.kind, kind, "{}", letter.reason);
        assert_eq!(
            letter.raw, raw,
            "raw bytes kept exactly ({})",
            letter.reason
        );
        assert_eq!(letter.seq, seq, "{}", letter.reason);
        assert!(
            letter.reason.contains(reason),
            "{:?} should contain {reason:?}",
            letter.reason
        );
    }
    // The published headers are kept; a raw publish has none.
    assert_eq!(letters[0].headers, serde_json::json!({}));
    assert!(
        letters[4].headers.get("Nats-Msg-Id").is_some(),
        "{}",
        letters[4].headers
    );
    assert_eq!(running.state.counters().dead_lettered, 5);
    running.stop().await.unwrap();
}

/// A value PostgreSQL itself refuses (here: a constraint the test adds on one activity) must
/// not wedge the district: the batch is retried event by event and only that event is
/// dead-lettered. A NUL character in an event's data, which `jsonb` could not hold, is stored
/// (the data is kept as JSON text).
#[tokio::test]
async fn a_value_postgres_refuses_is_dead_lettered_alone() {
    let env = Env::start().await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    let mut log = SchoolLog::with_plan_and_activities(AN_HOA, 5); // seqs 1..=6
    let mut data = log.envelopes[4].data.to_value().unwrap();
    data["note"] = "a\u{0}b".into();
    log.envelopes[4].data = (&data).into();
    let running = Running::start(env.settings()).await.unwrap();
    sqlx::raw_sql(
        "ALTER TABLE live.activities ADD CONSTRAINT refuse_seq_3 CHECK (recorded_seq <> 3)",
    )
    .execute(&env.db)
    .await
    .unwrap();
    publish(&env.js, &district.envelopes).await.unwrap();
    publish(&env.js, &log.envelopes).await.unwrap();

    env.wait_applied(AN_HOA, 6).await.unwrap();
    env.wait_consumed().await.unwrap();
    assert_eq!(env.position(AN_HOA).await.unwrap(), (6, 5, 1));
    let (seq, reason): (Option<i64>, String) =
        sqlx::query_as("SELECT seq, reason FROM live.dead_letters")
            .fetch_one(&env.db)
            .await
            .unwrap();
    assert_eq!(seq, Some(3));
    assert!(
        reason.contains("the projection could not store it"),
        "{reason}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.activities")
            .await
            .unwrap(),
        4
    );
    let data: String =
        sqlx::query_scalar("SELECT data FROM live.school_events WHERE school = $1 AND seq = 5")
            .bind(AN_HOA)
            .fetch_one(&env.db)
            .await
            .unwrap();
    let data: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data["note"], "a\u{0}b");
    running.stop().await.unwrap();
}
