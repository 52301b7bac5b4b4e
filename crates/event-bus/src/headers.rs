//! CloudEvents headers of an event message (CloudEvents NATS protocol binding, binary mode).
//!
//! The body of a message is the event's JSON; the headers repeat the few envelope attributes
//! that routers, dead-letter tools and other streams need without parsing the body:
//! `ce-specversion`, `ce-id`, `ce-source`, `ce-type`, `ce-time` and `content-type`. They also
//! carry `Nats-Msg-Id` equal to the event id, which is what makes JetStream drop a re-sent
//! event inside the stream's duplicate window — and, because the id is globally unique, in any
//! province-level stream that gathers district streams too.
//!
//! This module only builds and reads headers; it knows nothing about event types or bodies.

use async_nats::HeaderMap;
use async_nats::header::{HeaderValue, NATS_MESSAGE_ID};
use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use crate::subjects::SchoolAddress;

/// `ce-specversion`.
pub const CE_SPECVERSION: &str = "ce-specversion";
/// `ce-id`.
pub const CE_ID: &str = "ce-id";
/// `ce-source`.
pub const CE_SOURCE: &str = "ce-source";
/// `ce-type`.
pub const CE_TYPE: &str = "ce-type";
/// `ce-time`.
pub const CE_TIME: &str = "ce-time";
/// `content-type`.
pub const CONTENT_TYPE: &str = "content-type";
/// `Nats-Msg-Id` (JetStream's de-duplication key).
pub const NATS_MSG_ID: &str = "Nats-Msg-Id";
/// The only CloudEvents version written and accepted.
pub const SPEC_VERSION: &str = "1.0";
/// The body's media type.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// The CloudEvents attributes carried in headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudEventHeaders {
    /// The event id (a UUIDv7 in this system); also the `Nats-Msg-Id`.
    pub id: Uuid,
    /// Who produced the event, e.g. [`source_for`] a school.
    pub source: String,
    /// The event type, as in the body's `type`.
    pub event_type: String,
    /// When the event was recorded (UTC).
    pub time: DateTime<Utc>,
}

/// Why headers could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// A header the contract requires is absent (or the message has no headers at all).
    #[error("header {header} is missing")]
    Missing {
        /// The header name.
        header: &'static str,
    },
    /// A header is present but its value breaks a rule.
    #[error("header {header} value {value:?} is invalid: {reason}")]
    Invalid {
        /// The header name.
        header: &'static str,
        /// The value found (or to be written).
        value: String,
        /// The rule it breaks.
        reason: String,
    },
}

/// The CloudEvents source of a school's events: `/truyenthong/<province>/<district>/<school>`.
pub fn source_for(school: &SchoolAddress) -> String {
    format!(
        "/truyenthong/{}/{}/{}",
        school.province(),
        school.district(),
        school.school()
    )
}

fn text_value(header: &'static str, value: &str) -> Result<HeaderValue, HeaderError> {
    let invalid = |reason: &str| HeaderError::Invalid {
        header,
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    if value.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid("must not contain control characters"));
    }
    // Never panics: control characters (CR and LF among them) were rejected above.
    value
        .parse()
        .map_err(|_| invalid("must not contain CR or LF"))
}

impl CloudEventHeaders {
    /// The header map to publish with.
    ///
    /// Fails if `source` or `event_type` is empty or contains control characters (async-nats
    /// would panic on CR/LF, and a header value cannot carry them on the wire anyway).
    pub fn to_header_map(&self) -> Result<HeaderMap, HeaderError> {
        let id = self.id.to_string();
        let mut map = HeaderMap::new();
        map.insert(CE_SPECVERSION, SPEC_VERSION);
        map.insert(CE_ID, id.as_str());
        map.insert(CE_SOURCE, text_value(CE_SOURCE, &self.source)?);
        map.insert(CE_TYPE, text_value(CE_TYPE, &self.event_type)?);
        map.insert(
            CE_TIME,
            self.time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        );
        map.insert(CONTENT_TYPE, JSON_CONTENT_TYPE);
        map.insert(NATS_MESSAGE_ID, id);
        Ok(map)
    }

