//! Phase 3, plan view latency over at least a million events: the projection filled (see
//! `BENCH_FILL`), then 2,000 queries over mixed periods through `Views::plan_view` — what
//! the gRPC service's `GetPlanView` calls — with where one query's time goes, through gRPC
//! as the aggregator serves it, and a few through `Views::sql_only` (no activity index).

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use bench_measure::{Latency, machine};
use district_aggregator::Aggregator;
use district_aggregator::config::Settings;
use district_aggregator::db::{self, LIVE_SCHEMA};
use district_aggregator::projection::restore_district;
use district_aggregator::queries::Views;
use district_aggregator::rebuild::thousands;
use domain::Period;
use secrecy::ExposeSecret as _;
use sqlx::PgPool;
use tokio::sync::oneshot;
use wire::pb;

use crate::knobs::{Fill, Knobs};
use crate::services::round_trips;

/// `BENCH_FILL=sql`: every projection row of the ten schools copied under `copies` more
/// codes each (`<code>-2` …), enrolled and with positions — what replaying the same events
/// under other codes would write, without the minutes it takes — then analysed.
async fn clone_schools(pool: &PgPool, codes: &[&str], copies: u32) -> anyhow::Result<()> {
    let codes: Vec<String> = codes.iter().map(|c| (*c).to_owned()).collect();
    let mut tx = pool.begin().await?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns \
         WHERE table_schema = $1 AND column_name = 'school' ORDER BY table_name",
    )
    .bind(LIVE_SCHEMA)
    .fetch_all(&mut *tx)
    .await?;
    for (table, key) in tables
        .iter()
        .map(|t| (t.as_str(), "school"))
        .chain([("schools", "code"), ("positions", "author")])
    {
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
        )
        .bind(LIVE_SCHEMA)
        .bind(table)
        .fetch_all(&mut *tx)
        .await?;
        let list: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
        let exprs: Vec<String> = columns
            .iter()
            .map(|c| {
                if c == key {
                    format!("t.\"{c}\" || '-' || k::text")
                } else {
                    format!("t.\"{c}\"")
                }
            })
            .collect();
        let sql = format!(
            "INSERT INTO {LIVE_SCHEMA}.\"{table}\" ({}) SELECT {} FROM {LIVE_SCHEMA}.\"{table}\" t \
             CROSS JOIN generate_series(2, $2::int + 1) AS k WHERE t.\"{key}\" = ANY($1)",
            list.join(", "),
            exprs.join(", ")
        );
        sqlx::query(&sql)
            .bind(&codes)
            .bind(copies as i32)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("copying {table}"))?;
    }
    tx.commit().await?;
    let analyse: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = $1",
    )
    .bind(LIVE_SCHEMA)
    .fetch_all(pool)
    .await?;
    sqlx::query(&format!("ANALYZE {}", analyse.join(", ")))
        .execute(pool)
        .await?;
    Ok(())
}

fn periods() -> Vec<Vec<Period>> {
    let quarters = [(2017, 4)]
        .into_iter()
        .chain((2018..=2020).flat_map(|y| (1..=4).map(move |q| (y, q))))
        .map(|(year, quarter)| Period::Quarter { year, quarter })
        .collect();
    let semesters = (2017..=2020)
        .flat_map(|start_year| (1..=2).map(move |half| Period::Semester { start_year, half }))
        .filter(|p| {
            *p != Period::Semester {
                start_year: 2020,
                half: 2,
            }
        })
        .collect();
    let years = (2017..=2020)
        .map(|start_year| Period::SchoolYear { start_year })
        .collect();
    vec![quarters, semesters, years, vec![Period::WholePlan]]
}

/// `n` periods: a kind (quarter, semester, school year, plan) uniformly, then one of that
/// kind uniformly; deterministic.
fn mixed_periods(n: usize) -> Vec<Period> {
    let kinds = periods();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|_| {
            let kind = &kinds[(next() % kinds.len() as u64) as usize];
            kind[(next() % kind.len() as u64) as usize]
        })
        .collect()
}

fn kind(p: &Period) -> usize {
    match p {
        Period::Quarter { .. } => 0,
        Period::Semester { .. } => 1,
        Period::SchoolYear { .. } => 2,
        _ => 3,
    }
}

const KINDS: [&str; 4] = ["quarter", "semester", "school year", "plan"];

async fn time_views(views: &Views, periods: &[Period]) -> anyhow::Result<Latency> {
    Ok(time_views_by_kind(views, periods).await?.0)
}

