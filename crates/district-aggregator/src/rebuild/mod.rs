//! `district-aggregator rebuild`: the projections, recomputed from the district stream and
//! swapped in while the live service keeps answering (invariant 4 of `docs/contract.md`).
//!
//! 1. **Replay.** A fresh projection schema `rebuild_<timestamp>` is created with
//!    `public.create_projection`. The whole district stream is read with an *ephemeral*
//!    JetStream pull consumer that checks its deliveries are in order (deliver all, no acks,
//!    no durable state: nothing the live ingest uses is touched) and applied by the live
//!    ingest's own code, sequencer and projection alike, pointed at the new schema, in large
//!    batches: like the live ingest, a batch is prepared in memory while the one before
//!    commits in parallel parts (`crate::ingest::pipeline`), and what needs the database
//!    goes through `Ingest::apply_decoded`. A reader task pulls and decodes the stream
//!    meanwhile. The rebuild's connections run with `synchronous_commit = off` (a crash only
//!    loses rebuild progress; the swap itself commits durably, and WAL order makes everything
//!    before it durable with it). The secondary indexes (not the primary keys and unique
//!    constraints the upserts rely on) are dropped for the bulk load and recreated from their
//!    own definitions afterwards, then every table is analysed, so the new views are fast from
//!    their first query.
//! 2. **Catch up and swap.** One transaction takes the advisory lock the live ingest takes in
//!    every batch transaction (`pg_advisory_xact_lock(hashtext('truyenthong.ingest.live'))`;
//!    the parts of a pipelined batch hold it shared, and wait for an exclusive holder):
//!    from then on the live ingest cannot commit. *Under the lock* it reads the highest stream
//!    sequence the live projection has committed (`ops.contacts.last_stream_seq`, written in
//!    every batch for every message with an author, and the dead letters for the rest) and
//!    replays the tail up to it into the new schema: the new projection then holds everything
//!    the live one does (the live ingest has acknowledged that and will not see it again).
//!    Messages the live ingest has not committed yet stay unacknowledged in its durable
//!    consumer; it applies them itself after the swap, broadcasting their activities as usual
//!    (or finds them already applied, a no-op, when the replay got there first). Then, in that
//!    same transaction,
//!    `LOCK TABLE` every table of `live` (waiting for running view transactions, so that no
//!    view reads half old, half new), `ALTER SCHEMA live RENAME TO retired_<ts>`,
//!    `ALTER SCHEMA rebuild_<ts> RENAME TO live`, commit — which releases the lock. Statements
//!    that were waiting re-resolve `live` and read the new schema; prepared statements are
//!    re-planned (a schema change invalidates PostgreSQL's plan cache, and `search_path` names
//!    a different schema OID). The live ingest's next batch finds the positions of the new
//!    schema: what it had pulled and not yet committed is a duplicate there (a no-op), and it
//!    drops its cached decision states because the schema's OID changed
//!    (see `crate::ingest`). If the tables cannot be locked quickly (a long report holds
//!    one), the attempt is rolled back to a savepoint and retried; after a few attempts the
//!    lock is released for a while, so the live ingest is never held up for long.
//! 3. **Retired schema.** The old projection is **kept** as `retired_<ts>` by default: it is
//!    the way back (rename it again) and lets an operator compare the two. Older retired
//!    schemas are dropped after the swap, so that rebuilds do not pile up whole copies of the
//!    projection: `--keep-retired N` keeps the newest N (default 1, the one just replaced),
//!    `--drop-retired` keeps none.
//!
//! `ops.contacts` (last contact, outbox backlog) is operational state outside the projection:
//! the rebuild neither writes nor moves it.
//!
//! Only one rebuild runs at a time per database (a session advisory lock). A rebuild that
//! fails drops its unfinished schema; one that was killed leaves it behind, and the next
//! rebuild drops every `rebuild_*` schema it finds before starting.
//!
//! The rebuild refuses a stream that no longer holds its whole history (first sequence above
//! 1, or deleted messages): the new projection would silently lose events the live one has.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use chrono::Utc;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgConnection, PgPool};
use tokio::sync::broadcast;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::config::Settings;
use crate::db::{self, LIVE_SCHEMA};
use crate::gaps::Gaps;
use crate::ingest::Ingest;
use crate::state::IngestState;

