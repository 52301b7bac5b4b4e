//! `school-agent`: runs one school's agent (`serve`, the default), or creates the school's
//! new log (`init`). See the crate docs and `README.md`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use school_agent::config::Settings;
use service_runtime::logging::{self, LogFormat};

#[derive(Debug, Parser)]
#[command(
    name = "school-agent",
    about = "Sổ truyền thông của trường: ghi nhận tại trường, gửi về Phòng GD-ĐT khi có mạng"
)]
struct Args {
    /// The TOML configuration file (see deploy/agent.example.toml).
    #[arg(short, long, env = "TRUYENTHONG_AGENT_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    json_logs: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the agent (the default).
    Serve,
    /// Create the school's new, empty log at `storage.path`; refused when a log is there.
    /// Run once, at the school's first start: the agent never creates a log by itself.
    Init,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    logging::init(LogFormat::json_if(args.json_logs), "info");
    let settings = Settings::load(args.config.as_deref()).context("loading the configuration")?;
    if let Some(Command::Init) = args.command {
        school_agent::init(&settings).await?;
        eprintln!(
            "Đã tạo sổ của trường tại {}. Khởi động school-agent để bắt đầu ghi nhận.",
            settings.storage.path.display()
        );
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(settings.grpc.listen)
        .await
        .with_context(|| format!("binding gRPC on {}", settings.grpc.listen))?;
    school_agent::run(settings, listener, service_runtime::shutdown_signal()).await
}