    /// Reads the headers of a received message back.
    ///
    /// Requires every header the contract names, `ce-specversion` equal to `1.0`, a
    /// `content-type` of `application/json` (parameters such as `; charset=utf-8` allowed),
    /// and `Nats-Msg-Id` equal to `ce-id`. Header names are matched exactly first, then
    /// case-insensitively, since not every publisher spells them the same.
    pub fn from_header_map(headers: &HeaderMap) -> Result<Self, HeaderError> {
        let spec = required(headers, CE_SPECVERSION)?;
        if spec != SPEC_VERSION {
            return Err(HeaderError::Invalid {
                header: CE_SPECVERSION,
                value: spec.to_owned(),
                reason: format!("only CloudEvents {SPEC_VERSION} is supported"),
            });
        }

        let id_text = required(headers, CE_ID)?;
        let id = Uuid::parse_str(id_text).map_err(|err| HeaderError::Invalid {
            header: CE_ID,
            value: id_text.to_owned(),
            reason: format!("not a UUID: {err}"),
        })?;

        let msg_id = required(headers, NATS_MSG_ID)?;
        if Uuid::parse_str(msg_id).ok() != Some(id) {
            return Err(HeaderError::Invalid {
                header: NATS_MSG_ID,
                value: msg_id.to_owned(),
                reason: format!("must equal ce-id {id}"),
            });
        }

        let source = required(headers, CE_SOURCE)?;
        if source.is_empty() {
            return Err(HeaderError::Invalid {
                header: CE_SOURCE,
                value: String::new(),
                reason: "must not be empty".into(),
            });
        }

        let event_type = required(headers, CE_TYPE)?;
        if event_type.is_empty() {
            return Err(HeaderError::Invalid {
                header: CE_TYPE,
                value: String::new(),
                reason: "must not be empty".into(),
            });
        }

        let time_text = required(headers, CE_TIME)?;
        let time = DateTime::parse_from_rfc3339(time_text)
            .map_err(|err| HeaderError::Invalid {
                header: CE_TIME,
                value: time_text.to_owned(),
                reason: format!("not an RFC 3339 timestamp: {err}"),
            })?
            .with_timezone(&Utc);

        let content_type = required(headers, CONTENT_TYPE)?;
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        if !media_type.eq_ignore_ascii_case(JSON_CONTENT_TYPE) {
            return Err(HeaderError::Invalid {
                header: CONTENT_TYPE,
                value: content_type.to_owned(),
                reason: format!("must be {JSON_CONTENT_TYPE}"),
            });
        }

        Ok(CloudEventHeaders {
            id,
            source: source.to_owned(),
            event_type: event_type.to_owned(),
            time,
        })
    }
}

/// Looks a header up by its exact name, then case-insensitively.
fn lookup<'a>(headers: &'a HeaderMap, name: &'static str) -> Option<&'a str> {
    if let Some(value) = headers.get(name) {
        return Some(value.as_str());
    }
    headers.iter().find_map(|(key, values)| {
        let key: &str = key.as_ref();
        if key.eq_ignore_ascii_case(name) {
            values.first().map(HeaderValue::as_str)
        } else {
            None
        }
    })
}

