//! `cargo xtask demo`: the whole system on this machine, with a simulated 2017–2020 history.
//!
//! Builds the binaries, starts a NATS server with JetStream, PostgreSQL (a throwaway cluster
//! unless `DATABASE_URL` is given), the district aggregator — with the ten schools enrolled and
//! the district plan 1442/KH-PGDĐT adopted through its gRPC API — and one school agent per demo
//! school of Tam Nông (THCS An Hòa with its real plan 114/KH-THCSAH among them). On each agent
//! it creates the head's account and one staff account per role of the plan ([`accounts`]),
//! loads each school's history through the agents' gRPC API — the same path staff use, each
//! request with the session of the staff member it is by — waits until every
//! agent has delivered its log and the aggregator has applied it, prints where to look and the
//! staff accounts with fresh one-time passwords, and keeps running until Ctrl-C. Everything lives under `var/demo/`, recreated at each run.

mod accounts;
mod district;
mod nats;
mod processes;
mod reporting;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use demo_data::{DemoSchool, TAM_NONG_SCHOOLS, Volume};
use wire::bearer::{AgentClient, Bearer, agent_client};
use wire::pb;

use crate::install;
use accounts::SignedIn;
use processes::Processes;

/// A running school agent, its staff signed in.
struct Agent {
    school: &'static DemoSchool,
    grpc: SocketAddr,
    staff: SignedIn,
}

/// Where and how to run the demo.
#[derive(Debug, Clone)]
pub struct Options {
    pub dir: PathBuf,
    pub nats_port: u16,
    /// nats-server's monitoring port (on 127.0.0.1).
    pub nats_monitor_port: u16,
    pub first_agent_port: u16,
    pub aggregator_port: u16,
    /// The reporting service's gRPC port.
    pub reporting_port: u16,
    /// The dashboard's HTTP port.
    pub dashboard_port: u16,
    /// Stop everything once the data is loaded and delivered (for smoke tests and CI).
    pub exit_when_loaded: bool,
}

const SEED: u64 = 2017;

pub fn run(options: Options) -> anyhow::Result<ExitCode> {
    install::ensure_installed(install::Purpose::Demo)?;
    build_binaries()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(demo(options))?;
    Ok(ExitCode::SUCCESS)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn build_binaries() -> anyhow::Result<()> {
    eprintln!(
        "demo: building the binaries (cargo build -p school-agent -p truyenthong -p district-aggregator -p reporting)…"
    );
    let status =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "build",
                "--quiet",
                "-p",
                "school-agent",
                "-p",
                "truyenthong",
                "-p",
                "district-aggregator",
                "-p",
                "reporting",
            ])
            .current_dir(workspace_root())
            .status()
            .context("running cargo build")?;
    anyhow::ensure!(status.success(), "cargo build failed");
    Ok(())
}

