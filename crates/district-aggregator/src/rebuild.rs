//! `district-aggregator rebuild`: the projections, recomputed from the district stream and
//! swapped in while the live service keeps answering (invariant 4 of `docs/contract.md`).
//!
//! 1. **Replay.** A fresh projection schema `rebuild_<timestamp>` is created with
//!    `public.create_projection`. The whole district stream is read with an *ephemeral*
//!    JetStream pull consumer that checks its deliveries are in order (deliver all, no acks,
//!    no durable state: nothing the live ingest uses is touched) and applied by the live
//!    ingest's own code, sequencer and projection alike, pointed at the new schema, in large
//!    batches: like the live ingest, a batch is prepared in memory while the one before
//!    commits in parallel parts ([`crate::ingest::pipeline`]), and what needs the database
//!    goes through [`Ingest::apply_decoded`]. A reader task pulls and decodes the stream
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
//!    (see [`crate::ingest`]). If the tables cannot be locked quickly (a long report holds
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

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use chrono::Utc;
use futures::StreamExt;
use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgConnection, PgPool, Row};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::config::Settings;
use crate::db::{self, LIVE_SCHEMA};
use crate::decode::{Decoded, Decoder, Received};
use crate::gaps::Gaps;
use crate::ingest::pipeline::InFlight;
use crate::ingest::{self, Ingest};
use crate::state::IngestState;

/// Prefix of the schema a rebuild builds into.
pub const REBUILD_PREFIX: &str = "rebuild_";
/// Prefix of the schema the replaced projection is renamed to.
pub const RETIRED_PREFIX: &str = "retired_";

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

/// What the rebuild is doing, reported about once per `progress_every`.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Replaying the stream into the new schema: `applied` messages so far, out of the
    /// `total` the stream held when the rebuild started; `rate` over the last interval.
    Replay { applied: u64, total: u64, rate: f64 },
    /// The replay is done: `applied` messages in `elapsed`.
    Replayed { applied: u64, elapsed: Duration },
    /// Recreating the secondary indexes and analysing the tables.
    Indexing { indexes: usize },
    /// Holding the live ingest and replaying what it committed since the replay started.
    CatchUp {
        applied: u64,
        target_stream_seq: u64,
    },
    /// The new projection is live.
    Swapped { retired: Option<String> },
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::Replay {
                applied,
                total,
                rate,
            } => write!(
                f,
                "rebuilt {} / {} events ({} ev/s)",
                thousands(*applied),
                thousands(*total),
                thousands(rate.round() as u64)
            ),
            Progress::Replayed { applied, elapsed } => write!(
                f,
                "replayed {} events in {:.1} s ({} ev/s)",
                thousands(*applied),
                elapsed.as_secs_f64(),
                thousands(rate(*applied, *elapsed).round() as u64)
            ),
            Progress::Indexing { indexes } => {
                write!(f, "recreating {indexes} indexes and analysing the tables")
            }
            Progress::CatchUp {
                applied,
                target_stream_seq,
            } => write!(
                f,
                "live ingest held; catching up: {} events applied, up to stream seq {}",
                thousands(*applied),
                thousands(*target_stream_seq)
            ),
            Progress::Swapped { retired: Some(r) } => {
                write!(
                    f,
                    "swapped: the rebuilt projection is live; the old one is kept as {r}"
                )
            }
            Progress::Swapped { retired: None } => {
                write!(f, "swapped: the rebuilt projection is live")
            }
        }
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq)]
pub struct RebuildReport {
    /// The name the projection was built under (now `live`).
    pub built_as: String,
    /// Where the replaced projection went; `None` when dropped (or there was none).
    pub retired: Option<String>,
    /// Stream messages applied before the ingest was held, and how fast.
    pub replayed: u64,
    pub replay_elapsed: Duration,
    /// How much of the replay was spent waiting for the stream rather than applying.
    pub stream_wait: Duration,
    /// Stream messages applied while the live ingest was held (the tail).
    pub tail: u64,
    /// The last stream sequence the new projection had applied at the swap.
    pub swapped_at_stream_seq: u64,
    /// Batches prepared in memory and committed in parallel parts, and batches applied on the
    /// careful path (the first, district events, dead letters, failed parts).
    pub batches_pipelined: u64,
    pub batches_careful: u64,
    /// How long the live ingest was held in the round that swapped, and how many attempts
    /// to lock the live tables that round took.
    pub ingest_held: Duration,
    pub swap_attempts: u32,
    pub indexing_elapsed: Duration,
    pub total_elapsed: Duration,
}

