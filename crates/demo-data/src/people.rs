//! Names of the people who record, call, write and are commended.

use domain::Role;

use crate::rng::Rng;

const SURNAMES: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Lý",
];
const MIDDLE_F: &[&str] = &[
    "Thị",
    "Thị Mỹ",
    "Thị Ngọc",
    "Thị Thanh",
    "Thị Kim",
    "Thị Hồng",
];
const MIDDLE_M: &[&str] = &["Văn", "Hữu", "Minh", "Quốc", "Thành", "Công"];
const GIVEN_F: &[&str] = &[
    "Lan",
    "Hương",
    "Duyên",
    "Nhung",
    "Trang",
    "Thảo",
    "Phượng",
    "Yến",
    "Loan",
    "Diễm",
];
const GIVEN_M: &[&str] = &[
    "Hùng", "Dũng", "Phúc", "Tâm", "Khoa", "Lộc", "Tài", "Nghĩa", "Hiếu", "Toàn",
];
const CLASSES: &[&str] = &[
    "6A", "6B", "7A", "7B", "8A", "8C", "9A", "9B", "Lá 1", "Chồi 2", "3A", "5B",
];

pub fn person(rng: &mut Rng) -> (String, bool) {
    let female = rng.chance(0.6);
    let name = if female {
        format!(
            "{} {} {}",
            rng.pick(SURNAMES),
            rng.pick(MIDDLE_F),
            rng.pick(GIVEN_F)
        )
    } else {
        format!(
            "{} {} {}",
            rng.pick(SURNAMES),
            rng.pick(MIDDLE_M),
            rng.pick(GIVEN_M)
        )
    };
    (name, female)
}

pub fn teacher(rng: &mut Rng) -> String {
    let (name, female) = person(rng);
    format!("{} {name}", if female { "Cô" } else { "Thầy" })
}

pub fn parent(rng: &mut Rng) -> String {
    let (child, _) = person(rng);
    format!("Phụ huynh em {child} (lớp {})", rng.pick(CLASSES))
}

pub fn reporter(rng: &mut Rng) -> String {
    format!("Phóng viên {}", person(rng).0)
}

/// The staff of one school who record its events.
#[derive(Debug, Clone)]
pub struct Staff {
    principal: String,
    vice_principal: String,
    department_head: String,
    office: String,
    union: String,
    teacher: String,
}

impl Staff {
    pub fn new(rng: &mut Rng) -> Self {
        Self {
            principal: person(rng).0,
            vice_principal: person(rng).0,
            department_head: person(rng).0,
            office: person(rng).0,
            union: person(rng).0,
            teacher: person(rng).0,
        }
    }

    pub fn name(&self, role: Role) -> &str {
        match role {
            Role::Principal | Role::DistrictOffice => &self.principal,
            Role::VicePrincipal => &self.vice_principal,
            Role::DepartmentHead => &self.department_head,
            Role::OfficeTeam => &self.office,
            Role::TradeUnion => &self.union,
            Role::Teacher => &self.teacher,
        }
    }
}
