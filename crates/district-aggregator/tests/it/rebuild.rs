//! `district-aggregator rebuild`: the projections rebuilt from the stream and swapped in while
//! the live aggregator keeps ingesting and answering (invariant 4 of `docs/contract.md`).
//!
//! Real NATS and PostgreSQL, the real aggregator in this process. School histories are the
//! demo histories of `demo-data`, decided by the domain's own `decide` and sealed as a school
//! agent seals them (with `recorded_at` a few days after each event, so timeliness varies),
//! plus what the ingest must hold or refuse: a school enrolled only after its events arrived,
//! a gap that heals, an event the rules refuse, an unreadable message, re-sent copies.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use demo_data::sealed::{DistrictOfficeLog, SchoolLog as DemoLog, late_recording};
use demo_data::{DemoSchool, TAM_NONG_SCHOOLS, Volume};
use district_aggregator::db::LIVE_SCHEMA;
use district_aggregator::queries::Views;
use district_aggregator::rebuild::{self, RebuildOptions};
use domain::district::views::{
    ActivityFilter, ActivityPage, BudgetView, CommendationView, CompletenessView, EnrolledSchool,
    PlanView, ResponsivenessView,
};
use domain::district::{DistrictModel, DistrictPlan};
use domain::event::{Event, FeedbackAnswered};
use domain::{Actor, Author, Channel, ContentArea, Envelope, Period, Role, Slug};
use futures::StreamExt;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

use crate::support::*;

const SEED: u64 = 114;
const PERIODS: &[&str] = &[
    "2018-Q1",
    "2017-2018-HK1",
    "2018-2019",
    "2019",
    "plan",
    "2020-12",
];
/// Title prefix written into the live projection by hand: only a rebuild removes it.
const TAMPERED: &str = "SỬA TAY ";

// ---------------------------------------------------------------------------------------
// Histories, sealed as agents and the district office seal them.

/// A school's demo history as its agent would log it. With `refused_at`, an answer to a
/// feedback case that does not exist is logged at the first request boundary from that seq
/// on (an agent of an older version might have): the aggregator must dead-letter it and go on.
fn school_log(s: &DemoSchool, volume: Volume, refused_at: Option<u64>) -> Vec<Envelope> {
    let mut log = DemoLog::new(s);
    let mut refused = refused_at;
    for request in demo_data::history(s, volume, SEED) {
        if refused.is_some_and(|at| log.len() as u64 + 1 >= at) {
            refused = None;
            let bogus = Event::FeedbackAnswered(FeedbackAnswered {
                feedback_id: Uuid::now_v7(),
                answered_on: date(2018, 5, 5),
                channel: Channel::Hotline,
                answer: "Trả lời một phản ánh không có".into(),
            });
            let actor = Actor::parse(Role::VicePrincipal, "Lê Văn Hùng").expect("valid actor");
            log.append_unchecked(&bogus, actor, late_recording());
        }
        log.record(request, usize::MAX);
    }
    log.into_envelopes()
}

// ---------------------------------------------------------------------------------------
// Every view, from the projection and from the model.

#[derive(Debug, PartialEq)]
struct Snapshot {
    schools: Vec<EnrolledSchool>,
    district_plan: Option<DistrictPlan>,
    plan_views: Vec<PlanView>,
    completeness: Vec<CompletenessView>,
    responsiveness: Vec<ResponsivenessView>,
    commendation: Vec<CommendationView>,
    budgets: Vec<BudgetView>,
    searches: Vec<ActivityPage>,
}

fn periods() -> Vec<Period> {
    PERIODS
        .iter()
        .map(|p| p.parse().expect("valid period"))
        .collect()
}

fn filters() -> Vec<ActivityFilter> {
    vec![
        ActivityFilter::default(),
        ActivityFilter {
            text: Some("huong nghiep".into()),
            ..Default::default()
        },
        ActivityFilter {
            area: Some(ContentArea::from_number("area", 3).expect("valid")),
            period: Some("2018-2019".parse().expect("valid")),
            ..Default::default()
        },
    ]
}