impl RebuildReport {
    /// Replay throughput, messages per second.
    pub fn replay_rate(&self) -> f64 {
        rate(self.replayed, self.replay_elapsed)
    }
}

/// Connects as the configuration says (a pool of its own, with `synchronous_commit = off`,
/// and a NATS client), then [`rebuild`]s.
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

fn pg_options(settings: &Settings) -> anyhow::Result<PgConnectOptions> {
    let options: PgConnectOptions = settings
        .database
        .url
        .expose_secret()
        .parse()
        .context("invalid database URL")?;
    Ok(options
        .application_name("district-aggregator-rebuild")
        .options([("synchronous_commit", "off")]))
}

/// Rebuilds the projections of `settings.district` from its stream and swaps them in. See
/// the module documentation. `pool` needs at least two connections (the swap transaction
/// holds one while the tail is applied through another).
pub async fn rebuild(
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
    // The reader decodes too, so decoding overlaps the previous batch's commit.
    let (tx, rx) = mpsc::channel(4);
    let reader = tokio::spawn(read_stream(
        js.clone(),
        target.stream_name.to_owned(),
        target.filter.to_owned(),
        options.batch_size.max(1),
        ingest.decoder().clone(),
        tx,
    ));
    let _reader = AbortOnDrop(reader);
    let mut applier = Applier {
        ingest,
        rx,
        batch_size: options.batch_size.max(1),
        idle_timeout: options.idle_timeout,
        in_flight: None,
        reached: 0,
        applied: 0,
        waited: Duration::ZERO,
        pipelined: 0,
        careful: 0,
    };

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
    let mut round = 0;
    loop {
        round += 1;
        let mut guard = pool.begin().await?;
        let mut locked_at = Instant::now();
        let outcome = async {
            // The swap must survive a crash even though the replay's commits need not.
            sqlx::query("SET LOCAL synchronous_commit = on")
                .execute(&mut *guard)
                .await?;
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('truyenthong.ingest.' || $1))")
                .bind(LIVE_SCHEMA)
                .execute(&mut *guard)
                .await
                .context("taking the live ingest's lock")?;
            locked_at = Instant::now();
            // Read under the lock, so nothing moves: the new projection must have applied
            // everything the live one has (the live ingest acknowledged it, and will not see
            // it again); what the live ingest has not committed yet, it applies itself after
            // the swap (and broadcasts, as usual).
            let stream_end = js
                .get_stream(target.stream_name)
                .await?
                .get_info()
                .await?
                .state
                .last_sequence;
            let live_high = live_high_water(&mut guard).await?;
            if live_high > stream_end {
                bail!(
                    "the live projection has applied stream seq {live_high}, but the stream ends at {stream_end}: \
                     it was recreated or truncated, and a rebuild would lose events"
                );
            }
            let before = applier.applied;
            applier.catch_up(live_high, |_| {}).await?;
            progress(&Progress::CatchUp {
                applied: applier.applied - before,
                target_stream_seq: live_high,
            });
            swap(&mut guard, target.schema, target.retired, options).await
        }
        .await;
        match outcome {
            Err(e) => {
                // Release the live ingest now, not whenever the pool next uses this
                // connection.
                let _ = guard.rollback().await;
                return Err(e);
            }
            Ok(Swap::Done { retired, attempts }) => {
                guard.commit().await.context("committing the swap")?;
                return Ok(RebuildReport {
                    built_as: target.schema.to_owned(),
                    retired,
                    replayed,
                    replay_elapsed,
                    stream_wait,
                    tail: applier.applied - replayed,
                    swapped_at_stream_seq: applier.reached,
                    batches_pipelined: applier.pipelined,
                    batches_careful: applier.careful,
                    ingest_held: locked_at.elapsed(),
                    swap_attempts: attempts,
                    indexing_elapsed,
                    total_elapsed: Duration::ZERO,
                });
            }
            Ok(Swap::Busy(reason)) => {
                guard.rollback().await?;
                if round >= options.swap_rounds {
                    bail!(
                        "could not lock the live projection's tables for the swap in {round} rounds: {reason}"
                    );
                }
                warn!(round, %reason, "the live tables stay busy; letting the live ingest run, then trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The highest stream sequence the live projection has committed: every message of a
/// committed batch either names an author (then `ops.contacts` records its stream sequence,
/// in the same transaction) or is a dead letter.
async fn live_high_water(conn: &mut PgConnection) -> anyhow::Result<u64> {
    let live_exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(LIVE_SCHEMA)
            .fetch_one(&mut *conn)
            .await?;
    let dead = if live_exists {
        format!(
            "(SELECT max(stream_seq) FROM {}.dead_letters)",
            quote_ident(LIVE_SCHEMA)
        )
    } else {
        "NULL::bigint".to_owned()
    };
    let high: i64 = sqlx::query_scalar(&format!(
        "SELECT coalesce(greatest((SELECT max(last_stream_seq) FROM ops.contacts), {dead}), 0)"
    ))
    .fetch_one(&mut *conn)
    .await?;
    Ok(db::from_i64(high))
}

enum Swap {
    Done {
        retired: Option<String>,
        attempts: u32,
    },
    /// The live tables could not be locked in time (the last error).
    Busy(String),
}

/// Within `guard` (which holds the ingest lock): locks every table of `live`, renames `live`
/// to `retired` and `schema` to `live`. Each attempt runs under a savepoint, so that one that
/// times out waiting for a reader (or is chosen as a deadlock victim) releases what it took
/// and leaves the ingest lock held.
async fn swap(
    guard: &mut PgConnection,
    schema: &str,
    retired: &str,
    options: &RebuildOptions,
) -> anyhow::Result<Swap> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
    )
    .bind(LIVE_SCHEMA)
    .fetch_all(&mut *guard)
    .await?;
    let live_exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(LIVE_SCHEMA)
            .fetch_one(&mut *guard)
            .await?;
    let timeout_ms = options.lock_timeout.as_millis().max(1).to_string();
    let mut last = String::new();
    let attempts = options.nowait_attempts + options.swap_attempts.max(1);
    for attempt in 1..=attempts {
        let nowait = attempt <= options.nowait_attempts;
        sqlx::query("SAVEPOINT swap").execute(&mut *guard).await?;
        let result: Result<(), sqlx::Error> = async {
            sqlx::query("SELECT set_config('lock_timeout', $1, true)")
                .bind(&timeout_ms)
                .execute(&mut *guard)
                .await?;
            if !tables.is_empty() {
                sqlx::query(&format!(
                    "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE{}",
                    tables.join(", "),
                    if nowait { " NOWAIT" } else { "" }
                ))
                .execute(&mut *guard)
                .await?;
            }
            if live_exists {
                sqlx::query(&format!(
                    "ALTER SCHEMA {} RENAME TO {}",
                    quote_ident(LIVE_SCHEMA),
                    quote_ident(retired)
                ))
                .execute(&mut *guard)
                .await?;
            }
            sqlx::query(&format!(
                "ALTER SCHEMA {} RENAME TO {}",
                quote_ident(schema),
                quote_ident(LIVE_SCHEMA)
            ))
            .execute(&mut *guard)
            .await?;
            sqlx::query("SELECT set_config('lock_timeout', '0', true)")
                .execute(&mut *guard)
                .await?;
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                sqlx::query("RELEASE SAVEPOINT swap")
                    .execute(&mut *guard)
                    .await?;
                return Ok(Swap::Done {
                    retired: live_exists.then(|| retired.to_owned()),
                    attempts: attempt,
                });
            }
            Err(e) if is_lock_conflict(&e) => {
                sqlx::query("ROLLBACK TO SAVEPOINT swap")
                    .execute(&mut *guard)
                    .await?;
                if !nowait {
                    info!(attempt, error = %e, "the live tables are busy; trying the swap again");
                }
                last = e.to_string();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(e) => return Err(e).context("swapping the rebuilt projection in"),
        }
    }
    Ok(Swap::Busy(last))
}

/// A lock wait that gave up (`lock_not_available`) or a deadlock this side lost.
fn is_lock_conflict(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("55P03" | "40P01")),
        _ => false,
    }
}

