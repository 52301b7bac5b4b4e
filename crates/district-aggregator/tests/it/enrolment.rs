//! A school that is not enrolled is part of no view: its events are held, then applied in
//! order when the district office's `school.enrolled` arrives on `..._district`.

use crate::support::*;

#[tokio::test]
async fn events_of_an_unenrolled_school_are_held_until_it_is_enrolled() {
    let env = Env::start().await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();
    let log = SchoolLog::with_plan_and_activities(AN_HOA, 4); // seqs 1..=5
    // Out of order on purpose: 3..=5 then 1..=2.
    publish(&env.js, &log.envelopes[2..]).await.unwrap();
    publish(&env.js, &log.envelopes[..2]).await.unwrap();
    env.wait_consumed().await.unwrap();

    let held: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, reason FROM live.held WHERE author = $1 ORDER BY seq")
            .bind(AN_HOA)
            .fetch_all(&env.db)
            .await
            .unwrap();
    assert_eq!(
        held,
        (1..=5)
            .map(|s| (s, "not_enrolled".to_owned()))
            .collect::<Vec<_>>()
    );
    assert_eq!(env.applied_seq(AN_HOA).await.unwrap(), None);
    assert_eq!(
        env.count("SELECT count(*) FROM live.activities")
            .await
            .unwrap(),
        0
    );
    assert!(
        running.state.gaps().is_empty(),
        "waiting for enrolment is not a gap"
    );

    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    publish(&env.js, &district.envelopes).await.unwrap();

    env.wait_applied(AN_HOA, 5).await.unwrap();
    env.wait_consumed().await.unwrap();
    assert_eq!(env.position(AN_HOA).await.unwrap(), (5, 5, 0));
    assert_eq!(env.position("_district").await.unwrap(), (1, 1, 0));
    assert_eq!(
        env.count("SELECT count(*) FROM live.held").await.unwrap(),
        0
    );
    assert_eq!(
        env.count("SELECT count(*) FROM live.activities")
            .await
            .unwrap(),
        4
    );
    let school: (String, String, String) =
        sqlx::query_as("SELECT name, level, commune FROM live.schools WHERE code = $1")
            .bind(AN_HOA)
            .fetch_one(&env.db)
            .await
            .unwrap();
    assert_eq!(
        school,
        (
            "Trường THCS An Hòa".to_owned(),
            "thcs".to_owned(),
            "An Hòa".to_owned()
        )
    );

    // Enrolling again with nothing changed is refused by the district's rules: dead-lettered,
    // its seq used up, the school untouched.
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    publish(&env.js, &district.envelopes[1..]).await.unwrap();
    env.wait_applied("_district", 2).await.unwrap();
    assert_eq!(env.position("_district").await.unwrap(), (2, 1, 1));
    let reason: String =
        sqlx::query_scalar("SELECT reason FROM live.dead_letters WHERE author = '_district'")
            .fetch_one(&env.db)
            .await
            .unwrap();
    assert!(reason.contains("enrolment.code"), "{reason}");
    running.stop().await.unwrap();
}
