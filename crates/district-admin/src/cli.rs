//! The `district-admin` command line: Vietnamese for the district's operator (often a teacher
//! with the job on the side), English aliases for engineers and scripts.
//!
//! Every command prints what it did and what the operator does next; errors are one
//! Vietnamese sentence that says what to fix. Nothing secret is printed: a seed goes to a
//! 0600 file and only its path is shown.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::Utc;
use clap::{Parser, Subcommand};

use crate::nats_dir::NatsDir;
use crate::registry::{District, Kind, ServerOptions};

#[derive(Debug, Parser)]
#[command(
    name = "district-admin",
    about = "Quản trị hệ thống truyền thông của Phòng GD-ĐT: chứng thư, khóa NATS của các trường, cấu hình máy chủ NATS"
)]
pub struct Args {
    /// Thư mục NATS của huyện (khóa, chứng thư, cấu hình).
    #[arg(
        long = "thu-muc",
        alias = "dir",
        env = "TRUYENTHONG_NATS_DIR",
        default_value = "/etc/truyenthong/nats",
        global = true
    )]
    pub dir: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Khởi tạo (hoặc cập nhật) thư mục NATS của huyện: CA, chứng thư máy chủ, khóa của máy
    /// chủ tổng hợp và quản trị, cấu hình nats-server. Chạy lại không làm mất gì.
    #[command(name = "khoi-tao", alias = "init")]
    Init {
        /// Mã tỉnh (ví dụ dong-thap).
        #[arg(long = "tinh", alias = "province")]
        province: String,
        /// Mã huyện (ví dụ tam-nong).
        #[arg(long = "huyen", alias = "district")]
        district: String,
        /// Tên đơn vị in trên chứng thư.
        #[arg(
            long = "ten",
            alias = "name",
            default_value = "Phòng Giáo dục và Đào tạo"
        )]
        name: String,
        /// Địa chỉ nats-server lắng nghe các trường.
        #[arg(long = "lang-nghe", alias = "listen", default_value = "0.0.0.0:4222")]
        listen: String,
        /// Tên miền và địa chỉ IP các trường dùng để kết nối (phân cách bằng dấu phẩy).
        #[arg(
            long = "ten-may-chu",
            alias = "names",
            value_delimiter = ',',
            default_value = "localhost,127.0.0.1"
        )]
        names: Vec<String>,
        /// Thư mục JetStream lưu dữ liệu của huyện.
        #[arg(
            long = "kho",
            alias = "store",
            default_value = "/var/lib/truyenthong/nats"
        )]
        store: String,
        /// Dung lượng tối đa của kho JetStream.
        #[arg(long = "gioi-han-kho", alias = "max-store", default_value = "20GB")]
        max_store: String,
        /// Cổng giám sát (chỉ trên 127.0.0.1).
        #[arg(long = "cong-giam-sat", alias = "monitor-port", default_value_t = 8222)]
        monitor_port: u16,
        /// Tệp pid của nats-server (để nạp lại cấu hình).
        #[arg(
            long = "tep-pid",
            alias = "pid-file",
            default_value = "/run/truyenthong/nats-server.pid"
        )]
        pid_file: String,
        /// Tên consumer bền của máy chủ tổng hợp (ingest.consumer).
        #[arg(long, default_value = "district-aggregator")]
        consumer: String,
        /// Số giây nats-server chờ các kết nối chuyển đi khi dừng (≥ 30).
        #[arg(long = "lame-duck", default_value_t = 30)]
        lame_duck_seconds: u32,
        /// Số kết nối tối đa.
        #[arg(long = "so-ket-noi", alias = "max-connections", default_value_t = 1000)]
        max_connections: u32,
    },
    /// Cấp khóa NATS cho một trường; ghi tệp khóa để chuyển cho trường.
    #[command(name = "cap", alias = "issue")]
    Issue {
        /// Mã trường (ví dụ thcs-an-hoa).
        code: String,
        /// Tệp khóa ghi ra (mặc định ./<mã trường>.nk).
        #[arg(long = "ra", alias = "out", short = 'o')]
        out: Option<PathBuf>,
    },
    /// Đổi khóa của một trường (hoặc _aggregator, _admin); khóa cũ hết hiệu lực ngay.
    #[command(name = "doi-khoa", alias = "rotate")]
    Rotate {
        name: String,
        /// Tệp khóa mới của trường (mặc định ./<mã trường>.nk).
        #[arg(long = "ra", alias = "out", short = 'o')]
        out: Option<PathBuf>,
    },
    /// Thu hồi khóa của một trường: máy chủ từ chối ngay, dữ liệu đã gửi vẫn giữ nguyên.
    #[command(name = "thu-hoi", alias = "revoke")]
    Revoke { name: String },
    /// Liệt kê các khóa đã cấp.
    #[command(name = "danh-sach", alias = "list")]
    List,
    /// Ghi lại cấu hình nats-server và yêu cầu máy chủ nạp lại.
    #[command(name = "tai-lai", alias = "reload")]
    Reload,
    /// Cấp chứng thư TLS (bằng CA của huyện) cho máy chủ gRPC của một dịch vụ: aggregator,
    /// reporting, máy của một trường (mã trường), hoặc máy chủ PostgreSQL (postgres).
    #[command(name = "cap-tls", alias = "tls-issue")]
    IssueTls {
        /// Tên dịch vụ: aggregator, reporting, postgres hoặc mã trường.
        service: String,
        /// Tên miền và địa chỉ IP mà các máy khác dùng để kết nối (phân cách bằng dấu phẩy).
        #[arg(
            long = "ten-may-chu",
            alias = "names",
            value_delimiter = ',',
            required = true
        )]
        names: Vec<String>,
    },
    /// Tạo hoặc sửa luồng JetStream của huyện (bằng khóa quản trị).
    #[command(name = "tao-luong", alias = "ensure-stream")]
    EnsureStream {
        /// Địa chỉ nats-server (mặc định tls://127.0.0.1:<cổng lắng nghe>).
        #[arg(long)]
        nats: Option<String>,
    },
}