/// Feeds stream messages to the projection in batches, the way the live ingest does: a batch
/// is prepared in memory while the one before commits, in parts committed in parallel
/// ([`crate::ingest::pipeline`]); what cannot be prepared so (the first batch, a district
/// event, a dead letter, a gap) or whose commit failed is applied on the careful path, with
/// retries.
struct Applier {
    ingest: Ingest,
    rx: mpsc::Receiver<Result<Vec<Decoded>, String>>,
    batch_size: usize,
    idle_timeout: Duration,
    /// The batch committing in the background, and its highest stream sequence.
    in_flight: Option<(InFlight, u64)>,
    /// The highest stream sequence applied (committed).
    reached: u64,
    /// Messages applied (committed).
    applied: u64,
    /// Time spent waiting for the stream.
    waited: Duration,
    /// Batches that took the pipelined path, and batches applied carefully.
    pipelined: u64,
    careful: u64,
}

impl Applier {
    /// Applies messages until stream sequence `target` is applied, calling `on_batch` with the
    /// running count after each batch. Returns with nothing in flight.
    async fn catch_up(&mut self, target: u64, mut on_batch: impl FnMut(u64)) -> anyhow::Result<()> {
        while self.reached.max(self.in_flight_end()) < target {
            let waiting = Instant::now();
            let received = tokio::time::timeout(self.idle_timeout, self.rx.recv()).await;
            self.waited += waiting.elapsed();
            let mut batch = match received {
                Err(_) => bail!(
                    "the district stream delivered nothing for {:?} while messages up to stream seq {target} are due (at {})",
                    self.idle_timeout,
                    self.reached
                ),
                Ok(None) => bail!("the stream reader stopped"),
                Ok(Some(Err(e))) => bail!("reading the district stream: {e}"),
                Ok(Some(Ok(chunk))) => chunk,
            };
            while batch.len() < self.batch_size {
                match self.rx.try_recv() {
                    Ok(Ok(chunk)) => batch.extend(chunk),
                    Ok(Err(e)) => bail!("reading the district stream: {e}"),
                    Err(_) => break,
                }
            }
            let last = batch
                .iter()
                .map(|d| d.received().stream_seq)
                .max()
                .unwrap_or(0);
            // Prepared while the batch before commits; dropped if that commit fails.
            let mut prepared = self.ingest.prepare(&batch);
            if self.land().await? {
                prepared = None;
            }
            match prepared {
                Some(prepared) => {
                    let flight = self.ingest.launch(prepared, batch, Vec::new());
                    self.in_flight = Some((flight, last));
                    self.pipelined += 1;
                }
                None => {
                    self.careful += 1;
                    self.apply(&batch).await?;
                    self.applied += batch.len() as u64;
                    self.reached = self.reached.max(last);
                }
            }
            on_batch(self.applied);
        }
        self.land().await?;
        Ok(())
    }

