//! `cargo bench -p reporting`: how long the reporting service takes on the demo district.
//!
//! 1. Each format of the whole district's report over the plan period (`plan`, 2017–2020):
//!    the full path a download takes (gather over gRPC → compose → render), several runs,
//!    with the split between gathering, composing and rendering. Target: each under 2 s.
//! 2. The dashboard's plan-view page (`GET /?ky=2018-2019`) through the reporting HTTP server
//!    (the dashboard router merged in), many sequential requests after a warm-up: p50, p99.
//!    Target: p99 under 50 ms. Each request is a signed-in officer's: the dashboard asks
//!    the aggregator `WhoAmI` for the session, then reads on the officer's behalf.
//! 3. What signing in costs: `SignIn` (an Argon2id check of m = 19 MiB, t = 2), and the
//!    per-request check alone (`WhoAmI` on behalf of the session, the call every page adds),
//!    p50 and p99 — the difference authentication makes to a page, measured in the same run
//!    (there is no unauthenticated page left to time against).
//!
//! Everything is real: NATS, PostgreSQL and the aggregator loaded with the demo history
//! (`district_fixture::DemoDistrict`), reporting on port 0.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use district_fixture::DemoDistrict;
use hdrhistogram::Histogram;
use reporting::config::{AggregatorSettings, Settings};
use reporting::request::Fields;
use reporting::{Format, Issue, ReportRequest, Reporter, compose, gather, render};

const RUNS: usize = 5;
const PAGE_WARM_UP: usize = 20;
const PAGE_REQUESTS: usize = 500;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    eprintln!("starting the demo district (NATS, PostgreSQL, aggregator, demo history) …");
    let started = Instant::now();
    let district = DemoDistrict::start().await.unwrap();
    eprintln!(
        "demo district loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let settings = Settings {
        aggregator: AggregatorSettings {
            url: district.aggregator_url(),
            token: Some(district.credentials().reporting.clone().into()),
            ..AggregatorSettings::default()
        },
        ..Settings::default()
    };
    let client = settings.aggregator.client().unwrap();
    let reporter = Reporter::new(
        settings.aggregator.channel().unwrap(),
        settings.aggregator.credential().unwrap(),
        settings.office.clone(),
    );

    // The split, once, for the record.
    let request = ReportRequest::parse(&Fields::VI, "plan", None, "docx", None).unwrap();
    let today = Reporter::today();
    let t = Instant::now();
    let data = gather(&client, &request, &Fields::VI, today).await.unwrap();
    let gather_time = t.elapsed();
    let t = Instant::now();
    let report = compose(
        &data,
        &Issue {
            office: &settings.office,
            number: None,
            issued_on: today,
        },
    );
    let compose_time = t.elapsed();

    println!();
    println!(
        "Report of the whole district over `plan` (2017–2020): {} schools, {} activities, {} tables, {} charts",
        data.schools.len(),
        data.activities.len(),
        report.tables().count(),
        report.figures().count()
    );
    println!(
        "  gather (gRPC, {} calls incl. {} search pages): {:>8.1} ms",
        6 + data.budgets.len() + data.activities.len().div_ceil(500),
        data.activities.len().div_ceil(500).max(1),
        ms(gather_time)
    );
    println!(
        "  compose (pure):                              {:>8.1} ms",
        ms(compose_time)
    );
    println!();
    println!(
        "  {:<6} {:>10} {:>12} {:>12} {:>12}   target < 2000 ms",
        "format", "size", "render ms", "total p50 ms", "total max ms"
    );
    for format in Format::ALL {
        let t = Instant::now();
        let file = render(&report, format).unwrap();
        let render_time = t.elapsed();
        let request = ReportRequest {
            format,
            ..request.clone()
        };
        let mut totals = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let t = Instant::now();
            let f = reporter.report(&request, &Fields::VI).await.unwrap();
            totals.push(t.elapsed());
            assert!(!f.bytes.is_empty());
        }
        let max = *totals.iter().max().unwrap();
        let p50 = median(totals);
        println!(
            "  {:<6} {:>8} KB {:>12.1} {:>12.1} {:>12.1}   {}",
            format.extension(),
            file.bytes.len().div_ceil(1024),
            ms(render_time),
            ms(p50),
            ms(max),
            if max < Duration::from_secs(2) {
                "ok"
            } else {
                "OVER"
            }
        );
    }

    // The dashboard's plan view through the reporting HTTP server.
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http_addr = http.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(reporting::run(settings, grpc, http, async move {
        let _ = stopped.await;
    }));
    let url = format!("http://{http_addr}/?ky=2018-2019");
    let (session, sign_in, check) = sign_in_costs(&district).await;
    let cookie = format!("tt_phien={session}");
    let web = reqwest::Client::new();
    for _ in 0..PAGE_WARM_UP {
        let r = web
            .get(&url)
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        r.bytes().await.unwrap();
    }
    let mut histogram = Histogram::<u64>::new(3).unwrap();
    let mut size = 0;
    for _ in 0..PAGE_REQUESTS {
        let t = Instant::now();
        let r = web
            .get(&url)
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        size = r.bytes().await.unwrap().len();
        histogram.record(t.elapsed().as_micros() as u64).unwrap();
    }
    let p = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    println!();
    println!(
        "Dashboard plan view GET /?ky=2018-2019 ({} KB), {PAGE_REQUESTS} sequential requests:",
        size.div_ceil(1024)
    );
    println!(
        "  p50 {:.2} ms   p90 {:.2} ms   p99 {:.2} ms   max {:.2} ms   target p99 < 50 ms: {}",
        p(0.5),
        p(0.9),
        p(0.99),
        histogram.max() as f64 / 1000.0,
        if p(0.99) < 50.0 { "ok" } else { "OVER" }
    );
    println!();
    println!("Signing in and the per-request check (gRPC to the aggregator, in this run):");
    for (name, h) in [
        ("SignIn (Argon2id verify)", &sign_in),
        ("WhoAmI on behalf of a session", &check),
    ] {
        println!(
            "  {:<32} n {:>4}   p50 {:>7.2} ms   p99 {:>7.2} ms",
            name,
            h.len(),
            h.value_at_quantile(0.5) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0
        );
    }
    println!(
        "  the page's p50 with the check is {:.2} ms, of which the check is {:.2} ms ({:.0} %)",
        p(0.5),
        check.value_at_quantile(0.5) as f64 / 1000.0,
        100.0 * check.value_at_quantile(0.5) as f64 / 1000.0 / p(0.5)
    );
    println!();

    let _ = stop.send(());
    server.await.unwrap().unwrap();
    district.stop().await.unwrap();
}

