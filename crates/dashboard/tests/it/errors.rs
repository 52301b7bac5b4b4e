//! Bad requests and a missing aggregator: Vietnamese error pages with the right HTTP status,
//! styled like the rest (the stylesheet loads, no console error), never a stack trace.

use anyhow::ensure;
use test_harness::chromium::{Chromium, LoadedPage};

use crate::site::{Site, screenshot};

/// Words that would mean an English or internal message reached the office.
const LEAKS: [&str; 6] = [
    "INVALID_ARGUMENT",
    "panicked",
    "Status {",
    "Error:",
    "tonic",
    "period ",
];

async fn expect_error(
    page: &LoadedPage,
    status: i64,
    heading: &str,
    message_part: &str,
) -> anyhow::Result<()> {
    let path = &page.url;
    ensure!(
        page.status == Some(status),
        "{path}: HTTP {:?}, expected {status}",
        page.status
    );
    ensure!(page.problems().is_empty(), "{path}: {:?}", page.problems());
    let shown_status = page.attributes("section.error-page").await?;
    ensure!(
        shown_status
            .first()
            .and_then(|a| a.get("data-status"))
            .map(String::as_str)
            == Some(&*status.to_string()),
        "{path}: error section {shown_status:?}"
    );
    let h1 = page.text("h1").await?;
    ensure!(
        h1 == heading,
        "{path}: heading {h1:?}, expected {heading:?}"
    );
    let message = page.text(".error-message").await?;
    ensure!(
        message.contains(message_part),
        "{path}: message {message:?} lacks {message_part:?}"
    );
    let text = page.text("body").await?;
    for leak in LEAKS {
        ensure!(
            !text.contains(leak),
            "{path}: the page shows {leak:?}: {text}"
        );
    }
    Ok(())
}

pub async fn bad_requests_get_vietnamese_pages(
    browser: &Chromium,
    site: &Site,
) -> anyhow::Result<()> {
    let cases = [
        (
            "/?ky=2018-Q5",
            400,
            "Yêu cầu không hợp lệ",
            "Kỳ báo cáo “2018-Q5” không hợp lệ",
            Some("loi-ky-khong-hop-le"),
        ),
        (
            "/?ky=2025",
            400,
            "Yêu cầu không hợp lệ",
            "nằm ngoài thời gian thực hiện kế hoạch",
            Some("loi-ky-ngoai-ke-hoach"),
        ),
        (
            "/day-du?ky=2016-2017",
            400,
            "Yêu cầu không hợp lệ",
            "nằm ngoài thời gian thực hiện kế hoạch",
            None,
        ),
        (
            "/phan-hoi?ky=2018-Q1&den-ngay=2018-06-30",
            400,
            "Yêu cầu không hợp lệ",
            "31/03/2018",
            None,
        ),
        (
            "/phan-hoi?ky=2018&den-ngay=30-06",
            400,
            "Yêu cầu không hợp lệ",
            "Ngày “30-06” không hợp lệ",
            None,
        ),
        (
            "/bao-cao?ky=2031-Q1",
            400,
            "Yêu cầu không hợp lệ",
            "nằm ngoài thời gian thực hiện kế hoạch",
            None,
        ),
        (
            "/truong/khong-co-truong-nay",
            404,
            "Không tìm thấy trường",
            "khong-co-truong-nay",
            Some("loi-truong-khong-ton-tai"),
        ),
        (
            "/bao-cao?truong=thcs-khong-co",
            404,
            "Không tìm thấy trường",
            "thcs-khong-co",
            None,
        ),
        (
            "/khong-co-trang-nay",
            404,
            "Không tìm thấy trang",
            "không có trong trang tổng hợp",
            None,
        ),
        (
            "/tai-nguyen/cu.css",
            404,
            "Không tìm thấy trang",
            "không có trong trang tổng hợp",
            None,
        ),
    ];
    for (path, status, heading, part, shot) in cases {
        let page = browser.open(&site.url(path)).await?;
        expect_error(&page, status, heading, part).await?;
        if let Some(name) = shot {
            screenshot(&page, name).await?;
        }
        page.close().await?;
    }
    Ok(())
}

pub async fn aggregator_down_gives_503(browser: &Chromium, down: &Site) -> anyhow::Result<()> {
    for path in ["/", "/truong/thcs-an-hoa", "/tiep-nhan", "/thu-loi"] {
        let page = browser.open(&down.url(path)).await?;
        expect_error(
            &page,
            503,
            "Hệ thống tổng hợp của Phòng tạm thời không phản hồi",
            "Không lấy được số liệu",
        )
        .await?;
        if path == "/" {
            screenshot(&page, "loi-may-chu-tong-hop").await?;
        }
        page.close().await?;
    }
    Ok(())
}
