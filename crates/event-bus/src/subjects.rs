//! NATS subject names, stream names and inbox prefixes of the external contract (`docs/contract.md`).
//!
//! Every name a school agent or the district aggregator puts on the wire is built here, from
//! validated codes, so that the two sides cannot drift apart and no code can smuggle a `.`, `*`,
//! `>` or whitespace into a subject (which would silently change which subjects a filter or a
//! permission matches).
//!
//! Codes are plain slugs: lowercase ASCII letters, digits and single hyphens, 1 to 63
//! characters, no leading or trailing hyphen (`dong-thap`, `tam-nong`, `thcs-an-hoa`). A code is
//! unique only within its parent, which is why every name carries the whole path
//! province → district → school.
//!
//! The layout:
//!
//! | what                                | name                                              |
//! |-------------------------------------|---------------------------------------------------|
//! | a school's events                   | `truyenthong.events.<province>.<district>.<school>` |
//! | the district office's own events    | `truyenthong.events.<province>.<district>._district` |
//! | all events of a district (filter)   | `truyenthong.events.<province>.<district>.>`        |
//! | re-send requests to a school        | `truyenthong.replay.<province>.<district>.<school>` |
//! | a school's inbox prefix             | `_INBOX.<province>.<district>.<school>`             |
//! | the district's stream               | `TRUYENTHONG_<PROVINCE>_<DISTRICT>`                 |

use std::fmt;

use serde::{Deserialize, Serialize};

/// First two tokens of every events subject.
pub const EVENTS_PREFIX: &str = "truyenthong.events";
/// First two tokens of every re-send request subject.
pub const REPLAY_PREFIX: &str = "truyenthong.replay";
/// Prefix of the subjects schools announce their log's head on (core NATS, not stored):
/// `truyenthong.heads.<province>.<district>.<school>`.
pub const HEADS_PREFIX: &str = "truyenthong.heads";
/// Last token of the district office's own events subject. The leading underscore cannot
/// appear in a slug, so it can never be mistaken for a school code.
pub const DISTRICT_OWN_TOKEN: &str = "_district";
/// First token of every inbox; a school's inbox prefix extends it with its address.
pub const INBOX_ROOT: &str = "_INBOX";
/// The token that ends the aggregator's inbox prefix, `_INBOX.<province>.<district>._aggregator`.
/// Like `_district`, it cannot be a school code: slugs have no `_`.
pub const AGGREGATOR_INBOX_TOKEN: &str = "_aggregator";
/// Prefix of every district stream name.
pub const STREAM_PREFIX: &str = "TRUYENTHONG";
/// Longest accepted code, in characters (the longest DNS label, a familiar bound).
pub const SLUG_MAX_LEN: usize = 63;

/// Which part of an address a code belongs to; used to say which one is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressPart {
    /// The province code (`dong-thap`).
    Province,
    /// The district code (`tam-nong`).
    District,
    /// The school code (`thcs-an-hoa`).
    School,
}

impl fmt::Display for AddressPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressPart::Province => "province",
            AddressPart::District => "district",
            AddressPart::School => "school",
        })
    }
}

/// Why a string is not a valid code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    /// The code is the empty string.
    #[error("is empty")]
    Empty,
    /// The code is longer than [`SLUG_MAX_LEN`].
    #[error("is {len} characters long; at most {SLUG_MAX_LEN} are allowed")]
    TooLong {
        /// Its length in characters.
        len: usize,
    },
    /// The code contains a character outside `a-z`, `0-9` and `-`.
    #[error(
        "contains {found:?} at position {position}; only lowercase ASCII letters, digits and single hyphens are allowed"
    )]
    InvalidChar {
        /// The offending character.
        found: char,
        /// Its position, counting characters from 1.
        position: usize,
    },
    /// The code starts with `-`.
    #[error("starts with a hyphen")]
    LeadingHyphen,
    /// The code ends with `-`.
    #[error("ends with a hyphen")]
    TrailingHyphen,
    /// The code contains `--`.
    #[error("contains two hyphens in a row at position {position}")]
    DoubleHyphen {
        /// Position of the second hyphen, counting characters from 1.
        position: usize,
    },
}