mod progress;
mod replay;
mod schema;
mod swap;

pub use progress::{Progress, RebuildReport, thousands};
pub use replay::READ_BATCH;

use progress::rate;
use replay::{Applier, Reader};
use schema::{
    analyze, drop_leftovers, drop_schema, drop_secondary_indexes, prune_retired, recreate_indexes,
};
use swap::catch_up_and_swap;

/// Prefix of the schema a rebuild builds into.
pub(crate) const REBUILD_PREFIX: &str = "rebuild_";
/// Prefix of the schema the replaced projection is renamed to.
pub(crate) const RETIRED_PREFIX: &str = "retired_";

/// How the rebuild runs. [`Default`] suits a district of any size.
#[derive(Debug, Clone)]
pub struct RebuildOptions {
    /// Stream messages applied per PostgreSQL transaction.
    pub batch_size: usize,
    /// Retired projections kept after the swap, newest first: the one just replaced counts,
    /// older ones beyond it are dropped. `0` drops the replaced projection too.
    pub keep_retired: usize,
    /// Drop the secondary indexes for the bulk replay and recreate them before the swap.
    pub defer_indexes: bool,
    /// Attempts per round to lock the live tables for the swap with `NOWAIT` (each fails at
    /// once when a view transaction holds one of them), 10 ms apart. Nobody ever waits on a
    /// failed attempt, so readers are not held up.
    pub nowait_attempts: u32,
    /// Then attempts that queue for the locks (new readers queue behind them), each waiting at
    /// most `lock_timeout`: a reader whose transaction already holds one table and then needs
    /// another would deadlock with a waiting `LOCK TABLE`; the timeout, shorter than
    /// PostgreSQL's `deadlock_timeout` (1 s by default), makes the rebuild give way, never the
    /// reader.
    pub swap_attempts: u32,
    pub lock_timeout: Duration,
    /// Rounds (take the ingest lock, catch up, try to swap) before giving up.
    pub swap_rounds: u32,
    /// How long the stream may stay silent while messages up to a known sequence are due.
    pub idle_timeout: Duration,
    /// How often progress is reported.
    pub progress_every: Duration,
}

impl Default for RebuildOptions {
    fn default() -> Self {
        Self {
            batch_size: 5_000,
            keep_retired: 1,
            defer_indexes: true,
            nowait_attempts: 50,
            swap_attempts: 10,
            lock_timeout: Duration::from_millis(200),
            swap_rounds: 5,
            idle_timeout: Duration::from_secs(60),
            progress_every: Duration::from_secs(1),
        }
    }
}

/// Connects as the configuration says (a pool of its own, with `synchronous_commit = off`,
/// and a NATS client), then rebuilds as the module documentation says.
pub async fn run(
    settings: &Settings,
    options: RebuildOptions,
    progress: impl FnMut(&Progress),
) -> anyhow::Result<RebuildReport> {
    settings.validate()?;
    let connect = pg_options(settings)?;
    let pool = PgPoolOptions::new()
        // The swap transaction, plus the parallel commits of a batch.
        .max_connections(2 + settings.ingest.parallel_commits as u32)
        .acquire_timeout(
            settings
                .database
                .acquire_timeout()
                .max(Duration::from_secs(30)),
        )
        .connect_with(connect)
        .await
        .context("connecting to the aggregator's database")?;
    db::migrate(&pool)
        .await
        .context("migrating the aggregator's database")?;
    let client = crate::connect_nats(settings).await?;
    let report = rebuild(
        settings,
        &pool,
        jetstream::new(client.clone()),
        options,
        progress,
    )
    .await;
    pool.close().await;
    let _ = client.flush().await;
    report
}

