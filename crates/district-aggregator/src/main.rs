//! `district-aggregator`: runs one district's aggregator (`serve`, the default), or rebuilds
//! its projections from the district stream and swaps them in (`rebuild`). See the crate docs
//! and `district_aggregator::rebuild`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use district_aggregator::accounts::{Accounts, Origin};
use district_aggregator::config::Settings;
use district_aggregator::rebuild::{self, RebuildOptions};
use secrecy::ExposeSecret as _;
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
    /// District accounts, on the server itself (no sign-in needed: whoever can run this can
    /// read the configuration and the database anyway).
    #[command(subcommand, name = "account", visible_alias = "tai-khoan")]
    Account(AccountCommand),
    /// Import a school's signed bundle (.ttgoi) carried from a school with no connection:
    /// verified against the school's registered key, then its events go into the district
    /// stream as if the school had sent them (docs/bundles.md).
    #[command(name = "nhap-goi", visible_alias = "import-bundle")]
    ImportBundle {
        /// The bundle file.
        file: PathBuf,
    },
    /// Write the signed reply bundle for a school (what the district applied, refused and
    /// holds, and the district plan's terms), to carry back to it.
    #[command(name = "xuat-phan-hoi", visible_alias = "export-reply")]
    ExportReply {
        /// The school's code: `thcs-an-hoa`.
        school: String,
        /// The folder to write it into (the USB stick).
        #[arg(long = "vao", visible_alias = "into", default_value = ".")]
        into: PathBuf,
    },
    /// Service tokens (reporting's credential), on the server itself.
    #[command(subcommand, name = "token", visible_alias = "khoa-dich-vu")]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Create the first administrator, or — the break-glass — give an existing login the
    /// administrator's role, enable and unlock it with a new one-time password. The password
    /// is printed once and must be changed at the first sign-in.
    #[command(name = "create-admin", visible_alias = "tao-quan-tri")]
    CreateAdmin {
        /// The login, lowercase without diacritics: `thanh.le`.
        #[arg(long, visible_alias = "ten-dang-nhap")]
        login: String,
        /// The person's full name, with diacritics: "Lê Văn Thành".
        #[arg(long = "full-name", visible_alias = "ho-ten")]
        full_name: String,
    },
    /// List the accounts.
    #[command(name = "list", visible_alias = "danh-sach")]
    List,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Issue a token for a service (printed once; give it to the service's configuration).
    #[command(name = "issue", visible_alias = "cap")]
    Issue {
        /// The service that will hold it: `reporting`.
        #[arg(long, visible_alias = "dich-vu", default_value = "reporting")]
        service: String,
        /// Why, for the list: "máy chủ báo cáo".
        #[arg(long, visible_alias = "ghi-chu", default_value = "")]
        note: String,
    },
    /// Revoke a token by its id (see `token list`); it stops working at once.
    #[command(name = "revoke", visible_alias = "thu-hoi")]
    Revoke { id: String },
    /// List the tokens, newest first.
    #[command(name = "list", visible_alias = "danh-sach")]
    List,
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
    match args.command {
        Some(Command::ImportBundle { file }) => return import_bundle(settings, &file).await,
        Some(Command::ExportReply { school, into }) => {
            return export_reply(settings, &school, &into).await;
        }
        Some(Command::Account(command)) => return accounts_command(&settings, command).await,
        Some(Command::Token(command)) => return token_command(&settings, command).await,
        _ => {}
    }
    let listener = tokio::net::TcpListener::bind(settings.grpc.listen)
        .await
        .with_context(|| format!("binding gRPC on {}", settings.grpc.listen))?;
    district_aggregator::run(settings, listener, shutdown_signal()).await
}