/// A code that is not a valid slug, naming which part of the address it was given for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{part} code {value:?} {reason}")]
pub struct AddressError {
    /// Which part of the address is wrong.
    pub part: AddressPart,
    /// The rejected value, as given.
    pub value: String,
    /// The rule it breaks.
    pub reason: SlugError,
}

/// Checks one code against the slug rules.
pub fn validate_slug(value: &str) -> Result<(), SlugError> {
    if value.is_empty() {
        return Err(SlugError::Empty);
    }
    let len = value.chars().count();
    if len > SLUG_MAX_LEN {
        return Err(SlugError::TooLong { len });
    }
    let mut previous_hyphen = false;
    for (index, c) in value.chars().enumerate() {
        let position = index + 1;
        match c {
            'a'..='z' | '0'..='9' => previous_hyphen = false,
            '-' if index == 0 => return Err(SlugError::LeadingHyphen),
            '-' if previous_hyphen => return Err(SlugError::DoubleHyphen { position }),
            '-' => previous_hyphen = true,
            found => return Err(SlugError::InvalidChar { found, position }),
        }
    }
    if previous_hyphen {
        return Err(SlugError::TrailingHyphen);
    }
    Ok(())
}

fn check(part: AddressPart, value: &str) -> Result<(), AddressError> {
    validate_slug(value).map_err(|reason| AddressError {
        part,
        value: value.to_owned(),
        reason,
    })
}

fn check_district(province: &str, district: &str) -> Result<(), AddressError> {
    check(AddressPart::Province, province)?;
    check(AddressPart::District, district)
}

/// Where a school sits: province, district and school codes, each a validated slug.
///
/// The fields are private so that every `SchoolAddress` in the program is valid; build one with
/// [`SchoolAddress::parse`] (or deserialise one, which validates the same way).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "RawSchoolAddress")]
pub struct SchoolAddress {
    province: String,
    district: String,
    school: String,
}

#[derive(Deserialize)]
struct RawSchoolAddress {
    province: String,
    district: String,
    school: String,
}

impl TryFrom<RawSchoolAddress> for SchoolAddress {
    type Error = AddressError;

    fn try_from(raw: RawSchoolAddress) -> Result<Self, Self::Error> {
        SchoolAddress::parse(&raw.province, &raw.district, &raw.school)
    }
}

impl SchoolAddress {
    /// Validates the three codes; the error names the first one that is wrong.
    pub fn parse(province: &str, district: &str, school: &str) -> Result<Self, AddressError> {
        check(AddressPart::Province, province)?;
        check(AddressPart::District, district)?;
        check(AddressPart::School, school)?;
        Ok(SchoolAddress {
            province: province.to_owned(),
            district: district.to_owned(),
            school: school.to_owned(),
        })
    }

    /// The province code.
    pub fn province(&self) -> &str {
        &self.province
    }

    /// The district code.
    pub fn district(&self) -> &str {
        &self.district
    }

    /// The school code.
    pub fn school(&self) -> &str {
        &self.school
    }
}

impl fmt::Display for SchoolAddress {
    /// `province/district/school`, for logs and messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.province, self.district, self.school)
    }
}

/// The subject a school publishes its events on:
/// `truyenthong.events.<province>.<district>.<school>`.
pub fn events_subject(school: &SchoolAddress) -> String {
    format!(
        "{EVENTS_PREFIX}.{}.{}.{}",
        school.province, school.district, school.school
    )
}

/// The filter matching every events subject of a district, schools and district office alike:
/// `truyenthong.events.<province>.<district>.>`. It is the district stream's subject and the
/// aggregator's consumer filter.
pub fn district_events_filter(province: &str, district: &str) -> Result<String, AddressError> {
    check_district(province, district)?;
    Ok(format!("{EVENTS_PREFIX}.{province}.{district}.>"))
}

/// The subject of the district office's own facts (its plan, school enrolment):
/// `truyenthong.events.<province>.<district>._district`. It sits in the district filter, so
/// the district's own events share the stream and its ordering with the schools' events.
pub fn district_own_subject(province: &str, district: &str) -> Result<String, AddressError> {
    check_district(province, district)?;
    Ok(format!(
        "{EVENTS_PREFIX}.{province}.{district}.{DISTRICT_OWN_TOKEN}"
    ))
}

