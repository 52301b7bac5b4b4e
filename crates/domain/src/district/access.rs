//! Who may do what at the district: the roles of district accounts, the permissions the
//! aggregator checks, and how much of the district each caller sees.
//!
//! A pure table, so that the aggregator's authorisation (and the dashboard's menus) read one
//! definition and the table is tested without a server. The aggregator resolves a call's
//! credential into a [`Principal`]; [`Principal::allows`] says whether it may make the call and
//! [`Principal::scope`] what part of the district its answers may show.

use std::fmt;

use crate::codes::Slug;

/// The role of a district account (`quan-tri`, `chuyen-vien`, `lanh-dao`, `hieu-truong`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountRole {
    /// Quản trị: accounts, enrolment, the district plan, credentials; sees everything.
    Administrator,
    /// Chuyên viên: every school's views, reports, dead letters, ingest state.
    Officer,
    /// Lãnh đạo phòng: as an officer, and signs reports.
    HeadOfOffice,
    /// Hiệu trưởng: one school's head; sees only that school.
    SchoolHead,
}

impl AccountRole {
    pub const ALL: [AccountRole; 4] = [
        AccountRole::Administrator,
        AccountRole::Officer,
        AccountRole::HeadOfOffice,
        AccountRole::SchoolHead,
    ];

    /// The code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            AccountRole::Administrator => "quan-tri",
            AccountRole::Officer => "chuyen-vien",
            AccountRole::HeadOfOffice => "lanh-dao",
            AccountRole::SchoolHead => "hieu-truong",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.code() == code)
    }

    /// The role's name, for people.
    pub fn vietnamese(self) -> &'static str {
        match self {
            AccountRole::Administrator => "Quản trị",
            AccountRole::Officer => "Chuyên viên",
            AccountRole::HeadOfOffice => "Lãnh đạo phòng",
            AccountRole::SchoolHead => "Hiệu trưởng",
        }
    }
}

impl fmt::Display for AccountRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What a call needs to be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// The district views (plan view, completeness, …), the plan, the schools, the activity
    /// search and watch, the ingest state — within the caller's [`Scope`].
    ReadViews,
    /// The dead letters: messages of any school, so the district only.
    ReadDeadLetters,
    /// EnrollSchool.
    EnrollSchools,
    /// AdoptDistrictPlan.
    AdoptDistrictPlan,
    /// Accounts: list, create, reset, enable and disable.
    ManageAccounts,
    /// Service tokens: issue, revoke, list.
    ManageServiceTokens,
    /// The audit trail.
    ReadAudit,
    /// Record in the audit trail what a service did (a report download).
    RecordAudit,
    /// Sign a report as the head of the office.
    SignReports,
    /// ImportBundle and ExportReply: a school's signed bundle carried on a USB stick, and the
    /// reply carried back — the officers' work, like the dead letters.
    ImportBundles,
}

impl Permission {
    pub const ALL: [Permission; 10] = [
        Permission::ReadViews,
        Permission::ReadDeadLetters,
        Permission::EnrollSchools,
        Permission::AdoptDistrictPlan,
        Permission::ManageAccounts,
        Permission::ManageServiceTokens,
        Permission::ReadAudit,
        Permission::RecordAudit,
        Permission::SignReports,
        Permission::ImportBundles,
    ];

