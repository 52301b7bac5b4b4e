//! No silent loss at the seams: a seq that comes again with another event id is a divergence
//! (recorded, never applied, never dropped, found again by a rebuild), and an event of a type
//! or version this aggregator does not know is held in order until one that knows it runs.

use district_aggregator::rebuild::{self, RebuildOptions};
use uuid::Uuid;
use wire::pb;

use crate::support::*;

/// What the projection says about one author's divergences: `(seq, event id, reason)` of its
/// divergence dead letters, and `(seq, reason)` of its held events.
async fn divergence_rows(
    env: &Env,
    author: &str,
) -> (Vec<(i64, Uuid, String)>, Vec<(i64, String)>) {
    let letters = sqlx::query_as(
        "SELECT seq, event_id, reason FROM live.dead_letters \
         WHERE author = $1 AND kind = 'divergence' ORDER BY seq, id",
    )
    .bind(author)
    .fetch_all(&env.db)
    .await
    .unwrap();
    let held = sqlx::query_as("SELECT seq, reason FROM live.held WHERE author = $1 ORDER BY seq")
        .bind(author)
        .fetch_all(&env.db)
        .await
        .unwrap();
    (letters, held)
}

#[tokio::test]
async fn a_log_restored_from_an_old_copy_is_a_divergence_never_applied_and_found_again_by_a_rebuild()
 {
    let env = Env::start().await.unwrap();
    let settings = env.settings();
    let running = Running::start(settings.clone()).await.unwrap();
    let mut district = DistrictLog::new();
    district.enrol(AN_HOA, "Trường THCS An Hòa");
    // What the district applied: seqs 1..=5.
    let original = SchoolLog::with_plan_and_activities(AN_HOA, 4);
    // The school's disk dies; its log is restored from a copy that ends at seq 2, and staff
    // go on recording: seqs 3..=7 are new events with new ids.
    let mut restored = SchoolLog::new(AN_HOA);
    restored.envelopes = original.envelopes[..2].to_vec();
    for n in 0..5 {
        restored.push(activity(100 + n));
    }
    publish(&env.js, &district.envelopes).await.unwrap();
    publish(&env.js, &original.envelopes).await.unwrap();
    env.wait_applied(AN_HOA, 5).await.unwrap();
    env.wait_consumed().await.unwrap();

    publish(&env.js, &restored.envelopes[2..]).await.unwrap();
    // And a genuine re-send of seq 4 (the original event, a fresh message id): a duplicate.
    republish(&env.js, &original.envelopes[3..4]).await.unwrap();
    env.wait_consumed().await.unwrap();

    let mut client = running.client().await.unwrap();
    let state = client
        .get_ingest_state(pb::GetIngestStateRequest {})
        .await
        .unwrap()
        .into_inner();
    let school = state
        .authors
        .iter()
        .find(|a| a.author == AN_HOA)
        .expect("the school is known");
    assert_eq!(school.applied_seq, 5, "nothing of the divergent log applied");
    assert_eq!(school.divergences, 3);
    assert_eq!(school.divergent_seqs, vec![3, 4, 5]);
    assert_eq!(
        (school.held, school.held_diverged),
        (2, 2),
        "6 and 7 follow the divergent history: held"
    );
    assert_eq!(school.first_missing_seq, None, "blocked, not a gap");
    let counters = state.counters.expect("counters");
    assert_eq!(counters.divergences, 3);
    assert!(counters.duplicates >= 1, "the re-sent seq 4 is a duplicate");

    let (letters, held) = divergence_rows(&env, AN_HOA).await;
    let seqs: Vec<i64> = letters.iter().map(|(seq, _, _)| *seq).collect();
    assert_eq!(seqs, vec![3, 4, 5]);
    for (seq, event_id, reason) in &letters {
        let i = usize::try_from(*seq).unwrap() - 1;
        assert_eq!(*event_id, restored.envelopes[i].id, "the new event is kept");
        assert!(
            reason.contains(&original.envelopes[i].id.to_string())
                && reason.contains(&restored.envelopes[i].id.to_string())
                && reason.contains(&format!("seq {seq}")),
            "{reason}"
        );
    }
    assert_eq!(
        held,
        vec![(6, "diverged".to_owned()), (7, "diverged".to_owned())]
    );
    // The listing says what each dead letter is.
    let listed = client
        .list_dead_letters(pb::ListDeadLettersRequest {
            author: AN_HOA.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.dead_letters.len(), 3);
    assert!(listed.dead_letters.iter().all(|d| d.kind == "divergence"));

    // Nothing applied twice: the original events, once each.
    let applied: Vec<(i64, Uuid)> = sqlx::query_as(
        "SELECT seq, event_id FROM live.school_events WHERE school = $1 ORDER BY seq",
    )
    .bind(AN_HOA)
    .fetch_all(&env.db)
    .await
    .unwrap();
    let expected: Vec<(i64, Uuid)> = original
        .envelopes
        .iter()
        .map(|e| (i64::try_from(e.seq).unwrap(), e.id))
        .collect();
    assert_eq!(applied, expected);
    assert_eq!(env.position(AN_HOA).await.unwrap(), (5, 5, 0));
    running.stop().await.unwrap();

    // A rebuild replays the same stream through the same ingest: the same divergences.
    let before = divergence_rows(&env, AN_HOA).await;
    rebuild::run(&settings, RebuildOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(divergence_rows(&env, AN_HOA).await, before);
    assert_eq!(env.position(AN_HOA).await.unwrap(), (5, 5, 0));
}
