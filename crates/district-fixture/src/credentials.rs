//! The district office's credentials in tests: an administrator's session and a service
//! token for reporting, made through the aggregator's own account store (as the server
//! commands `district-aggregator account create-admin` and `token issue` do), once per
//! database, and clients that send them.
//!
//! Once per database because a second `create-admin` on the same login is the break-glass
//! reset, which ends the first one's sessions: a test that restarts the aggregator on its
//! database keeps using the credentials it had.

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::Context as _;
use district_aggregator::accounts::{Accounts, Origin};
use secrecy::{ExposeSecret as _, SecretString};
use service_runtime::{AuthorizedChannel, Credential};
use tonic::transport::Channel;
use wire::pb::district_accounts_client::DistrictAccountsClient;
use wire::pb::district_aggregator_client::DistrictAggregatorClient;

/// A client of the aggregator's district views and commands, sending a credential.
pub type Client = DistrictAggregatorClient<AuthorizedChannel>;
/// A client of its accounts service, sending a credential.
pub type AccountsClient = DistrictAccountsClient<AuthorizedChannel>;

/// The administrator the fixture signs in: the office's clerk whose name the office's demo
/// events carry (`office::office_actor`).
pub const ADMIN_LOGIN: &str = "binh.tran";
pub const ADMIN_NAME: &str = "Trần Văn Bình";

/// What the fixture signs in with.
#[derive(Debug, Clone)]
pub struct OfficeCredentials {
    /// The administrator's session token (`ttp_…`), password already changed.
    pub admin: String,
    /// A service token (`tts_…`) for `reporting`.
    pub reporting: String,
}

static MADE: Mutex<Option<HashMap<String, OfficeCredentials>>> = Mutex::new(None);

/// The credentials of the aggregator whose database is `db_url`, made the first time.
pub async fn office_credentials(
    accounts: &Accounts,
    db_url: &str,
) -> anyhow::Result<OfficeCredentials> {
    if let Some(made) = MADE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
        .and_then(|m| m.get(db_url))
    {
        return Ok(made.clone());
    }
    let made = make(accounts).await?;
    MADE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get_or_insert_with(HashMap::new)
        .insert(db_url.to_owned(), made.clone());
    Ok(made)
}

async fn make(accounts: &Accounts) -> anyhow::Result<OfficeCredentials> {
    let (_, one_time) = accounts
        .create_or_reset_admin(ADMIN_LOGIN, ADMIN_NAME)
        .await
        .context("creating the fixture's administrator")?;
    let from = Origin::default();
    let session = accounts
        .sign_in(
            ADMIN_LOGIN,
            one_time.expose_secret(),
            &from,
            chrono::Utc::now(),
        )
        .await
        .context("signing the fixture's administrator in")?;
    let chosen = credentials::password::generate();
    let token = session.token.expose_secret().to_owned();
    accounts
        .change_password(
            ADMIN_LOGIN,
            one_time.expose_secret(),
            &SecretString::from(format!("{}-fixture", chosen.expose_secret())),
            &credentials::TokenHash::of(&token),
            &Origin {
                login: ADMIN_LOGIN.to_owned(),
                ..Origin::default()
            },
        )
        .await
        .context("changing the fixture administrator's one-time password")?;
    let reporting = accounts
        .issue_token("reporting", "fixture", &Origin::server())
        .await
        .context("issuing the fixture's reporting token")?;
    Ok(OfficeCredentials {
        admin: token,
        reporting: reporting.token.expose_secret().to_owned(),
    })
}

/// A channel to `url` (`http://127.0.0.1:port`), connected now.
pub async fn channel(url: &str) -> anyhow::Result<Channel> {
    Channel::from_shared(url.to_owned())
        .with_context(|| format!("{url} is not a URL"))?
        .connect()
        .await
        .with_context(|| format!("connecting to the aggregator at {url}"))
}

/// A client of the aggregator at `url` sending `token`.
pub async fn client_with(url: &str, token: &str) -> anyhow::Result<Client> {
    let credential = Credential::bearer(token)?;
    Ok(DistrictAggregatorClient::new(
        credential.on(channel(url).await?),
    ))
}

/// An accounts client of the aggregator at `url` sending `token`.
pub async fn accounts_client_with(url: &str, token: &str) -> anyhow::Result<AccountsClient> {
    let credential = Credential::bearer(token)?;
    Ok(DistrictAccountsClient::new(
        credential.on(channel(url).await?),
    ))
}

/// A person an administrator just made: their first session and one-time password.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub session: String,
    pub one_time_password: String,
}

/// Creates an account at the aggregator at `url` as the administrator of session `admin`,
/// and signs it in with its one-time password (which it must still change).
pub async fn new_person(
    url: &str,
    admin: &str,
    login: &str,
    full_name: &str,
    role: wire::pb::AccountRole,
    school: &str,
) -> anyhow::Result<NewPerson> {
    use wire::pb;
    let issued = accounts_client_with(url, admin)
        .await?
        .create_account(pb::CreateAccountRequest {
            login: login.into(),
            full_name: full_name.into(),
            role: role.into(),
            school: school.into(),
        })
        .await
        .with_context(|| format!("creating {login}"))?
        .into_inner();
    let session = DistrictAccountsClient::new(channel(url).await?)
        .sign_in(pb::SignInRequest {
            login: login.into(),
            password: issued.one_time_password.clone(),
        })
        .await
        .with_context(|| format!("signing {login} in"))?
        .into_inner()
        .session_token;
    Ok(NewPerson {
        session,
        one_time_password: issued.one_time_password,
    })
}

/// [`new_person`], with the one-time password changed to `password`: a session that may do
/// what the role allows.
pub async fn signed_in_person(
    url: &str,
    admin: &str,
    login: &str,
    full_name: &str,
    role: wire::pb::AccountRole,
    school: &str,
    password: &str,
) -> anyhow::Result<String> {
    let person = new_person(url, admin, login, full_name, role, school).await?;
    accounts_client_with(url, &person.session)
        .await?
        .change_password(wire::pb::ChangePasswordRequest {
            current_password: person.one_time_password,
            new_password: password.into(),
        })
        .await
        .with_context(|| format!("changing {login}'s one-time password"))?;
    Ok(person.session)
}
