//! The commands: each checks its input here first (so a wrong value never reaches the
//! agent), then connects, sends and prints.
//!
//! [`Ctx`] carries the global options: the agent's address, the school the command is meant
//! for (`--truong`) and the output mode. Who records is the signed-in account (`dang-nhap`,
//! [`account`]): every command sends the session stored for its agent, and the agent takes
//! the actor from it.

mod account;
mod activity;
mod budget;
mod cases;
mod commendation;
mod duty;
mod events;
mod import;
mod plan;
mod status;

use domain::Role;
use wire::pb;

use crate::args::{Cli, Command, GlobalArgs};
use crate::client::{self, Client};
use crate::error::CliError;
use crate::output::Output;
use crate::session::{Session, SessionFile};
use crate::values;
use crate::vocab;

/// The global options, checked.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub global: GlobalArgs,
    pub out: Output,
    pub url: String,
}

impl Ctx {
    pub fn new(global: GlobalArgs) -> Result<Self, CliError> {
        let url = client::normalise_url(&global.agent)?;
        let out = Output { json: global.json };
        Ok(Self { global, out, url })
    }

    /// The session file under the user's profile.
    pub fn sessions(&self) -> Result<SessionFile, CliError> {
        SessionFile::locate()
    }

    /// The session stored for this agent; without one, the advice to sign in.
    pub fn session(&self) -> Result<Session, CliError> {
        self.sessions()?
            .get(&self.url)?
            .ok_or_else(|| CliError::NotSignedIn {
                url: self.url.clone(),
            })
    }

    /// A client of the agent, signed in with the stored session.
    pub async fn client(&self) -> Result<Client, CliError> {
        let session = self.session()?;
        client::connect(&self.url, &session.token).await
    }

    /// Turns an agent's refusal into the error for this agent.
    pub fn refused(&self, status: tonic::Status) -> CliError {
        CliError::agent(status, &self.url)
    }

    /// The signed-in account's role, as stored at sign-in: the default responsible role of
    /// an activity.
    pub fn role(&self) -> Result<Role, CliError> {
        let session = self.session()?;
        Role::parse("role", &session.vai_tro).map_err(|_| CliError::NotSignedIn {
            url: self.url.clone(),
        })
    }

    /// The header of a command: the school it is for. No actor: the agent records the
    /// signed-in account as the actor.
    pub fn header(&self) -> Result<pb::CommandHeader, CliError> {
        Ok(pb::CommandHeader {
            school: self
                .global
                .school
                .as_deref()
                .map(str::trim)
                .unwrap_or_default()
                .to_string(),
            actor: None,
        })
    }
}

/// A date option: given (in either accepted form) or today in Vietnam.
pub fn date_or_today(value: Option<&str>, field: &str, option: &str) -> Result<String, CliError> {
    match value {
        None => Ok(values::iso(values::today())),
        Some(v) => values::date(v)
            .map(values::iso)
            .map_err(|m| CliError::option(m, field, option)),
    }
}

/// A channel option.
pub fn channel(value: &str, field: &str, option: &str) -> Result<i32, CliError> {
    vocab::channel(value)
        .map(|c| pb::Channel::from(c).into())
        .map_err(|m| CliError::option(m, field, option))
}

/// An optional client-chosen id, or a fresh UUIDv7.
pub fn id_or_new(value: Option<&str>, field: &str) -> Result<String, CliError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(uuid::Uuid::now_v7().to_string()),
        Some(v) => values::id(v)
            .map(|id| id.to_string())
            .map_err(|m| CliError::option(m, field, "--ma")),
    }
}

/// The id of an existing thing, given as an argument.
pub fn existing_id(value: &str, field: &str, argument: &str) -> Result<String, CliError> {
    values::id(value)
        .map(|id| id.to_string())
        .map_err(|m| CliError::input(m, field, &format!("đối số {argument}")))
}

/// Runs the command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let ctx = Ctx::new(cli.global)?;
    match cli.command {
        Command::SignIn(args) => account::sign_in(&ctx, &args).await,
        Command::SignOut => account::sign_out(&ctx).await,
        Command::ChangePassword => account::change_password(&ctx).await,
        Command::Account { command } => account::run(&ctx, command).await,
        Command::Plan { command } => plan::run(&ctx, command).await,
        Command::Activity { command } => activity::run(&ctx, command).await,
        Command::Feedback { command } => cases::feedback(&ctx, command).await,
        Command::Press { command } => cases::press(&ctx, command).await,
        Command::Reporter { command } => cases::reporter(&ctx, command).await,
        Command::Commendation { command } => commendation::run(&ctx, command).await,
        Command::Emulation { command } => budget::emulation(&ctx, command).await,
        Command::Budget { command } => budget::run(&ctx, command).await,
        Command::Assign(args) => duty::run(&ctx, args).await,
        Command::Events(args) => events::run(&ctx, args).await,
        Command::Status => status::run(&ctx).await,
    }
}
