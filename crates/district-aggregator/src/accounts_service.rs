//! The `DistrictAccounts` gRPC service (proto/truyenthong/v1/district_accounts.proto): signing
//! in and out, one's own password, and the administrator's accounts, service tokens and audit
//! trail. Thin: [`crate::accounts::Accounts`] does the work, [`crate::guard`] decides who may
//! call and turns refusals into statuses; this file converts between wire and store types.

use chrono::Utc;
use domain::district::access::{AccountRole, Permission, Principal};
use secrecy::{ExposeSecret, SecretString};
use tonic::{Request, Response, Status};
use wire::convert::timestamp;
use wire::pb;
use wire::pb::district_accounts_server::DistrictAccounts;

use crate::accounts::{
    Account, AccountError, Accounts, AuditAction, AuditEntry, Caller, NewAccount, Origin,
    ServiceTokenInfo,
};
use crate::guard::{self, account_status};
use crate::queries::Views;

/// The `DistrictAccounts` service.
#[derive(Debug, Clone)]
pub struct DistrictAccountsService {
    accounts: Accounts,
    /// To check that a school head's school is enrolled.
    views: Views,
}

impl DistrictAccountsService {
    pub fn new(accounts: Accounts, views: Views) -> Self {
        Self { accounts, views }
    }
}

fn role_to_pb(role: AccountRole) -> pb::AccountRole {
    match role {
        AccountRole::Administrator => pb::AccountRole::Admin,
        AccountRole::Officer => pb::AccountRole::Officer,
        AccountRole::HeadOfOffice => pb::AccountRole::HeadOfOffice,
        AccountRole::SchoolHead => pb::AccountRole::SchoolHead,
    }
}

fn role_from_pb(role: i32) -> Result<AccountRole, AccountError> {
    match pb::AccountRole::try_from(role) {
        Ok(pb::AccountRole::Admin) => Ok(AccountRole::Administrator),
        Ok(pb::AccountRole::Officer) => Ok(AccountRole::Officer),
        Ok(pb::AccountRole::HeadOfOffice) => Ok(AccountRole::HeadOfOffice),
        Ok(pb::AccountRole::SchoolHead) => Ok(AccountRole::SchoolHead),
        Ok(pb::AccountRole::Unspecified) | Err(_) => Err(AccountError::RoleRequired),
    }
}

fn account_to_pb(a: &Account) -> pb::Account {
    pb::Account {
        login: a.login.clone(),
        full_name: a.full_name.clone(),
        role: role_to_pb(a.role).into(),
        school: a
            .school
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        must_change_password: a.must_change_password,
        enabled: a.enabled,
        locked_until: a.locked_until.map(timestamp),
        last_sign_in: a.last_sign_in.map(timestamp),
        created_at: Some(timestamp(a.created_at)),
    }
}

fn token_to_pb(t: &ServiceTokenInfo) -> pb::ServiceTokenInfo {
    pb::ServiceTokenInfo {
        id: t.id.clone(),
        service: t.service.clone(),
        note: t.note.clone(),
        issued_by: t.issued_by.clone(),
        issued_at: Some(timestamp(t.issued_at)),
        revoked_at: t.revoked_at.map(timestamp),
        last_used_at: t.last_used_at.map(timestamp),
    }
}

fn audit_to_pb(e: AuditEntry) -> pb::AuditEntry {
    pb::AuditEntry {
        id: e.id,
        at: Some(timestamp(e.at)),
        login: e.origin.login,
        service: e.origin.service,
        from_address: e.origin.from_address,
        action: e.action,
        target: e.target,
        detail: e.detail,
    }
}

fn issued(account: &Account, password: &SecretString) -> pb::IssuedPassword {
    pb::IssuedPassword {
        account: Some(account_to_pb(account)),
        one_time_password: password.expose_secret().to_owned(),
    }
}

impl DistrictAccountsService {
    async fn admin<T>(&self, r: &Request<T>, permission: Permission) -> Result<Caller, Status> {
        guard::authorize(&self.accounts, r, permission).await
    }

    /// The person of a call that must come from one (WhoAmI is the exception).
    fn person_login(caller: &Caller) -> Result<String, Status> {
        caller
            .login()
            .map(str::to_owned)
            .ok_or_else(|| account_status(&AccountError::Unauthenticated))
    }
}