fn reload_line(reloaded: Option<i32>) -> String {
    match reloaded {
        Some(pid) => {
            format!("Máy chủ NATS (pid {pid}) đã nạp lại cấu hình: thay đổi có hiệu lực ngay.")
        }
        None => "Máy chủ NATS chưa chạy: thay đổi có hiệu lực khi máy chủ khởi động.".to_owned(),
    }
}

fn default_seed_path(code: &str) -> PathBuf {
    PathBuf::from(format!("{code}.nk"))
}

/// What a school's agent configuration needs, printed after a key is issued.
fn handover(dir: &NatsDir, code: &str, seed: &Path, names: &[String], listen: &str) -> String {
    let host = names.first().map_or("localhost", String::as_str);
    let port = listen.rsplit_once(':').map_or("4222", |(_, p)| p);
    format!(
        "Chuyển hai tệp sau tới máy của trường (qua USB, không gửi qua thư điện tử):\n\
         \x20 {seed}   (khóa, giữ bí mật)\n\
         \x20 {ca}   (chứng thư CA của huyện)\n\
         rồi khai báo trong agent.toml của trường:\n\
         \x20 [nats]\n\
         \x20 url = \"tls://{host}:{port}\"\n\
         \x20 nkey_file = \"<đường dẫn tới {file}>\"\n\
         \x20 [nats.tls]\n\
         \x20 ca_file = \"<đường dẫn tới ca.pem>\"\n\
         \x20 required = true\n\
         (mã trường trong [school] phải là {code})",
        seed = seed.display(),
        ca = dir.ca_file().display(),
        file = seed
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned()),
    )
}

