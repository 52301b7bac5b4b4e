//! The demo's staff accounts on each school agent, made as a school makes them: the head's on
//! the school PC with `school-agent account create-head`, the others by the head through
//! `SchoolStaff.CreateStaff`, one per role of the plan (`demo_data::staff`: Hiệu trưởng, Phó
//! Hiệu trưởng, Tổ trưởng chuyên môn, Tổ văn phòng, Công đoàn, Giáo viên), named as the demo
//! history's actors.
//!
//! To load the history, each account signs in with its one-time password and changes it (a
//! session that must change its password may do nothing else); every request is then sent
//! with the session of the staff member it is by, so the duties of their role allow it and the
//! events' actors are theirs. Once loaded, every account is given a fresh one-time password
//! (the head's with the server command again, the break-glass) for whoever tries the demo:
//! the summary prints them, and the first sign-in with one asks for a new password.

use std::collections::HashMap;
use std::hash::{BuildHasher as _, Hasher as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use demo_data::DemoSchool;
use domain::Role;
use tonic::transport::{Channel, Endpoint};
use wire::bearer::{AgentClient, Bearer, StaffClient, agent_client, staff_client};
use wire::pb;

/// A demo account handed over at the end: what the summary prints.
#[derive(Debug, Clone)]
pub struct HandedOver {
    pub login: String,
    pub role: Role,
    pub full_name: String,
    pub one_time_password: String,
}

/// One school agent with its staff signed in.
#[derive(Debug)]
pub struct SignedIn {
    config: PathBuf,
    head_login: String,
    head_name: String,
    head_staff: StaffClient,
    head: AgentClient,
    clients: HashMap<Role, AgentClient>,
    others: Vec<(String, Role, String)>,
}

async fn channel(grpc: SocketAddr) -> anyhow::Result<Channel> {
    Endpoint::from_shared(format!("http://{grpc}"))?
        .connect()
        .await
        .with_context(|| format!("connecting to the agent at {grpc}"))
}

/// A password for the loading phase only: replaced by a one-time password before anyone sees
/// it. Random per process (the standard library's hasher keys), long enough for the rule.
fn loading_password() -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x7472_7579_656e);
    format!("nạp dữ liệu {:016x}", hasher.finish())
}

/// `school-agent --config CONFIG account create-head …`: the head's one-time password.
async fn create_head(
    program: &Path,
    config: &Path,
    login: &str,
    full_name: &str,
) -> anyhow::Result<String> {
    let output = tokio::process::Command::new(program)
        .arg("--config")
        .arg(config)
        .args([
            "account",
            "create-head",
            "--login",
            login,
            "--ho-ten",
            full_name,
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {} account create-head", program.display()))?;
    anyhow::ensure!(
        output.status.success(),
        "school-agent account create-head failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).context("the command's output is UTF-8")?;
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Mật khẩu dùng một lần:"))
        .map(|p| p.trim().to_owned())
        .context("school-agent account create-head printed no one-time password")
}

/// Signs `login` in with its one-time password and changes it to `password`: the token.
async fn sign_in_and_change(
    grpc: SocketAddr,
    login: &str,
    one_time: &str,
    password: &str,
) -> anyhow::Result<String> {
    let mut anonymous = staff_client(channel(grpc).await?, Bearer::none());
    let token = anonymous
        .sign_in(pb::StaffSignInRequest {
            login: login.into(),
            password: one_time.into(),
        })
        .await
        .with_context(|| format!("signing {login} in"))?
        .into_inner()
        .session_token;
    staff_client(channel(grpc).await?, Bearer::new(&token)?)
        .change_password(pb::StaffChangePasswordRequest {
            current_password: one_time.into(),
            new_password: password.into(),
        })
        .await
        .with_context(|| format!("changing {login}'s one-time password"))?;
    Ok(token)
}

impl SignedIn {
    /// Creates the school's demo accounts on the agent at `grpc` (configuration `config`,
    /// binary `program`) and signs each in.
    pub async fn create(
        program: &Path,
        config: &Path,
        school: &DemoSchool,
        grpc: SocketAddr,
        seed: u64,
    ) -> anyhow::Result<Self> {
        let accounts = demo_data::staff(school, seed);
        let (head, others) = accounts
            .split_first()
            .context("demo_data::staff names the head first")?;
        let password = loading_password();
        let one_time = create_head(program, config, head.login, &head.full_name).await?;
        let head_token = sign_in_and_change(grpc, head.login, &one_time, &password).await?;
        let head_channel = channel(grpc).await?;
        let mut signed = Self {
            config: config.to_path_buf(),
            head_login: head.login.to_owned(),
            head_name: head.full_name.clone(),
            head_staff: staff_client(head_channel.clone(), Bearer::new(&head_token)?),
            head: agent_client(head_channel, Bearer::new(&head_token)?),
            clients: HashMap::new(),
            others: Vec::new(),
        };
        for account in others {
            let issued = signed
                .head_staff
                .create_staff(pb::CreateStaffRequest {
                    login: account.login.into(),
                    full_name: account.full_name.clone(),
                    role: pb::Role::from(account.role).into(),
                })
                .await
                .with_context(|| format!("creating the account {}", account.login))?
                .into_inner();
            let token =
                sign_in_and_change(grpc, account.login, &issued.one_time_password, &password)
                    .await?;
            signed.clients.insert(
                account.role,
                agent_client(channel(grpc).await?, Bearer::new(&token)?),
            );
            signed.others.push((
                account.login.to_owned(),
                account.role,
                account.full_name.clone(),
            ));
        }
        Ok(signed)
    }

    /// The head's client (every duty).
    pub fn head(&self) -> AgentClient {
        self.head.clone()
    }

    /// The client of the staff member with `role`, the head's when there is none.
    pub fn client_for(&self, role: Option<Role>) -> AgentClient {
        role.and_then(|r| self.clients.get(&r).cloned())
            .unwrap_or_else(|| self.head())
    }

    /// Gives every account a fresh one-time password (ending the loading sessions): what the
    /// summary prints.
    pub async fn hand_over(mut self, program: &Path) -> anyhow::Result<Vec<HandedOver>> {
        let mut out = Vec::new();
        for (login, role, full_name) in std::mem::take(&mut self.others) {
            let issued = self
                .head_staff
                .reset_staff_password(pb::ResetStaffPasswordRequest {
                    login: login.clone(),
                })
                .await
                .with_context(|| format!("resetting {login}'s password"))?
                .into_inner();
            out.push(HandedOver {
                login,
                role,
                full_name,
                one_time_password: issued.one_time_password,
            });
        }
        let one_time =
            create_head(program, &self.config, &self.head_login, &self.head_name).await?;
        out.insert(
            0,
            HandedOver {
                login: self.head_login.clone(),
                role: Role::Principal,
                full_name: self.head_name.clone(),
                one_time_password: one_time,
            },
        );
        Ok(out)
    }
}
