//! PostgreSQL: the pool, the embedded migrations, and where the projections live.
//!
//! Projections live in the schema [`LIVE_SCHEMA`] (see the migration for why a schema, not a
//! table prefix: a rebuild builds a fresh one and swaps it in atomically). Code that writes
//! or reads projections never names the schema: it sets the transaction's `search_path`
//! with [`use_projection`], so the same statements serve the live schema and a rebuild's.

use secrecy::ExposeSecret;
use sqlx::PgConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::config::DatabaseSettings;

/// The schema of the projections the district office reads.
pub const LIVE_SCHEMA: &str = "live";

/// Why the database could not be set up. All of them mean "storage unavailable" to a caller.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid database URL: {0}")]
    Url(#[source] sqlx::Error),
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot migrate the aggregator's database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Connects a pool to `settings.url` and runs the embedded migrations.
pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, DbError> {
    let options: PgConnectOptions = settings.url.expose_secret().parse().map_err(DbError::Url)?;
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections.max(2))
        .acquire_timeout(settings.acquire_timeout())
        .connect_with(options.application_name("district-aggregator"))
        .await
        .map_err(DbError::Connect)?;
    migrate(&pool).await?;
    Ok(pool)
}

/// Runs the embedded migrations (idempotent).
pub(crate) async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}

/// Points the current transaction's `search_path` at the projection schema `schema` (then
/// `public`, for pg_trgm). Lasts until the transaction ends.
pub async fn use_projection(conn: &mut PgConnection, schema: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT set_config('search_path', format('%I, public', $1::text), true)")
        .bind(schema)
        .execute(conn)
        .await?;
    Ok(())
}

/// [`use_projection`] for a transaction that writes a batch: its bulk statements are also
/// planned for the arrays they are given. A generic plan assumes `unnest` yields 100 rows and
/// may join a batch's few dozen changes to a whole table by hashing it; a custom plan sees
/// the real count and looks each row up by its key.
pub(crate) async fn use_projection_for_writes(
    conn: &mut PgConnection,
    schema: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT set_config('search_path', format('%I, public', $1::text), true), \
                set_config('plan_cache_mode', 'force_custom_plan', true)",
    )
    .bind(schema)
    .execute(conn)
    .await?;
    Ok(())
}

/// Postgres `bigint`s are i64; seqs never come near the limit, saturate rather than wrap.
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The reverse of [`to_i64`]; negative values (never written) read as 0.
pub(crate) fn from_i64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
