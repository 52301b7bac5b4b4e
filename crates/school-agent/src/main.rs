//! `school-agent`: runs one school's agent. See the crate docs and `README.md`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use school_agent::config::Settings;
use service_runtime::logging::{self, LogFormat};

#[derive(Debug, Parser)]
#[command(
    name = "school-agent",
    about = "Sổ truyền thông của trường: ghi nhận tại trường, gửi về Phòng GD-ĐT khi có mạng"
)]
struct Args {
    /// The TOML configuration file (see deploy/agent.example.toml).
    #[arg(short, long, env = "TRUYENTHONG_AGENT_CONFIG")]
    config: Option<PathBuf>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long)]
    json_logs: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    logging::init(LogFormat::json_if(args.json_logs), "info");
    let settings = Settings::load(args.config.as_deref()).context("loading the configuration")?;
    let listener = tokio::net::TcpListener::bind(settings.grpc.listen)
        .await
        .with_context(|| format!("binding gRPC on {}", settings.grpc.listen))?;
    school_agent::run(settings, listener, service_runtime::shutdown_signal()).await
}