    /// The highest stream sequence of the batch in flight (0 when none).
    fn in_flight_end(&self) -> u64 {
        self.in_flight.as_ref().map_or(0, |(_, last)| *last)
    }

    /// Waits for the batch in flight, if any, and applies again what of it failed. `true`
    /// when something failed (then the caches were dropped, and what was prepared on top of
    /// that batch must not be used).
    async fn land(&mut self) -> anyhow::Result<bool> {
        let Some((flight, last)) = self.in_flight.take() else {
            return Ok(false);
        };
        let messages = flight.messages() as u64;
        let failed = self.ingest.land_replay(flight).await;
        let redone = !failed.is_empty();
        if redone {
            self.careful += 1;
            self.apply(&failed).await?;
        }
        self.applied += messages;
        self.reached = self.reached.max(last);
        Ok(redone)
    }

    /// One batch on the careful path, retried with backoff while PostgreSQL is unavailable.
    /// Values PostgreSQL refuses are dead-lettered by the ingest itself, as live.
    async fn apply(&mut self, batch: &[Decoded]) -> anyhow::Result<()> {
        const ATTEMPTS: u32 = 8;
        let mut failures = 0;
        loop {
            match self.ingest.apply_decoded(batch).await {
                Ok(_) => return Ok(()),
                Err(e) => {
                    failures += 1;
                    let first = batch
                        .first()
                        .map(|d| d.received().stream_seq)
                        .unwrap_or_default();
                    if failures >= ATTEMPTS {
                        return Err(e).with_context(|| {
                            format!(
                                "applying the batch from stream seq {first} ({failures} attempts)"
                            )
                        });
                    }
                    warn!(error = %e, first_stream_seq = first, failures, "rebuild batch not committed; retrying");
                    tokio::time::sleep(ingest::backoff(failures, Duration::from_secs(5))).await;
                }
            }
        }
    }
}

