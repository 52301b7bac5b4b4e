//! docs/events.md documents every event type at its current schema.

#[test]
fn every_event_type_is_documented() {
    let doc = include_str!("../../../docs/events.md");
    for (name, schema) in domain::Event::TYPES {
        assert!(doc.contains(&format!("| `{name}` |")), "docs/events.md has no row for {name}");
        assert_eq!(*schema, 1, "docs/events.md says all types are at schema 1; update it for {name}");
    }
}
