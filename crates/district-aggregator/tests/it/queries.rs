//! The equality proof: every district view the aggregator answers from PostgreSQL equals the
//! reference model's (`domain::district::DistrictModel`) for the very same events.
//!
//! Real everything: the district office enrols schools and adopts its plan through the
//! aggregator's gRPC (published to the stream, applied by the ingest like any event); real
//! school agents in this process receive simulated 2017–2020 histories through their gRPC and
//! deliver them through their relays; one school is enrolled only after its history has
//! arrived (held, then applied). Then the stream is read back with an ordered consumer, folded
//! into the model, and every view is compared — directly (`queries::Views`, domain types) and
//! through gRPC (the messages equal `wire`'s conversion of the model's answers).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use demo_data::{DemoSchool, Volume};
use district_aggregator::db::LIVE_SCHEMA;
use district_aggregator::queries::{QueryError, Views};
use district_fixture::office::{
    demo_school as school, district_plan, enrolment, office_actor as office,
};
use domain::district::DistrictModel;
use domain::district::views::ActivityFilter;
use domain::{Author, ContentArea, DomainError, Envelope, Period, Slug};
use futures::StreamExt;
use tonic::Code;
use wire::convert::district as convert;
use wire::pb;

use crate::support::*;

const SEED: u64 = 2017;
const VOLUME: Volume = Volume {
    activities: 120,
    feedback: 16,
    press_issues: 4,
};
/// Enrolled before anything happens.
const FIRST: &[&str] = &[
    "thcs-an-hoa",
    "thcs-phu-cuong",
    "th-phu-duc",
    "mn-tan-cong-sinh",
    TIMED,
];
/// A school whose envelopes are sealed here, recorded a few days after they happen (agents
/// record "now", years after the simulated dates), so that timeliness has on-time and late
/// events and local dates that differ from UTC dates.
const TIMED: &str = "thcs-tram-chim";
/// Enrolled after its history has reached the district.
const LATE: &str = "th-an-phong";
const PERIODS: &[&str] = &[
    "2018-Q1",
    "2017-2018-HK1",
    "2018-2019",
    "2019",
    "plan",
    "2017",
    "2020-12",
    "2019-2020-HK2",
];

/// A real school agent in this process, fed its demo history through gRPC.
struct Agent {
    code: &'static str,
    _dir: agent_fixture::SchoolDir,
    running: agent_fixture::RunningAgent,
    client: agent_fixture::Client,
}

impl Agent {
    async fn start(nats_url: &str, s: &'static DemoSchool) -> anyhow::Result<Self> {
        let dir = agent_fixture::SchoolDir::for_school(s.code, s.name)?;
        let running = agent_fixture::RunningAgent::start(dir.settings(nats_url)).await?;
        let client = running.client().await?;
        Ok(Self {
            code: s.code,
            _dir: dir,
            running,
            client,
        })
    }

    async fn head(&mut self) -> anyhow::Result<u64> {
        Ok(agent_fixture::status(&mut self.client).await?.head_seq)
    }

    async fn stop(self) -> anyhow::Result<()> {
        self.running.stop().await
    }
}

