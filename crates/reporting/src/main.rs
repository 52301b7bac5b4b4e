//! `reporting`: serves the district office's reports over gRPC and HTTP beside the dashboard
//! (`serve`, the default), or writes one report to a file (`bao-cao`, alias `report`). See
//! the crate docs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use reporting::cli::{ReportArgs, exit_code, write_report};
use reporting::config::Settings;
use service_runtime::logging::{self, LogFormat};
use service_runtime::shutdown_signal;

#[derive(Debug, Parser)]
#[command(
    name = "reporting",
    about = "Báo cáo truyền thông về giáo dục và đào tạo của Phòng GD-ĐT: dịch vụ gRPC, trang tổng hợp và xuất báo cáo"
)]
struct Args {
    /// Tệp cấu hình TOML (xem reporting.example.toml).
    #[arg(short, long, env = "TRUYENTHONG_REPORTING_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Ghi nhật ký dạng JSON.
    #[arg(long, global = true)]
    json_logs: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Chạy dịch vụ: gRPC (Reporting) và HTTP (trang tổng hợp, tải báo cáo). Mặc định.
    Serve,
    /// Xuất một báo cáo ra tệp.
    #[command(name = "bao-cao", alias = "report")]
    BaoCao {
        /// Kỳ báo cáo: 2018-Q1, 2017-2018-HK1, 2017-2018, 2018, 2018-03 hoặc plan.
        #[arg(long = "ky", alias = "period")]
        ky: String,
        /// Định dạng: docx, xlsx, html, csv hoặc json.
        #[arg(long = "dinh-dang", alias = "format", default_value = "docx")]
        dinh_dang: String,
        /// Mã trường (ví dụ thcs-an-hoa); bỏ trống: toàn huyện.
        #[arg(long = "truong", alias = "school")]
        truong: Option<String>,
        /// Số văn bản (12 trong "Số: 12/BC-PGDĐT"); bỏ trống để ghi tay.
        #[arg(long = "so", alias = "number")]
        so: Option<String>,
        /// Tệp ghi ra; mặc định: tên báo cáo trong thư mục hiện tại.
        #[arg(long = "ra", alias = "out", short = 'o')]
        ra: Option<PathBuf>,
        /// Địa chỉ gRPC của máy chủ tổng hợp (mặc định theo cấu hình).
        #[arg(long = "may-chu", alias = "aggregator")]
        may_chu: Option<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let command = args.command.unwrap_or(Command::Serve);
    let serving = matches!(command, Command::Serve);
    // Writing one report is a command: only warnings, beside its own progress lines.
    logging::init(
        LogFormat::json_if(args.json_logs),
        if serving { "info" } else { "warn" },
    );
    let settings = match Settings::load(args.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("Lỗi cấu hình: {e}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Serve => match serve(settings).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("Lỗi: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::BaoCao {
            ky,
            dinh_dang,
            truong,
            so,
            ra,
            may_chu,
        } => {
            let mut settings = settings;
            if let Some(url) = may_chu {
                settings.aggregator.url = url;
            }
            let started = Instant::now();
            let args = ReportArgs {
                period: ky,
                format: dinh_dang,
                school: truong,
                number: so,
                out: ra,
            };
            match write_report(&settings, &args, |step| eprintln!("{step}")).await {
                Ok(written) => {
                    eprintln!(
                        "Đã ghi báo cáo: {} ({} KB, {:.1} giây)",
                        written.path.display(),
                        written.bytes.div_ceil(1024),
                        started.elapsed().as_secs_f64()
                    );
                    println!("{}", written.path.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("Lỗi: {}", e.vietnamese());
                    ExitCode::from(exit_code(&e) as u8)
                }
            }
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let grpc = tokio::net::TcpListener::bind(settings.grpc.listen)
        .await
        .with_context(|| format!("binding gRPC on {}", settings.grpc.listen))?;
    let http = tokio::net::TcpListener::bind(settings.http.listen)
        .await
        .with_context(|| format!("binding HTTP on {}", settings.http.listen))?;
    reporting::run(settings, grpc, http, shutdown_signal()).await
}
