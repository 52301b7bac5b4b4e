//! The services of the run: a real `nats-server` (JetStream, file store) and PostgreSQL,
//! started by `test-harness`, with two fresh databases (the aggregator's and the raw
//! baseline's); what they are is printed, since the figures depend on it.

use std::process::Command;
use std::time::Instant;

use async_nats::jetstream;
use bench_measure::Latency;
use sqlx::PgPool;
use test_harness::{NatsServer, Postgres};

use crate::accounts::Accounts;
use crate::{DISTRICT, PROVINCE};

pub struct Services {
    pub nats: NatsServer,
    pub pg: Postgres,
    pub accounts: Accounts,
    /// The aggregator's database.
    pub db_url: String,
    /// The raw baseline's database.
    pub raw_url: String,
    pub js: jetstream::Context,
}

impl Services {
    /// Starts both, prints their versions and PostgreSQL's settings, and ensures the district
    /// stream.
    pub async fn start() -> anyhow::Result<Self> {
        let nats = NatsServer::start().await?;
        let pg = Postgres::start().await?;
        let accounts = Accounts::find(&pg, &nats);
        let db_url = pg.fresh_database().await?;
        let raw_url = pg.fresh_database().await?;
        let admin = PgPool::connect(&db_url).await?;
        let version: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&admin)
            .await?;
        let pg_settings: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN \
             ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'work_mem', \
              'max_wal_size', 'max_connections') ORDER BY name",
        )
        .fetch_all(&admin)
        .await?;
        admin.close().await;
        println!(
            "  PostgreSQL {version} ({}), settings as test-harness makes them: {}",
            if pg.is_local() {
                "throwaway cluster of test-harness"
            } else {
                "the server at DATABASE_URL"
            },
            pg_settings
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let nats_version = Command::new("nats-server")
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        println!(
            "  {nats_version} (JetStream file store in a temporary directory), pids: postmaster {:?}, nats-server {:?}",
            accounts.postmaster, accounts.nats
        );
        let client = async_nats::connect(nats.url()).await?;
        let js = jetstream::new(client);
        event_bus::stream::ensure_district_stream(&js, PROVINCE, DISTRICT).await?;
        Ok(Self {
            nats,
            pg,
            accounts,
            db_url,
            raw_url,
            js,
        })
    }
}

/// PostgreSQL round trips on one connection: `SELECT 1`, `n` times.
pub async fn round_trips(pool: &PgPool, n: usize) -> anyhow::Result<Latency> {
    let mut conn = pool.acquire().await?;
    let mut latency = Latency::new();
    for _ in 0..n {
        let t = Instant::now();
        sqlx::query("SELECT 1").execute(&mut *conn).await?;
        latency.record(t.elapsed());
    }
    Ok(latency)
}