/// THCS Tràm Chim's log: the seed plan, 60 activities recorded 0–9 days (and some hours across
/// the UTC/Vietnam date line) after their date, a correction that moves one to another area
/// and date, and a retraction.
fn timed_log() -> Vec<Envelope> {
    use chrono::{Days, TimeDelta};
    use domain::calendar::start_of_local_day;
    use domain::event::{
        ActivityCorrected, ActivityRecorded, ActivityRetracted, Event, PlanAdopted,
    };

    let school = domain::SchoolRef::parse(PROVINCE, DISTRICT, TIMED).expect("valid school");
    let actor =
        domain::Actor::parse(domain::Role::VicePrincipal, "Phạm Thị Thu").expect("valid actor");
    let mut envelopes = Vec::new();
    let mut seal = |event: Event, recorded_at| {
        let seq = envelopes.len() as u64 + 1;
        envelopes.push(Envelope::seal(
            &school,
            seq,
            uuid::Uuid::now_v7(),
            recorded_at,
            actor.clone(),
            &event,
        ));
    };
    let plan_recorded = start_of_local_day(date(2017, 11, 2));
    seal(
        Event::PlanAdopted(PlanAdopted { plan: seed_plan() }),
        plan_recorded,
    );
    let mut ids = Vec::new();
    for i in 0..60_u64 {
        let mut details = details(i);
        details.date = date(2017, 11, 6) + Days::new(i * 19);
        // 0..=9 days later, at 01:00..22:00 UTC: 08:00..05:00 (next day) in Vietnam.
        let recorded_at = start_of_local_day(details.date)
            + TimeDelta::days((i % 10) as i64)
            + TimeDelta::hours(8 + (i % 4) as i64 * 7);
        let activity_id = uuid::Uuid::now_v7();
        ids.push((activity_id, details.clone(), recorded_at));
        seal(
            Event::ActivityRecorded(ActivityRecorded {
                activity_id,
                details,
            }),
            recorded_at,
        );
    }
    let (moved, mut details, recorded_at) = ids[5].clone();
    details.area = ContentArea::from_number("area", 5).expect("valid area");
    details.topic = Some(Slug::parse("topic", "thu-tuc-hanh-chinh").expect("valid topic"));
    details.date = details.date + Days::new(40);
    let corrected_at = ids.last().expect("activities").2 + TimeDelta::days(1);
    seal(
        Event::ActivityCorrected(ActivityCorrected {
            activity_id: moved,
            reason: "Ghi nhầm lĩnh vực".into(),
            details,
        }),
        corrected_at.max(recorded_at),
    );
    seal(
        Event::ActivityRetracted(ActivityRetracted {
            activity_id: ids[7].0,
            reason: "Trùng tin".into(),
        }),
        corrected_at,
    );
    envelopes
}

/// Every envelope of the district stream, in stream order, read with an ordered consumer.
async fn read_stream(js: &jetstream::Context) -> anyhow::Result<Vec<Envelope>> {
    let mut stream = js.get_stream(stream_name()).await?;
    let total = stream.info().await?.state.messages;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
        .await?;
    let mut messages = consumer.messages().await?;
    let mut envelopes = Vec::new();
    while (envelopes.len() as u64) < total {
        let message = tokio::time::timeout(WAIT, messages.next())
            .await?
            .ok_or_else(|| anyhow::anyhow!("the ordered consumer ended"))??;
        envelopes.push(Envelope::parse(&message.payload)?);
    }
    Ok(envelopes)
}