/// The subject the district sends re-send requests to a school on:
/// `truyenthong.replay.<province>.<district>.<school>`.
pub fn replay_subject(school: &SchoolAddress) -> String {
    format!(
        "{REPLAY_PREFIX}.{}.{}.{}",
        school.province, school.district, school.school
    )
}

/// The inbox prefix a school connects with: `_INBOX.<province>.<district>.<school>`.
///
/// Request replies (JetStream publish acks among them) come back on
/// `<prefix>.<random>...`, so a school's NATS user needs to subscribe only to
/// `_INBOX.<province>.<district>.<school>.>`, not to every `_INBOX.>` (which would let it
/// read other schools' replies).
pub fn inbox_prefix(school: &SchoolAddress) -> String {
    format!(
        "{INBOX_ROOT}.{}.{}.{}",
        school.province, school.district, school.school
    )
}

/// The subject a school announces the head of its log on:
/// `truyenthong.heads.<province>.<district>.<school>`.
pub fn heads_subject(school: &SchoolAddress) -> String {
    format!(
        "{HEADS_PREFIX}.{}.{}.{}",
        school.province, school.district, school.school
    )
}

/// Every school's heads subject of a district: `truyenthong.heads.<province>.<district>.*`.
pub fn district_heads_filter(province: &str, district: &str) -> Result<String, AddressError> {
    check_district(province, district)?;
    Ok(format!("{HEADS_PREFIX}.{province}.{district}.*"))
}

/// Parses a heads subject back into the school's address.
pub fn parse_heads_subject(subject: &str) -> Option<SchoolAddress> {
    let rest = subject.strip_prefix(HEADS_PREFIX)?.strip_prefix('.')?;
    let mut tokens = rest.split('.');
    let (province, district, school) = (tokens.next()?, tokens.next()?, tokens.next()?);
    if tokens.next().is_some() {
        return None;
    }
    SchoolAddress::parse(province, district, school).ok()
}

/// The inbox prefix the district aggregator connects with:
/// `_INBOX.<province>.<district>._aggregator`, so that its NATS user, too, needs only its own
/// replies and never a school's.
pub fn aggregator_inbox_prefix(province: &str, district: &str) -> Result<String, AddressError> {
    check_district(province, district)?;
    Ok(format!(
        "{INBOX_ROOT}.{province}.{district}.{AGGREGATOR_INBOX_TOKEN}"
    ))
}

/// The JetStream stream holding a district's events: `TRUYENTHONG_<PROVINCE>_<DISTRICT>`,
/// upper-cased, hyphens kept (`TRUYENTHONG_DONG-THAP_TAM-NONG`).
///
/// Stream names may not contain `.`, `*`, `>` or whitespace; slugs never do. Slugs never
/// contain `_` either, so the name is unambiguous: two different districts never share a
/// stream name.
pub fn stream_name(province: &str, district: &str) -> Result<String, AddressError> {
    check_district(province, district)?;
    Ok(format!(
        "{STREAM_PREFIX}_{}_{}",
        province.to_ascii_uppercase(),
        district.to_ascii_uppercase()
    ))
}

/// The JetStream Object Store bucket of a school's evidence files:
/// `tt-ev_<province>_<district>_<school>` (`tt-ev_dong-thap_tam-nong_thcs-an-hoa`). Objects
/// are named by the file's SHA-256 in lowercase hex.
///
/// Bucket names may hold only `A-Za-z0-9_-`; slugs are lowercase letters, digits and hyphens
/// and never contain `_`, so `_` separates the parts unambiguously. The bucket's stream is
/// `OBJ_<bucket>` and its subjects `$O.<bucket>.C.<chunk id>` (chunks) and
/// `$O.<bucket>.M.<base64 name>` (meta).
pub fn evidence_bucket(school: &SchoolAddress) -> String {
    format!(
        "{EVIDENCE_BUCKET_PREFIX}_{}_{}_{}",
        school.province, school.district, school.school
    )
}

/// The prefix of every school's evidence bucket (see [`evidence_bucket`]).
pub const EVIDENCE_BUCKET_PREFIX: &str = "tt-ev";