/// Messages asked for per pull while reading the stream. The ordered consumer of async-nats
/// pulls 500 at a time; pulling more per request read the stream about a quarter faster
/// (≈ 95k against 120k msgs/s on the 2-core bench machine, client and server together).
pub const READ_BATCH: usize = 5_000;
/// How often the server must show it is alive while a pull waits.
const READ_HEARTBEAT: Duration = Duration::from_secs(5);

/// Reads the district stream from the start with an ephemeral pull consumer that needs no
/// acknowledgements (as an ordered consumer, with larger pulls), in chunks of what is ready,
/// until the receiver goes away. Recreates the consumer after the last sequence kept when it
/// fails or a delivery is missing; gives up (and says so) after repeated failures.
async fn read_stream(
    js: jetstream::Context,
    stream_name: String,
    filter: String,
    chunk: usize,
    decoder: Decoder,
    tx: mpsc::Sender<Result<Vec<Decoded>, String>>,
) {
    const MAX_FAILURES: u32 = 10;
    let mut next_seq = 1_u64;
    let mut failures = 0_u32;
    loop {
        let failure: String = 'read: {
            let stream = match js.get_stream(&stream_name).await {
                Ok(stream) => stream,
                Err(e) => break 'read e.to_string(),
            };
            let deliver_policy = if next_seq <= 1 {
                DeliverPolicy::All
            } else {
                DeliverPolicy::ByStartSequence {
                    start_sequence: next_seq,
                }
            };
            let config = pull::Config {
                description: Some("truyenthong district aggregator rebuild (ephemeral)".into()),
                filter_subject: filter.clone(),
                deliver_policy,
                ack_policy: AckPolicy::None,
                // Gone soon after this reader is (the server forgets an idle ephemeral).
                inactive_threshold: Duration::from_secs(60),
                ..Default::default()
            };
            let consumer = match stream.create_consumer(config).await {
                Ok(consumer) => consumer,
                Err(e) => break 'read e.to_string(),
            };
            let messages = match consumer
                .stream()
                .max_messages_per_batch(READ_BATCH)
                .heartbeat(READ_HEARTBEAT)
                .messages()
                .await
            {
                Ok(messages) => messages,
                Err(e) => break 'read e.to_string(),
            };
            // Every delivery of this consumer in order: a consumer sequence that skips means a
            // message was lost on the way, and the read starts again after the last one kept.
            let mut delivered = 0_u64;
            let mut chunks = messages.ready_chunks(chunk);
            while let Some(items) = chunks.next().await {
                let mut out = Vec::with_capacity(items.len());
                let mut error = None;
                for item in items {
                    match item.map_err(|e| e.to_string()).and_then(|mut m| {
                        let info = m.info().map_err(|e| e.to_string())?;
                        if info.delivered != 1 || info.consumer_sequence != delivered + 1 {
                            return Err(format!(
                                "delivery out of order: consumer sequence {} after {delivered}",
                                info.consumer_sequence
                            ));
                        }
                        delivered = info.consumer_sequence;
                        Received::from_message(&mut m)
                    }) {
                        Ok(received) => {
                            next_seq = received.stream_seq + 1;
                            out.push(decoder.decode(received));
                        }
                        Err(e) => {
                            error = Some(e);
                            break;
                        }
                    }
                }
                if !out.is_empty() {
                    failures = 0;
                    if tx.send(Ok(out)).await.is_err() {
                        return;
                    }
                }
                if let Some(e) = error {
                    break 'read e;
                }
            }
            "the stream's consumer ended".to_owned()
        };
        failures += 1;
        if failures >= MAX_FAILURES {
            let _ = tx.send(Err(failure)).await;
            return;
        }
        warn!(error = %failure, failures, next_seq, "reading the district stream failed; reading on from where it stopped");
        tokio::time::sleep(ingest::backoff(failures, Duration::from_secs(5))).await;
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Drops every retired projection but the newest `keep` (their names carry the swap's time,
/// so they sort oldest first); returns the dropped ones. Each retired schema is a whole copy
/// of the projection, so without this every rebuild would leave another behind.
async fn prune_retired(pool: &PgPool, keep: usize) -> anyhow::Result<Vec<String>> {
    let mut retired: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY nspname DESC",
    )
    .bind(RETIRED_PREFIX)
    .fetch_all(pool)
    .await?;
    let dropped = retired.split_off(keep.min(retired.len()));
    for schema in &dropped {
        drop_schema(pool, schema)
            .await
            .with_context(|| format!("dropping the retired projection {schema}"))?;
        info!(%schema, "retired projection dropped");
    }
    Ok(dropped)
}

/// `rebuild_*` schemas left by rebuilds that died (we hold the rebuild lock, so none is in
/// progress).
async fn drop_leftovers(pool: &PgPool) -> anyhow::Result<()> {
    let leftovers: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY nspname",
    )
    .bind(REBUILD_PREFIX)
    .fetch_all(pool)
    .await?;
    for schema in leftovers {
        warn!(%schema, "dropping the unfinished projection of an earlier rebuild");
        drop_schema(pool, &schema).await?;
    }
    Ok(())
}