async fn demo(options: Options) -> anyhow::Result<()> {
    let dir = &options.dir;
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    let mut processes = Processes::default();

    let nats = nats::DemoNats::start(
        &mut processes,
        dir,
        options.nats_port,
        options.nats_monitor_port,
    )
    .await?;
    let nats_url = nats.url.clone();
    eprintln!(
        "demo: NATS with JetStream at {nats_url} (TLS with the district's CA, one key per school; configuration {})",
        nats.config_file().display()
    );

    let database = district::database(dir).await?;
    eprintln!(
        "demo: PostgreSQL at {}{}",
        district::redacted(&database.service_url),
        if database.owner_url.is_some() {
            " (the service with rights on rows only; a schema owner migrates)"
        } else {
            ""
        }
    );
    let aggregator_grpc = SocketAddr::from(([127, 0, 0, 1], options.aggregator_port));
    let aggregator_program = target_dir().join("debug/district-aggregator");
    let aggregator_config = district::start_aggregator(
        &mut processes,
        dir,
        &aggregator_program,
        aggregator_grpc,
        &format!(
            "{}\n{}",
            nats.section("district-aggregator-tam-nong", &nats.aggregator_seed()),
            nats.aggregator_bundles_section()
        ),
        &database,
    )?;
    let one_time = district::create_admin(&aggregator_program, &aggregator_config)?;
    let (mut aggregator, mut accounts, admin) = district::sign_in_admin(aggregator_grpc, &one_time)
        .await
        .with_context(|| {
            format!(
                "the district aggregator did not start; see {}",
                dir.join("district/aggregator.log").display()
            )
        })?;
    district::record_district_facts(&mut aggregator, TAM_NONG_SCHOOLS).await?;

    eprintln!(
        "demo: district aggregator at http://{aggregator_grpc}; {} schools enrolled, plan 1442/KH-PGDĐT adopted",
        TAM_NONG_SCHOOLS.len()
    );

    let mut started = Vec::new();
    for (i, school) in TAM_NONG_SCHOOLS.iter().enumerate() {
        let port = options.first_agent_port + i as u16;
        let grpc = SocketAddr::from(([127, 0, 0, 1], port));
        let app = SocketAddr::from(([127, 0, 0, 1], FIRST_APP_PORT + i as u16));
        start_agent(&mut processes, dir, school, grpc, app, &nats).await?;
        eprintln!("demo: the school app of {} at http://{app}/", school.code);
        started.push((school, grpc));
    }
    let agent_program = target_dir().join("debug/school-agent");
    let mut agents = Vec::new();
    for (school, grpc) in started {
        wait_for_agent(grpc).await.with_context(|| {
            format!(
                "the agent of {} did not start; see {}",
                school.code,
                dir.join(school.code).join("agent.log").display()
            )
        })?;
        let config = dir.join(school.code).join("agent.toml");
        let staff = SignedIn::create(&agent_program, &config, school, grpc, SEED)
            .await
            .with_context(|| format!("creating the staff accounts of {}", school.code))?;
        agents.push(Agent {
            school,
            grpc,
            staff,
        });
    }
    eprintln!(
        "demo: {} school agents running, each with its head and five staff accounts",
        agents.len()
    );

    load_histories(&agents).await?;
    wait_delivered(&agents).await?;
    let all = statuses(&agents).await?;
    let heads: Vec<(String, u64)> = agents
        .iter()
        .map(|a| a.school.code.to_string())
        .zip(all.iter().map(|s| s.head_seq))
        .collect();
    district::wait_applied(&mut aggregator, &heads).await?;
    eprintln!("\rdemo: the aggregator has applied every school's log                ");
    // After the enrolments are applied: a school head's account names an enrolled school.
    let reporting_token = dir.join("district/reporting.token");
    let mut district_accounts = vec![admin];
    district_accounts.extend(district::create_accounts(&mut accounts, &reporting_token).await?);
    let all = statuses(&agents).await?;
    print_summary(&agents, &all, &nats, dir);
    print_accounts(agents, &agent_program).await?;
    println!(
        "\nThe district office:\n- district aggregator (gRPC, reflection): http://{aggregator_grpc}\n    grpcurl -plaintext -d '{{\"period\": \"2018-2019\"}}' {aggregator_grpc} truyenthong.v1.DistrictAggregator/GetPlanView"
    );
    println!("- schools lagging the plan's targets over 2017–2020:");
    for line in district::lagging(&mut aggregator).await? {
        println!("    {line}");
    }

    let ports = reporting::Ports {
        grpc: SocketAddr::from(([127, 0, 0, 1], options.reporting_port)),
        http: SocketAddr::from(([127, 0, 0, 1], options.dashboard_port)),
    };
    let reporting_program = target_dir().join("debug/reporting");
    let config = reporting::start(
        &mut processes,
        dir,
        &reporting_program,
        aggregator_grpc,
        &reporting_token,
        ports,
    )?;
    reporting::wait_ready(ports.http).await.with_context(|| {
        format!(
            "the reporting service did not start; see {}",
            dir.join("district/reporting.log").display()
        )
    })?;
    eprintln!("demo: writing the district's 2017–2020 report (Word, Excel, printable page)…");
    let reports = reporting::write_reports(&reporting_program, &config, &dir.join("bao-cao"))?;
    println!(
        "- district dashboard (Vietnamese): http://{}/\n- reporting (gRPC, reflection): http://{}",
        ports.http, ports.grpc
    );
    println!(
        "- district accounts (the dashboard's sign-in; a one-time password must be changed at the first sign-in):"
    );
    for a in &district_accounts {
        println!(
            "    {:<12} {:<18} {:<16} {:<12} {}{}",
            a.login,
            a.full_name,
            a.role,
            a.school,
            a.password,
            if a.one_time {
                "  (dùng một lần)"
            } else {
                ""
            }
        );
    }
    println!("- the district's report over 2017–2020, as the office would send it:");
    for path in &reports {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        println!("    {}", path.display());
    }

    if !options.exit_when_loaded {
        eprintln!("\nPress Ctrl-C to stop the demo.");
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
    }
    eprintln!("demo: stopping…");
    processes.stop_all().await;
    Ok(())
}

