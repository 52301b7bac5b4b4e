//! The district side of the demo: PostgreSQL, the aggregator, and the district office's own
//! facts (the ten schools enrolled, the district plan 1442/KH-PGDĐT adopted) recorded through
//! the aggregator's gRPC API, as the office would.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use demo_data::{DemoSchool, Level};
use wire::pb;
use wire::pb::district_aggregator_client::DistrictAggregatorClient;

use super::processes::Processes;

const DISTRICT_PLAN: &str =
    include_str!("../../../../deploy/plans/kh-1442-pgddt-tam-nong-2017.toml");

/// The district's database: the one at `DATABASE_URL`, or a throwaway cluster under the demo's
/// directory (kept alive by the returned handle).
pub async fn database(dir: &Path) -> anyhow::Result<(String, Option<test_harness::Postgres>)> {
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.trim().is_empty()
    {
        return Ok((url, None));
    }
    let postgres = test_harness::Postgres::start_local_in(dir)
        .await
        .context("starting a throwaway PostgreSQL")?;
    let url = postgres.fresh_database().await?;
    Ok((url, Some(postgres)))
}

pub fn start_aggregator(
    processes: &mut Processes,
    dir: &Path,
    program: &Path,
    grpc: SocketAddr,
    nats_section: &str,
    database_url: &str,
) -> anyhow::Result<()> {
    let own = dir.join("district");
    std::fs::create_dir_all(&own)?;
    let config = own.join("aggregator.toml");
    std::fs::write(
        &config,
        format!(
            "[district]\nprovince = \"dong-thap\"\ndistrict = \"tam-nong\"\nname = \"Phòng GD-ĐT Tam Nông\"\n\n\
             [database]\nurl = \"{database_url}\"\n\n[grpc]\nlisten = \"{grpc}\"\n\n\
             {nats_section}\n[ingest]\n# The administrator created the stream; the aggregator may not change it.\nensure_stream = false\n"
        ),
    )?;
    processes.spawn(
        "district-aggregator",
        program,
        &[std::ffi::OsStr::new("--config"), config.as_os_str()],
        &own.join("aggregator.log"),
    )
}

pub async fn connect(
    grpc: SocketAddr,
) -> anyhow::Result<DistrictAggregatorClient<tonic::transport::Channel>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut client) = DistrictAggregatorClient::connect(format!("http://{grpc}")).await
            && client
                .list_schools(pb::ListSchoolsRequest::default())
                .await
                .is_ok()
        {
            return Ok(client);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the aggregator does not answer on {grpc}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn office() -> Option<pb::Actor> {
    Some(pb::Actor {
        role: pb::Role::DistrictOffice as i32,
        person: "Lê Văn Thành (chuyên viên Phòng GD-ĐT)".into(),
    })
}

/// Enrolls the schools and adopts the district plan, through gRPC.
pub async fn record_district_facts(
    client: &mut DistrictAggregatorClient<tonic::transport::Channel>,
    schools: &[DemoSchool],
) -> anyhow::Result<()> {
    let plan: domain::district::DistrictPlan = toml::from_str(DISTRICT_PLAN)
        .context("reading deploy/plans/kh-1442-pgddt-tam-nong-2017.toml")?;
    client
        .adopt_district_plan(pb::AdoptDistrictPlanRequest {
            actor: office(),
            plan: Some(wire::convert::district::district_plan_to_pb(&plan)),
        })
        .await
        .context("adopting the district plan 1442/KH-PGDĐT")?;
    for school in schools {
        let level = match school.level {
            Level::MamNon => pb::SchoolLevel::MamNon,
            Level::TieuHoc => pb::SchoolLevel::TieuHoc,
            Level::Thcs => pb::SchoolLevel::Thcs,
        };
        client
            .enroll_school(pb::EnrollSchoolRequest {
                actor: office(),
                enrolment: Some(pb::Enrolment {
                    code: school.code.into(),
                    name: school.name.into(),
                    level: level as i32,
                    commune: school.commune.into(),
                    enrolled_on: "2017-10-18".into(),
                }),
            })
            .await
            .with_context(|| format!("enrolling {}", school.code))?;
    }
    Ok(())
}

/// Waits until the aggregator has applied every school's log up to `heads` (code, head seq).
pub async fn wait_applied(
    client: &mut DistrictAggregatorClient<tonic::transport::Channel>,
    heads: &[(String, u64)],
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let state = client
            .get_ingest_state(pb::GetIngestStateRequest::default())
            .await?
            .into_inner();
        let behind: u64 = heads
            .iter()
            .map(|(code, head)| {
                let applied = state
                    .authors
                    .iter()
                    .find(|a| &a.author == code)
                    .map_or(0, |a| a.applied_seq);
                head.saturating_sub(applied)
            })
            .sum();
        if behind == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the aggregator is still {behind} events behind after 3 minutes"
        );
        eprint!("\rdemo: the aggregator has {behind} events still to apply   ");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A line per lagging school from the plan view of the whole plan period.
pub async fn lagging(
    client: &mut DistrictAggregatorClient<tonic::transport::Channel>,
) -> anyhow::Result<Vec<String>> {
    let view = client
        .get_plan_view(pb::GetPlanViewRequest {
            period: "plan".into(),
        })
        .await?
        .into_inner();
    Ok(view
        .lagging
        .iter()
        .map(|s| {
            format!(
                "{}: content areas below target {}, activities {}",
                s.school, s.areas_missed, s.total_activities
            )
        })
        .collect())
}
