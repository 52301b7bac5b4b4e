//! Every page in Chromium: it loads cleanly, and what it shows equals the aggregator's answer.

use std::collections::BTreeMap;

use anyhow::{Context as _, ensure};
use test_harness::chromium::Chromium;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use wire::pb;

use crate::site::{Site, screenshot};

const SCHOOL: &str = "thcs-an-hoa";

fn attr(a: &BTreeMap<String, String>, name: &str) -> anyhow::Result<String> {
    a.get(name)
        .cloned()
        .with_context(|| format!("an element without {name}: {a:?}"))
}

/// Each page: HTTP 200, no console error, no failed sub-resource, a Vietnamese document with
/// a title and a heading, the right menu entry marked; a screenshot of each.
pub async fn every_page_loads_cleanly(browser: &Chromium, site: &Site) -> anyhow::Result<()> {
    let pages = [
        ("/", "ke-hoach", Some("/")),
        (
            &*format!("/truong/{SCHOOL}?ky=2018"),
            "truong-thcs-an-hoa",
            None,
        ),
        ("/day-du?ky=2018", "day-du", Some("/day-du?ky=2018")),
        ("/phan-hoi?ky=2018", "phan-hoi", Some("/phan-hoi?ky=2018")),
        (
            "/phan-hoi?ky=2018&den-ngay=2018-06-30",
            "phan-hoi-den-ngay",
            Some("/phan-hoi?ky=2018"),
        ),
        ("/thu-loi", "thu-loi", Some("/thu-loi")),
        ("/tiep-nhan", "tiep-nhan", Some("/tiep-nhan")),
        (
            "/bao-cao?ky=2018-Q1",
            "bao-cao",
            Some("/bao-cao?ky=2018-Q1"),
        ),
        ("/nhap-goi", "nhap-goi", Some("/nhap-goi")),
    ];
    for (path, name, current) in pages {
        let page = browser.open(&site.url(path)).await?;
        ensure!(page.status == Some(200), "{path}: HTTP {:?}", page.status);
        ensure!(page.problems().is_empty(), "{path}: {:?}", page.problems());
        let title = page.title().await?;
        ensure!(title.ends_with("– Phòng GD-ĐT"), "{path}: title {title:?}");
        let lang = page.attributes("html").await?;
        ensure!(
            lang[0].get("lang").map(String::as_str) == Some("vi"),
            "{path}: {lang:?}"
        );
        let scripts = page.attributes("script").await?;
        ensure!(
            scripts.is_empty(),
            "{path}: the page has scripts {scripts:?}"
        );
        let h1 = page.text("h1").await?;
        ensure!(!h1.trim().is_empty(), "{path}: empty heading");
        let marked = page.attributes("nav.main a[aria-current=page]").await?;
        let marked: Vec<String> = marked
            .iter()
            .map(|a| attr(a, "href"))
            .collect::<anyhow::Result<_>>()?;
        let expected: Vec<String> = current.map(str::to_string).into_iter().collect();
        ensure!(
            marked == expected,
            "{path}: menu marks {marked:?}, expected {expected:?}"
        );
        screenshot(&page, name).await?;
        page.close().await?;
    }
    Ok(())
}