/// Writes the school's configuration (with the key the district issued it), creates its log
/// (`school-agent init`) and starts its agent.
/// The school apps listen on consecutive ports from here, one per demo school.
const FIRST_APP_PORT: u16 = 8480;

async fn start_agent(
    processes: &mut Processes,
    dir: &Path,
    school: &DemoSchool,
    grpc: SocketAddr,
    app: SocketAddr,
    nats: &nats::DemoNats,
) -> anyhow::Result<()> {
    let school_dir = dir.join(school.code);
    std::fs::create_dir_all(&school_dir)?;
    let seed = nats.issue_school(school.code, &school_dir)?;
    let config = school_dir.join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "[school]\nprovince = \"dong-thap\"\ndistrict = \"tam-nong\"\ncode = \"{code}\"\nname = \"{name}\"\n\n\
             [storage]\npath = \"{log}\"\n\n[grpc]\nlisten = \"{grpc}\"\n\n\
             [app]\nlisten = \"{app}\"\n\n\
             {nats}\n[relay]\nmax_backoff_ms = 2000\n\n{bundles}",
            bundles = nats.agent_bundles_section()?,
            code = school.code,
            name = school.name,
            log = school_dir.join("log.sqlite").display(),
            nats = nats.section(school.code, &seed),
        ),
    )?;
    let program = target_dir().join("debug/school-agent");
    let status = tokio::process::Command::new(&program)
        .arg("--config")
        .arg(&config)
        .arg("init")
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .with_context(|| format!("running {} init", program.display()))?;
    anyhow::ensure!(
        status.success(),
        "school-agent init failed for {}",
        school.code
    );
    processes.spawn(
        school.code,
        &program,
        &[std::ffi::OsStr::new("--config"), config.as_os_str()],
        &school_dir.join("agent.log"),
    )
}

/// Waits until the agent answers — refusing a call without a session, since nobody is
/// signed in yet.
async fn wait_for_agent(grpc: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(channel) = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))?
            .connect()
            .await
        {
            let mut client: AgentClient = agent_client(channel, Bearer::none());
            match client.get_status(pb::GetStatusRequest {}).await {
                Ok(_) => return Ok(()),
                Err(status) if status.code() == tonic::Code::Unauthenticated => return Ok(()),
                Err(_) => {}
            }
        }
        anyhow::ensure!(Instant::now() < deadline, "no answer on {grpc}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn load_histories(agents: &[Agent]) -> anyhow::Result<()> {
    let histories: Vec<_> = agents
        .iter()
        .map(|agent| {
            let history = demo_data::history(agent.school, Volume::DEMO, SEED);
            // Each request with the session of the staff member it is by.
            let sends: Vec<_> = history
                .into_iter()
                .map(|request| (agent.staff.client_for(request.role()), request))
                .collect();
            (agent.school, sends)
        })
        .collect();
    let total: usize = histories.iter().map(|(_, h)| h.len()).sum();
    let done = Arc::new(AtomicUsize::new(0));
    eprintln!(
        "demo: loading the 2017–2020 history of {} schools ({total} requests) through gRPC…",
        agents.len()
    );
    let mut tasks = tokio::task::JoinSet::new();
    for (school, history) in histories {
        let done = done.clone();
        let code = school.code;
        tasks.spawn(async move {
            for (mut client, request) in history {
                demo_data::send(&mut client, request)
                    .await
                    .with_context(|| format!("{code} refused a demo request"))?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        });
    }
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(result) => result.context("a loading task panicked")??,
                None => break,
            },
            _ = tick.tick() => eprint!("\rdemo: {}/{total} requests recorded", done.load(Ordering::Relaxed)),
        }
    }
    eprintln!(
        "\rdemo: {total}/{total} requests recorded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn statuses(agents: &[Agent]) -> anyhow::Result<Vec<pb::AgentStatus>> {
    let mut out = Vec::new();
    for agent in agents {
        let mut client = agent.staff.head();
        out.push(
            client
                .get_status(pb::GetStatusRequest {})
                .await?
                .into_inner(),
        );
    }
    Ok(out)
}