async fn drop_schema(pool: &PgPool, schema: &str) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "DROP SCHEMA IF EXISTS {} CASCADE",
        quote_ident(schema)
    ))
    .execute(pool)
    .await?;
    Ok(())
}

/// An index to recreate: its name and `CREATE INDEX` statement, fully qualified.
#[derive(Debug)]
struct IndexDef {
    name: String,
    create: String,
}

/// Drops the indexes of `schema` that back no constraint (primary keys and unique
/// constraints stay: the upserts and duplicate checks need them) and returns their
/// definitions.
async fn drop_secondary_indexes(pool: &PgPool, schema: &str) -> anyhow::Result<Vec<IndexDef>> {
    let mut tx = pool.begin().await?;
    // With only pg_catalog on the path, pg_get_indexdef qualifies every name it prints.
    sqlx::query("SET LOCAL search_path = pg_catalog")
        .execute(&mut *tx)
        .await?;
    let rows = sqlx::query(
        "SELECT format('%I.%I', n.nspname, c.relname) AS name, pg_get_indexdef(i.indexrelid) AS create \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
         ORDER BY c.relname",
    )
    .bind(schema)
    .fetch_all(&mut *tx)
    .await?;
    let mut defs = Vec::with_capacity(rows.len());
    for row in rows {
        let def = IndexDef {
            name: row.try_get("name")?,
            create: row.try_get("create")?,
        };
        sqlx::query(&format!("DROP INDEX {}", def.name))
            .execute(&mut *tx)
            .await?;
        defs.push(def);
    }
    tx.commit().await?;
    Ok(defs)
}

async fn recreate_indexes(pool: &PgPool, defs: &[IndexDef]) -> anyhow::Result<()> {
    for def in defs {
        let mut tx = pool.begin().await?;
        sqlx::query("SET LOCAL search_path = pg_catalog")
            .execute(&mut *tx)
            .await?;
        sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
            .execute(&mut *tx)
            .await?;
        sqlx::query(&def.create)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("recreating index {}", def.name))?;
        tx.commit().await?;
    }
    Ok(())
}

async fn analyze(pool: &PgPool, schema: &str) -> anyhow::Result<()> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
    )
    .bind(schema)
    .fetch_all(pool)
    .await?;
    if !tables.is_empty() {
        sqlx::query(&format!("ANALYZE {}", tables.join(", ")))
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// A PostgreSQL identifier, quoted.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn rate(n: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(250_000), "250,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn progress_reads_like_the_brief() {
        let p = Progress::Replay {
            applied: 250_000,
            total: 1_000_000,
            rate: 180_000.4,
        };
        assert_eq!(
            p.to_string(),
            "rebuilt 250,000 / 1,000,000 events (180,000 ev/s)"
        );
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("live"), "\"live\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
