//! `school-agent`: runs one school's agent (`serve`, the default), creates the school's new
//! log (`init`), creates or resets the head's staff account (`account create-head`), puts a
//! backup back (`restore`, `khoi-phuc-ban-sao`) or recovers the log from the district on a new
//! PC (`recover`, `khoi-phuc`). See the crate docs, `README.md` and `docs/school-backup.md`.

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
    /// Put a backup back in place of the log (stop the agent first): the file is checked, the
    /// current log moved aside (never deleted), and at the next start the agent catches up
    /// from the district before it accepts commands.
    #[command(alias = "khoi-phuc-ban-sao")]
    Restore {
        /// The backup file, e.g. E:\sao-luu\thcs-an-hoa-20261204T183000Z-seq000123.sqlite.
        file: PathBuf,
    },
    /// On a new or reinstalled PC with only the school's configuration and credentials:
    /// create the log and fill it with the school's events from the district. Refused when a
    /// non-empty log exists.
    #[command(alias = "khoi-phuc")]
    Recover,
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
        Some(Command::Restore { file }) => {
            let report = school_agent::restore(&settings, &file)
                .await
                .context("restoring the backup")?;
            if let Some(aside) = &report.moved_aside {
                println!("Đã chuyển sổ đang có sang {} (không xoá).", aside.display());
            }
            println!(
                "Đã khôi phục bản sao {} ({} sự kiện, đến số {}) vào {}.\n\
                 Khi khởi động, school-agent sẽ bổ sung các sự kiện mới hơn từ Phòng GD-ĐT \
                 trước khi nhận ghi nhận mới.",
                file.display(),
                domain::vi::count(report.checked.events),
                report.checked.head_seq,
                settings.storage.path.display()
            );
            return Ok(());
        }
        Some(Command::Recover) => {
            eprintln!(
                "Đang lấy lại sổ của trường {} từ Phòng GD-ĐT ({})…",
                settings.school.code,
                settings.nats.redacted_url()
            );
            let mut last_line = std::time::Instant::now();
            let (report, files) = school_agent::recover(&settings, |p| {
                if last_line.elapsed() >= std::time::Duration::from_secs(1) || p.received == p.total
                {
                    last_line = std::time::Instant::now();
                    let secs = p.elapsed.as_secs_f64().max(0.001);
                    eprintln!(
                        "  đã nhận {}/{} tin, ghi {} sự kiện ({} sự kiện/giây)",
                        domain::vi::count(p.received),
                        domain::vi::count(p.total),
                        domain::vi::count(p.appended),
                        domain::vi::count((p.appended as f64 / secs) as u64)
                    );
                }
            })
            .await?;
            println!(
                "Đã lấy lại {} sự kiện từ Phòng GD-ĐT vào {} (đến số {}), {} sự kiện/giây.",
                domain::vi::count(report.events),
                settings.storage.path.display(),
                report.head_seq,
                domain::vi::count(report.events_per_second() as u64)
            );
            if files.fetched + files.already > 0 || !files.missing.is_empty() {
                println!(
                    "Tệp minh chứng: lấy lại {} tệp từ Phòng, {} tệp đã có trên máy.",
                    domain::vi::count(files.fetched),
                    domain::vi::count(files.already)
                );
            }
            if !files.missing.is_empty() {
                println!(
                    "Cảnh báo: {} tệp minh chứng chưa có ở Phòng (trường chưa gửi lên kịp): sự kiện vẫn còn, tệp thì thiếu trên máy này.",
                    domain::vi::count(files.missing.len() as u64)
                );
            }
            if report.duplicates > 0 {
                println!(
                    "Bỏ qua {} bản gửi lặp.",
                    domain::vi::count(report.duplicates)
                );
            }
            for d in &report.divergences {
                println!(
                    "Cảnh báo: Phòng giữ hai sự kiện khác nhau cùng số {}: giữ {} (Phòng đã nhận trước), bỏ {}.",
                    d.seq, d.kept_id, d.other_id
                );
            }
            if let Some(applied) = report.behind_receipt {
                println!(
                    "Cảnh báo: Phòng đã báo nhận đến số {applied}, nhưng chỉ lấy lại được đến số {}.",
                    report.head_seq
                );
            }
            println!(
                "Tài khoản cán bộ không được lưu ở Phòng: tạo lại tài khoản Hiệu trưởng bằng \
                 `school-agent account create-head`, rồi khởi động school-agent."
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