async fn wait_delivered(agents: &[Agent]) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let all = statuses(agents).await?;
        let backlog: u64 = all.iter().map(|s| s.backlog).sum();
        if backlog == 0 {
            eprintln!("demo: every school's log is delivered to JetStream");
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{backlog} events still undelivered after 2 minutes; see the agents' logs"
        );
        eprint!("\rdemo: waiting for delivery, {backlog} events in outboxes   ");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn print_summary(agents: &[Agent], all: &[pb::AgentStatus], nats: &nats::DemoNats, dir: &Path) {
    let nats_url = &nats.url;
    let ca = nats.ca_file().display().to_string();
    let nats_dir = dir.join("nats/district").display().to_string();
    println!(
        "\n{:<18} {:<38} {:>7} {:>9} {:>7}  gRPC",
        "school", "name", "events", "delivered", "backlog"
    );
    for (agent, status) in agents.iter().zip(all) {
        println!(
            "{:<18} {:<38} {:>7} {:>9} {:>7}  http://{}",
            agent.school.code,
            agent.school.name,
            status.head_seq,
            status.last_published_seq,
            status.backlog,
            agent.grpc
        );
    }
    let (an_hoa, an_hoa_grpc) = (agents[0].school, agents[0].grpc);
    println!(
        "\nWhere to look:\n\
         - NATS JetStream: {nats_url} (TLS, district CA {ca}), stream TRUYENTHONG_DONG-THAP_TAM-NONG, subjects truyenthong.events.dong-thap.tam-nong.<school>; each school connects with its own key (var/demo/<school>/nats.nk), the district's identities: cargo run -q -p district-admin -- --thu-muc {nats_dir} danh-sach\n\
         - The school's own app, in a browser: http://127.0.0.1:{FIRST_APP_PORT}/ for {} (one app per school, from port {FIRST_APP_PORT}, listed above); sign in with an account below\n\
         - A school's log from the command line (sign in first with an account below; the first sign-in asks to change its one-time password):\n    TRUYENTHONG_AGENT_URL=http://{an_hoa_grpc} cargo run -q -p truyenthong -- dang-nhap\n    \
           TRUYENTHONG_AGENT_URL=http://{an_hoa_grpc} cargo run -q -p truyenthong -- doi-mat-khau\n    \
           TRUYENTHONG_AGENT_URL=http://{an_hoa_grpc} cargo run -q -p truyenthong -- trang-thai\n    \
           TRUYENTHONG_AGENT_URL=http://{an_hoa_grpc} cargo run -q -p truyenthong -- ke-hoach xem\n    \
           TRUYENTHONG_AGENT_URL=http://{an_hoa_grpc} cargo run -q -p truyenthong -- nhat-ky --so-luong 20\n\
         - gRPC with reflection: grpcurl -plaintext {an_hoa_grpc} list\n\
         - Logs and data of {}: {}",
        an_hoa.name,
        an_hoa.name,
        dir.join(an_hoa.code).display()
    );
}

/// Gives every demo account a fresh one-time password and prints them, school by school.
async fn print_accounts(agents: Vec<Agent>, agent_program: &Path) -> anyhow::Result<()> {
    println!(
        "\nThe schools' staff accounts (one-time passwords: the first sign-in, in the school app or with `truyenthong dang-nhap`, must change them):"
    );
    for agent in agents {
        let (school, grpc) = (agent.school, agent.grpc);
        let handed = agent
            .staff
            .hand_over(agent_program)
            .await
            .with_context(|| format!("handing over the accounts of {}", school.code))?;
        println!("- {} (http://{grpc}):", school.name);
        for account in handed {
            println!(
                "    {:<16} {:<22} {:<28} {}",
                account.login,
                account.role.label_vi(),
                account.full_name,
                account.one_time_password
            );
        }
    }
    Ok(())
}
