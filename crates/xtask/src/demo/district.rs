//! The district side of the demo: PostgreSQL, the aggregator, and the district office's own
//! facts (the ten schools enrolled, the district plan 1442/KH-PGDĐT adopted) recorded through
//! the aggregator's gRPC API, as the office would.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use demo_data::{DemoSchool, Level};
use secrecy::ExposeSecret as _;
use service_runtime::{AuthorizedChannel, Credential};
use tonic::transport::Channel;
use wire::pb;
use wire::pb::district_accounts_client::DistrictAccountsClient;
use wire::pb::district_aggregator_client::DistrictAggregatorClient;

use super::processes::Processes;

const DISTRICT_PLAN: &str =
    include_str!("../../../../deploy/plans/kh-1442-pgddt-tam-nong-2017.toml");

/// The district's database and the roles the aggregator connects as.
#[derive(Debug)]
pub struct Database {
    /// The service's connection (rights on rows only when `owner_url` is set).
    pub service_url: String,
    /// The schema owner's, which migrates and grants; `None` for a server of `DATABASE_URL`.
    pub owner_url: Option<String>,
    /// Keeps a throwaway cluster alive.
    _cluster: Option<test_harness::Postgres>,
}

/// The database at `DATABASE_URL` (one role, as given), or a throwaway cluster under the
/// demo's directory with the production layout: a schema owner and a service role with
/// rights on rows only (`docs/database.md`).
pub async fn database(dir: &Path) -> anyhow::Result<Database> {
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.trim().is_empty()
    {
        return Ok(Database {
            service_url: url,
            owner_url: None,
            _cluster: None,
        });
    }
    let postgres = test_harness::Postgres::start_local_in(dir)
        .await
        .context("starting a throwaway PostgreSQL")?;
    let roles = postgres.fresh_database_with_roles().await?;
    Ok(Database {
        service_url: roles.service_url,
        owner_url: Some(roles.owner_url),
        _cluster: Some(postgres),
    })
}

/// A client of the aggregator signed in as the demo's administrator.
pub type Client = DistrictAggregatorClient<AuthorizedChannel>;

/// The demo's administrator: the office's clerk whose name the office's events carry.
const ADMIN: (&str, &str) = ("thanh.le", "Lê Văn Thành");

/// The other district accounts the demo creates: (login, full name, role, school).
const ACCOUNTS: [(&str, &str, pb::AccountRole, &str); 3] = [
    ("hoa.pham", "Phạm Thị Hoa", pb::AccountRole::Officer, ""),
    ("minh.vo", "Võ Văn Minh", pb::AccountRole::HeadOfOffice, ""),
    (
        "hung.nguyen",
        "Nguyễn Văn Hùng",
        pb::AccountRole::SchoolHead,
        "thcs-an-hoa",
    ),
];

/// A district account the demo made, and the password to sign in with.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub login: String,
    pub full_name: String,
    pub role: &'static str,
    pub school: String,
    pub password: String,
    /// Whether the password is one-time (changed at first sign-in).
    pub one_time: bool,
}

/// Starts the aggregator; returns its configuration file.
pub fn start_aggregator(
    processes: &mut Processes,
    dir: &Path,
    program: &Path,
    grpc: SocketAddr,
    nats_section: &str,
    database: &Database,
) -> anyhow::Result<std::path::PathBuf> {
    let own = dir.join("district");
    std::fs::create_dir_all(&own)?;
    let config = own.join("aggregator.toml");
    let service_url = &database.service_url;
    let owner_line = database
        .owner_url
        .as_ref()
        .map(|url| format!("owner_url = \"{url}\"\n"))
        .unwrap_or_default();
    write_secret(
        &config,
        &format!(
            "[district]\nprovince = \"dong-thap\"\ndistrict = \"tam-nong\"\nname = \"Phòng GD-ĐT Tam Nông\"\n\n\
             [database]\nurl = \"{service_url}\"\n{owner_line}\n[grpc]\nlisten = \"{grpc}\"\n\n\
             {nats_section}\n[ingest]\n# The administrator created the stream; the aggregator may not change it.\nensure_stream = false\n"
        ),
    )?;
    processes.spawn(
        "district-aggregator",
        program,
        &[std::ffi::OsStr::new("--config"), config.as_os_str()],
        &own.join("aggregator.log"),
    )?;
    Ok(config)
}