    /// What the permission lets one do, in English, for status messages.
    pub fn english(self) -> &'static str {
        match self {
            Permission::ReadViews => "read the district views",
            Permission::ReadDeadLetters => "read the dead letters",
            Permission::EnrollSchools => "enrol schools",
            Permission::AdoptDistrictPlan => "adopt the district plan",
            Permission::ManageAccounts => "manage accounts",
            Permission::ManageServiceTokens => "manage service tokens",
            Permission::ReadAudit => "read the audit trail",
            Permission::RecordAudit => "record audit entries",
            Permission::SignReports => "sign reports",
            Permission::ImportBundles => "import school bundles",
        }
    }

    /// The same, in Vietnamese, completing «… không được …».
    pub fn vietnamese(self) -> &'static str {
        match self {
            Permission::ReadViews => "xem số liệu của huyện",
            Permission::ReadDeadLetters => "xem các thư lỗi (thư chết)",
            Permission::EnrollSchools => "ghi danh trường",
            Permission::AdoptDistrictPlan => "ban hành kế hoạch của Phòng",
            Permission::ManageAccounts => "quản lý tài khoản",
            Permission::ManageServiceTokens => "cấp hoặc thu hồi khóa dịch vụ",
            Permission::ReadAudit => "xem nhật ký truy cập",
            Permission::RecordAudit => "ghi nhật ký thay cho dịch vụ",
            Permission::SignReports => "ký báo cáo",
            Permission::ImportBundles => "nhập gói dữ liệu của trường",
        }
    }
}

/// What a person's role may do, acting directly or through a service.
pub fn role_allows(role: AccountRole, permission: Permission) -> bool {
    use AccountRole as R;
    use Permission as P;
    match permission {
        P::ReadViews => true,
        P::ReadDeadLetters => matches!(role, R::Administrator | R::Officer | R::HeadOfOffice),
        P::ImportBundles => matches!(role, R::Administrator | R::Officer),
        P::EnrollSchools
        | P::AdoptDistrictPlan
        | P::ManageAccounts
        | P::ManageServiceTokens
        | P::ReadAudit => role == R::Administrator,
        P::SignReports => role == R::HeadOfOffice,
        // Only a service records what it did for a person.
        P::RecordAudit => false,
    }
}

/// What a service's own token (no person on whose behalf) may do: read everything the district
/// shows, so reporting and the dashboard work as a service identity, and record audit entries;
/// never change the district's facts or its accounts.
pub fn service_allows(permission: Permission) -> bool {
    matches!(
        permission,
        Permission::ReadViews | Permission::ReadDeadLetters | Permission::RecordAudit
    )
}

/// How much of the district a caller's answers may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every school.
    District,
    /// This school alone.
    School(Slug),
    /// No school at all (a school head whose school is unknown).
    Nothing,
}

impl Scope {
    /// Whether rows of `school` may be shown.
    pub fn includes(&self, school: &str) -> bool {
        match self {
            Scope::District => true,
            Scope::School(own) => own.as_str() == school,
            Scope::Nothing => false,
        }
    }
}

/// A signed-in person, as the aggregator knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub login: String,
    pub full_name: String,
    pub role: AccountRole,
    /// The school of a school head.
    pub school: Option<Slug>,
}

/// Who makes a call: a person (directly, or through `service`), or a service on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Person {
        person: Person,
        /// The service it came through (`reporting`), if any.
        via: Option<String>,
    },
    Service(String),
}

impl Principal {
    pub fn allows(&self, permission: Permission) -> bool {
        match self {
            Principal::Person { person, via } => {
                // A person may record audit entries only through a service (which records
                // what it did for them); everything else follows their role.
                if permission == Permission::RecordAudit {
                    return via.is_some();
                }
                role_allows(person.role, permission)
            }
            Principal::Service(_) => service_allows(permission),
        }
    }

    /// The part of the district the caller's answers show. A school head without a school
    /// (never stored so: the database requires it) sees nothing, never the whole district.
    pub fn scope(&self) -> Scope {
        match self {
            Principal::Person { person, .. } if person.role == AccountRole::SchoolHead => {
                match &person.school {
                    Some(school) => Scope::School(school.clone()),
                    None => Scope::Nothing,
                }
            }
            _ => Scope::District,
        }
    }

    /// The role's name (or «dịch vụ …») for a refusal.
    pub fn vietnamese(&self) -> String {
        match self {
            Principal::Person { person, .. } => person.role.vietnamese().to_owned(),
            Principal::Service(name) => format!("dịch vụ {name}"),
        }
    }

    /// The same in English.
    pub fn english(&self) -> String {
        match self {
            Principal::Person { person, .. } => format!("role {}", person.role.code()),
            Principal::Service(name) => format!("service {name} (without a person)"),
        }
    }

