//! The `reporting bao-cao` command writes a report file, with progress in Vietnamese on
//! stderr, and refuses bad requests with a Vietnamese message and exit code 2.

use std::process::Command;

use crate::support::Env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_writes_a_report_file() {
    let env = Env::start().await;
    {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("bao-cao.docx");
        let url = env.district.aggregator_url();
        let token = env.district.credentials.reporting.clone();
        let (status, stdout, stderr) = {
            let out = out.clone();
            tokio::task::spawn_blocking(move || {
                let output = Command::new(env!("CARGO_BIN_EXE_reporting"))
                    .args(["bao-cao", "--ky", "2018-Q1", "--dinh-dang", "docx"])
                    .args(["--truong", "thcs-an-hoa", "--may-chu", &url])
                    .arg("--ra")
                    .arg(&out)
                    .env_remove("TRUYENTHONG_REPORTING_CONFIG")
                    // The command runs on the server, with reporting's own token.
                    .env("TRUYENTHONG_REPORTING__AGGREGATOR__TOKEN", &token)
                    .output()
                    .unwrap();
                (
                    output.status,
                    String::from_utf8_lossy(&output.stdout).into_owned(),
                    String::from_utf8_lossy(&output.stderr).into_owned(),
                )
            })
            .await
            .unwrap()
        };
        assert!(status.success(), "{stderr}");
        assert!(
            stderr.contains("Đang lấy số liệu từ máy chủ tổng hợp"),
            "{stderr}"
        );
        assert!(stderr.contains("Đang xuất tệp DOCX"), "{stderr}");
        assert!(stderr.contains("Đã ghi báo cáo:"), "{stderr}");
        assert_eq!(stdout.trim(), out.display().to_string());
        let doc = crate::docx_reader::open(&std::fs::read(&out).unwrap());
        assert!(doc.paragraphs().iter().any(|p| p.text
            == "Kết quả thực hiện kế hoạch truyền thông về giáo dục và đào tạo của Trường THCS An Hòa quý I năm 2018"));

        // English aliases, and a refusal.
        let url = env.district.aggregator_url();
        let token = env.district.credentials.reporting.clone();
        let (code, stderr) = tokio::task::spawn_blocking(move || {
            let output = Command::new(env!("CARGO_BIN_EXE_reporting"))
                .args([
                    "report",
                    "--period",
                    "2018-Q9",
                    "--format",
                    "xlsx",
                    "--aggregator",
                    &url,
                ])
                .env("TRUYENTHONG_REPORTING__AGGREGATOR__TOKEN", &token)
                .output()
                .unwrap();
            (
                output.status.code(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        })
        .await
        .unwrap();
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.starts_with("Lỗi: Giá trị «2018-Q9» không hợp lệ"),
            "{stderr}"
        );
        assert!(stderr.contains("(trường dữ liệu: ky)"), "{stderr}");
    }
}