async fn time_views_by_kind(
    views: &Views,
    periods: &[Period],
) -> anyhow::Result<(Latency, [Latency; 4])> {
    let mut latency = Latency::new();
    let mut by_kind = [
        Latency::new(),
        Latency::new(),
        Latency::new(),
        Latency::new(),
    ];
    for period in periods {
        let t = Instant::now();
        let view = views.plan_view(*period).await?;
        let elapsed = t.elapsed();
        latency.record(elapsed);
        by_kind[kind(period)].record(elapsed);
        ensure!(!view.rows.is_empty(), "an empty plan view for {period}");
    }
    Ok((latency, by_kind))
}

/// Where a plan view's time goes: its snapshot transaction, the district state, the index's
/// counts (its positions query included), the commit; the rest is assembling the view.
async fn breakdown(views: &Views, periods: &[Period]) -> anyhow::Result<String> {
    let index = views
        .activity_index()
        .context("the views have no activity index")?;
    let mut parts = [
        Latency::new(),
        Latency::new(),
        Latency::new(),
        Latency::new(),
    ];
    for period in periods {
        let t = Instant::now();
        let mut tx = views.begin().await?;
        let begun = t.elapsed();
        let state = restore_district(&mut tx).await?;
        let restored = t.elapsed();
        let range = domain::district::resolve_period(state.plan(), *period)?;
        let counts = index.counts(&mut tx, range).await?;
        ensure!(counts.is_some(), "the index did not serve the snapshot");
        let counted = t.elapsed();
        tx.commit().await?;
        let committed = t.elapsed();
        parts[0].record(begun);
        parts[1].record(restored - begun);
        parts[2].record(counted - restored);
        parts[3].record(committed - counted);
    }
    let names = [
        "BEGIN + search_path",
        "restore_district (2 queries)",
        "ActivityIndex::counts (positions query + in memory)",
        "COMMIT",
    ];
    Ok(names
        .iter()
        .zip(&parts)
        .map(|(name, l)| format!("{name} p50 {:.2} / p99 {:.2} ms", l.ms(0.5), l.ms(0.99)))
        .collect::<Vec<_>>()
        .join("; "))
}

async fn time_grpc(
    client: &mut district_fixture::Client,
    periods: &[Period],
) -> anyhow::Result<Latency> {
    let mut latency = Latency::new();
    for period in periods {
        let t = Instant::now();
        let view = client
            .get_plan_view(pb::GetPlanViewRequest {
                period: period.to_string(),
            })
            .await?
            .into_inner();
        latency.record(t.elapsed());
        ensure!(!view.rows.is_empty(), "an empty plan view for {period}");
    }
    Ok(latency)
}

/// What the summary needs of the query phase.
pub struct QueryReport {
    /// School events in the projection.
    pub events: i64,
    /// How the projection was filled.
    pub how: String,
    /// Building the activity index at first use.
    pub warm_up: Duration,
    pub direct: Latency,
    pub grpc: Latency,
    pub sql_only: Option<Latency>,
}

async fn run_queries(
    settings: &Settings,
    knobs: &Knobs,
    how: String,
) -> anyhow::Result<QueryReport> {
    let pool = db::connect(&settings.database).await?;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM live.school_events")
        .fetch_one(&pool)
        .await?;
    let (activities, live_activities, schools): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM live.activities), (SELECT count(*) FROM live.activities WHERE live), \
         (SELECT count(*) FROM live.schools)",
    )
    .fetch_one(&pool)
    .await?;
    println!(
        "  projection: {} school events, {} activities ({} live), {} enrolled schools",
        thousands(events as u64),
        thousands(activities as u64),
        thousands(live_activities as u64),
        schools
    );
    let periods = mixed_periods(knobs.queries);
    let kinds = periods.iter().fold([0; 4], |mut n, p| {
        n[kind(p)] += 1;
        n
    });
    println!(
        "  {} queries: {} quarters, {} semesters, {} school years, {} `plan` (25 distinct periods)",
        periods.len(),
        kinds[0],
        kinds[1],
        kinds[2],
        kinds[3]
    );

    // 1. The function the gRPC service calls, with the service's own `Views::new`.
    let views = Views::new(pool.clone(), LIVE_SCHEMA);
    let t = Instant::now();
    views.warm_up().await?;
    let warm_up = t.elapsed();
    let distinct: Vec<Period> = periods.iter().copied().flatten_distinct();
    time_views(&views, &distinct).await?;
    let rtt = round_trips(&pool, 2_000).await?;
    println!(
        "  PostgreSQL round trip now (SELECT 1 on one connection, 2000×): p50 {:.3} ms, p99 {:.3} ms",
        rtt.ms(0.5),
        rtt.ms(0.99)
    );
    let (direct, by_kind) = time_views_by_kind(&views, &periods).await?;
    println!("  Views::plan_view (activity index): {}", direct.describe());
    println!(
        "    by kind: {}",
        KINDS
            .iter()
            .zip(&by_kind)
            .map(|(k, l)| format!("{k} p50 {:.2} / p99 {:.2} ms", l.ms(0.5), l.ms(0.99)))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let some: Vec<Period> = periods.iter().copied().take(500).collect();
    println!(
        "    breakdown over {} of them: {}",
        some.len(),
        breakdown(&views, &some).await?
    );
    if let Some(index) = views.activity_index() {
        let (builds, fallbacks) = index.stats();
        println!("    index builds {builds}, SQL fallbacks {fallbacks}");
    }

    // 2. Through gRPC: the service, in this process, on loopback TCP; as `run` serves it
    // (TCP_NODELAY on the accepted sockets).
    let grpc = grpc_phase(settings, &distinct, &periods).await?;
    println!("  gRPC GetPlanView, as served:       {}", grpc.describe());

    // 3. For comparison: counting in SQL each time.
    let sql_only = if knobs.sql_queries > 0 {
        let sql_views = Views::sql_only(pool.clone(), LIVE_SCHEMA);
        let some = mixed_periods(knobs.sql_queries);
        let latency = time_views(&sql_views, &some).await?;
        println!(
            "  Views::sql_only (GROUP BY):        {}",
            latency.describe()
        );
        Some(latency)
    } else {
        None
    };
    pool.close().await;
    Ok(QueryReport {
        events,
        how,
        warm_up,
        direct,
        grpc,
        sql_only,
    })
}