/// Creates an officer, times `SIGN_INS` sign-ins and `CHECKS` per-request checks; returns a
/// session (password changed) for the page requests and the two histograms (µs).
async fn sign_in_costs(district: &DemoDistrict) -> (String, Histogram<u64>, Histogram<u64>) {
    const SIGN_INS: usize = 20;
    const CHECKS: usize = 500;
    use district_fixture::credentials::channel;
    use wire::pb;
    use wire::pb::district_accounts_client::DistrictAccountsClient;
    let url = district.aggregator_url();
    let password = "nuoc-noi-dong-thap-2018".to_owned();
    let first = district_fixture::credentials::signed_in_person(
        &url,
        &district.credentials().admin,
        "bench.officer",
        "Chuyên viên đo tải",
        pb::AccountRole::Officer,
        "",
        &password,
    )
    .await
    .unwrap();
    let mut anonymous = DistrictAccountsClient::new(channel(&url).await.unwrap());
    let mut sign_in = Histogram::<u64>::new(3).unwrap();
    let mut session = first;
    for _ in 0..SIGN_INS {
        let t = Instant::now();
        session = anonymous
            .sign_in(pb::SignInRequest {
                login: "bench.officer".into(),
                password: password.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .session_token;
        sign_in.record(t.elapsed().as_micros() as u64).unwrap();
    }
    let service = service_runtime::Credential::bearer(&district.credentials().reporting)
        .unwrap()
        .on_behalf_of(&session, None)
        .unwrap();
    let mut on_behalf = DistrictAccountsClient::new(service.on(channel(&url).await.unwrap()));
    let mut check = Histogram::<u64>::new(3).unwrap();
    for _ in 0..CHECKS {
        let t = Instant::now();
        on_behalf.who_am_i(pb::WhoAmIRequest {}).await.unwrap();
        check.record(t.elapsed().as_micros() as u64).unwrap();
    }
    (session, sign_in, check)
}
