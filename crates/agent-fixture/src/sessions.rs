//! Signed-in clients: every `SchoolAgent` call needs a staff session, so the fixture gives
//! each agent it starts a head (Hiệu trưởng) account, created directly on the agent's
//! database as `school-agent account create-head` does, signed in, with its one-time password
//! changed to [`PASSWORD`]. [`crate::connect`] then attaches the head's token (a tonic
//! interceptor, `wire::bearer::Bearer`), so tests that only record see no difference; tests of
//! the accounts themselves sign other staff in with [`staff_member`] or connect without a
//! token with [`connect_anonymous`].
//!
//! The head's token is kept per gRPC address and per database file, so an agent restarted on
//! the same database (a process killed and spawned again) keeps its head signed in.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use anyhow::Context as _;
use domain::Role;
use tonic::transport::{Channel, Endpoint};
use wire::bearer::{Bearer, StaffClient, agent_client, staff_client};
use wire::pb;

use crate::{Client, Settings};

/// The login of the head the fixture creates on every agent.
pub const HEAD_LOGIN: &str = "hieu.truong";
/// The head's full name: the actor of everything the fixture's client records.
pub const HEAD_NAME: &str = "Nguyễn Văn Hòa";
/// What the fixture's accounts change their one-time password to.
pub const PASSWORD: &str = "sen hồng đồng tháp 2018";

#[derive(Default)]
struct Known {
    by_address: HashMap<SocketAddr, String>,
    by_database: HashMap<PathBuf, String>,
}

static KNOWN: Mutex<Option<Known>> = Mutex::new(None);

fn with_known<T>(f: impl FnOnce(&mut Known) -> T) -> T {
    let mut guard = KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
    f(guard.get_or_insert_with(Known::default))
}

/// The head's token of the agent at `addr`, if the fixture signed one in there.
pub fn head_token(addr: SocketAddr) -> Option<String> {
    with_known(|k| k.by_address.get(&addr).cloned())
}

async fn channel(addr: SocketAddr) -> anyhow::Result<Channel> {
    Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await
        .with_context(|| format!("connecting to the agent at {addr}"))
}

/// A client of the agent at `addr` sending `token`.
pub async fn connect_with(addr: SocketAddr, token: &str) -> anyhow::Result<Client> {
    Ok(agent_client(channel(addr).await?, Bearer::new(token)?))
}

/// A client of the agent at `addr` without any session: every call is refused.
pub async fn connect_anonymous(addr: SocketAddr) -> anyhow::Result<Client> {
    Ok(agent_client(channel(addr).await?, Bearer::none()))
}

/// A `SchoolStaff` client of the agent at `addr`, sending `token` when given.
pub async fn staff(addr: SocketAddr, token: Option<&str>) -> anyhow::Result<StaffClient> {
    let bearer = match token {
        Some(token) => Bearer::new(token)?,
        None => Bearer::none(),
    };
    Ok(staff_client(channel(addr).await?, bearer))
}

/// Signs `login` in with `password` and, when the password must be changed first, changes it
/// to [`PASSWORD`]; returns the session token.
pub async fn sign_in_ready(
    addr: SocketAddr,
    login: &str,
    password: &str,
) -> anyhow::Result<String> {
    let reply = staff(addr, None)
        .await?
        .sign_in(pb::StaffSignInRequest {
            login: login.into(),
            password: password.into(),
        })
        .await
        .with_context(|| format!("signing {login} in"))?
        .into_inner();
    let token = reply.session_token;
    if reply.account.is_some_and(|a| a.must_change_password) {
        staff(addr, Some(&token))
            .await?
            .change_password(pb::StaffChangePasswordRequest {
                current_password: password.into(),
                new_password: PASSWORD.into(),
            })
            .await
            .with_context(|| format!("changing {login}'s one-time password"))?;
    }
    Ok(token)
}

/// Makes sure the agent at `addr`, on `settings`' database, has its head signed in: the token
/// the fixture already holds for that database if it is still valid, else a new head
/// account (or a reset one) signed in. Returns the token.
pub(crate) async fn ensure_head(settings: &Settings, addr: SocketAddr) -> anyhow::Result<String> {
    let database = settings.storage.path.clone();
    if let Some(token) = with_known(|k| k.by_database.get(&database).cloned()) {
        let still_valid = staff(addr, Some(&token))
            .await?
            .who_am_i(pb::StaffWhoAmIRequest {})
            .await
            .is_ok();
        if still_valid {
            with_known(|k| k.by_address.insert(addr, token.clone()));
            return Ok(token);
        }
    }
    let (_, one_time) = school_agent::create_head(settings, HEAD_LOGIN, HEAD_NAME)
        .await
        .context("creating the head's account")?;
    let token = sign_in_ready(
        addr,
        HEAD_LOGIN,
        secrecy::ExposeSecret::expose_secret(&one_time),
    )
    .await?;
    with_known(|k| {
        k.by_address.insert(addr, token.clone());
        k.by_database.insert(database, token.clone());
    });
    Ok(token)
}

/// As the head (`head_token`), creates the account `login` with `role`, signs it in and
/// changes its one-time password: a client signed in as that staff member, and its token.
pub async fn staff_member(
    addr: SocketAddr,
    head_token: &str,
    login: &str,
    full_name: &str,
    role: Role,
) -> anyhow::Result<(Client, String)> {
    let issued = staff(addr, Some(head_token))
        .await?
        .create_staff(pb::CreateStaffRequest {
            login: login.into(),
            full_name: full_name.into(),
            role: pb::Role::from(role).into(),
        })
        .await
        .with_context(|| format!("creating the account {login}"))?
        .into_inner();
    let token = sign_in_ready(addr, login, &issued.one_time_password).await?;
    Ok((connect_with(addr, &token).await?, token))
}
