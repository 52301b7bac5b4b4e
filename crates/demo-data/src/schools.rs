//! The demo district: ten schools of Tam Nông (Đồng Tháp), their plans and habits.
//!
//! THCS An Hòa adopts the real seed plan 114/KH-THCSAH; the others adopt plans written the same
//! way under the district's 1442/KH-PGDĐT, with their own number, date and place. Each school
//! has a diligence (how much of the plan it carries out) and may neglect one content area, so
//! the district's views show schools and areas that lag.

use chrono::NaiveDate;
use domain::{ContentArea, DateRange, Plan};

use crate::rng::Rng;

const SEED_PLAN: &str = include_str!("../../../deploy/plans/kh-114-thcs-an-hoa-2017.toml");

/// The seed plan 114/KH-THCSAH of THCS An Hòa, as shipped in `deploy/plans/`.
pub fn seed_plan() -> Plan {
    toml::from_str(SEED_PLAN).expect("the shipped seed plan parses (checked by the domain tests)")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    MamNon,
    TieuHoc,
    Thcs,
}

impl Level {
    pub fn code(&self) -> &'static str {
        match self {
            Level::MamNon => "mam_non",
            Level::TieuHoc => "tieu_hoc",
            Level::Thcs => "thcs",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoSchool {
    pub code: &'static str,
    pub name: &'static str,
    pub level: Level,
    pub commune: &'static str,
    /// Short place name for the plan's place line.
    pub place: &'static str,
    /// The symbol in the school's document numbers (`KH-THCSAH`).
    pub symbol: &'static str,
    pub plan_number: u32,
    pub plan_date: (i32, u32, u32),
    /// 0..=1: how much of the plan the school carries out.
    pub diligence: f64,
    /// A content area the school all but ignores.
    pub neglects: Option<u8>,
}

macro_rules! school {
    ($code:literal, $name:literal, $level:ident, $commune:literal, $place:literal, $symbol:literal, $n:literal, $date:expr, $dil:literal, $neg:expr) => {
        DemoSchool {
            code: $code,
            name: $name,
            level: Level::$level,
            commune: $commune,
            place: $place,
            symbol: $symbol,
            plan_number: $n,
            plan_date: $date,
            diligence: $dil,
            neglects: $neg,
        }
    };
}

pub const TAM_NONG_SCHOOLS: &[DemoSchool] = &[
    school!(
        "thcs-an-hoa",
        "Trường THCS An Hòa",
        Thcs,
        "xã An Hòa",
        "An Hòa",
        "THCSAH",
        114,
        (2017, 10, 20),
        0.95,
        None
    ),
    school!(
        "thcs-an-long",
        "Trường THCS An Long",
        Thcs,
        "xã An Long",
        "An Long",
        "THCSAL",
        98,
        (2017, 10, 23),
        0.85,
        None
    ),
    school!(
        "thcs-phu-cuong",
        "Trường THCS Phú Cường",
        Thcs,
        "xã Phú Cường",
        "Phú Cường",
        "THCSPC",
        76,
        (2017, 10, 25),
        0.45,
        Some(5)
    ),
    school!(
        "thcs-tram-chim",
        "Trường THCS Thị trấn Tràm Chim",
        Thcs,
        "thị trấn Tràm Chim",
        "Tràm Chim",
        "THCSTC",
        131,
        (2017, 10, 20),
        0.9,
        None
    ),
    school!(
        "th-tram-chim-1",
        "Trường Tiểu học Thị trấn Tràm Chim 1",
        TieuHoc,
        "thị trấn Tràm Chim",
        "Tràm Chim",
        "THTC1",
        65,
        (2017, 10, 24),
        0.8,
        None
    ),
    school!(
        "th-phu-duc",
        "Trường Tiểu học Phú Đức",
        TieuHoc,
        "xã Phú Đức",
        "Phú Đức",
        "THPĐ",
        52,
        (2017, 10, 26),
        0.6,
        Some(1)
    ),
    school!(
        "th-an-phong",
        "Trường Tiểu học An Phong",
        TieuHoc,
        "xã An Phong",
        "An Phong",
        "THAP",
        47,
        (2017, 10, 27),
        0.3,
        Some(2)
    ),
    school!(
        "mn-phu-hiep",
        "Trường Mầm non Phú Hiệp",
        MamNon,
        "xã Phú Hiệp",
        "Phú Hiệp",
        "MNPH",
        39,
        (2017, 10, 30),
        0.7,
        None
    ),
    school!(
        "mn-tan-cong-sinh",
        "Trường Mầm non Tân Công Sính",
        MamNon,
        "xã Tân Công Sính",
        "Tân Công Sính",
        "MNTCS",
        28,
        (2017, 11, 2),
        0.5,
        Some(4)
    ),
    school!(
        "mn-hoa-binh",
        "Trường Mầm non Hòa Bình",
        MamNon,
        "xã Hòa Bình",
        "Hòa Bình",
        "MNHB",
        33,
        (2017, 10, 31),
        0.75,
        None
    ),
];

/// FNV-1a: a stable hash of a school code for seeding.
pub fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl DemoSchool {
    pub fn plan_date(&self) -> NaiveDate {
        let (y, m, d) = self.plan_date;
        NaiveDate::from_ymd_opt(y, m, d).expect("demo plan dates are valid")
    }

    /// The school's plan: the seed for An Hòa, a plan written like it for the others.
    pub fn plan(&self) -> Plan {
        let mut plan = seed_plan();
        if self.code == "thcs-an-hoa" {
            return plan;
        }
        plan.number = format!("{}/KH-{}", self.plan_number, self.symbol);
        plan.issuer = self.name.to_string();
        plan.place = self.place.to_string();
        plan.date = self.plan_date();
        plan.period = DateRange::new(self.plan_date(), plan.period.end())
            .expect("plan dates precede 2020-12-31");
        plan.purposes = plan.purposes.replace("trường THCS An Hòa", self.name);
        plan
    }

    /// A content area for the next activity, by the school's level and habits.
    pub fn pick_area(&self, rng: &mut Rng) -> ContentArea {
        let mut weights: [f64; 6] = match self.level {
            Level::Thcs => [0.14, 0.14, 0.36, 0.16, 0.12, 0.08],
            Level::TieuHoc => [0.14, 0.2, 0.3, 0.16, 0.12, 0.08],
            Level::MamNon => [0.2, 0.03, 0.37, 0.18, 0.14, 0.08],
        };
        if let Some(area) = self.neglects {
            weights[usize::from(area - 1)] *= 0.08;
        }
        let total: f64 = weights.iter().sum();
        let mut roll = rng.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if roll < *w {
                return ContentArea::ALL[i];
            }
            roll -= w;
        }
        ContentArea::Other
    }
}
