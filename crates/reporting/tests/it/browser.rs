//! The reports page in a real headless Chromium, served by the reporting server itself: its
//! Word and Excel links download real files under their Vietnamese names.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::time::Duration;

use calamine::{Reader, Xlsx, open_workbook_from_rs};
use percent_encoding::percent_decode_str;
use test_harness::chromium::{Chromium, artefacts_dir};

use crate::docx_reader;
use crate::support::Env;

/// The file name a download answer gives in `Content-Disposition` (`filename*=UTF-8''…`).
async fn file_name_of(web: &reqwest::Client, url: &str) -> String {
    let response = web.get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{url}");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    let encoded = disposition
        .split("filename*=UTF-8''")
        .nth(1)
        .unwrap_or_else(|| panic!("no UTF-8 file name in {disposition}"));
    percent_decode_str(encoded)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_page_downloads_word_and_excel_in_chromium() {
    let env = Env::start().await;
    let browser = Chromium::launch().await.unwrap();
    browser
        .set_cookie(&env.http_url("/"), dashboard::session::COOKIE, &env.session)
        .await
        .unwrap();
    let page = browser
        .open(&env.http_url("/bao-cao?ky=2018-2019"))
        .await
        .unwrap();
    assert_eq!(page.status, Some(200));
    assert!(page.problems().is_empty(), "{:?}", page.problems());
    assert_eq!(
        page.title().await.unwrap(),
        "Báo cáo – Năm học 2018–2019 – Phòng GD-ĐT"
    );
    page.screenshot(&artefacts_dir("reporting").join("bao-cao.png"))
        .await
        .unwrap();

    let links: BTreeMap<String, String> = page
        .attributes("a[data-format]")
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a["data-format"].clone(), a["href"].clone()))
        .collect();
    for (format, expected_name) in [
        ("docx", "Báo cáo truyền thông GDĐT năm học 2018-2019.docx"),
        ("xlsx", "Báo cáo truyền thông GDĐT năm học 2018-2019.xlsx"),
    ] {
        let href = links
            .get(format)
            .unwrap_or_else(|| panic!("no {format} link on the page: {links:?}"));
        assert_eq!(
            href,
            &format!("/bao-cao/tai-ve?ky=2018-2019&dinh-dang={format}")
        );
        assert_eq!(
            file_name_of(&env.web(), &env.http_url(href)).await,
            expected_name
        );

        let dir = tempfile::tempdir().unwrap();
        let download = browser
            .download(
                &page,
                &format!("a[data-format={format}]"),
                dir.path(),
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        assert_eq!(download.url, env.http_url(href));
        assert_eq!(download.suggested_file_name, expected_name);
        assert_eq!(
            download.path.file_name().and_then(|n| n.to_str()),
            Some(expected_name),
            "{}",
            download.path.display()
        );
        let bytes = std::fs::read(&download.path).unwrap();
        match format {
            "docx" => {
                let doc = docx_reader::open(&bytes);
                assert!(
                    doc.files.iter().any(|f| f == "word/document.xml"),
                    "{:?}",
                    doc.files
                );
                assert!(
                    doc.paragraphs()
                        .iter()
                        .any(|p| p.text.contains("năm học 2018-2019")),
                    "the Word report does not name its period"
                );
            }
            _ => {
                let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
                let sheets = book.sheet_names();
                assert!(sheets.iter().any(|s| s == "Theo trường"), "{sheets:?}");
                let range = book.worksheet_range("Theo trường").unwrap();
                assert!(!range.is_empty(), "the sheet Theo trường is empty");
            }
        }
    }
    page.close().await.unwrap();
    browser.close().await.unwrap();
}
