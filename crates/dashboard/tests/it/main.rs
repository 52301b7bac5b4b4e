//! The dashboard in a real headless Chromium, against the real aggregator holding the Tam
//! Nông demo district (nats-server, PostgreSQL and the aggregator in this process).
//!
//! Loading the district takes tens of seconds, so the test binary loads it once
//! (`district_fixture::shared`: the first test to ask starts it on a runtime thread of its
//! own; its `nats-server` and PostgreSQL are stopped when the binary exits), and one Chromium
//! (`Chromium::shared`, launching it costs seconds). Every check is a test of its own —
//! `cargo test -p dashboard --test it heat_map` runs one — with its own dashboard server over
//! the shared aggregator and its own tabs, so each fails or passes on its own. The checks themselves are named functions in the modules below. Screenshots go
//! to `target/test-artefacts/dashboard/`.

#![allow(clippy::unwrap_used)]

mod access;
mod errors;
mod pages;
mod plan_view;
mod site;

use test_harness::chromium::Chromium;

use site::Site;

/// The browser, and a dashboard of this test's that it can load.
struct Fixture {
    browser: &'static Chromium,
    site: Site,
    client: district_fixture::Client,
}

impl Fixture {
    /// A dashboard over the shared demo district, and a browser.
    async fn start() -> anyhow::Result<Self> {
        let district = district_fixture::shared::shared().await?;
        let client = district.client().await?;
        let site = Site::serve(&district.aggregator_url(), &district.credentials.reporting).await?;
        let browser = Chromium::shared().await?;
        // Signed in as the district's administrator, who sees every page.
        site.sign_in(browser, &district.credentials.admin).await?;
        Ok(Self {
            browser,
            site,
            client,
        })
    }

    /// The check's outcome (the shared browser stays open for the other tests).
    async fn finish(self, outcome: anyhow::Result<()>) -> anyhow::Result<()> {
        outcome
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_loads_with_http_200_and_no_console_error() -> anyhow::Result<()> {
    let f = Fixture::start().await?;
    let outcome = pages::every_page_loads_cleanly(f.browser, &f.site).await;
    f.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stylesheet_is_served_for_long_caching() -> anyhow::Result<()> {
    let f = Fixture::start().await?;
    let outcome = pages::stylesheet_is_cacheable(f.browser, &f.site).await;
    f.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heat_maps_cells_equal_get_plan_view() -> anyhow::Result<()> {
    let f = Fixture::start().await?;
    let outcome =
        plan_view::heat_map_equals_the_aggregator(f.browser, &f.site, f.client.clone()).await;
    f.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_school_pages_rows_equal_get_plan_view_and_search_activities() -> anyhow::Result<()> {
    let f = Fixture::start().await?;
    let outcome =
        pages::school_page_equals_the_aggregator(f.browser, &f.site, f.client.clone()).await;
    f.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_completeness_page_equals_get_completeness() -> anyhow::Result<()> {
    let f = Fixture::start().await?;
    let outcome =
        pages::completeness_equals_the_aggregator(f.browser, &f.site, f.client.clone()).await;
    f.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_and_ingest_state_are_shown() -> anyhow::Result<()> {
    let f = Fixture::start().await?;
    let outcome =
        pages::operations_pages_equal_the_aggregator(f.browser, &f.site, f.client.clone()).await;
    f.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_page_links_every_format() -> anyhow::Result<()> {
    let f = Fixture::start().await?;
    let outcome = pages::report_links(f.browser, &f.site).await;
    f.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_vietnamese_error_pages() -> anyhow::Result<()> {
    let f = Fixture::start().await?;
    let outcome = errors::bad_requests_get_vietnamese_pages(f.browser, &f.site).await;
    f.finish(outcome).await
}

/// Needs no district: the dashboard's aggregator is an address where nothing listens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_aggregator_gives_the_503_page() -> anyhow::Result<()> {
    let down = Site::serve_without_aggregator().await?;
    let browser = Chromium::shared().await?;
    // A session the unreachable aggregator cannot check: the page says it is unreachable.
    down.sign_in(browser, &format!("ttp_{}", "B".repeat(43)))
        .await?;
    errors::aggregator_down_gives_503(browser, &down).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_without_a_session_goes_to_the_sign_in_page() -> anyhow::Result<()> {
    let district = district_fixture::shared::shared().await?;
    let browser = Chromium::shared().await?;
    access::without_a_session_the_sign_in_page(browser, district).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_passwords_lock_the_account() -> anyhow::Result<()> {
    let district = district_fixture::shared::shared().await?;
    let browser = Chromium::shared().await?;
    access::five_wrong_passwords_lock(browser, district).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_school_head_changes_the_one_time_password_and_sees_their_school_alone()
-> anyhow::Result<()> {
    let district = district_fixture::shared::shared().await?;
    let browser = Chromium::shared().await?;
    access::the_first_sign_in_changes_the_password_and_a_school_head_sees_their_school(
        browser,
        district,
        "thcs-an-hoa",
        "th-phu-duc",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administrator_sees_every_school_and_manages_accounts() -> anyhow::Result<()> {
    let f = Fixture::start().await?;
    let outcome = async {
        access::an_officer_sees_every_school(f.browser, &f.site, demo_data::TAM_NONG_SCHOOLS.len())
            .await?;
        access::the_administrator_creates_an_account_and_reads_the_audit_trail(f.browser, &f.site)
            .await
    }
    .await;
    f.finish(outcome).await
}
