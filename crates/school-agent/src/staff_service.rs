//! The `SchoolStaff` gRPC service (`school_staff.proto`): signing in and out, one's own
//! account and password, and — for the head (Hiệu trưởng) only — the school's staff accounts.
//! Thin: the rules are [`Staff`]'s, the session checks [`Sessions`]'.

use chrono::Utc;
use domain::Role;
use secrecy::{ExposeSecret, SecretString};
use tonic::{Code, Request, Response, Status};
use tracing::info;
use wire::convert::timestamp;
use wire::pb::school_staff_server::SchoolStaff;
use wire::pb::{self};

use crate::auth::{Caller, MustChange, Sessions, staff_status};
use crate::staff::{Staff, StaffError};

#[derive(Debug, Clone)]
pub struct SchoolStaffService {
    sessions: Sessions,
}

impl SchoolStaffService {
    pub fn new(sessions: Sessions) -> Self {
        Self { sessions }
    }

    fn staff(&self) -> &Staff {
        self.sessions.staff()
    }

    /// The signed-in head, for the account management calls.
    async fn head<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        let caller = self
            .sessions
            .caller(request.metadata(), MustChange::Refused)
            .await?;
        if caller.account.role != Role::Principal {
            info!(login = %caller.account.login, "staff management refused: not the head");
            return Err(wire::status::refusal(
                Code::PermissionDenied,
                "",
                "only the head (principal) manages the school's staff accounts".to_owned(),
                "Chỉ Hiệu trưởng được quản lý tài khoản cán bộ, giáo viên của trường.".to_owned(),
            ));
        }
        Ok(caller)
    }
}

fn issued(account: &crate::staff::Account, password: &SecretString) -> pb::IssuedStaffPassword {
    pb::IssuedStaffPassword {
        account: Some(pb::StaffAccount::from(account)),
        one_time_password: password.expose_secret().to_owned(),
    }
}

#[tonic::async_trait]
impl SchoolStaff for SchoolStaffService {
    async fn sign_in(
        &self,
        request: Request<pb::StaffSignInRequest>,
    ) -> Result<Response<pb::StaffSignInReply>, Status> {
        let r = request.into_inner();
        let session = self
            .staff()
            .sign_in(r.login.trim(), &r.password, Utc::now())
            .await
            .map_err(|e| staff_status(&e))?;
        Ok(Response::new(pb::StaffSignInReply {
            session_token: session.token.expose_secret().to_owned(),
            expires_at: Some(timestamp(session.expires_at)),
            account: Some(pb::StaffAccount::from(&session.account)),
        }))
    }

    async fn sign_out(
        &self,
        request: Request<pb::StaffSignOutRequest>,
    ) -> Result<Response<pb::StaffSignOutReply>, Status> {
        let caller = self
            .sessions
            .caller(request.metadata(), MustChange::Allowed)
            .await?;
        self.staff()
            .sign_out(caller.token.expose_secret(), Utc::now())
            .await
            .map_err(|e| staff_status(&e))?;
        Ok(Response::new(pb::StaffSignOutReply {}))
    }

    async fn who_am_i(
        &self,
        request: Request<pb::StaffWhoAmIRequest>,
    ) -> Result<Response<pb::StaffAccount>, Status> {
        let caller = self
            .sessions
            .caller(request.metadata(), MustChange::Allowed)
            .await?;
        Ok(Response::new(pb::StaffAccount::from(&caller.account)))
    }

    async fn change_password(
        &self,
        request: Request<pb::StaffChangePasswordRequest>,
    ) -> Result<Response<pb::StaffAccount>, Status> {
        let caller = self
            .sessions
            .caller(request.metadata(), MustChange::Allowed)
            .await?;
        let r = request.into_inner();
        let new = SecretString::from(r.new_password);
        let account = self
            .staff()
            .change_password(
                &caller.account.login,
                &r.current_password,
                &new,
                caller.token.expose_secret(),
                Utc::now(),
            )
            .await
            .map_err(|e| match e {
                // The session is fine; the current password typed is not.
                StaffError::Unauthenticated => wire::status::refusal(
                    Code::InvalidArgument,
                    "current_password",
                    "the current password is wrong".to_owned(),
                    "Mật khẩu hiện tại không đúng.".to_owned(),
                ),
                other => staff_status(&other),
            })?;
        Ok(Response::new(pb::StaffAccount::from(&account)))
    }

    async fn list_staff(
        &self,
        request: Request<pb::ListStaffRequest>,
    ) -> Result<Response<pb::ListStaffReply>, Status> {
        self.head(&request).await?;
        let accounts = self.staff().list().await.map_err(|e| staff_status(&e))?;
        Ok(Response::new(pb::ListStaffReply {
            accounts: accounts.iter().map(pb::StaffAccount::from).collect(),
        }))
    }

    async fn create_staff(
        &self,
        request: Request<pb::CreateStaffRequest>,
    ) -> Result<Response<pb::IssuedStaffPassword>, Status> {
        let head = self.head(&request).await?;
        let new = wire::convert::staff::create_staff(request.into_inner())
            .map_err(|e| wire::status::from_domain(&e))?;
        let (account, password) = self
            .staff()
            .create(
                &new.login,
                &new.full_name,
                new.role,
                &head.account.login,
                Utc::now(),
            )
            .await
            .map_err(|e| staff_status(&e))?;
        Ok(Response::new(issued(&account, &password)))
    }

    async fn reset_staff_password(
        &self,
        request: Request<pb::ResetStaffPasswordRequest>,
    ) -> Result<Response<pb::IssuedStaffPassword>, Status> {
        let head = self.head(&request).await?;
        let login = request.into_inner().login;
        let (account, password) = self
            .staff()
            .reset_password(&head.account.login, login.trim(), Utc::now())
            .await
            .map_err(|e| staff_status(&e))?;
        Ok(Response::new(issued(&account, &password)))
    }

    async fn set_staff_enabled(
        &self,
        request: Request<pb::SetStaffEnabledRequest>,
    ) -> Result<Response<pb::StaffAccount>, Status> {
        let head = self.head(&request).await?;
        let r = request.into_inner();
        let account = self
            .staff()
            .set_enabled(&head.account.login, r.login.trim(), r.enabled, Utc::now())
            .await
            .map_err(|e| staff_status(&e))?;
        Ok(Response::new(pb::StaffAccount::from(&account)))
    }
}