/// The stylesheet linked from a page is served with a long, immutable cache lifetime.
pub async fn stylesheet_is_cacheable(browser: &Chromium, site: &Site) -> anyhow::Result<()> {
    let page = browser.open(&site.url("/tiep-nhan")).await?;
    let links = page.attributes("link[rel=stylesheet]").await?;
    page.close().await?;
    ensure!(links.len() == 1, "stylesheets: {links:?}");
    let href = attr(&links[0], "href")?;
    let mut stream = tokio::net::TcpStream::connect(site.addr()).await?;
    stream
        .write_all(
            format!("GET {href} HTTP/1.1\r\nHost: dashboard\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let head = response
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    ensure!(head.starts_with("http/1.1 200"), "{href}: {head}");
    ensure!(
        head.contains("cache-control: public, max-age=31536000, immutable"),
        "{href}: {head}"
    );
    ensure!(head.contains("content-type: text/css"), "{href}: {head}");
    Ok(())
}

/// The school page's rows per area equal the school's rows of `GetPlanView`, and its recent
/// activities are the newest of `SearchActivities` for the school and period.
pub async fn school_page_equals_the_aggregator(
    browser: &Chromium,
    site: &Site,
    mut client: district_fixture::Client,
) -> anyhow::Result<()> {
    let ky = "2018-2019";
    let view = client
        .get_plan_view(pb::GetPlanViewRequest { period: ky.into() })
        .await?
        .into_inner();
    let search = client
        .search_activities(pb::SearchActivitiesRequest {
            filter: Some(pb::ActivityFilter {
                school: SCHOOL.into(),
                period: ky.into(),
                ..Default::default()
            }),
            page_size: 20,
            page_token: String::new(),
        })
        .await?
        .into_inner();
    let page = browser
        .open(&site.url(&format!("/truong/{SCHOOL}?ky={ky}")))
        .await?;
    ensure!(page.status == Some(200), "HTTP {:?}", page.status);
    ensure!(page.problems().is_empty(), "{:?}", page.problems());
    let shown: Vec<(String, String, Option<String>, String)> = page
        .attributes("#ke-hoach-truong tbody tr")
        .await?
        .iter()
        .map(|a| {
            Ok((
                attr(a, "data-area")?,
                attr(a, "data-activities")?,
                a.get("data-target").cloned(),
                attr(a, "data-status")?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let expected: Vec<(String, String, Option<String>, String)> = view
        .rows
        .iter()
        .filter(|r| r.school == SCHOOL)
        .map(|r| {
            let status = match pb::TargetStatus::try_from(r.status) {
                Ok(pb::TargetStatus::Met) => "met",
                Ok(pb::TargetStatus::Missed) => "missed",
                _ => "no_target",
            };
            (
                r.area.to_string(),
                r.activities.to_string(),
                r.target.map(|t| t.to_string()),
                status.to_string(),
            )
        })
        .collect();
    ensure!(shown == expected, "school rows {shown:?} ≠ {expected:?}");
    let activities: Vec<String> = page
        .attributes("#hoat-dong tbody tr")
        .await?
        .iter()
        .map(|a| attr(a, "data-activity"))
        .collect::<anyhow::Result<_>>()?;
    let newest: Vec<String> = search
        .activities
        .iter()
        .map(|a| a.activity_id.clone())
        .collect();
    ensure!(
        !newest.is_empty(),
        "the demo school has no activity in {ky}"
    );
    ensure!(
        activities == newest,
        "recent activities {activities:?} ≠ {newest:?}"
    );
    let text = page.text("main").await?;
    for heading in [
        "Đầy đủ, kịp thời",
        "Phản hồi ý kiến",
        "Thi đua, khen thưởng",
        "Kinh phí truyền thông",
        "Tiếp nhận dữ liệu",
    ] {
        ensure!(
            text.contains(heading),
            "the school page has no section {heading:?}"
        );
    }
    ensure!(
        text.contains(" đ"),
        "the school page shows no amount in đồng"
    );
    page.close().await?;
    Ok(())
}

/// The completeness table equals `GetCompleteness`.
pub async fn completeness_equals_the_aggregator(
    browser: &Chromium,
    site: &Site,
    mut client: district_fixture::Client,
) -> anyhow::Result<()> {
    for ky in ["2018", "2020-Q4"] {
        let view = client
            .get_completeness(pb::GetCompletenessRequest { period: ky.into() })
            .await?
            .into_inner();
        let page = browser.open(&site.url(&format!("/day-du?ky={ky}"))).await?;
        ensure!(page.status == Some(200), "{ky}: HTTP {:?}", page.status);
        ensure!(page.problems().is_empty(), "{ky}: {:?}", page.problems());
        let shown: Vec<(String, String, String, String)> = page
            .attributes("#day-du tbody tr")
            .await?
            .iter()
            .map(|a| {
                Ok((
                    attr(a, "data-school")?,
                    attr(a, "data-activities")?,
                    attr(a, "data-events")?,
                    attr(a, "data-reported")?,
                ))
            })
            .collect::<anyhow::Result<_>>()?;
        let expected: Vec<(String, String, String, String)> = view
            .schools
            .iter()
            .map(|s| {
                (
                    s.school.clone(),
                    s.activities.to_string(),
                    s.events.to_string(),
                    s.reported.to_string(),
                )
            })
            .collect();
        ensure!(shown == expected, "{ky}: {shown:?} ≠ {expected:?}");
        page.close().await?;
    }
    Ok(())
}

/// The dead letters page lists `ListDeadLetters` (the fixture's broken message among them) and
/// the ingest page lists `GetIngestState`'s authors with their applied seqs.
pub async fn operations_pages_equal_the_aggregator(
    browser: &Chromium,
    site: &Site,
    mut client: district_fixture::Client,
) -> anyhow::Result<()> {
    let dead = client
        .list_dead_letters(pb::ListDeadLettersRequest::default())
        .await?
        .into_inner();
    ensure!(
        !dead.dead_letters.is_empty(),
        "the fixture left no dead letter"
    );
    let page = browser.open(&site.url("/thu-loi")).await?;
    let shown: Vec<String> = page
        .attributes("#thu-loi tbody tr")
        .await?
        .iter()
        .map(|a| attr(a, "data-dead-letter"))
        .collect::<anyhow::Result<_>>()?;
    let expected: Vec<String> = dead.dead_letters.iter().map(|d| d.id.to_string()).collect();
    ensure!(shown == expected, "dead letters {shown:?} ≠ {expected:?}");
    let reasons = page.texts("#thu-loi tbody tr td:nth-child(7)").await?;
    for (shown, d) in reasons.iter().zip(&dead.dead_letters) {
        ensure!(
            shown.contains(d.reason.trim()),
            "reason {shown:?} does not show {:?}",
            d.reason
        );
    }
    page.close().await?;

    let state = client
        .get_ingest_state(pb::GetIngestStateRequest {})
        .await?
        .into_inner();
    let page = browser.open(&site.url("/tiep-nhan")).await?;
    let shown: Vec<(String, String)> = page
        .attributes("#tiep-nhan tbody tr")
        .await?
        .iter()
        .map(|a| Ok((attr(a, "data-author")?, attr(a, "data-applied-seq")?)))
        .collect::<anyhow::Result<_>>()?;
    let expected: Vec<(String, String)> = state
        .authors
        .iter()
        .map(|a| (a.author.clone(), a.applied_seq.to_string()))
        .collect();
    ensure!(shown == expected, "ingest state {shown:?} ≠ {expected:?}");
    ensure!(
        expected.len() >= 11,
        "the office and ten schools expected, got {expected:?}"
    );
    page.close().await?;
    Ok(())
}

/// The reports page links each format of the `reporting` routes for the chosen period and
/// school, and the printable page.
pub async fn report_links(browser: &Chromium, site: &Site) -> anyhow::Result<()> {
    let page = browser
        .open(&site.url(&format!("/bao-cao?ky=2017-2018-HK2&truong={SCHOOL}")))
        .await?;
    ensure!(page.status == Some(200), "HTTP {:?}", page.status);
    ensure!(page.problems().is_empty(), "{:?}", page.problems());
    let links: Vec<String> = page
        .attributes("ul.downloads a[data-format]")
        .await?
        .iter()
        .map(|a| attr(a, "href"))
        .collect::<anyhow::Result<_>>()?;
    let expected: Vec<String> = ["docx", "xlsx", "html", "csv", "json"]
        .iter()
        .map(|f| format!("/bao-cao/tai-ve?ky=2017-2018-HK2&truong={SCHOOL}&dinh-dang={f}"))
        .collect();
    ensure!(links == expected, "download links {links:?}");
    let view = page.attributes("#xem-bao-cao").await?;
    ensure!(
        view.first().and_then(|a| a.get("href")).map(String::as_str)
            == Some(&*format!("/bao-cao/xem?ky=2017-2018-HK2&truong={SCHOOL}")),
        "printable page link {view:?}"
    );
    let school = page
        .attributes("select[name=truong] option[selected]")
        .await?;
    ensure!(
        school
            .first()
            .and_then(|a| a.get("value"))
            .map(String::as_str)
            == Some(SCHOOL),
        "the school chooser shows {school:?}"
    );
    page.close().await?;

    let district = browser.open(&site.url("/bao-cao?ky=plan")).await?;
    let links: Vec<String> = district
        .attributes("ul.downloads a[data-format]")
        .await?
        .iter()
        .map(|a| attr(a, "href"))
        .collect::<anyhow::Result<_>>()?;
    ensure!(
        links.first().map(String::as_str) == Some("/bao-cao/tai-ve?ky=plan&dinh-dang=docx"),
        "district download links {links:?}"
    );
    district.close().await?;
    Ok(())
}