/// The schema owner's connection when the configuration names one (a rebuild creates,
/// renames and drops schemas, which the service's role may not), else the service's.
fn pg_options(settings: &Settings) -> anyhow::Result<PgConnectOptions> {
    let database = &settings.database;
    let options = match &database.owner_url {
        Some(owner) => db::connect_options(owner, "schema owner's connection")?,
        None => db::connect_options(&database.url, "service connection")?,
    };
    Ok(options
        .application_name("district-aggregator-rebuild")
        .options([("synchronous_commit", "off")]))
}

/// The role the live service connects as, when it is not the one rebuilding.
async fn service_role(settings: &Settings) -> anyhow::Result<Option<String>> {
    if settings.database.owner_url.is_none() {
        return Ok(None);
    }
    let options = db::connect_options(&settings.database.url, "service connection")?;
    let mut conn =
        PgConnection::connect_with(&options.application_name("district-aggregator-rebuild"))
            .await
            .context("connecting as the service, to learn its role")?;
    let role = db::current_role(&mut conn).await?;
    let _ = conn.close().await;
    Ok(Some(role))
}

/// Rebuilds the projections of `settings.district` from its stream and swaps them in. See
/// the module documentation. `pool` needs at least two connections (the swap transaction
/// holds one while the tail is applied through another).
async fn rebuild(
    settings: &Settings,
    pool: &PgPool,
    js: jetstream::Context,
    options: RebuildOptions,
    mut progress: impl FnMut(&Progress),
) -> anyhow::Result<RebuildReport> {
    let started = Instant::now();
    let province = &settings.district.province;
    let district = &settings.district.district;
    let stream_name = event_bus::subjects::stream_name(province, district)?;
    let filter = event_bus::subjects::district_events_filter(province, district)?;

    // One rebuild at a time: a session lock on a connection of our own, released when it
    // closes (also when this process dies).
    let mut single = PgConnection::connect_with(&pg_options(settings)?)
        .await
        .context("connecting to the aggregator's database")?;
    let alone: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext('truyenthong.rebuild'))")
            .fetch_one(&mut single)
            .await?;
    if !alone {
        bail!("another rebuild of this database is running");
    }
    drop_leftovers(pool).await?;

    let mut stream = js
        .get_stream(&stream_name)
        .await
        .with_context(|| format!("the district stream {stream_name}"))?;
    let state = stream.info().await?.state.clone();
    let deleted = state.deleted_count.unwrap_or(0);
    if (state.messages > 0 && state.first_sequence > 1) || deleted > 0 {
        bail!(
            "stream {stream_name} no longer holds the whole district log (first sequence {}, {deleted} deleted): \
             a rebuild would lose events the live projection has",
            state.first_sequence
        );
    }
    let total = state.last_sequence;

    let mut stamp = Utc::now().format("%Y%m%d_%H%M%S_%3f").to_string();
    // The tail is applied (under the new schema's ingest lock) while the live ingest's lock
    // is held: the two lock keys must differ, whatever hashtext makes of the names.
    while sqlx::query_scalar::<_, bool>(
        "SELECT hashtext('truyenthong.ingest.' || $1) = hashtext('truyenthong.ingest.' || $2)",
    )
    .bind(format!("{REBUILD_PREFIX}{stamp}"))
    .bind(LIVE_SCHEMA)
    .fetch_one(pool)
    .await?
    {
        stamp.push('x');
    }
    let schema = format!("{REBUILD_PREFIX}{stamp}");
    let retired = format!("{RETIRED_PREFIX}{stamp}");
    sqlx::query("SELECT public.create_projection($1)")
        .bind(&schema)
        .execute(pool)
        .await
        .with_context(|| format!("creating the projection schema {schema}"))?;
    // The service reads the new schema from the moment it is swapped in.
    if let Some(role) = service_role(settings).await? {
        db::grant_service_role(pool, &role, &schema).await?;
    }
    info!(%schema, stream = %stream_name, messages = total, "rebuild started");

    let result = build_and_swap(
        settings,
        pool,
        js,
        &options,
        &mut progress,
        Target {
            stream_name: &stream_name,
            filter: &filter,
            schema: &schema,
            retired: &retired,
            total,
        },
    )
    .await;
    let mut report = match result {
        Ok(report) => report,
        Err(e) => {
            if let Err(drop_error) = drop_schema(pool, &schema).await {
                warn!(%schema, error = %drop_error, "could not drop the unfinished projection; the next rebuild will");
            }
            let _ = single.close().await;
            return Err(e);
        }
    };
    // Still holding the rebuild lock: no other rebuild swaps while the retired are pruned.
    for old in prune_retired(pool, options.keep_retired).await? {
        if report.retired.as_ref() == Some(&old) {
            report.retired = None;
        }
    }
    let _ = single.close().await;
    report.total_elapsed = started.elapsed();
    progress(&Progress::Swapped {
        retired: report.retired.clone(),
    });
    info!(
        built_as = %report.built_as,
        retired = ?report.retired,
        replayed = report.replayed,
        rate = report.replay_rate().round(),
        tail = report.tail,
        ingest_held_ms = report.ingest_held.as_millis() as u64,
        "rebuild swapped in"
    );
    Ok(report)
}