/// The domain error of a query, for comparing refusals.
fn refusal<T: std::fmt::Debug>(result: Result<T, QueryError>) -> DomainError {
    match result {
        Err(QueryError::Domain(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_equals_the_reference_model() {
    let started = Instant::now();
    let env = Env::start().await.unwrap();
    let running = Running::start(env.settings()).await.unwrap();
    let mut office_client = running.client().await.unwrap();

    // The district office: enrolments (one updated), a refused duplicate, the plan.
    for code in FIRST {
        let commune = if *code == "thcs-an-hoa" {
            "An Hòa"
        } else {
            school(code).commune
        };
        office_client
            .enroll_school(enrolment(school(code), commune))
            .await
            .unwrap();
    }
    let updated = office_client
        .enroll_school(enrolment(school("thcs-an-hoa"), "xã An Hòa"))
        .await
        .unwrap()
        .into_inner();
    let first = FIRST.len() as u64;
    assert_eq!(
        updated.seq,
        first + 1,
        "the district's own seqs are gapless"
    );
    let duplicate = office_client
        .enroll_school(enrolment(school("thcs-an-hoa"), "xã An Hòa"))
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), Code::AlreadyExists, "{duplicate:?}");
    assert_eq!(
        wire::status::violated_field(&duplicate).as_deref(),
        Some("enrolment.code")
    );
    // Who may enrol is the caller's identity, not a request field: reporting's service token
    // is refused whatever actor the request names, and nothing is recorded.
    let mut by_teacher = enrolment(school(LATE), "xã An Phong");
    by_teacher.actor = Some(pb::Actor {
        role: pb::Role::Teacher.into(),
        person: "Lê Văn An".into(),
    });
    let refused = running
        .client_as(&running.credentials.reporting)
        .await
        .unwrap()
        .enroll_school(by_teacher)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let adopted = office_client
        .adopt_district_plan(pb::AdoptDistrictPlanRequest {
            actor: office(),
            plan: Some(district_plan()),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(adopted.seq, first + 2);

    // The plan view's activity index is built now, nearly empty, and then follows the ingest.
    // (A command's reply means JetStream has it; the ingest applies it a moment later.)
    env.wait_applied(Author::DISTRICT_TOKEN, (first + 2) as i64)
        .await
        .unwrap();
    office_client
        .get_plan_view(pb::GetPlanViewRequest {
            period: "plan".into(),
        })
        .await
        .unwrap();

    // Watch applied activities from now on.
    let mut watch = office_client
        .watch_activities(pb::WatchActivitiesRequest {
            school: String::new(),
        })
        .await
        .unwrap()
        .into_inner();

    // Real school agents, fed their histories through gRPC, all at once.
    let nats_url = env.nats.url();
    let mut agents = Vec::new();
    for code in FIRST.iter().copied().filter(|c| *c != TIMED).chain([LATE]) {
        agents.push(Agent::start(&nats_url, school(code)).await.unwrap());
    }
    let mut sends = Vec::new();
    for agent in &agents {
        let mut client = agent.client.clone();
        let history = demo_data::history(school(agent.code), VOLUME, SEED);
        sends.push(tokio::spawn(async move {
            let n = history.len();
            for request in history {
                demo_data::send(&mut client, request).await?;
            }
            Ok::<usize, tonic::Status>(n)
        }));
    }
    // An index of this process, built now and refreshed as the ingest goes.
    let following = Views::new(env.db.clone(), LIVE_SCHEMA);
    following.plan_view(Period::WholePlan).await.unwrap();

    // Plan views all along the load: the index is refreshed concurrently with the ingest.
    let (loading_done, mut loading) = tokio::sync::watch::channel(false);
    let mut viewer = office_client.clone();
    let viewing = tokio::spawn(async move {
        let mut views = 0;
        while !*loading.borrow() {
            for period in ["plan", "2018-2019"] {
                viewer
                    .get_plan_view(pb::GetPlanViewRequest {
                        period: period.into(),
                    })
                    .await?;
                views += 1;
            }
            following
                .plan_view("2018-Q1".parse().expect("a period"))
                .await
                .map_err(|e| tonic::Status::internal(e.to_string()))?;
            let _ = tokio::time::timeout(Duration::from_millis(50), loading.changed()).await;
        }
        Ok::<(u32, Views), tonic::Status>((views, following))
    });
    let timed = timed_log();
    publish(&env.js, &timed).await.unwrap();
    let mut requests = timed.len();
    for send in sends {
        requests += send.await.unwrap().unwrap();
    }
    let loaded = started.elapsed();
    let mut heads = vec![(TIMED, timed.len() as u64)];
    for agent in &mut agents {
        heads.push((agent.code, agent.head().await.unwrap()));
    }
    // The late school's events are held until it is enrolled, then applied in order.
    let (late_code, late_head) = *heads.iter().find(|(c, _)| *c == LATE).unwrap();
    test_harness::wait_until(WAIT, || async {
        env.count(&format!(
            "SELECT count(*) FROM live.held WHERE author = '{late_code}'"
        ))
        .await
        .ok()
            == Some(late_head as i64)
    })
    .await
    .expect("the late school's history is held");
    assert_eq!(env.applied_seq(LATE).await.unwrap(), None);
    let late = office_client
        .enroll_school(enrolment(school(LATE), school(LATE).commune))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(late.seq, first + 3);
    for (code, head) in &heads {
        env.wait_applied(code, *head as i64).await.unwrap();
    }
    env.wait_applied(Author::DISTRICT_TOKEN, (first + 3) as i64)
        .await
        .unwrap();
    env.wait_consumed().await.unwrap();
    let applied = started.elapsed();

    // The reference: the very same envelopes, folded in stream order.
    let _ = loading_done.send(true);
    let (views_during_load, following) = viewing.await.unwrap().unwrap();
    assert!(views_during_load > 0);
    let envelopes = read_stream(&env.js).await.unwrap();
    let mut model = DistrictModel::new(
        Slug::parse("p", PROVINCE).unwrap(),
        Slug::parse("d", DISTRICT).unwrap(),
    );
    model.apply_all(&envelopes);
    assert!(
        model.dead_letters().is_empty(),
        "{:?}",
        model.dead_letters()
    );
    for (code, head) in &heads {
        let position = model.position(&Author::parse("school", code).unwrap());
        assert_eq!(position.applied_seq, *head, "{code}");
        assert_eq!(env.applied_seq(code).await.unwrap(), Some(*head as i64));
    }
    assert_eq!(envelopes.len() as u64, requests as u64 + first + 3);

    let views = Views::new(env.db.clone(), LIVE_SCHEMA);
    let sql_views = Views::sql_only(env.db.clone(), LIVE_SCHEMA);
    let mut checked = 0;

    // Schools and the district plan.
    assert_eq!(views.schools().await.unwrap(), model.schools());
    let listed = office_client
        .list_schools(pb::ListSchoolsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed.schools,
        model
            .schools()
            .iter()
            .map(convert::enrolled_school_to_pb)
            .collect::<Vec<_>>()
    );
    let an_hoa = model
        .schools()
        .into_iter()
        .find(|s| s.code == "thcs-an-hoa")
        .unwrap();
    assert_eq!(
        an_hoa.commune, "xã An Hòa",
        "re-enrolment updated the commune"
    );
    let plan = office_client
        .get_district_plan(pb::GetDistrictPlanRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        plan.plan,
        model.district_plan().map(convert::district_plan_to_pb)
    );

    // Every period view.
    for text in PERIODS {
        let period: Period = text.parse().unwrap();
        let expected = model.plan_view(period).unwrap();
        assert_eq!(
            views.plan_view(period).await.unwrap(),
            expected,
            "plan view {text}"
        );
        assert_eq!(
            sql_views.plan_view(period).await.unwrap(),
            expected,
            "plan view {text} counted in SQL"
        );
        assert_eq!(
            following.plan_view(period).await.unwrap(),
            expected,
            "plan view {text} from an index that followed the ingest"
        );
        let reply = office_client
            .get_plan_view(pb::GetPlanViewRequest {
                period: text.to_string(),
            })
            .await
            .unwrap();
        assert_eq!(
            reply.into_inner(),
            convert::plan_view_to_pb(&expected),
            "plan view {text} over gRPC"
        );

        let expected = model.completeness(period).unwrap();
        assert_eq!(
            views.completeness(period).await.unwrap(),
            expected,
            "completeness {text}"
        );
        let reply = office_client
            .get_completeness(pb::GetCompletenessRequest {
                period: text.to_string(),
            })
            .await
            .unwrap();
        assert_eq!(
            reply.into_inner(),
            convert::completeness_to_pb(&expected),
            "completeness {text} over gRPC"
        );

        let range = period.range(model.district_plan().unwrap().period);
        let midway = range.start()
            + chrono::Days::new(((range.end() - range.start()).num_days() / 2) as u64);
        for as_of in [None, Some(midway), Some(range.start())] {
            let expected = model.responsiveness(period, as_of).unwrap();
            assert_eq!(
                views.responsiveness(period, as_of).await.unwrap(),
                expected,
                "responsiveness {text} {as_of:?}"
            );
            let reply = office_client
                .get_responsiveness(pb::GetResponsivenessRequest {
                    period: text.to_string(),
                    as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
                })
                .await
                .unwrap();
            assert_eq!(
                reply.into_inner(),
                convert::responsiveness_to_pb(&expected),
                "responsiveness {text} over gRPC"
            );
        }

        let expected = model.commendation(period).unwrap();
        assert_eq!(
            views.commendation(period).await.unwrap(),
            expected,
            "commendation {text}"
        );
        let reply = office_client
            .get_commendation(pb::GetCommendationRequest {
                period: text.to_string(),
            })
            .await
            .unwrap();
        assert_eq!(
            reply.into_inner(),
            convert::commendation_to_pb(&expected),
            "commendation {text} over gRPC"
        );
        checked += 6;
    }
    let (builds, fallbacks) = following.activity_index().unwrap().stats();
    assert_eq!(
        (builds, fallbacks),
        (1, 0),
        "built once, then refreshed incrementally"
    );

    // The data is not trivial: the comparisons above would pass on empty views.
    let whole = model.plan_view(Period::WholePlan).unwrap();
    assert!(whole.rows.iter().map(|r| r.activities).sum::<i64>() > 300);
    assert!(!whole.lagging.is_empty(), "some school lags");
    assert!(
        whole
            .rows
            .iter()
            .any(|r| r.status == domain::district::views::TargetStatus::Met)
    );
    let cases = model.responsiveness(Period::WholePlan, None).unwrap();
    assert!(
        cases.feedback.received > 40 && !cases.flagged.is_empty(),
        "{:?}",
        cases.feedback
    );
    assert!(
        !model
            .commendation(Period::WholePlan)
            .unwrap()
            .nominations
            .is_empty()
    );
    let timeliness = model.completeness("2018-2019".parse().unwrap()).unwrap();
    let timed_row = timeliness
        .schools
        .iter()
        .find(|s| s.school == TIMED)
        .unwrap();
    assert!(
        timed_row.on_time > 0 && timed_row.on_time < timed_row.events,
        "{timed_row:?}"
    );
    for kind in ["activity.corrected", "activity.retracted"] {
        assert!(
            envelopes.iter().any(|e| e.event_type == kind),
            "the history has an {kind}"
        );
    }

    // Budgets of every year of the plan, and refusals alike.
    for year in 2017..=2020 {
        let expected = model.budget(year).unwrap();
        assert_eq!(views.budget(year).await.unwrap(), expected, "budget {year}");
        let reply = office_client
            .get_budget(pb::GetBudgetRequest { year })
            .await
            .unwrap();
        assert_eq!(
            reply.into_inner(),
            convert::budget_to_pb(&expected),
            "budget {year} over gRPC"
        );
        checked += 1;
    }
    assert!(model.budget(2019).unwrap().total.estimated > 0);
    assert_eq!(
        refusal(views.budget(2021).await),
        model.budget(2021).unwrap_err()
    );
    let outside: Period = "2016".parse().unwrap();
    assert_eq!(
        refusal(views.plan_view(outside).await),
        model.plan_view(outside).unwrap_err()
    );
    let as_of_late = chrono::NaiveDate::from_ymd_opt(2018, 4, 1);
    let q1: Period = "2018-Q1".parse().unwrap();
    assert_eq!(
        refusal(views.responsiveness(q1, as_of_late).await),
        model.responsiveness(q1, as_of_late).unwrap_err()
    );
    let status = office_client
        .get_plan_view(pb::GetPlanViewRequest {
            period: "2016".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        wire::status::violated_field(&status).as_deref(),
        Some("period")
    );
    assert!(wire::status::vietnamese_message(&status).is_some());
    let status = office_client
        .get_plan_view(pb::GetPlanViewRequest {
            period: "quý 1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (
            status.code(),
            wire::status::violated_field(&status).as_deref()
        ),
        (Code::InvalidArgument, Some("period"))
    );

    // Search: every page, page by page, for several filters.
    let filters = [
        ActivityFilter {
            text: Some("an hoa".into()),
            ..Default::default()
        },
        ActivityFilter {
            text: Some("huong nghiep".into()),
            ..Default::default()
        },
        ActivityFilter {
            text: Some("Hướng nghiệp".into()),
            period: Some("2018-2019".parse().unwrap()),
            ..Default::default()
        },
        ActivityFilter {
            school: Some(Slug::parse("s", "thcs-phu-cuong").unwrap()),
            area: Some(ContentArea::from_number("a", 3).unwrap()),
            ..Default::default()
        },
        ActivityFilter {
            channel: Some(domain::Channel::DistrictRadio),
            ..Default::default()
        },
        ActivityFilter::default(),
    ];
    let mut searched = 0;
    for filter in &filters {
        for size in [7_u32, 0] {
            let mut token: Option<String> = None;
            let mut seen = BTreeSet::new();
            loop {
                let expected = model
                    .search_activities(filter, Some(size), token.as_deref())
                    .unwrap();
                let page = views
                    .search_activities(filter, Some(size), token.as_deref())
                    .await
                    .unwrap();
                assert_eq!(
                    page, expected,
                    "search {filter:?} size {size} after {token:?}"
                );
                for a in &page.activities {
                    assert!(seen.insert(a.activity_id.clone()), "a row on two pages");
                }
                searched += 1;
                match page.next_page_token {
                    Some(next) => token = Some(next),
                    None => break,
                }
            }
            if filter.text.as_deref() == Some("an hoa") {
                assert!(
                    seen.len() > 10,
                    "'an hoa' finds An Hòa's activities: {}",
                    seen.len()
                );
            }
            if filter.text.as_deref() == Some("huong nghiep") {
                assert!(
                    seen.len() > 5,
                    "'huong nghiep' finds hướng nghiệp: {}",
                    seen.len()
                );
            }
        }
    }
    // The same pages over gRPC.
    let grpc_filter = pb::ActivityFilter {
        text: "an hoa".into(),
        ..Default::default()
    };
    let mut token = String::new();
    loop {
        let page = office_client
            .search_activities(pb::SearchActivitiesRequest {
                filter: Some(grpc_filter.clone()),
                page_size: 25,
                page_token: token.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let filter = convert::activity_filter_from_pb(Some(grpc_filter.clone())).unwrap();
        let expected = model
            .search_activities(&filter, Some(25), Some(token.as_str()))
            .unwrap();
        assert_eq!(page, convert::activity_page_to_pb(&expected));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let bad = office_client
        .search_activities(pb::SearchActivitiesRequest {
            page_token: "nope".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        wire::status::violated_field(&bad).as_deref(),
        Some("page_token")
    );

    // Operations: nothing dead-lettered, every author where the model says.
    let dead = office_client
        .list_dead_letters(pb::ListDeadLettersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(dead.dead_letters.is_empty(), "{dead:?}");
    let ingest = office_client
        .get_ingest_state(pb::GetIngestStateRequest {})
        .await
        .unwrap()
        .into_inner();
    for author in &ingest.authors {
        let position = model.position(&Author::parse("author", &author.author).unwrap());
        assert_eq!(
            author.applied_seq, position.applied_seq,
            "{}",
            author.author
        );
        assert_eq!(author.held, position.held_seqs.len() as u64);
        assert_eq!(author.first_missing_seq, position.first_missing_seq);
        assert!(author.enrolled);
        if author.author != Author::DISTRICT_TOKEN {
            assert!(author.last_contact_at.is_some());
        }
        if author.author != Author::DISTRICT_TOKEN && author.author != TIMED {
            assert_eq!(author.backlog, Some(0), "{}", author.author);
        }
    }
    assert_eq!(ingest.authors.len(), FIRST.len() + 2);
    let timed_author = ingest.authors.iter().find(|a| a.author == TIMED).unwrap();
    assert_eq!(timed_author.outbox_head, Some(timed.len() as u64));

    // The watch saw every activity event of the schools, as applied.
    let activity_events = envelopes
        .iter()
        .filter(|e| e.event_type.starts_with("activity."))
        .count();
    let mut watched = 0;
    while watched < activity_events {
        let change = tokio::time::timeout(Duration::from_secs(10), watch.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_ne!(change.kind, pb::ActivityChangeKind::Unspecified as i32);
        watched += 1;
    }

    eprintln!(
        "queries: {} requests loaded in {loaded:?}, applied by {applied:?}; \
         {checked} views, {searched} search pages equal the model; total {:?}",
        requests,
        started.elapsed()
    );
    for agent in agents {
        agent.stop().await.unwrap();
    }
    drop(watch);
    running.stop().await.unwrap();

    // A restarted aggregator takes the district's seq and state from the stream and the
    // projection: the next enrolment follows on, an unchanged one is still refused.
    let restarted = Running::start(env.settings()).await.unwrap();
    let mut office_client = restarted.client().await.unwrap();
    let again = office_client
        .enroll_school(enrolment(school(LATE), school(LATE).commune))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    let next = office_client
        .enroll_school(enrolment(school("mn-hoa-binh"), "xã Hòa Bình"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next.seq, first + 4);
    env.wait_applied(Author::DISTRICT_TOKEN, (first + 4) as i64)
        .await
        .unwrap();
    restarted.stop().await.unwrap();
}
