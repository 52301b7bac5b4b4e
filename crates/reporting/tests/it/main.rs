//! Integration tests of the reporting service against the real district aggregator loaded
//! with the Tam Nông demo history (`district_fixture::DemoDistrict`): nothing is mocked.
//!
//! Starting the district takes seconds, so one test starts it once, with one reporting
//! service reading it, and runs every check below against them — each in its own task, so a
//! failing check is reported by name and the others still run. The district is then stopped
//! and dropped, which stops its `nats-server` and PostgreSQL (a `static` would never be
//! dropped and would leave them running).

#![allow(clippy::unwrap_used)]

mod browser;
mod cli;
mod docx_reader;
mod errors;
mod files;
mod http;
mod paper;
mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use support::Env;

type Check = fn(Arc<Env>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

const CHECKS: &[(&str, Check)] = &[
    (
        "files::every_figure_of_the_word_report_equals_the_aggregators",
        |e| Box::pin(files::every_figure_of_the_word_report_equals_the_aggregators(e)),
    ),
    (
        "files::every_figure_of_the_excel_report_equals_the_aggregators_and_totals_are_formulas",
        |e| {
            Box::pin(
                files::every_figure_of_the_excel_report_equals_the_aggregators_and_totals_are_formulas(e),
            )
        },
    ),
    (
        "files::a_schools_excel_report_holds_that_schools_figures",
        |e| Box::pin(files::a_schools_excel_report_holds_that_schools_figures(e)),
    ),
    (
        "errors::bad_requests_over_grpc_name_the_field_in_vietnamese",
        |e| {
            Box::pin(errors::bad_requests_over_grpc_name_the_field_in_vietnamese(
                e,
            ))
        },
    ),
    (
        "errors::bad_requests_over_http_get_a_vietnamese_page",
        |e| Box::pin(errors::bad_requests_over_http_get_a_vietnamese_page(e)),
    ),
    (
        "errors::an_unreachable_aggregator_is_unavailable_in_vietnamese",
        |_| Box::pin(errors::an_unreachable_aggregator_is_unavailable_in_vietnamese()),
    ),
    (
        "http::reports_download_as_attachments_with_vietnamese_names",
        |e| {
            Box::pin(http::reports_download_as_attachments_with_vietnamese_names(
                e,
            ))
        },
    ),
    (
        "http::the_printable_page_is_inline_html_with_svg_charts_and_no_script",
        |e| Box::pin(http::the_printable_page_is_inline_html_with_svg_charts_and_no_script(e)),
    ),
    (
        "http::reporting_serves_health_and_the_dashboard_beside_the_reports",
        |e| Box::pin(http::reporting_serves_health_and_the_dashboard_beside_the_reports(e)),
    ),
    (
        "browser::the_reports_page_downloads_word_and_excel_in_chromium",
        |e| Box::pin(browser::the_reports_page_downloads_word_and_excel_in_chromium(e)),
    ),
    ("cli::the_command_writes_a_report_file", |e| {
        Box::pin(cli::the_command_writes_a_report_file(e))
    }),
];

#[test]
fn reporting_against_the_demo_district() {
    let filter = std::env::var("REPORTING_CHECK").unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let failed = runtime.block_on(async {
        let env = Arc::new(Env::start().await);
        let mut failed = Vec::new();
        for (name, check) in CHECKS.iter().filter(|(n, _)| n.contains(&filter)) {
            let outcome = tokio::spawn(check(env.clone())).await;
            match outcome {
                Ok(()) => eprintln!("check {name} ... ok"),
                Err(e) => {
                    eprintln!("check {name} ... FAILED: {e}");
                    failed.push(*name);
                }
            }
        }
        match Arc::try_unwrap(env) {
            Ok(env) => env.stop().await,
            Err(_) => eprintln!("a check still holds the district; it is dropped with the runtime"),
        }
        failed
    });
    drop(runtime);
    assert!(failed.is_empty(), "failed checks: {failed:#?}");
}
