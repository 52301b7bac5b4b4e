//! The environment variables that size and steer a run (see the bench's header).

use anyhow::bail;
use bench_measure::knobs::{env_flag, env_or};

/// How the projection gets to a million events for the query phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Copy every row of the ten schools in SQL under more codes.
    Sql,
    /// Publish the same envelopes under more codes and rebuild from the whole stream.
    Replay,
}

#[derive(Debug)]
pub struct Knobs {
    pub events: u64,
    pub queries: usize,
    pub sql_queries: usize,
    pub copies: u32,
    pub fill: Fill,
    pub enrol_last: bool,
}

impl Knobs {
    pub fn from_env() -> anyhow::Result<Self> {
        let fill = match std::env::var("BENCH_FILL").as_deref() {
            Err(_) | Ok("") | Ok("sql") => Fill::Sql,
            Ok("replay") => Fill::Replay,
            Ok(other) => bail!("BENCH_FILL={other}: expected sql or replay"),
        };
        Ok(Self {
            events: env_or("BENCH_EVENTS", 200_000_u64).max(100),
            queries: env_or("BENCH_QUERIES", 2_000_usize).max(1),
            sql_queries: env_or("BENCH_SQL_QUERIES", 20_usize),
            copies: env_or("BENCH_COPIES", 4_u32),
            fill,
            enrol_last: env_flag("BENCH_ENROL_LAST"),
        })
    }
}
