//! The demo's reporting service: the dashboard and report downloads on HTTP, `Reporting` on
//! gRPC, and the district's 2017–2020 report written to files the way the office's staff would
//! write it (`reporting bao-cao`).

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::processes::Processes;

/// Where the demo's reporting listens.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub grpc: SocketAddr,
    pub http: SocketAddr,
}

/// Writes the configuration and starts `reporting serve`.
pub fn start(
    processes: &mut Processes,
    dir: &Path,
    program: &Path,
    aggregator: SocketAddr,
    token_file: &Path,
    ports: Ports,
) -> anyhow::Result<PathBuf> {
    let own = dir.join("district");
    std::fs::create_dir_all(&own)?;
    let config = own.join("reporting.toml");
    let example = include_str!("../../../reporting/reporting.example.toml");
    let settings = example
        .replace(
            "url = \"http://127.0.0.1:50061\"",
            &format!("url = \"http://{aggregator}\""),
        )
        .replace(
            "listen = \"127.0.0.1:50071\"",
            &format!("listen = \"{}\"", ports.grpc),
        )
        .replace(
            "listen = \"127.0.0.1:8080\"",
            &format!("listen = \"{}\"", ports.http),
        )
        .replace(
            "# token_file = \"/etc/truyenthong/reporting.token\"",
            &format!("token_file = \"{}\"", token_file.display()),
        );
    std::fs::write(&config, settings).with_context(|| format!("writing {}", config.display()))?;
    processes.spawn(
        "reporting",
        program,
        &[
            OsStr::new("--config"),
            config.as_os_str(),
            OsStr::new("serve"),
        ],
        &own.join("reporting.log"),
    )?;
    Ok(config)
}

/// Waits until the dashboard answers its sign-in page (every other page needs a session).
pub async fn wait_ready(http: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(status) = get_status(http, "/dang-nhap").await
            && status == 200
        {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the dashboard does not answer on http://{http}/dang-nhap"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The status code of a plain HTTP/1.1 GET (no client library needed for one line).
async fn get_status(addr: SocketAddr, path: &str) -> anyhow::Result<u16> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await?;
    let line = String::from_utf8_lossy(&head);
    line.get(9..12)
        .and_then(|code| code.parse().ok())
        .context("not an HTTP response")
}

/// Writes the district's report over the whole plan in Word, Excel and a printable page,
/// with `reporting bao-cao`; returns the files.
pub fn write_reports(
    program: &Path,
    config: &Path,
    out_dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out_dir)?;
    let mut written = Vec::new();
    for (format, name) in [
        ("docx", "bao-cao-truyen-thong-2017-2020.docx"),
        ("xlsx", "bao-cao-truyen-thong-2017-2020.xlsx"),
        ("html", "bao-cao-truyen-thong-2017-2020.html"),
    ] {
        let path = out_dir.join(name);
        let output = std::process::Command::new(program)
            .arg("--config")
            .arg(config)
            .args(["bao-cao", "--ky", "plan", "--dinh-dang", format, "--ra"])
            .arg(&path)
            .output()
            .with_context(|| format!("running {}", program.display()))?;
        anyhow::ensure!(
            output.status.success(),
            "reporting bao-cao --dinh-dang {format} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
        written.push(path);
    }
    Ok(written)
}
