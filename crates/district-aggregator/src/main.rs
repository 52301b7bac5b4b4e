//! `district-aggregator`: runs one district's aggregator (`serve`, the default), or rebuilds
//! its projections from the district stream and swaps them in (`rebuild`). See the crate docs
//! and `district_aggregator::rebuild`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use district_aggregator::config::Settings;
use district_aggregator::rebuild::{self, RebuildOptions};
use service_runtime::logging::{self, LogFormat};
use service_runtime::shutdown_signal;

/// mimalloc instead of the system allocator: the ingest allocates and frees many small
/// strings per event (decoding, rows, arrays), and glibc's malloc was a tenth of its CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "district-aggregator",
    about = "Tổng hợp truyền thông của Phòng GD-ĐT: nhận sự kiện của các trường vào PostgreSQL, đúng một lần"
)]
struct Args {
    /// The TOML configuration file (see aggregator.example.toml).
    #[arg(short, long, env = "TRUYENTHONG_AGGREGATOR_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    json_logs: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the aggregator: ingest the district stream and answer the district office (the
    /// default).
    Serve,
    /// Rebuild the projections from the district stream into a new schema and swap it in as
    /// `live`, while the running aggregator keeps answering. Progress goes to stderr.
    Rebuild {
        /// Drop the replaced projection after the swap, and every older one (by default the
        /// replaced one is kept as `retired_<timestamp>`, the way back). Same as
        /// `--keep-retired 0`.
        #[arg(long, conflicts_with = "keep_retired")]
        drop_retired: bool,
        /// Retired projections to keep after the swap, newest first (the one just replaced
        /// counts); older ones are dropped.
        #[arg(long, default_value_t = RebuildOptions::default().keep_retired)]
        keep_retired: usize,
        /// Stream messages per PostgreSQL transaction.
        #[arg(long, default_value_t = RebuildOptions::default().batch_size)]
        batch_size: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    logging::init(LogFormat::json_if(args.json_logs), "info");
    let settings = Settings::load(args.config.as_deref()).context("loading the configuration")?;
    if let Some(Command::Rebuild {
        drop_retired,
        keep_retired,
        batch_size,
    }) = args.command
    {
        let options = RebuildOptions {
            keep_retired: if drop_retired { 0 } else { keep_retired },
            batch_size,
            ..RebuildOptions::default()
        };
        let rebuilding = rebuild::run(&settings, options, |p| eprintln!("{p}"));
        let report = tokio::select! {
            report = rebuilding => report?,
            _ = shutdown_signal() => {
                // Dropping the rebuild rolls back whatever transaction was open: `live` is
                // untouched, and the next rebuild drops the unfinished schema.
                anyhow::bail!("rebuild interrupted; the live projection is unchanged");
            }
        };
        eprintln!(
            "rebuild done: {} events replayed in {:.1} s ({} ev/s), {} more while the live ingest was held for {} ms; total {:.1} s",
            rebuild::thousands(report.replayed),
            report.replay_elapsed.as_secs_f64(),
            rebuild::thousands(report.replay_rate().round() as u64),
            rebuild::thousands(report.tail),
            report.ingest_held.as_millis(),
            report.total_elapsed.as_secs_f64(),
        );
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(settings.grpc.listen)
        .await
        .with_context(|| format!("binding gRPC on {}", settings.grpc.listen))?;
    district_aggregator::run(settings, listener, shutdown_signal()).await
}