#[tonic::async_trait]
impl DistrictAccounts for DistrictAccountsService {
    async fn sign_in(
        &self,
        r: Request<pb::SignInRequest>,
    ) -> Result<Response<pb::SignInReply>, Status> {
        let presented = guard::presented(&r);
        let r = r.into_inner();
        // A service signing a person in (the dashboard) passes on the person's address; the
        // header is believed only from a caller with a valid service token, since SignIn
        // needs no credential and anyone could write it.
        let from = match self.accounts.authenticate(&presented, Utc::now()).await {
            Ok(Caller {
                principal: Principal::Service(service),
                origin,
                ..
            }) => Origin {
                login: String::new(),
                from_address: presented
                    .client_address
                    .clone()
                    .unwrap_or(origin.from_address),
                service,
            },
            _ => Origin {
                login: String::new(),
                service: String::new(),
                from_address: presented.peer.clone(),
            },
        };
        let session = self
            .accounts
            .sign_in(&r.login, &r.password, &from, Utc::now())
            .await
            .map_err(|e| match e {
                AccountError::Unauthenticated => wire::status::refusal(
                    tonic::Code::Unauthenticated,
                    "password",
                    "the login and password do not match an enabled account".to_owned(),
                    "Tên đăng nhập hoặc mật khẩu không đúng.".to_owned(),
                ),
                other => account_status(&other),
            })?;
        Ok(Response::new(pb::SignInReply {
            session_token: session.token.expose_secret().to_owned(),
            expires_at: Some(timestamp(session.expires_at)),
            account: Some(account_to_pb(&session.account)),
        }))
    }

    async fn sign_out(
        &self,
        r: Request<pb::SignOutRequest>,
    ) -> Result<Response<pb::SignOutReply>, Status> {
        let caller = guard::caller(&self.accounts, &r).await?;
        if let Some(session) = &caller.session {
            self.accounts
                .sign_out(session, &caller.origin)
                .await
                .map_err(|e| account_status(&e))?;
        }
        Ok(Response::new(pb::SignOutReply {}))
    }

    async fn who_am_i(
        &self,
        r: Request<pb::WhoAmIRequest>,
    ) -> Result<Response<pb::WhoAmIReply>, Status> {
        let caller = guard::caller(&self.accounts, &r).await?;
        let (account, service) = match &caller.principal {
            Principal::Person { person, via } => (
                Some(
                    self.accounts
                        .account(&person.login)
                        .await
                        .map_err(|e| account_status(&e))?,
                ),
                via.clone().unwrap_or_default(),
            ),
            Principal::Service(service) => (None, service.clone()),
        };
        Ok(Response::new(pb::WhoAmIReply {
            account: account.as_ref().map(account_to_pb),
            service,
        }))
    }

