//! Reading old event shapes: upcasters turn `data` written at schema N of a type into schema
//! N+1, chained up to the current schema.
//!
//! The log is permanent (invariant 1), so an event written by a school agent installed in 2017
//! must still be read by an aggregator built in 2026. When a payload's shape changes, bump the
//! type's schema in `event.rs` (or `district/event.rs`), add an [`Upcaster`] from the old schema
//! to [`UPCASTERS`], and document both shapes in `docs/events.md`. School and district office
//! types share this path. Every type is at schema 1 today, so the table is empty; the chaining
//! itself is tested with a table of its own below.

use serde_json::Value;

use crate::envelope::{AnyEvent, DecodeError};

/// Turns `data` of `event_type` at `from_schema` into the shape of `from_schema + 1`.
#[derive(Debug, Clone, Copy)]
pub struct Upcaster {
    pub event_type: &'static str,
    pub from_schema: u32,
    pub upcast: fn(Value) -> Result<Value, String>,
}

/// The upcasters of this build.
pub const UPCASTERS: &[Upcaster] = &[];

/// The schema this build writes for `event_type`, a school's or the district office's.
pub fn current_schema(event_type: &str) -> Result<u32, DecodeError> {
    AnyEvent::types()
        .find(|(name, _)| *name == event_type)
        .map(|(_, schema)| schema)
        .ok_or_else(|| DecodeError::UnknownType(event_type.to_string()))
}

/// Brings `data` of `event_type` at `schema` to the current schema.
pub fn upcast(event_type: &str, schema: u32, data: Value) -> Result<Value, DecodeError> {
    upcast_with(
        UPCASTERS,
        event_type,
        schema,
        current_schema(event_type)?,
        data,
    )
}

fn upcast_with(
    table: &[Upcaster],
    event_type: &str,
    mut schema: u32,
    current: u32,
    mut data: Value,
) -> Result<Value, DecodeError> {
    if schema > current {
        return Err(DecodeError::SchemaTooNew {
            event_type: event_type.into(),
            schema,
            max: current,
        });
    }
    if schema == 0 {
        return Err(DecodeError::NoUpcaster {
            event_type: event_type.into(),
            schema,
        });
    }
    while schema < current {
        let step = table
            .iter()
            .find(|u| u.event_type == event_type && u.from_schema == schema)
            .ok_or_else(|| DecodeError::NoUpcaster {
                event_type: event_type.into(),
                schema,
            })?;
        data = (step.upcast)(data).map_err(|reason| DecodeError::Upcast {
            event_type: event_type.into(),
            schema,
            reason,
        })?;
        schema += 1;
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A made-up history of one type: schema 1 had `reach` as text, schema 2 as a number,
    /// schema 3 renamed `org` to `partner`.
    fn reach_to_number(mut v: Value) -> Result<Value, String> {
        let reach = v["reach"]
            .as_str()
            .ok_or("reach is not text")?
            .parse::<u64>()
            .map_err(|e| e.to_string())?;
        v["reach"] = json!(reach);
        Ok(v)
    }

    fn rename_org(mut v: Value) -> Result<Value, String> {
        let obj = v.as_object_mut().ok_or("not an object")?;
        let org = obj.remove("org").unwrap_or(Value::Null);
        obj.insert("partner".into(), org);
        Ok(v)
    }

    const TABLE: &[Upcaster] = &[
        Upcaster {
            event_type: "x.happened",
            from_schema: 1,
            upcast: reach_to_number,
        },
        Upcaster {
            event_type: "x.happened",
            from_schema: 2,
            upcast: rename_org,
        },
    ];

    #[test]
    fn chains_from_any_old_schema_to_current() {
        let v1 = json!({"reach": "120", "org": "Hội Khuyến học"});
        let out = upcast_with(TABLE, "x.happened", 1, 3, v1).unwrap();
        assert_eq!(out, json!({"reach": 120, "partner": "Hội Khuyến học"}));
        let v2 = json!({"reach": 5, "org": null});
        assert_eq!(
            upcast_with(TABLE, "x.happened", 2, 3, v2).unwrap(),
            json!({"reach": 5, "partner": null})
        );
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(matches!(
            upcast_with(TABLE, "x.happened", 4, 3, json!({})),
            Err(DecodeError::SchemaTooNew { .. })
        ));
        assert!(matches!(
            upcast_with(TABLE, "y.happened", 1, 2, json!({})),
            Err(DecodeError::NoUpcaster { .. })
        ));
        assert!(matches!(
            upcast_with(TABLE, "x.happened", 1, 3, json!({"reach": "many"})),
            Err(DecodeError::Upcast { schema: 1, .. })
        ));
    }

    #[test]
    fn every_current_type_reads_itself() {
        for (name, schema) in AnyEvent::types() {
            assert_eq!(current_schema(name).unwrap(), schema);
        }
        assert_eq!(current_schema("school.enrolled").unwrap(), 1);
        assert!(current_schema("nope").is_err());
    }
}
