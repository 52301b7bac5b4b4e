//! docs/events.md documents every event type at its current schema, the school's and the
//! district office's.

#[test]
fn every_event_type_is_documented() {
    let doc = include_str!("../../../docs/events.md");
    for (name, schema) in domain::AnyEvent::types() {
        assert!(
            doc.contains(&format!("| `{name}` |")),
            "docs/events.md has no row for {name}"
        );
        assert_eq!(
            schema, 1,
            "docs/events.md says all types are at schema 1; update it for {name}"
        );
    }
}

#[test]
fn district_office_types_are_documented_in_their_own_section() {
    let doc = include_str!("../../../docs/events.md");
    let section = doc
        .split("## District office events")
        .nth(1)
        .expect("docs/events.md has a district office section");
    for (name, _) in domain::district::DistrictEvent::TYPES {
        assert!(
            section.contains(&format!("| `{name}` |")),
            "{name} is not in the district section"
        );
    }
    assert!(section.contains("`_district`"));
}
