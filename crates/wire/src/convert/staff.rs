//! The school's staff accounts (`SchoolStaff`, `school_staff.proto`), both ways.

use domain::staff::StaffAccount;
use domain::{DomainError, Role, Rule};

use super::{record::timestamp, role};
use crate::pb;

impl From<&StaffAccount> for pb::StaffAccount {
    fn from(account: &StaffAccount) -> Self {
        pb::StaffAccount {
            login: account.login.clone(),
            full_name: account.full_name.clone(),
            role: pb::Role::from(account.role).into(),
            must_change_password: account.must_change_password,
            enabled: account.enabled,
            locked_until: account.locked_until.map(timestamp),
            last_sign_in: account.last_sign_in.map(timestamp),
            created_at: Some(timestamp(account.created_at)),
        }
    }
}

/// A `CreateStaff` request: the login, the full name and a staff role. The account rules
/// (login shape, staff roles only) are the agent's; this only parses the role (field
/// `role`) and requires the login and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaff {
    pub login: String,
    pub full_name: String,
    pub role: Role,
}

pub fn create_staff(request: pb::CreateStaffRequest) -> Result<NewStaff, DomainError> {
    if request.login.trim().is_empty() {
        return Err(DomainError::invalid("login", Rule::Required));
    }
    if request.full_name.trim().is_empty() {
        return Err(DomainError::invalid("full_name", Rule::Required));
    }
    Ok(NewStaff {
        login: request.login.trim().to_owned(),
        full_name: request.full_name.trim().to_owned(),
        role: role("role", request.role)?,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn an_account_goes_out_without_secrets_and_a_creation_comes_in() {
        let created = Utc.with_ymd_and_hms(2018, 3, 1, 1, 0, 0).unwrap();
        let account = StaffAccount {
            login: "nhung.nguyen".into(),
            full_name: "Nguyễn Thị Hồng Nhung".into(),
            role: Role::VicePrincipal,
            must_change_password: true,
            enabled: true,
            locked_until: None,
            last_sign_in: None,
            created_by: "hieu.truong".into(),
            created_at: created,
        };
        let pb = pb::StaffAccount::from(&account);
        assert_eq!(pb.role, pb::Role::VicePrincipal as i32);
        assert_eq!(pb.created_at, Some(timestamp(created)));
        assert!(pb.must_change_password && pb.locked_until.is_none());

        let request = pb::CreateStaffRequest {
            login: " nhung.nguyen ".into(),
            full_name: "Nguyễn Thị Hồng Nhung".into(),
            role: pb::Role::OfficeTeam.into(),
        };
        let new = create_staff(request.clone()).unwrap();
        assert_eq!(
            (new.login.as_str(), new.role),
            ("nhung.nguyen", Role::OfficeTeam)
        );
        let no_role = pb::CreateStaffRequest { role: 0, ..request };
        assert_eq!(create_staff(no_role).unwrap_err().field, "role");
    }
}