    /// The refusal of `permission`, in Vietnamese: «Tài khoản Hiệu trưởng không được xem …».
    pub fn refusal_vietnamese(&self, permission: Permission) -> String {
        format!(
            "Tài khoản {} không được {}.",
            self.vietnamese(),
            permission.vietnamese()
        )
    }

    /// The refusal of `permission`, in English, naming the role and the rule.
    pub fn refusal_english(&self, permission: Permission) -> String {
        format!("{} may not {}", self.english(), permission.english())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn person(role: AccountRole, school: Option<&str>) -> Principal {
        Principal::Person {
            person: Person {
                login: "hong.nguyen".into(),
                full_name: "Nguyễn Thị Hồng".into(),
                role,
                school: school.map(|s| Slug::parse("school", s).unwrap()),
            },
            via: None,
        }
    }

    #[test]
    fn role_codes_round_trip() {
        for role in AccountRole::ALL {
            assert_eq!(AccountRole::from_code(role.code()), Some(role));
        }
        assert_eq!(AccountRole::from_code("admin"), None);
    }

    #[test]
    fn the_table() {
        use AccountRole as R;
        use Permission as P;
        // (permission, administrator, officer, head of office, school head, service)
        let table = [
            (P::ReadViews, true, true, true, true, true),
            (P::ReadDeadLetters, true, true, true, false, true),
            (P::EnrollSchools, true, false, false, false, false),
            (P::AdoptDistrictPlan, true, false, false, false, false),
            (P::ManageAccounts, true, false, false, false, false),
            (P::ManageServiceTokens, true, false, false, false, false),
            (P::ReadAudit, true, false, false, false, false),
            (P::RecordAudit, false, false, false, false, true),
            (P::SignReports, false, false, true, false, false),
            (P::ImportBundles, true, true, false, false, false),
        ];
        assert_eq!(table.len(), Permission::ALL.len());
        for (permission, admin, officer, head, school_head, service) in table {
            assert_eq!(
                role_allows(R::Administrator, permission),
                admin,
                "{permission:?}"
            );
            assert_eq!(
                role_allows(R::Officer, permission),
                officer,
                "{permission:?}"
            );
            assert_eq!(
                role_allows(R::HeadOfOffice, permission),
                head,
                "{permission:?}"
            );
            assert_eq!(
                role_allows(R::SchoolHead, permission),
                school_head,
                "{permission:?}"
            );
            assert_eq!(service_allows(permission), service, "{permission:?}");
        }
    }

    #[test]
    fn a_person_records_audit_only_through_a_service() {
        let direct = person(AccountRole::Officer, None);
        assert!(!direct.allows(Permission::RecordAudit));
        let Principal::Person { person, .. } = direct else {
            unreachable!()
        };
        let via = Principal::Person {
            person,
            via: Some("reporting".into()),
        };
        assert!(via.allows(Permission::RecordAudit));
        assert!(!via.allows(Permission::EnrollSchools));
    }

    #[test]
    fn a_school_head_sees_their_school_alone() {
        let head = person(AccountRole::SchoolHead, Some("thcs-an-hoa"));
        assert!(head.scope().includes("thcs-an-hoa"));
        assert!(!head.scope().includes("th-phu-duc"));
        let stray = person(AccountRole::SchoolHead, None);
        assert!(!stray.scope().includes("thcs-an-hoa"));
        assert_eq!(person(AccountRole::Officer, None).scope(), Scope::District);
        assert_eq!(
            Principal::Service("reporting".into()).scope(),
            Scope::District
        );
    }

    #[test]
    fn a_refusal_names_the_role_and_what_it_may_not_do() {
        let head = person(AccountRole::SchoolHead, Some("thcs-an-hoa"));
        assert_eq!(
            head.refusal_vietnamese(Permission::ReadDeadLetters),
            "Tài khoản Hiệu trưởng không được xem các thư lỗi (thư chết)."
        );
        assert_eq!(
            head.refusal_english(Permission::ReadDeadLetters),
            "role hieu-truong may not read the dead letters"
        );
    }
}