fn required<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, HeaderError> {
    lookup(headers, name).ok_or(HeaderError::Missing { header: name })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> CloudEventHeaders {
        let school = SchoolAddress::parse("dong-thap", "tam-nong", "thcs-an-hoa").unwrap();
        CloudEventHeaders {
            id: Uuid::now_v7(),
            source: source_for(&school),
            event_type: "activity.recorded".into(),
            time: Utc.with_ymd_and_hms(2017, 10, 20, 1, 2, 3).unwrap()
                + chrono::Duration::nanoseconds(123_456_789),
        }
    }

    #[test]
    fn source_follows_the_contract() {
        let school = SchoolAddress::parse("dong-thap", "tam-nong", "thcs-an-hoa").unwrap();
        assert_eq!(
            source_for(&school),
            "/truyenthong/dong-thap/tam-nong/thcs-an-hoa"
        );
    }

    #[test]
    fn header_map_carries_every_header() {
        let ce = sample();
        let map = ce.to_header_map().unwrap();
        let get = |name: &str| map.get(name).map(|v| v.as_str().to_owned());
        assert_eq!(get("ce-specversion").as_deref(), Some("1.0"));
        assert_eq!(get("ce-id"), Some(ce.id.to_string()));
        assert_eq!(
            get("ce-source").as_deref(),
            Some("/truyenthong/dong-thap/tam-nong/thcs-an-hoa")
        );
        assert_eq!(get("ce-type").as_deref(), Some("activity.recorded"));
        assert_eq!(
            get("ce-time").as_deref(),
            Some("2017-10-20T01:02:03.123456789Z")
        );
        assert_eq!(get("content-type").as_deref(), Some("application/json"));
        assert_eq!(get("Nats-Msg-Id"), Some(ce.id.to_string()));
        assert_eq!(map.len(), 7);
    }

    #[test]
    fn whole_seconds_have_no_fraction_and_end_in_z() {
        let mut ce = sample();
        ce.time = Utc.with_ymd_and_hms(2020, 12, 31, 23, 59, 59).unwrap();
        let map = ce.to_header_map().unwrap();
        assert_eq!(
            map.get(CE_TIME).map(HeaderValue::as_str),
            Some("2020-12-31T23:59:59Z")
        );
    }

    #[test]
    fn round_trip() {
        let ce = sample();
        let map = ce.to_header_map().unwrap();
        assert_eq!(CloudEventHeaders::from_header_map(&map).unwrap(), ce);
    }

    #[test]
    fn missing_headers_are_named() {
        let full = sample().to_header_map().unwrap();
        for name in [
            CE_SPECVERSION,
            CE_ID,
            CE_SOURCE,
            CE_TYPE,
            CE_TIME,
            CONTENT_TYPE,
            NATS_MSG_ID,
        ] {
            let partial: HeaderMap = full
                .iter()
                .filter(|(key, _)| {
                    let key: &str = key.as_ref();
                    key != name
                })
                .flat_map(|(key, values)| values.iter().map(|v| (key.clone(), v.clone())))
                .collect();
            let err = CloudEventHeaders::from_header_map(&partial).unwrap_err();
            assert_eq!(err, HeaderError::Missing { header: name });
            assert_eq!(err.to_string(), format!("header {name} is missing"));
        }
        assert_eq!(
            CloudEventHeaders::from_header_map(&HeaderMap::new()).unwrap_err(),
            HeaderError::Missing {
                header: CE_SPECVERSION
            }
        );
    }

    #[test]
    fn invalid_values_are_explained() {
        let base = sample().to_header_map().unwrap();
        let with = |name: &'static str, value: &str| {
            let mut map = base.clone();
            map.insert(name, value);
            CloudEventHeaders::from_header_map(&map).unwrap_err()
        };
        assert!(matches!(
            with(CE_SPECVERSION, "0.3"),
            HeaderError::Invalid {
                header: CE_SPECVERSION,
                ..
            }
        ));
        assert!(matches!(
            with(CE_ID, "not-a-uuid"),
            HeaderError::Invalid { header: CE_ID, .. }
        ));
        assert!(matches!(
            with(NATS_MSG_ID, &Uuid::now_v7().to_string()),
            HeaderError::Invalid {
                header: NATS_MSG_ID,
                ..
            }
        ));
        assert!(matches!(
            with(CE_TIME, "20/10/2017"),
            HeaderError::Invalid {
                header: CE_TIME,
                ..
            }
        ));
        assert!(matches!(
            with(CONTENT_TYPE, "text/plain"),
            HeaderError::Invalid {
                header: CONTENT_TYPE,
                ..
            }
        ));
        assert!(matches!(
            with(CE_TYPE, ""),
            HeaderError::Invalid {
                header: CE_TYPE,
                ..
            }
        ));
        let err = with(CE_TIME, "yesterday");
        assert!(
            err.to_string().starts_with(
                "header ce-time value \"yesterday\" is invalid: not an RFC 3339 timestamp"
            ),
            "{err}"
        );
    }

    #[test]
    fn lenient_on_spelling() {
        let ce = sample();
        let mut map = HeaderMap::new();
        map.insert("CE-SpecVersion", "1.0");
        map.insert("Ce-Id", ce.id.to_string());
        map.insert("Ce-Source", ce.source.as_str());
        map.insert("Ce-Type", ce.event_type.as_str());
        map.insert("Ce-Time", "2017-10-20T08:02:03.123456789+07:00");
        map.insert("Content-Type", "application/json; charset=utf-8");
        map.insert(NATS_MESSAGE_ID, ce.id.to_string());
        assert_eq!(CloudEventHeaders::from_header_map(&map).unwrap(), ce);
    }

    #[test]
    fn writing_refuses_control_characters() {
        let mut ce = sample();
        ce.event_type = "activity\r\nrecorded".into();
        assert!(matches!(
            ce.to_header_map(),
            Err(HeaderError::Invalid {
                header: CE_TYPE,
                ..
            })
        ));
        let mut ce = sample();
        ce.source = String::new();
        assert!(matches!(
            ce.to_header_map(),
            Err(HeaderError::Invalid {
                header: CE_SOURCE,
                ..
            })
        ));
    }
}