/// Runs one command; returns what to print.
pub fn run(args: Args) -> anyhow::Result<String> {
    let dir = NatsDir::new(&args.dir);
    let now = Utc::now();
    Ok(match args.command {
        Command::Init {
            province,
            district,
            name,
            listen,
            names,
            store,
            max_store,
            monitor_port,
            pid_file,
            consumer,
            lame_duck_seconds,
            max_connections,
        } => {
            anyhow::ensure!(
                lame_duck_seconds >= 30,
                "--lame-duck phải từ 30 giây trở lên (nats-server 2.9 cần đủ thời gian để các trường chuyển kết nối)"
            );
            anyhow::ensure!(!names.is_empty(), "--ten-may-chu không được để trống");
            let report = dir.init(
                District {
                    province,
                    district,
                    consumer,
                },
                &name,
                ServerOptions {
                    server_name: name.clone(),
                    listen,
                    monitor_port,
                    store_dir: store,
                    max_file_store: max_store,
                    max_connections,
                    lame_duck_seconds,
                    names,
                    pid_file,
                },
                now,
            )?;
            let mut out = vec![format!("Thư mục NATS của huyện: {}", dir.path().display())];
            out.push(if report.ca_created {
                "Đã tạo CA của huyện (ca.pem, ca.key — ca.key chỉ người quản trị đọc được).".into()
            } else {
                "CA của huyện đã có, giữ nguyên.".into()
            });
            if report.server_certificate_issued {
                out.push("Đã cấp chứng thư cho máy chủ NATS (server.pem).".into());
            }
            for issued in &report.issued {
                out.push(format!(
                    "Đã cấp khóa {issued}: {}",
                    dir.service_seed(issued).display()
                ));
            }
            out.push(format!(
                "Cấu hình nats-server: {} (chạy: nats-server -c {})",
                dir.config_file().display(),
                dir.config_file().display()
            ));
            out.push(reload_line(report.reloaded));
            out.push("Tiếp theo: `district-admin tao-luong` khi nats-server đã chạy, rồi `district-admin cap <mã trường>` cho từng trường.".into());
            out.join("\n")
        }
        Command::Issue { code, out } => {
            let path = out.unwrap_or_else(|| default_seed_path(&code));
            let issued = dir.issue_school(&code, &path, now)?;
            let registry = dir.registry()?;
            format!(
                "Đã cấp khóa NATS cho trường {code} (khóa công khai {}).\n{}\n{}",
                issued.identity.public_key,
                handover(
                    &dir,
                    &code,
                    &issued.seed_file,
                    &registry.server.names,
                    &registry.server.listen
                ),
                reload_line(issued.reloaded)
            )
        }
        Command::Rotate { name, out } => {
            let registry = dir.registry()?;
            let is_school = registry.get(&name).is_some_and(|i| i.kind == Kind::School);
            let path = out.unwrap_or_else(|| default_seed_path(&name));
            let issued = dir.rotate(&name, is_school.then_some(path.as_path()), now)?;
            let mut text = format!(
                "Đã đổi khóa của {name} (lần thứ {}); khóa cũ không còn dùng được.",
                issued.identity.rotations
            );
            if is_school {
                text.push('\n');
                text.push_str(&handover(
                    &dir,
                    &name,
                    &issued.seed_file,
                    &registry.server.names,
                    &registry.server.listen,
                ));
            } else {
                text.push_str(&format!(
                    "\nTệp khóa mới: {} — khởi động lại dịch vụ dùng khóa này.",
                    issued.seed_file.display()
                ));
            }
            format!("{text}\n{}", reload_line(issued.reloaded))
        }
        Command::Revoke { name } => {
            let (identity, reloaded) = dir.revoke(&name, now)?;
            format!(
                "Đã thu hồi khóa của {} {name}. Dữ liệu đã gửi vẫn được giữ nguyên trong luồng của huyện.\n{}",
                identity.kind.label_vi(),
                reload_line(reloaded)
            )
        }
        Command::List => {
            let registry = dir.registry()?;
            let mut out = vec![format!(
                "Huyện {}/{} — {} khóa đang dùng",
                registry.district.province,
                registry.district.district,
                registry.active().count()
            )];
            for i in &registry.identities {
                let state = match i.revoked_at {
                    Some(at) => format!("đã thu hồi {}", at.format("%d/%m/%Y")),
                    None => "đang dùng".to_owned(),
                };
                out.push(format!(
                    "  {:<24} {:<18} cấp {}  {state}",
                    i.name,
                    i.kind.label_vi(),
                    i.issued_at.format("%d/%m/%Y")
                ));
            }
            out.join("\n")
        }
        Command::Reload => {
            let reloaded = dir.render()?;
            format!(
                "Đã ghi lại {}.\n{}",
                dir.config_file().display(),
                reload_line(reloaded)
            )
        }
        Command::IssueTls { service, names } => {
            anyhow::ensure!(
                !service.is_empty()
                    && service
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "tên dịch vụ «{service}» chỉ gồm chữ thường không dấu, chữ số và dấu gạch ngang"
            );
            let files = crate::pki::issue_service_certificate(
                dir.path(),
                &service,
                &names,
                now.date_naive(),
            )?;
            if service == "postgres" {
                return Ok(format!(
                    "Đã cấp chứng thư TLS cho PostgreSQL ({names}).\n\
                     Trên máy chủ cơ sở dữ liệu, trong postgresql.conf:\n\
                     \x20 ssl = on\n\
                     \x20 ssl_cert_file = '{cert}'\n\
                     \x20 ssl_key_file = '{key}'   (chủ sở hữu postgres, quyền 0600)\n\
                     và trong cấu hình aggregator, thêm vào cuối url và owner_url:\n\
                     \x20 ?sslmode=verify-full&sslrootcert={ca}\n\
                     (xem docs/database.md).",
                    names = names.join(", "),
                    cert = files.certificate.display(),
                    key = files.key.display(),
                    ca = dir.ca_file().display(),
                ));
            }
            format!(
                "Đã cấp chứng thư TLS cho {service} ({names}).\n\
                 Khai báo trong tệp cấu hình của dịch vụ:\n\
                 \x20 [grpc.tls]\n\
                 \x20 certificate = \"{cert}\"\n\
                 \x20 key = \"{key}\"   (khóa bí mật, chỉ dịch vụ đọc được)\n\
                 và ở các máy gọi tới nó: url = \"https://{host}:<cổng>\", tls.ca = \"{ca}\".",
                names = names.join(", "),
                cert = files.certificate.display(),
                key = files.key.display(),
                host = names.first().map_or("localhost", String::as_str),
                ca = dir.ca_file().display(),
            )
        }
        Command::EnsureStream { nats } => {
            let registry = dir.registry()?;
            let url = nats.unwrap_or_else(|| {
                let port = registry
                    .server
                    .listen
                    .rsplit_once(':')
                    .map_or("4222", |(_, p)| p)
                    .to_owned();
                format!("tls://127.0.0.1:{port}")
            });
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            let name = runtime.block_on(crate::stream::ensure(&dir, &registry, &url))?;
            format!("Luồng JetStream {name} của huyện đã sẵn sàng.")
        }
    })
}