/// Every view the projection answers, through the crate's query functions.
async fn snapshot(views: &Views) -> anyhow::Result<Snapshot> {
    let mut s = Snapshot {
        schools: views.schools().await?,
        district_plan: views.district_plan().await?,
        plan_views: Vec::new(),
        completeness: Vec::new(),
        responsiveness: Vec::new(),
        commendation: Vec::new(),
        budgets: Vec::new(),
        searches: Vec::new(),
    };
    for period in periods() {
        s.plan_views.push(views.plan_view(period).await?);
        s.completeness.push(views.completeness(period).await?);
        s.responsiveness
            .push(views.responsiveness(period, None).await?);
        s.commendation.push(views.commendation(period).await?);
    }
    for year in 2017..=2020 {
        s.budgets.push(views.budget(year).await?);
    }
    for filter in filters() {
        let mut token: Option<String> = None;
        loop {
            let page = views
                .search_activities(&filter, Some(100), token.as_deref())
                .await?;
            token = page.next_page_token.clone();
            s.searches.push(page);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(s)
}

/// The same views, from the reference model.
fn expected(model: &DistrictModel) -> Snapshot {
    let mut s = Snapshot {
        schools: model.schools(),
        district_plan: model.district_plan().cloned(),
        plan_views: Vec::new(),
        completeness: Vec::new(),
        responsiveness: Vec::new(),
        commendation: Vec::new(),
        budgets: Vec::new(),
        searches: Vec::new(),
    };
    for period in periods() {
        s.plan_views
            .push(model.plan_view(period).expect("plan view"));
        s.completeness
            .push(model.completeness(period).expect("completeness"));
        s.responsiveness
            .push(model.responsiveness(period, None).expect("responsiveness"));
        s.commendation
            .push(model.commendation(period).expect("commendation"));
    }
    for year in 2017..=2020 {
        s.budgets.push(model.budget(year).expect("budget"));
    }
    for filter in filters() {
        let mut token: Option<String> = None;
        loop {
            let page = model
                .search_activities(&filter, Some(100), token.as_deref())
                .expect("search");
            token = page.next_page_token.clone();
            s.searches.push(page);
            if token.is_none() {
                break;
            }
        }
    }
    s
}

/// Every envelope of the district stream, in stream order; unreadable messages skipped.
async fn read_stream(js: &jetstream::Context) -> anyhow::Result<Vec<Envelope>> {
    let mut stream = js.get_stream(stream_name()).await?;
    let last = stream.info().await?.state.last_sequence;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
        .await?;
    let mut messages = consumer.messages().await?;
    let mut envelopes = Vec::new();
    let mut seen = 0;
    while seen < last {
        let message = tokio::time::timeout(WAIT, messages.next())
            .await?
            .ok_or_else(|| anyhow::anyhow!("the ordered consumer ended"))??;
        seen = message
            .info()
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .stream_sequence;
        if let Ok(envelope) = Envelope::parse(&message.payload) {
            envelopes.push(envelope);
        }
    }
    Ok(envelopes)
}

fn model_of(envelopes: &[Envelope]) -> DistrictModel {
    let mut model = DistrictModel::new(
        Slug::parse("p", PROVINCE).expect("valid"),
        Slug::parse("d", DISTRICT).expect("valid"),
    );
    model.apply_all(envelopes);
    model
}

/// Positions, held events and dead letters of the projection equal the model's.
async fn assert_positions(views: &Views, model: &DistrictModel, authors: &[String]) {
    let rows = views.authors().await.expect("authors");
    for author in authors {
        let position = model.position(&Author::parse("author", author).expect("valid author"));
        let row = rows
            .iter()
            .find(|r| &r.author == author)
            .unwrap_or_else(|| panic!("{author} is known to the projection"));
        assert_eq!(
            row.applied_seq as u64, position.applied_seq,
            "{author} applied_seq"
        );
        assert_eq!(row.held as usize, position.held_seqs.len(), "{author} held");
        assert_eq!(
            row.first_missing_seq().map(|s| s as u64),
            position.first_missing_seq,
            "{author} first missing"
        );
        let refused = model
            .dead_letters()
            .iter()
            .filter(|d| &d.author == author)
            .count() as i64;
        assert_eq!(row.rejected_events, refused, "{author} refused events");
        assert_eq!(row.applied_events + row.rejected_events, row.applied_seq);
    }
    let dead = views
        .dead_letters(None, Some(500), None)
        .await
        .expect("dead letters");
    let mut ours: Vec<(String, u64, Uuid)> = dead
        .dead_letters
        .iter()
        .filter_map(|d| Some((d.author.clone()?, d.seq? as u64, d.event_id?)))
        .collect();
    let mut theirs: Vec<(String, u64, Uuid)> = model
        .dead_letters()
        .iter()
        .map(|d| (d.author.clone(), d.seq, d.id))
        .collect();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs, "the refused events");
    assert_eq!(
        dead.dead_letters.iter().filter(|d| d.seq.is_none()).count(),
        1,
        "the unreadable message"
    );
}

fn heads(logs: &BTreeMap<String, Vec<Envelope>>) -> Vec<(String, i64)> {
    logs.iter()
        .map(|(a, l)| (a.clone(), l.len() as i64))
        .collect()
}

/// Publishes `envelopes` a few at a time, so that the live ingest applies them over many
/// batches.
async fn trickle(
    js: &jetstream::Context,
    envelopes: &[Envelope],
    chunk: usize,
) -> anyhow::Result<()> {
    for part in envelopes.chunks(chunk) {
        publish(js, part).await?;
    }
    Ok(())
}

/// Interleaves the schools' slices round-robin, each in seq order.
fn interleave(parts: Vec<&[Envelope]>) -> Vec<Envelope> {
    let mut out = Vec::new();
    let mut cursors = vec![0; parts.len()];
    loop {
        let mut any = false;
        for (i, part) in parts.iter().enumerate() {
            let end = (cursors[i] + 7).min(part.len());
            if cursors[i] < end {
                out.extend_from_slice(&part[cursors[i]..end]);
                cursors[i] = end;
                any = true;
            }
        }
        if !any {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_swaps_in_the_model_s_views_while_live_ingest_runs() {
    let started = Instant::now();
    let env = Env::start().await.unwrap();
    let settings = env.settings();
    let running = Running::start(settings.clone()).await.unwrap();
    let mut activities = running.activities.resubscribe();

    // The district: five schools enrolled and the plan adopted; a sixth school's events
    // arrive before its enrolment.
    let chosen: Vec<&DemoSchool> = TAM_NONG_SCHOOLS.iter().take(6).collect();
    let (first, late) = chosen.split_at(5);
    let late = late[0];
    let volume = Volume {
        activities: 70,
        feedback: 10,
        press_issues: 3,
    };
    let mut office = DistrictOfficeLog::new();
    for s in first {
        office.enrol(s);
    }
    office.adopt_plan();
    let mut logs: BTreeMap<String, Vec<Envelope>> = BTreeMap::new();
    for (i, s) in chosen.iter().enumerate() {
        let refused_at = (i == 1).then_some(25);
        logs.insert(s.code.to_owned(), school_log(s, volume, refused_at));
    }
    let split = |log: &Vec<Envelope>, from: f64, to: f64| {
        let n = log.len() as f64;
        ((n * from) as usize, (n * to) as usize)
    };

    // Phase A, before the rebuild: 60% of every history, with a gap that heals (seq 11 of the
    // first school published before seq 10) and an unreadable message.
    publish(&env.js, office.envelopes()).await.unwrap();
    let mut phase_a: Vec<&[Envelope]> = Vec::new();
    for log in logs.values() {
        let (_, end) = split(log, 0.0, 0.6);
        phase_a.push(&log[..end]);
    }
    let mut a = interleave(phase_a);
    let first_code = first[0].code;
    let ten = a
        .iter()
        .position(|e| e.school.as_str() == first_code && e.seq == 10)
        .unwrap();
    let eleven = a
        .iter()
        .position(|e| e.school.as_str() == first_code && e.seq == 11)
        .unwrap();
    a.swap(ten, eleven);
    publish(&env.js, &a).await.unwrap();
    publish_raw(
        &env.js,
        &format!("truyenthong.events.{PROVINCE}.{DISTRICT}.{}", first[2].code),
        b"{ not json".to_vec(),
    )
    .await
    .unwrap();
    for s in first {
        let (_, end) = split(&logs[s.code], 0.0, 0.6);
        env.wait_applied(s.code, end as i64).await.unwrap();
    }
    env.wait_consumed().await.unwrap();
    assert_eq!(
        env.applied_seq(late.code).await.unwrap(),
        None,
        "held until enrolled"
    );

    // The views through a pool of one connection, so every statement the views use is
    // prepared on it before the swap; they equal the model's now.
    let query_pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&env.db_url)
        .await
        .unwrap();
    let views = Views::new(query_pool.clone(), LIVE_SCHEMA);
    let model = model_of(&read_stream(&env.js).await.unwrap());
    assert_eq!(
        snapshot(&views).await.unwrap(),
        expected(&model),
        "live views before the rebuild"
    );

    // Damage the live projection by hand: only a rebuild can repair it.
    let tampered = sqlx::query(&format!(
        "UPDATE live.activities SET title = '{TAMPERED}' || title WHERE school = '{}'",
        first[3].code
    ))
    .execute(&env.db)
    .await
    .unwrap()
    .rows_affected();
    assert!(tampered > 10);
    assert_ne!(
        snapshot(&views).await.unwrap(),
        expected(&model),
        "the damage shows"
    );

    // Phase B, during the rebuild: the late enrolment, the next 20% of every history and
    // re-sent copies of phase A (past JetStream's duplicate window), trickling in.
    let mut phase_b: Vec<&[Envelope]> = Vec::new();
    for log in logs.values() {
        let (from, to) = split(log, 0.6, 0.8);
        phase_b.push(&log[from..to]);
    }
    let mut b = vec![office.enrol(late)];
    b.extend(interleave(phase_b));
    let resent: Vec<Envelope> = logs[first[1].code][..20].to_vec();
    // It starts once the replay is under way, and the replay waits (in its progress
    // callback) until the live ingest has applied all of it: the rebuild then has a tail to
    // catch up, whatever the machine's speed.
    let replaying = Arc::new(tokio::sync::Notify::new());
    let (b_applied, b_applied_seen) = std::sync::mpsc::channel::<()>();
    let b_heads: Vec<(String, i64)> = logs
        .iter()
        .map(|(code, log)| (code.clone(), split(log, 0.6, 0.8).1 as i64))
        .collect();
    let publisher = {
        let (js, replaying) = (env.js.clone(), replaying.clone());
        let db = env.db.clone();
        tokio::spawn(async move {
            replaying.notified().await;
            trickle(&js, &b, 15).await?;
            republish(&js, &resent).await?;
            for (code, head) in b_heads {
                test_harness::wait_until(WAIT, || {
                    let db = db.clone();
                    let code = code.clone();
                    async move {
                        sqlx::query_scalar::<_, i64>(
                            "SELECT applied_seq FROM live.positions WHERE author = $1",
                        )
                        .bind(code)
                        .fetch_optional(&db)
                        .await
                        .ok()
                        .flatten()
                            >= Some(head)
                    }
                })
                .await?;
            }
            let _ = b_applied.send(());
            anyhow::Ok(())
        })
    };
    // Views keep answering throughout, through the same pool.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let reader = {
        let (views, stop, answered) = (views.clone(), stop.clone(), answered.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                snapshot(&views).await?;
                answered.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        })
    };
    let mut lines = Vec::new();
    let mut waited_for_b = None;
    let options = RebuildOptions {
        // Small batches, so that the replay lasts while phase B arrives.
        batch_size: 40,
        progress_every: Duration::from_millis(100),
        ..RebuildOptions::default()
    };
    let report = rebuild::run(&settings, options, |p| {
        if lines.is_empty() {
            replaying.notify_one();
            // Blocks the test's own thread only; the aggregator runs on the workers.
            waited_for_b = Some(b_applied_seen.recv_timeout(WAIT));
        }
        lines.push(p.to_string());
    })
    .await
    .unwrap();
    eprintln!("rebuild: {report:?}");
    for line in &lines {
        eprintln!("  {line}");
    }
    let retired = report.retired.clone().expect("the old projection is kept");
    assert!(
        matches!(waited_for_b, Some(Ok(()))),
        "the live ingest applied phase B during the replay: {waited_for_b:?}"
    );
    assert!(
        report.tail > 0,
        "the live ingest went on during the replay: {report:?}"
    );
    assert!(lines.iter().any(|l| l.starts_with("rebuilt ")), "{lines:?}");
    assert!(lines.last().unwrap().starts_with("swapped"), "{lines:?}");

    // At once, through the same connection and its prepared statements: the new schema.
    let school3 = ActivityFilter {
        school: Some(Slug::parse("s", first[3].code).unwrap()),
        ..Default::default()
    };
    let page = views
        .search_activities(&school3, Some(500), None)
        .await
        .unwrap();
    assert!(!page.activities.is_empty());
    assert!(
        page.activities
            .iter()
            .all(|a| !a.title.starts_with(TAMPERED)),
        "a query after the swap reads the rebuilt schema"
    );
    let kept = env
        .count(&format!(
            "SELECT count(*) FROM \"{retired}\".activities WHERE title LIKE '{TAMPERED}%'"
        ))
        .await
        .unwrap();
    // (Corrections applied live before the swap rewrote some titles.)
    assert!(kept > 0, "the retired schema is the old projection");

    publisher.await.unwrap().unwrap();
    stop.store(true, Ordering::Relaxed);
    reader
        .await
        .unwrap()
        .expect("views answered throughout the rebuild");
    assert!(answered.load(Ordering::Relaxed) > 0);

    // Phase C, after the swap: the rest, and re-sent copies of phase B. The live ingest
    // applies them to the new schema exactly once.
    let mut phase_c: Vec<&[Envelope]> = Vec::new();
    let mut c_activities = BTreeSet::new();
    for log in logs.values() {
        let (from, _) = split(log, 0.8, 1.0);
        phase_c.push(&log[from..]);
        for e in &log[from..] {
            if e.event_type.starts_with("activity.") {
                c_activities.insert((e.school.as_str().to_owned(), e.seq));
            }
        }
    }
    publish(&env.js, &interleave(phase_c)).await.unwrap();
    let (from, to) = split(&logs[first[4].code], 0.6, 0.8);
    republish(&env.js, &logs[first[4].code][from..to])
        .await
        .unwrap();
    for (code, head) in heads(&logs) {
        env.wait_applied(&code, head).await.unwrap();
    }
    env.wait_applied(Author::DISTRICT_TOKEN, office.envelopes().len() as i64)
        .await
        .unwrap();
    env.wait_consumed().await.unwrap();

    // Every view equals the model of the whole stream; so do positions and dead letters.
    let envelopes = read_stream(&env.js).await.unwrap();
    let model = model_of(&envelopes);
    assert_eq!(model.dead_letters().len(), 1, "{:?}", model.dead_letters());
    for (code, head) in heads(&logs) {
        let position = model.position(&Author::parse("a", &code).unwrap());
        assert_eq!(position.applied_seq as i64, head, "{code}");
    }
    assert_eq!(
        snapshot(&views).await.unwrap(),
        expected(&model),
        "views after the swap"
    );
    let mut authors: Vec<String> = logs.keys().cloned().collect();
    authors.push(Author::DISTRICT_TOKEN.to_owned());
    assert_positions(&views, &model, &authors).await;

    // Exactly once: one row per applied event; every activity of phase C broadcast by the
    // live ingest once, and nothing broadcast twice.
    let rows = env
        .count("SELECT count(*) FROM live.school_events")
        .await
        .unwrap();
    let applied: i64 = logs.values().map(|l| l.len() as i64).sum::<i64>() - 1;
    assert_eq!(rows, applied);
    let mut broadcast = BTreeMap::new();
    while let Ok(update) = activities.try_recv() {
        *broadcast.entry((update.school, update.seq)).or_insert(0) += 1;
    }
    assert!(
        broadcast.values().all(|n| *n == 1),
        "an activity was broadcast twice"
    );
    for key in &c_activities {
        assert_eq!(
            broadcast.get(key),
            Some(&1),
            "{key:?} of phase C broadcast once"
        );
    }
    assert!(!c_activities.is_empty());

    // ops.contacts is not projection state: untouched by the swap, kept up by the live ingest.
    let contacts = env
        .count("SELECT count(*) FROM ops.contacts")
        .await
        .unwrap();
    assert_eq!(contacts, logs.len() as i64 + 1);

    eprintln!(
        "rebuild test: {} envelopes, views answered {} times during the rebuild; {:?}",
        envelopes.len(),
        answered.load(Ordering::Relaxed),
        started.elapsed()
    );
    running.stop().await.unwrap();
}

/// Two rebuilds with the default options keep only the newest retired projection; then the
/// command line: `district-aggregator rebuild --config FILE --drop-retired`, with the
/// aggregator stopped, over a database holding a dead rebuild's leftover schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rebuild_command_swaps_and_drops_the_retired_projection() {
    let env = Env::start().await.unwrap();
    let settings = env.settings();
    let running = Running::start(settings.clone()).await.unwrap();
    let mut office = DistrictOfficeLog::new();
    let s = &TAM_NONG_SCHOOLS[0];
    office.enrol(s);
    office.adopt_plan();
    let log = school_log(
        s,
        Volume {
            activities: 30,
            feedback: 4,
            press_issues: 1,
        },
        None,
    );
    publish(&env.js, office.envelopes()).await.unwrap();
    publish(&env.js, &log).await.unwrap();
    env.wait_applied(s.code, log.len() as i64).await.unwrap();
    env.wait_consumed().await.unwrap();
    running.stop().await.unwrap();

    // By default a rebuild keeps the projection it replaced and drops older retired ones.
    let retired = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'retired\\_%' ORDER BY 1",
        )
        .fetch_all(&env.db)
        .await
        .unwrap()
    };
    let first = rebuild::run(&settings, RebuildOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(retired().await, [first.retired.clone().unwrap()]);
    let second = rebuild::run(&settings, RebuildOptions::default(), |_| {})
        .await
        .unwrap();
    assert_ne!(first.retired, second.retired);
    assert_eq!(
        retired().await,
        [second.retired.clone().unwrap()],
        "the older retired projection is dropped"
    );

    sqlx::query("SELECT public.create_projection('rebuild_19700101_000000_000')")
        .execute(&env.db)
        .await
        .unwrap();
    sqlx::query("DELETE FROM live.activities")
        .execute(&env.db)
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("aggregator.toml");
    district_fixture::aggregator::write_config(&settings, &config).unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_district-aggregator"))
        .args(["rebuild", "--drop-retired", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("rebuilt "), "{stderr}");
    assert!(stderr.contains("swapped"), "{stderr}");
    eprintln!("{stderr}");

    let others = env
        .count(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rebuild\\_%' OR nspname LIKE 'retired\\_%'",
        )
        .await
        .unwrap();
    assert_eq!(
        others, 0,
        "the leftover and the retired projections are gone"
    );
    let model = model_of(&read_stream(&env.js).await.unwrap());
    let views = Views::new(env.db.clone(), LIVE_SCHEMA);
    assert_eq!(snapshot(&views).await.unwrap(), expected(&model));
    assert_positions_without_garbage(&views, &model, s.code).await;
}

async fn assert_positions_without_garbage(views: &Views, model: &DistrictModel, code: &str) {
    let rows = views.authors().await.expect("authors");
    let row = rows
        .iter()
        .find(|r| r.author == code)
        .expect("the school is known");
    let position = model.position(&Author::parse("a", code).expect("valid author"));
    assert_eq!(row.applied_seq as u64, position.applied_seq);
    assert!(
        row.last_contact_at.is_some(),
        "ops.contacts survives the rebuild"
    );
}

/// After the swap the live ingest must decide with the *rebuilt* projection's states, not
/// with those it cached from the old one. Here the old projection lost a feedback case by hand
/// and the live ingest (restarted) cached the school's state from it; the answer to that case
/// arrives after the rebuild, and is applied, not refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_swap_the_live_ingest_decides_with_the_rebuilt_states() {
    use domain::event::FeedbackReceived;

    let env = Env::start().await.unwrap();
    let settings = env.settings();
    let running = Running::start(settings.clone()).await.unwrap();
    let mut office = DistrictLog::new();
    office.enrol(AN_HOA, "Trường THCS An Hòa");
    let mut log = SchoolLog::with_plan_and_activities(AN_HOA, 3);
    let feedback_id = Uuid::now_v7();
    log.push(Event::FeedbackReceived(FeedbackReceived {
        feedback_id,
        received_on: date(2018, 3, 1),
        channel: Channel::Hotline,
        citizen: Some("Phụ huynh lớp 8A".into()),
        subject: "Lịch học thêm".into(),
        content: "Xin hỏi lịch học thêm học kỳ II.".into(),
        area: None,
    }));
    publish(&env.js, &office.envelopes).await.unwrap();
    publish(&env.js, &log.envelopes).await.unwrap();
    env.wait_applied(AN_HOA, log.envelopes.len() as i64)
        .await
        .unwrap();
    env.wait_consumed().await.unwrap();

    // The old projection loses the case; a restarted aggregator caches the school's state
    // from it when the next event comes.
    running.stop().await.unwrap();
    sqlx::query("DELETE FROM live.feedback WHERE feedback_id = $1")
        .bind(feedback_id)
        .execute(&env.db)
        .await
        .unwrap();
    let running = Running::start(settings.clone()).await.unwrap();
    let next = log.push(activity(7));
    publish(&env.js, &[next]).await.unwrap();
    env.wait_applied(AN_HOA, log.envelopes.len() as i64)
        .await
        .unwrap();

    rebuild::run(&settings, RebuildOptions::default(), |_| {})
        .await
        .unwrap();

    let answer = log.push(Event::FeedbackAnswered(FeedbackAnswered {
        feedback_id,
        answered_on: date(2018, 3, 5),
        channel: Channel::Hotline,
        answer: "Lịch học thêm được niêm yết ở bảng tin của trường.".into(),
    }));
    publish(&env.js, &[answer]).await.unwrap();
    env.wait_applied(AN_HOA, log.envelopes.len() as i64)
        .await
        .unwrap();
    let (applied_seq, applied, refused) = env.position(AN_HOA).await.unwrap();
    assert_eq!(
        (applied_seq, applied, refused),
        (log.envelopes.len() as i64, log.envelopes.len() as i64, 0),
        "the answer was applied, not refused"
    );
    let answered = env
        .count("SELECT count(*) FROM live.feedback WHERE answered_on IS NOT NULL")
        .await
        .unwrap();
    assert_eq!(answered, 1);
    let model = model_of(&read_stream(&env.js).await.unwrap());
    let views = Views::new(env.db.clone(), LIVE_SCHEMA);
    let year: Period = "2018".parse().unwrap();
    let responsiveness = views.responsiveness(year, None).await.unwrap();
    assert_eq!(responsiveness, model.responsiveness(year, None).unwrap());
    assert_eq!(responsiveness.feedback.answered, 1);
    running.stop().await.unwrap();
}