/// Who published on an events subject, read from the subject alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventOrigin {
    /// A school's subject.
    School(SchoolAddress),
    /// The district office's own subject (`..._district`).
    DistrictOffice {
        /// The province code.
        province: String,
        /// The district code.
        district: String,
    },
}

/// Parses an events subject, school or district office.
///
/// Returns `None` for anything that is not exactly
/// `truyenthong.events.<province>.<district>.<school|_district>` with valid codes.
pub fn parse_event_origin(subject: &str) -> Option<EventOrigin> {
    let rest = subject.strip_prefix(EVENTS_PREFIX)?.strip_prefix('.')?;
    let mut tokens = rest.split('.');
    let (province, district, last) = (tokens.next()?, tokens.next()?, tokens.next()?);
    if tokens.next().is_some() {
        return None;
    }
    if last == DISTRICT_OWN_TOKEN {
        check_district(province, district).ok()?;
        return Some(EventOrigin::DistrictOffice {
            province: province.to_owned(),
            district: district.to_owned(),
        });
    }
    SchoolAddress::parse(province, district, last)
        .ok()
        .map(EventOrigin::School)
}

/// Parses a school's events subject back into its address; the aggregator uses it to check
/// that an event's body names the school its subject says it comes from.
///
/// Returns `None` for the district office's own subject (see [`parse_event_origin`]) and for
/// anything that is not a well-formed school events subject.
pub fn parse_events_subject(subject: &str) -> Option<SchoolAddress> {
    match parse_event_origin(subject)? {
        EventOrigin::School(school) => Some(school),
        EventOrigin::DistrictOffice { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn an_hoa() -> SchoolAddress {
        SchoolAddress::parse("dong-thap", "tam-nong", "thcs-an-hoa").unwrap()
    }

    #[test]
    fn valid_slugs() {
        for slug in ["a", "dong-thap", "thcs-an-hoa", "x1", "9", &"a".repeat(63)] {
            assert_eq!(validate_slug(slug), Ok(()), "{slug}");
        }
    }

    #[test]
    fn invalid_slugs_say_why() {
        assert_eq!(validate_slug(""), Err(SlugError::Empty));
        assert_eq!(
            validate_slug(&"a".repeat(64)),
            Err(SlugError::TooLong { len: 64 })
        );
        assert_eq!(validate_slug("-ab"), Err(SlugError::LeadingHyphen));
        assert_eq!(validate_slug("ab-"), Err(SlugError::TrailingHyphen));
        assert_eq!(validate_slug("-"), Err(SlugError::LeadingHyphen));
        assert_eq!(
            validate_slug("a--b"),
            Err(SlugError::DoubleHyphen { position: 3 })
        );
        assert_eq!(
            validate_slug("Dong-thap"),
            Err(SlugError::InvalidChar {
                found: 'D',
                position: 1
            })
        );
        for (bad, found) in [
            ("tam nong", ' '),
            ("tam.nong", '.'),
            ("tam_nong", '_'),
            ("tam*", '*'),
            ("tam>", '>'),
            ("tâm", 'â'),
        ] {
            assert!(
                matches!(validate_slug(bad), Err(SlugError::InvalidChar { found: f, .. }) if f == found),
                "{bad}"
            );
        }
    }

    #[test]
    fn parse_names_the_wrong_part() {
        let err = SchoolAddress::parse("dong-thap", "Tam Nong", "thcs-an-hoa").unwrap_err();
        assert_eq!(err.part, AddressPart::District);
        assert_eq!(err.value, "Tam Nong");
        assert_eq!(
            err.to_string(),
            "district code \"Tam Nong\" contains 'T' at position 1; only lowercase ASCII letters, digits and single hyphens are allowed"
        );
        let err = SchoolAddress::parse("dong-thap", "tam-nong", "").unwrap_err();
        assert_eq!(err.part, AddressPart::School);
        assert_eq!(err.to_string(), "school code \"\" is empty");
        let err = SchoolAddress::parse("dong-thap-", "tam-nong", "x").unwrap_err();
        assert_eq!(err.part, AddressPart::Province);
    }

    #[test]
    fn subjects_follow_the_contract() {
        let school = an_hoa();
        assert_eq!(
            events_subject(&school),
            "truyenthong.events.dong-thap.tam-nong.thcs-an-hoa"
        );
        assert_eq!(
            replay_subject(&school),
            "truyenthong.replay.dong-thap.tam-nong.thcs-an-hoa"
        );
        assert_eq!(
            inbox_prefix(&school),
            "_INBOX.dong-thap.tam-nong.thcs-an-hoa"
        );
        assert_eq!(
            district_events_filter("dong-thap", "tam-nong").unwrap(),
            "truyenthong.events.dong-thap.tam-nong.>"
        );
        assert_eq!(
            district_own_subject("dong-thap", "tam-nong").unwrap(),
            "truyenthong.events.dong-thap.tam-nong._district"
        );
        assert_eq!(
            stream_name("dong-thap", "tam-nong").unwrap(),
            "TRUYENTHONG_DONG-THAP_TAM-NONG"
        );
        assert_eq!(
            stream_name("phu-tho", "tam-nong").unwrap(),
            "TRUYENTHONG_PHU-THO_TAM-NONG"
        );
    }

    #[test]
    fn district_functions_reject_bad_codes() {
        let err = district_events_filter("dong-thap", "*").unwrap_err();
        assert_eq!(err.part, AddressPart::District);
        let err = stream_name("dong.thap", "tam-nong").unwrap_err();
        assert_eq!(err.part, AddressPart::Province);
        assert!(district_own_subject("dong-thap", ">").is_err());
    }

    #[test]
    fn events_subject_round_trips() {
        let school = an_hoa();
        assert_eq!(parse_events_subject(&events_subject(&school)), Some(school));
    }

    #[test]
    fn parse_events_subject_rejects_everything_else() {
        for subject in [
            "",
            "truyenthong.events",
            "truyenthong.events.",
            "truyenthong.events.dong-thap.tam-nong",
            "truyenthong.events.dong-thap.tam-nong.",
            "truyenthong.events.dong-thap.tam-nong.thcs-an-hoa.extra",
            "truyenthong.events.dong-thap.tam-nong.>",
            "truyenthong.events.dong-thap.tam-nong.*",
            "truyenthong.events.dong-thap.tam-nong._district",
            "truyenthong.replay.dong-thap.tam-nong.thcs-an-hoa",
            "truyenthong.eventsx.dong-thap.tam-nong.thcs-an-hoa",
            "xtruyenthong.events.dong-thap.tam-nong.thcs-an-hoa",
            "truyenthong.events.dong-thap.tam-nong.THCS",
            "truyenthong.events..tam-nong.thcs-an-hoa",
        ] {
            assert_eq!(parse_events_subject(subject), None, "{subject:?}");
        }
    }

    #[test]
    fn district_own_subject_is_its_own_origin() {
        let subject = district_own_subject("dong-thap", "tam-nong").unwrap();
        assert_eq!(
            parse_event_origin(&subject),
            Some(EventOrigin::DistrictOffice {
                province: "dong-thap".into(),
                district: "tam-nong".into()
            })
        );
        assert_eq!(
            parse_event_origin(&events_subject(&an_hoa())),
            Some(EventOrigin::School(an_hoa()))
        );
    }

    #[test]
    fn school_subjects_fall_inside_the_district_filter() {
        // Same token count as the filter's prefix plus exactly one more token, which `>`
        // matches; checked by hand since there is no subject matcher here.
        let filter = district_events_filter("dong-thap", "tam-nong").unwrap();
        let prefix = filter.trim_end_matches('>');
        assert!(events_subject(&an_hoa()).starts_with(prefix));
        assert!(
            district_own_subject("dong-thap", "tam-nong")
                .unwrap()
                .starts_with(prefix)
        );
        let other = SchoolAddress::parse("phu-tho", "tam-nong", "thcs-an-hoa").unwrap();
        assert!(!events_subject(&other).starts_with(prefix));
    }

    #[test]
    fn deserialising_validates() {
        let ok: SchoolAddress = serde_json::from_str(
            r#"{"province":"dong-thap","district":"tam-nong","school":"thcs-an-hoa"}"#,
        )
        .unwrap();
        assert_eq!(ok, an_hoa());
        let err = serde_json::from_str::<SchoolAddress>(
            r#"{"province":"dong-thap","district":"tam-nong","school":"THCS An Hoa"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("school code"), "{err}");
    }
}
