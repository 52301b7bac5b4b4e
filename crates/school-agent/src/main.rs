//! `school-agent`: runs one school's agent (`serve`, the default), creates the school's new
//! log (`init`), or creates or resets the head's staff account (`account create-head`). See
//! the crate docs and `README.md`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use school_agent::config::Settings;
use secrecy::ExposeSecret;
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
    /// Staff accounts, on the school PC.
    #[command(subcommand)]
    Account(AccountCommand),
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Create the head's (Hiệu trưởng) account, or reset it (break-glass): prints a one-time
    /// password, once, that must be changed at first sign-in.
    CreateHead {
        /// The login, e.g. hieu.truong (a-z, 0-9, '.', '-', '_').
        #[arg(long)]
        login: String,
        /// The head's full name, with diacritics.
        #[arg(long = "ho-ten")]
        ho_ten: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    logging::init(LogFormat::json_if(args.json_logs), "info");
    let settings = Settings::load(args.config.as_deref()).context("loading the configuration")?;
    match args.command {
        Some(Command::Init) => {
            school_agent::init(&settings).await?;
            eprintln!(
                "Đã tạo sổ của trường tại {}. Khởi động school-agent để bắt đầu ghi nhận.",
                settings.storage.path.display()
            );
            return Ok(());
        }
        Some(Command::Account(AccountCommand::CreateHead { login, ho_ten })) => {
            let (account, password) = school_agent::create_head(&settings, &login, &ho_ten)
                .await
                .context("creating the head's account")?;
            println!(
                "Tài khoản Hiệu trưởng: {} ({})\nMật khẩu dùng một lần: {}\n\
                 Mật khẩu này chỉ hiện một lần; phải đổi ngay ở lần đăng nhập đầu tiên \
                 (truyenthong dang-nhap, rồi truyenthong doi-mat-khau).",
                account.login,
                account.full_name,
                password.expose_secret()
            );
            return Ok(());
        }
        Some(Command::Serve) | None => {}
    }
    let listener = tokio::net::TcpListener::bind(settings.grpc.listen)
        .await
        .with_context(|| format!("binding gRPC on {}", settings.grpc.listen))?;
    school_agent::run(settings, listener, service_runtime::shutdown_signal()).await
}