/// What a rebuild reads and what it builds: the stream (and the messages of it that are the
/// district's), the schema built into, the name the replaced projection is kept under, and
/// the stream's last sequence when the rebuild started.
struct Target<'a> {
    stream_name: &'a str,
    filter: &'a str,
    schema: &'a str,
    retired: &'a str,
    total: u64,
}

async fn build_and_swap(
    settings: &Settings,
    pool: &PgPool,
    js: jetstream::Context,
    options: &RebuildOptions,
    progress: &mut impl FnMut(&Progress),
    target: Target<'_>,
) -> anyhow::Result<RebuildReport> {
    let deferred = if options.defer_indexes {
        drop_secondary_indexes(pool, target.schema).await?
    } else {
        Vec::new()
    };

    let mut ingest = Ingest::new(
        pool.clone(),
        js.clone(),
        &settings.district,
        settings.ingest.clone(),
        target.schema.to_owned(),
        Arc::new(IngestState::new(Gaps::new(&settings.ingest))),
        broadcast::channel(1).0,
    );
    ingest.record_contacts = false;
    let (rx, _reader) = Reader::start(
        js.clone(),
        target.stream_name,
        target.filter,
        options.batch_size.max(1),
        ingest.decoder().clone(),
    );
    let mut applier = Applier::new(ingest, rx, options);

    // 1. Replay what the stream held at the start.
    let replay_started = Instant::now();
    let mut last_report = (Instant::now(), 0_u64);
    let every = options.progress_every;
    applier
        .catch_up(target.total, |applied| {
            let (at, before) = last_report;
            if at.elapsed() >= every {
                progress(&Progress::Replay {
                    applied,
                    // Past the start's end when messages arrive meanwhile.
                    total: target.total.max(applied),
                    rate: rate(applied - before, at.elapsed()),
                });
                last_report = (Instant::now(), applied);
            }
        })
        .await?;
    let replayed = applier.applied;
    let replay_elapsed = replay_started.elapsed();
    let stream_wait = applier.waited;
    progress(&Progress::Replayed {
        applied: replayed,
        elapsed: replay_elapsed,
    });

    // Indexes and planner statistics before the new schema answers anything.
    let indexing_started = Instant::now();
    progress(&Progress::Indexing {
        indexes: deferred.len(),
    });
    recreate_indexes(pool, &deferred).await?;
    analyze(pool, target.schema).await?;
    let indexing_elapsed = indexing_started.elapsed();

    // 2. Catch up under the live ingest's lock, and swap.
    let swapped = catch_up_and_swap(pool, &js, &mut applier, &target, options, progress).await?;
    Ok(RebuildReport {
        built_as: target.schema.to_owned(),
        retired: swapped.retired,
        replayed,
        replay_elapsed,
        stream_wait,
        tail: applier.applied - replayed,
        swapped_at_stream_seq: applier.reached,
        batches_pipelined: applier.pipelined,
        batches_careful: applier.careful,
        ingest_held: swapped.ingest_held,
        swap_attempts: swapped.attempts,
        indexing_elapsed,
        total_elapsed: Duration::ZERO,
    })
}
