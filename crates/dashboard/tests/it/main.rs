//! The dashboard in a real headless Chromium, against the real aggregator holding the Tam
//! Nông demo district (`district_fixture::DemoDistrict`: nats-server, PostgreSQL and the
//! aggregator in this process).
//!
//! Starting the district and the browser takes most of the time, so one test starts both once
//! and runs every check against them in turn; each check is a named function in its own
//! module, and the test fails listing every check that failed (a failing check does not hide
//! the others). Screenshots go to `target/test-artefacts/dashboard/`.

#![allow(clippy::unwrap_used)]

mod errors;
mod pages;
mod plan_view;
mod site;

use std::future::Future;

use district_fixture::DemoDistrict;
use test_harness::chromium::Chromium;

use site::Site;

/// Runs one named check, recording its failure.
async fn check(
    name: &str,
    failures: &mut Vec<String>,
    run: impl Future<Output = anyhow::Result<()>>,
) {
    eprintln!("check: {name}");
    if let Err(e) = run.await {
        eprintln!("check failed: {name}: {e:#}");
        failures.push(format!("{name}: {e:#}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_headless_chromium() -> anyhow::Result<()> {
    let district = DemoDistrict::start().await?;
    let client = district.client().await?;
    let site = Site::serve(client.clone()).await?;
    let down = Site::serve_without_aggregator().await?;
    let browser = Chromium::launch().await?;

    let mut failures = Vec::new();
    let f = &mut failures;
    check(
        "every page loads with HTTP 200 and no console error",
        f,
        pages::every_page_loads_cleanly(&browser, &site),
    )
    .await;
    check(
        "the stylesheet is served for long caching",
        f,
        pages::stylesheet_is_cacheable(&browser, &site),
    )
    .await;
    check(
        "the heat map's cells equal GetPlanView",
        f,
        plan_view::heat_map_equals_the_aggregator(&browser, &site, client.clone()),
    )
    .await;
    check(
        "the school page's rows equal GetPlanView and SearchActivities",
        f,
        pages::school_page_equals_the_aggregator(&browser, &site, client.clone()),
    )
    .await;
    check(
        "the completeness page equals GetCompleteness",
        f,
        pages::completeness_equals_the_aggregator(&browser, &site, client.clone()),
    )
    .await;
    check(
        "dead letters and ingest state are shown",
        f,
        pages::operations_pages_equal_the_aggregator(&browser, &site, client.clone()),
    )
    .await;
    check(
        "the reports page links every format",
        f,
        pages::report_links(&browser, &site),
    )
    .await;
    check(
        "bad requests get Vietnamese error pages",
        f,
        errors::bad_requests_get_vietnamese_pages(&browser, &site),
    )
    .await;
    check(
        "an unreachable aggregator gives the 503 page",
        f,
        errors::aggregator_down_gives_503(&browser, &down),
    )
    .await;

    browser.close().await?;
    district.stop().await?;
    assert!(
        failures.is_empty(),
        "{} check(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}