/// The aggregator's gRPC server as `run` serves it, on a fresh listener, without the ingest
/// (nothing writes the projection while it is timed).
async fn grpc_phase(
    settings: &Settings,
    warm: &[Period],
    periods: &[Period],
) -> anyhow::Result<Latency> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let aggregator = Aggregator::connect(settings.clone()).await?;
    let accounts = district_aggregator::accounts::Accounts::new(aggregator.pool().clone());
    let credentials = district_fixture::credentials::office_credentials(
        &accounts,
        settings.database.url.expose_secret(),
    )
    .await?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(aggregator.serve_without_ingest(listener, async move {
        let _ = stopped.await;
    }));
    // As reporting calls it: with its service token, checked on every call.
    let mut grpc_client = district_fixture::credentials::client_with(
        &format!("http://{addr}"),
        &credentials.reporting,
    )
    .await?;
    time_grpc(&mut grpc_client, warm).await?;
    let latency = time_grpc(&mut grpc_client, periods).await?;
    let _ = stop.send(());
    drop(grpc_client);
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    Ok(latency)
}

trait FlattenDistinct {
    fn flatten_distinct(self) -> Vec<Period>;
}

impl<I: Iterator<Item = Period>> FlattenDistinct for I {
    fn flatten_distinct(self) -> Vec<Period> {
        let mut out: Vec<Period> = Vec::new();
        for p in self {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }
}

/// The projection filled to its size for the queries (`BENCH_FILL`), then the queries.
/// `pool` is the bench's connection to the aggregator's database, closed before timing.
pub async fn phase(
    settings: &Settings,
    pool: PgPool,
    codes: &[&str],
    knobs: &Knobs,
    streamed: Streamed,
) -> anyhow::Result<QueryReport> {
    let how = match knobs.fill {
        Fill::Sql => {
            let t = Instant::now();
            if knobs.copies > 0 {
                clone_schools(&pool, codes, knobs.copies).await?;
            }
            format!(
                "the rebuilt projection of the {} streamed events, its 10 schools' rows copied in SQL under {} more codes each (`<code>-2`…), enrolled, with positions; copy + ANALYZE {:.1} s",
                thousands(streamed.ingested),
                knobs.copies,
                t.elapsed().as_secs_f64()
            )
        }
        Fill::Replay => format!(
            "the rebuild of the {} -message stream: the {} events re-published under {} more codes per school, all replayed through the ingest code path",
            thousands(streamed.stream_total),
            thousands(streamed.school_events as u64),
            knobs.copies
        ),
    };
    pool.close().await;
    println!(
        "\n[3] Plan view latency (load average {})",
        machine::loadavg()
    );
    println!("  fill: {how}");
    run_queries(settings, knobs, how).await
}

/// How much went through the stream: what the fill's description says.
pub struct Streamed {
    /// Messages the ingest phase applied.
    pub ingested: u64,
    /// Messages in the stream at the rebuild (more than `ingested` after a replay fill).
    pub stream_total: u64,
    pub school_events: usize,
}
