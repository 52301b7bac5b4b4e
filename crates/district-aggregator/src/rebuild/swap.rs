//! Catching up and swapping: under the live ingest's advisory lock, how far the live
//! projection has got (so the new one can catch up to it), and the renames that put the new
//! projection in its place, retried while readers hold the live tables.

use std::time::Duration;

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use sqlx::{PgConnection, PgPool};
use tokio::time::Instant;
use tracing::{info, warn};

use super::replay::Applier;
use super::schema::quote_ident;
use super::{Progress, RebuildOptions, Target};
use crate::db::{self, LIVE_SCHEMA};

/// How the swap went.
pub(super) struct Swapped {
    /// Where the replaced projection went (`None` when there was none).
    pub(super) retired: Option<String>,
    /// Attempts to lock the live tables in the round that swapped.
    pub(super) attempts: u32,
    /// How long the live ingest was held in that round.
    pub(super) ingest_held: Duration,
}

/// Step 2 of a rebuild: in rounds, each one transaction that takes the live ingest's lock,
/// reads how far the live projection has got, has `applier` catch the new schema up to it,
/// and swaps the schemas; a round whose tables stay busy is rolled back (the live ingest
/// runs meanwhile) and tried again, up to `options.swap_rounds`.
pub(super) async fn catch_up_and_swap(
    pool: &PgPool,
    js: &jetstream::Context,
    applier: &mut Applier,
    target: &Target<'_>,
    options: &RebuildOptions,
    progress: &mut impl FnMut(&Progress),
) -> anyhow::Result<Swapped> {
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
                return Ok(Swapped {
                    retired,
                    attempts,
                    ingest_held: locked_at.elapsed(),
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
