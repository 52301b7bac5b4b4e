//! The closed vocabularies, both ways: domain → protobuf with `From`, protobuf → domain with
//! a function that names the field (`*_UNSPECIFIED` is `Required`; a number this build does
//! not know is `InvalidValue`).

use domain::roles::{CommendationLevel, NomineeKind};
use domain::{Channel, DomainError, Role, Rule};

use crate::pb;

/// Declares both directions of one enum mapping from a single table.
macro_rules! mapping {
    ($(#[$meta:meta])* $fn:ident, $domain:ident, $pb:ident, $expected:literal {
        $($variant:ident),+ $(,)?
    }) => {
        impl From<$domain> for pb::$pb {
            fn from(value: $domain) -> Self {
                match value {
                    $($domain::$variant => pb::$pb::$variant,)+
                }
            }
        }

        $(#[$meta])*
        pub fn $fn(field: &str, value: i32) -> Result<$domain, DomainError> {
            match pb::$pb::try_from(value) {
                Ok(pb::$pb::Unspecified) => Err(DomainError::invalid(field, Rule::Required)),
                $(Ok(pb::$pb::$variant) => Ok($domain::$variant),)+
                Err(_) => Err(DomainError::invalid(
                    field,
                    Rule::InvalidValue { value: value.to_string(), expected: $expected },
                )),
            }
        }
    };
}

mapping! {
    /// A required role.
    role, Role, Role, "a Role (1..=7)" {
        Principal, VicePrincipal, DepartmentHead, OfficeTeam, TradeUnion, Teacher,
        DistrictOffice,
    }
}

mapping! {
    /// A required channel.
    channel, Channel, Channel, "a Channel (1..=11)" {
        DistrictRadio, LocalPress, CentralPress, Television, SchoolPortal, Email, Facebook,
        Hotline, ReporterVisit, Meeting, Other,
    }
}

mapping! {
    /// A required commendation level.
    commendation_level, CommendationLevel, CommendationLevel, "a CommendationLevel (1..=5)" {
        School, District, Province, Ministry, Government,
    }
}

mapping! {
    /// A required kind of nominee.
    nominee_kind, NomineeKind, NomineeKind, "a NomineeKind (1..=2)" {
        Individual, Collective,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every domain variant maps to a distinct wire value that maps back to it, and the wire
    /// enum has nothing else but `UNSPECIFIED`.
    macro_rules! covers_every_variant {
        ($name:ident, $domain:ident, $pb:ident, $fn:ident) => {
            #[test]
            fn $name() {
                let mut seen = std::collections::HashSet::new();
                for value in $domain::ALL {
                    let wire = pb::$pb::from(*value);
                    assert_ne!(wire, pb::$pb::Unspecified);
                    assert!(seen.insert(wire as i32), "{value:?} maps to a taken value");
                    assert_eq!($fn("f", wire as i32).unwrap(), *value);
                    // The proto name is the domain code, upper-cased, after the enum prefix.
                    assert!(
                        wire.as_str_name().ends_with(&value.code().to_uppercase()),
                        "{} vs {}",
                        wire.as_str_name(),
                        value.code()
                    );
                }
                let max = seen.iter().copied().max().unwrap();
                assert_eq!(max as usize, $domain::ALL.len(), "wire values are 1..=N");
                assert!(
                    pb::$pb::try_from(max + 1).is_err(),
                    "the wire has more variants"
                );
                let err = $fn("x.kind", 0).unwrap_err();
                assert_eq!((err.field.as_str(), err.rule), ("x.kind", Rule::Required));
                let err = $fn("x.kind", max + 1).unwrap_err();
                assert!(matches!(err.rule, Rule::InvalidValue { .. }), "{err}");
                assert!($fn("x.kind", -1).is_err());
            }
        };
    }

    covers_every_variant!(roles, Role, Role, role);
    covers_every_variant!(channels, Channel, Channel, channel);
    covers_every_variant!(
        levels,
        CommendationLevel,
        CommendationLevel,
        commendation_level
    );
    covers_every_variant!(nominee_kinds, NomineeKind, NomineeKind, nominee_kind);
}
