//! The closed vocabularies of the plan: roles (Tổ chức thực hiện), channels, the six content
//! areas (Nội dung truyền thông trọng tâm), commendation levels and kinds of nominee.
//!
//! Each has a stable snake_case code (used in JSON events, protobuf enums are mapped at the
//! edge) and a Vietnamese label for people.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Rule};

/// Declares a closed vocabulary with its codes and Vietnamese labels, once.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $expected:literal {
        $($(#[$vmeta:meta])* $variant:ident = $code:literal, $label:literal;)+
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable code, as in JSON events.
            pub fn code(&self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The Vietnamese label for people.
            pub fn label_vi(&self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            /// Parses a code, reporting `field` when it is not one.
            pub fn parse(field: &str, code: &str) -> Result<Self, DomainError> {
                match code {
                    $($code => Ok($name::$variant),)+
                    other => Err(DomainError::invalid(
                        field,
                        Rule::InvalidValue { value: other.to_string(), expected: $expected },
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

/// The district module declares its vocabularies (school levels, target periods) the same way.
pub(crate) use vocabulary;

vocabulary! {
    /// Who does what in the plan's "Tổ chức thực hiện", plus the district office.
    Role, "principal, vice_principal, department_head, office_team, trade_union, teacher or district_office" {
        /// Hiệu trưởng: directs, liaises with press, agencies and associations.
        Principal = "principal", "Hiệu trưởng";
        /// Phó Hiệu trưởng: focal point; radio columns, press material, reporters, channels.
        VicePrincipal = "vice_principal", "Phó Hiệu trưởng";
        /// Tổ trưởng: the web portal in their field; communication in emulation criteria.
        DepartmentHead = "department_head", "Tổ trưởng chuyên môn";
        /// Tổ văn phòng: budget estimate, spending and settlement.
        OfficeTeam = "office_team", "Tổ văn phòng";
        /// Công đoàn: mobilises staff; finds and proposes exemplary people.
        TradeUnion = "trade_union", "Công đoàn";
        /// A teacher or other staff member acting on an assignment.
        Teacher = "teacher", "Giáo viên";
        /// Phòng GD-ĐT: the district office, for the district's own facts.
        DistrictOffice = "district_office", "Phòng GD-ĐT";
    }
}

vocabulary! {
    /// Where communication happens.
    Channel, "district_radio, local_press, central_press, television, school_portal, email, facebook, hotline, reporter_visit, meeting or other" {
        DistrictRadio = "district_radio", "Đài Truyền thanh huyện";
        LocalPress = "local_press", "Báo, đài địa phương";
        CentralPress = "central_press", "Báo, đài Trung ương";
        Television = "television", "Truyền hình";
        SchoolPortal = "school_portal", "Cổng thông tin điện tử của trường";
        Email = "email", "Thư điện tử";
        Facebook = "facebook", "Facebook";
        Hotline = "hotline", "Đường dây nóng";
        ReporterVisit = "reporter_visit", "Phóng viên đến trường";
        Meeting = "meeting", "Hội họp";
        Other = "other", "Kênh khác";
    }
}

vocabulary! {
    /// The level of a commendation, from the school up.
    CommendationLevel, "school, district, province, ministry or government" {
        /// Giấy khen of the principal.
        School = "school", "Giấy khen của Hiệu trưởng";
        /// Giấy khen of the district People's Committee chairman.
        District = "district", "Giấy khen của Chủ tịch UBND huyện";
        /// Bằng khen of the provincial People's Committee.
        Province = "province", "Bằng khen của UBND tỉnh";
        /// Bằng khen of the Minister of Education and Training.
        Ministry = "ministry", "Bằng khen của Bộ trưởng Bộ GDĐT";
        /// Bằng khen of the Prime Minister.
        Government = "government", "Bằng khen của Thủ tướng Chính phủ";
    }
}

vocabulary! {
    /// Whom a nomination is for.
    NomineeKind, "individual or collective" {
        Individual = "individual", "Cá nhân";
        Collective = "collective", "Tập thể";
    }
}

/// One of the six content areas of the plan, by its number 1..=6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum ContentArea {
    /// 1. Quản lý nhà nước về giáo dục và đào tạo trên địa bàn.
    StateManagement = 1,
    /// 2. Đổi mới chương trình, sách giáo khoa phổ thông.
    CurriculumReform = 2,
    /// 3. Nhiệm vụ (ideals and ethics, competency-based teaching, career guidance, …).
    Tasks = 3,
    /// 4. Công tác thi đua, khen thưởng.
    EmulationCommendation = 4,
    /// 5. Cải cách hành chính và sự hài lòng của người dân.
    AdministrativeReform = 5,
    /// 6. Các nội dung khác.
    Other = 6,
}

impl ContentArea {
    pub const ALL: [ContentArea; 6] = [
        ContentArea::StateManagement,
        ContentArea::CurriculumReform,
        ContentArea::Tasks,
        ContentArea::EmulationCommendation,
        ContentArea::AdministrativeReform,
        ContentArea::Other,
    ];

    pub fn number(&self) -> u8 {
        *self as u8
    }

    pub fn from_number(field: &str, number: i64) -> Result<Self, DomainError> {
        match number {
            1..=6 => Ok(Self::ALL[(number - 1) as usize]),
            _ => Err(DomainError::invalid(
                field,
                Rule::UnknownContentArea {
                    area: number.clamp(0, 255) as u8,
                },
            )),
        }
    }

    /// The heading of the area as the plan writes it.
    pub fn label_vi(&self) -> &'static str {
        match self {
            ContentArea::StateManagement => "Quản lý nhà nước về giáo dục và đào tạo trên địa bàn",
            ContentArea::CurriculumReform => "Đổi mới chương trình, sách giáo khoa phổ thông",
            ContentArea::Tasks => "Nhiệm vụ",
            ContentArea::EmulationCommendation => "Công tác thi đua, khen thưởng",
            ContentArea::AdministrativeReform => {
                "Cải cách hành chính và sự hài lòng của người dân đối với lĩnh vực giáo dục"
            }
            ContentArea::Other => "Các nội dung khác",
        }
    }

    /// The area's name where room is short (a table's column or row, a chart's axis): the
    /// plan's heading cut to its core, the same on every surface.
    pub fn short_label_vi(&self) -> &'static str {
        match self {
            ContentArea::StateManagement => "Quản lý nhà nước về GD-ĐT",
            ContentArea::CurriculumReform => "Đổi mới chương trình, SGK",
            ContentArea::Tasks => "Nhiệm vụ",
            ContentArea::EmulationCommendation => "Thi đua, khen thưởng",
            ContentArea::AdministrativeReform => "Cải cách hành chính",
            ContentArea::Other => "Nội dung khác",
        }
    }
}

impl TryFrom<u8> for ContentArea {
    type Error = DomainError;
    fn try_from(n: u8) -> Result<Self, Self::Error> {
        ContentArea::from_number("area", i64::from(n))
    }
}

impl From<ContentArea> for u8 {
    fn from(a: ContentArea) -> u8 {
        a.number()
    }
}

impl fmt::Display for ContentArea {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_names_field() {
        for role in Role::ALL {
            assert_eq!(Role::parse("r", role.code()).unwrap(), *role);
        }
        for ch in Channel::ALL {
            assert_eq!(Channel::parse("c", ch.code()).unwrap(), *ch);
        }
        let err = Channel::parse("activity.channel", "pigeon").unwrap_err();
        assert_eq!(err.field, "activity.channel");
    }

    #[test]
    fn areas_are_one_to_six() {
        assert_eq!(
            ContentArea::from_number("a", 4).unwrap(),
            ContentArea::EmulationCommendation
        );
        assert!(ContentArea::from_number("a", 0).is_err());
        assert!(ContentArea::from_number("a", 7).is_err());
        assert_eq!(serde_json::to_string(&ContentArea::Tasks).unwrap(), "3");
    }

    #[test]
    fn short_area_names_are_distinct_and_short() {
        let short: std::collections::BTreeSet<&str> = ContentArea::ALL
            .iter()
            .map(|a| a.short_label_vi())
            .collect();
        assert_eq!(short.len(), ContentArea::ALL.len());
        for area in ContentArea::ALL {
            let name = area.short_label_vi();
            assert!(name.chars().count() <= 26, "{name}");
            assert!(
                name.chars().count() <= area.label_vi().chars().count(),
                "{name}"
            );
        }
    }
}