/// `nhap-goi FILE`: reads, verifies and imports one school bundle, saying each step.
async fn import_bundle(settings: Settings, file: &std::path::Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    eprintln!(
        "Đang đọc gói {} ({} byte)…",
        file.display(),
        district_aggregator::rebuild::thousands(bytes.len() as u64)
    );
    let aggregator = district_aggregator::Aggregator::connect(settings).await?;
    eprintln!("Đang kiểm tra chữ ký và gửi các sự kiện vào luồng dữ liệu của Phòng…");
    match aggregator.bundles().import(&bytes).await {
        Ok(outcome) => {
            println!("{}", outcome.vietnamese());
            Ok(())
        }
        Err(e) => anyhow::bail!("Không nhận gói {}: {e}", file.display()),
    }
}

/// `xuat-phan-hoi SCHOOL --vao DIR`: writes the school's signed reply bundle.
async fn export_reply(
    settings: Settings,
    school: &str,
    into: &std::path::Path,
) -> anyhow::Result<()> {
    let aggregator = district_aggregator::Aggregator::connect(settings).await?;
    let (bytes, name) = aggregator
        .bundles()
        .reply(school, chrono::Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("Không xuất được gói phản hồi cho {school}: {e}"))?;
    let path = into.join(name);
    std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "Đã ghi gói phản hồi cho trường {school}: {}",
        path.display()
    );
    Ok(())
}

/// The accounts of the configured database (migrated first, so this works before the first
/// `serve`).
async fn accounts_of(settings: &Settings) -> anyhow::Result<Accounts> {
    let pool = district_aggregator::db::connect(&settings.database)
        .await
        .context("opening the aggregator's database")?;
    Ok(Accounts::new(pool))
}

fn when(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or_else(
        || "—".to_owned(),
        |t| t.format("%d/%m/%Y %H:%M UTC").to_string(),
    )
}

async fn accounts_command(settings: &Settings, command: AccountCommand) -> anyhow::Result<()> {
    let accounts = accounts_of(settings).await?;
    match command {
        AccountCommand::CreateAdmin { login, full_name } => {
            let (account, password) = accounts
                .create_or_reset_admin(&login, &full_name)
                .await
                .with_context(|| format!("creating the administrator {login}"))?;
            println!(
                "Tài khoản quản trị «{}» ({}) đã sẵn sàng.",
                account.login, account.full_name
            );
            println!("Mật khẩu dùng một lần: {}", password.expose_secret());
            println!(
                "Mật khẩu này chỉ hiện một lần; người dùng phải đổi nó ở lần đăng nhập đầu tiên."
            );
        }
        AccountCommand::List => {
            for a in accounts.list().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\tđăng nhập lần cuối: {}",
                    a.login,
                    a.full_name,
                    a.role.vietnamese(),
                    a.school.as_ref().map_or("", |s| s.as_str()),
                    if a.enabled {
                        "đang dùng"
                    } else {
                        "đã khóa"
                    },
                    when(a.last_sign_in),
                );
            }
        }
    }
    Ok(())
}

async fn token_command(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let accounts = accounts_of(settings).await?;
    let server = Origin::server();
    match command {
        TokenCommand::Issue { service, note } => {
            let issued = accounts
                .issue_token(&service, &note, &server)
                .await
                .with_context(|| format!("issuing a token for {service}"))?;
            println!(
                "Khóa dịch vụ «{}» cho dịch vụ {} (chỉ hiện một lần; ghi vào cấu hình của dịch vụ):",
                issued.info.id, issued.info.service
            );
            println!("{}", issued.token.expose_secret());
        }
        TokenCommand::Revoke { id } => {
            let info = accounts
                .revoke_token(&id, &server)
                .await
                .with_context(|| format!("revoking the token {id}"))?;
            println!("Đã thu hồi khóa «{}» ({}).", info.id, when(info.revoked_at));
        }
        TokenCommand::List => {
            for t in accounts.tokens().await? {
                println!(
                    "{}\t{}\t{}\tcấp: {}\tthu hồi: {}\tdùng lần cuối: {}",
                    t.id,
                    t.service,
                    t.note,
                    when(Some(t.issued_at)),
                    when(t.revoked_at),
                    when(t.last_used_at),
                );
            }
        }
    }
    Ok(())
}