/// Creates the demo's administrator on the server, as the district's IT person would
/// (`district-aggregator account create-admin`); returns the one-time password it printed.
pub fn create_admin(program: &Path, config: &Path) -> anyhow::Result<String> {
    let output = std::process::Command::new(program)
        .arg("--config")
        .arg(config)
        .args([
            "account",
            "create-admin",
            "--login",
            ADMIN.0,
            "--full-name",
            ADMIN.1,
        ])
        .output()
        .with_context(|| format!("running {} account create-admin", program.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "district-aggregator account create-admin failed: {}{}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("Mật khẩu dùng một lần: "))
        .map(|p| p.trim().to_owned())
        .context("account create-admin printed no one-time password")
}

/// Signs the administrator in with the one-time password and chooses their password, as the
/// forced first sign-in does; returns the signed-in clients and the administrator's account.
pub async fn sign_in_admin(
    grpc: SocketAddr,
    one_time: &str,
) -> anyhow::Result<(
    Client,
    DistrictAccountsClient<AuthorizedChannel>,
    DemoAccount,
)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let channel = loop {
        if let Ok(channel) = Channel::from_shared(format!("http://{grpc}"))?
            .connect()
            .await
        {
            break channel;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the aggregator does not answer on {grpc}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let signed_in = loop {
        match DistrictAccountsClient::new(channel.clone())
            .sign_in(pb::SignInRequest {
                login: ADMIN.0.into(),
                password: one_time.into(),
            })
            .await
        {
            Ok(reply) => break reply.into_inner(),
            // Still migrating or starting: try again.
            Err(status) if status.code() == tonic::Code::Unavailable => {}
            Err(status) => anyhow::bail!("signing the administrator in: {status}"),
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the aggregator does not answer on {grpc}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let credential = Credential::bearer(&signed_in.session_token)?;
    let mut accounts = DistrictAccountsClient::new(credential.clone().on(channel.clone()));
    let password = credentials::password::generate().expose_secret().to_owned();
    accounts
        .change_password(pb::ChangePasswordRequest {
            current_password: one_time.into(),
            new_password: password.clone(),
        })
        .await
        .context("changing the administrator's one-time password")?;
    let client = DistrictAggregatorClient::new(credential.on(channel));
    let admin = DemoAccount {
        login: ADMIN.0.into(),
        full_name: ADMIN.1.into(),
        role: "Quản trị",
        school: String::new(),
        password,
        one_time: false,
    };
    Ok((client, accounts, admin))
}

/// Creates the demo's officer, head of office and one school head with one-time passwords,
/// and issues reporting's service token (written to `token_file`, mode 0600).
pub async fn create_accounts(
    accounts: &mut DistrictAccountsClient<AuthorizedChannel>,
    token_file: &Path,
) -> anyhow::Result<Vec<DemoAccount>> {
    let mut made = Vec::new();
    for (login, full_name, role, school) in ACCOUNTS {
        let issued = accounts
            .create_account(pb::CreateAccountRequest {
                login: login.into(),
                full_name: full_name.into(),
                role: role.into(),
                school: school.into(),
            })
            .await
            .with_context(|| format!("creating the account {login}"))?
            .into_inner();
        made.push(DemoAccount {
            login: login.into(),
            full_name: full_name.into(),
            role: match role {
                pb::AccountRole::Officer => "Chuyên viên",
                pb::AccountRole::HeadOfOffice => "Lãnh đạo phòng",
                pb::AccountRole::SchoolHead => "Hiệu trưởng",
                _ => "Quản trị",
            },
            school: school.into(),
            password: issued.one_time_password,
            one_time: true,
        });
    }
    let token = accounts
        .issue_service_token(pb::IssueServiceTokenRequest {
            service: "reporting".into(),
            note: "máy chủ báo cáo và trang tổng hợp (bản chạy thử)".into(),
        })
        .await
        .context("issuing reporting's service token")?
        .into_inner()
        .token;
    write_secret(token_file, &token)?;
    Ok(made)
}

/// `url` without its password, for printing.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Writes a secret readable by its owner alone.
fn write_secret(path: &Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    writeln!(file, "{secret}")?;
    Ok(())
}

/// Enrolls the schools and adopts the district plan, through gRPC.
pub async fn record_district_facts(
    client: &mut Client,
    schools: &[DemoSchool],
) -> anyhow::Result<()> {
    let plan: domain::district::DistrictPlan = toml::from_str(DISTRICT_PLAN)
        .context("reading deploy/plans/kh-1442-pgddt-tam-nong-2017.toml")?;
    client
        .adopt_district_plan(pb::AdoptDistrictPlanRequest {
            actor: None,
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
                actor: None,
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
pub async fn wait_applied(client: &mut Client, heads: &[(String, u64)]) -> anyhow::Result<()> {
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
pub async fn lagging(client: &mut Client) -> anyhow::Result<Vec<String>> {
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