    async fn change_password(
        &self,
        r: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordReply>, Status> {
        let caller = guard::caller(&self.accounts, &r).await?;
        let login = Self::person_login(&caller)?;
        let Some(session) = caller.session.clone() else {
            return Err(account_status(&AccountError::Unauthenticated));
        };
        let r = r.into_inner();
        let new = SecretString::from(r.new_password);
        let account = self
            .accounts
            .change_password(&login, &r.current_password, &new, &session, &caller.origin)
            .await
            .map_err(|e| match e {
                AccountError::Unauthenticated => wire::status::refusal(
                    tonic::Code::InvalidArgument,
                    "current_password",
                    "current_password does not match".to_owned(),
                    "Mật khẩu hiện tại không đúng.".to_owned(),
                ),
                other => account_status(&other),
            })?;
        Ok(Response::new(pb::ChangePasswordReply {
            account: Some(account_to_pb(&account)),
        }))
    }

    async fn list_accounts(
        &self,
        r: Request<pb::ListAccountsRequest>,
    ) -> Result<Response<pb::ListAccountsReply>, Status> {
        self.admin(&r, Permission::ManageAccounts).await?;
        let accounts = self.accounts.list().await.map_err(|e| account_status(&e))?;
        Ok(Response::new(pb::ListAccountsReply {
            accounts: accounts.iter().map(account_to_pb).collect(),
        }))
    }

    async fn create_account(
        &self,
        r: Request<pb::CreateAccountRequest>,
    ) -> Result<Response<pb::IssuedPassword>, Status> {
        let caller = self.admin(&r, Permission::ManageAccounts).await?;
        let r = r.into_inner();
        let new = NewAccount {
            role: role_from_pb(r.role).map_err(|e| account_status(&e))?,
            login: r.login,
            full_name: r.full_name,
            school: r.school,
        };
        let schools = match new.role {
            AccountRole::SchoolHead => self
                .views
                .schools()
                .await
                .map_err(crate::service::query_status)?,
            _ => Vec::new(),
        };
        let (account, password) = self
            .accounts
            .create(
                &new,
                |code| schools.iter().any(|s| s.code == code.as_str()),
                &caller.origin,
            )
            .await
            .map_err(|e| account_status(&e))?;
        Ok(Response::new(issued(&account, &password)))
    }

    async fn reset_password(
        &self,
        r: Request<pb::ResetPasswordRequest>,
    ) -> Result<Response<pb::IssuedPassword>, Status> {
        let caller = self.admin(&r, Permission::ManageAccounts).await?;
        let login = r.into_inner().login;
        let (account, password) = self
            .accounts
            .reset_password(login.trim(), &caller.origin)
            .await
            .map_err(|e| account_status(&e))?;
        Ok(Response::new(issued(&account, &password)))
    }

    async fn set_account_enabled(
        &self,
        r: Request<pb::SetAccountEnabledRequest>,
    ) -> Result<Response<pb::Account>, Status> {
        let caller = self.admin(&r, Permission::ManageAccounts).await?;
        let r = r.into_inner();
        let account = self
            .accounts
            .set_enabled(r.login.trim(), r.enabled, &caller.origin)
            .await
            .map_err(|e| account_status(&e))?;
        Ok(Response::new(account_to_pb(&account)))
    }

    async fn issue_service_token(
        &self,
        r: Request<pb::IssueServiceTokenRequest>,
    ) -> Result<Response<pb::IssuedServiceToken>, Status> {
        let caller = self.admin(&r, Permission::ManageServiceTokens).await?;
        let r = r.into_inner();
        let issued = self
            .accounts
            .issue_token(&r.service, &r.note, &caller.origin)
            .await
            .map_err(|e| account_status(&e))?;
        Ok(Response::new(pb::IssuedServiceToken {
            info: Some(token_to_pb(&issued.info)),
            token: issued.token.expose_secret().to_owned(),
        }))
    }

    async fn revoke_service_token(
        &self,
        r: Request<pb::RevokeServiceTokenRequest>,
    ) -> Result<Response<pb::ServiceTokenInfo>, Status> {
        let caller = self.admin(&r, Permission::ManageServiceTokens).await?;
        let info = self
            .accounts
            .revoke_token(&r.into_inner().id, &caller.origin)
            .await
            .map_err(|e| account_status(&e))?;
        Ok(Response::new(token_to_pb(&info)))
    }

    async fn list_service_tokens(
        &self,
        r: Request<pb::ListServiceTokensRequest>,
    ) -> Result<Response<pb::ListServiceTokensReply>, Status> {
        self.admin(&r, Permission::ManageServiceTokens).await?;
        let tokens = self
            .accounts
            .tokens()
            .await
            .map_err(|e| account_status(&e))?;
        Ok(Response::new(pb::ListServiceTokensReply {
            tokens: tokens.iter().map(token_to_pb).collect(),
        }))
    }

    async fn list_audit(
        &self,
        r: Request<pb::ListAuditRequest>,
    ) -> Result<Response<pb::ListAuditReply>, Status> {
        self.admin(&r, Permission::ReadAudit).await?;
        let r = r.into_inner();
        let entries = self
            .accounts
            .audit_page(r.limit, r.before_id)
            .await
            .map_err(|e| account_status(&e))?;
        Ok(Response::new(pb::ListAuditReply {
            entries: entries.into_iter().map(audit_to_pb).collect(),
        }))
    }

    async fn record_audit(
        &self,
        r: Request<pb::RecordAuditRequest>,
    ) -> Result<Response<pb::RecordAuditReply>, Status> {
        let caller = self.admin(&r, Permission::RecordAudit).await?;
        let r = r.into_inner();
        if AuditAction::from_code(&r.action) != Some(AuditAction::ReportDownloaded) {
            return Err(account_status(&AccountError::BadAction(r.action)));
        }
        self.accounts
            .audit(
                &caller.origin,
                AuditAction::ReportDownloaded,
                &r.target,
                &r.detail,
            )
            .await
            .map_err(|e| account_status(&e))?;
        Ok(Response::new(pb::RecordAuditReply {}))
    }
}
