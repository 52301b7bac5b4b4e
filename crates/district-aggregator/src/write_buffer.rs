//! The projection rows of a batch, sent to PostgreSQL in a few statements instead of one per
//! event.
//!
//! Writing each event with its own statements made PostgreSQL the bottleneck of the ingest
//! and the rebuild: two round trips and two statement executions per event (the benchmark
//! measured about 160 µs of PostgreSQL CPU per event, against 13 µs for a plain multi-row
//! insert). Here the *new rows* of a batch — every `school_events` row, and each activity,
//! duty, feedback case, press issue, reporter visit, nomination and expense an event creates —
//! are gathered per table and inserted with one `INSERT … SELECT … FROM
//! jsonb_array_elements($1)` per table. *Changes to existing rows* (corrections, retractions, answers, awards, and the
//! upserts of budgets, emulation criteria and plans: about one event in ten) stay single
//! statements, kept in event order and run after the inserts.
//!
//! Why that order is the event order's equivalent: an update only ever touches a row created
//! by an *earlier* event (the domain refuses to answer, correct or award what does not exist),
//! and each upserted table is written by upserts only, in order; inserts of different events
//! never touch the same row. So "all inserts, then the updates in order" leaves the tables as
//! "each event in order" would.
//!
//! Anything that reads the projection tables written here must [`WriteBuffer::flush`] first:
//! the ingest does before restoring a school's state from its rows and before committing.
//! In *immediate* mode (the ingest's careful retry, a savepoint per event) the caller flushes
//! after every event, so a value PostgreSQL refuses is pinned to its event.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::Query;

/// A table whose new rows are inserted in bulk, in the order they are inserted at flush (a
/// row never refers to a row of a later table here, but keeping one order keeps lock order
/// stable too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Table {
    SchoolEvents,
    Duties,
    Activities,
    Feedback,
    PressIssues,
    ReporterVisits,
    Nominations,
    Expenses,
}

impl Table {
    const ALL: [Table; 8] = [
        Table::SchoolEvents,
        Table::Duties,
        Table::Activities,
        Table::Feedback,
        Table::PressIssues,
        Table::ReporterVisits,
        Table::Nominations,
        Table::Expenses,
    ];

    fn name(self) -> &'static str {
        match self {
            Table::SchoolEvents => "school_events",
            Table::Duties => "duties",
            Table::Activities => "activities",
            Table::Feedback => "feedback",
            Table::PressIssues => "press_issues",
            Table::ReporterVisits => "reporter_visits",
            Table::Nominations => "nominations",
            Table::Expenses => "expenses",
        }
    }

    /// The columns a row object carries, with their PostgreSQL types. Row objects are built
    /// with exactly these keys in `projection`; a key missing from a row reads as NULL.
    fn columns(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Table::SchoolEvents => &[
                ("school", "text"),
                ("seq", "int8"),
                ("event_id", "uuid"),
                ("type", "text"),
                ("schema", "int4"),
                ("occurred_at", "timestamptz"),
                ("recorded_at", "timestamptz"),
                ("occurred_on", "date"),
                ("recorded_on", "date"),
                ("delay_days", "int4"),
                ("actor_role", "text"),
                ("actor_person", "text"),
                ("data", "jsonb"),
            ],
            Table::Duties => &[
                ("school", "text"),
                ("seq", "int8"),
                ("role", "text"),
                ("person", "text"),
                ("duty", "text"),
                ("since", "date"),
            ],
            Table::Activities => &[
                ("school", "text"),
                ("activity_id", "uuid"),
                ("date", "date"),
                ("area", "int2"),
                ("topic", "text"),
                ("channel", "text"),
                ("title", "text"),
                ("summary", "text"),
                ("audience", "text"),
                ("reach", "int8"),
                ("partner", "text"),
                ("evidence_url", "text"),
                ("responsible", "text"),
                ("live", "bool"),
                ("search", "text"),
                ("recorded_seq", "int8"),
                ("updated_seq", "int8"),
                ("recorded_at", "timestamptz"),
                ("occurred_at", "timestamptz"),
            ],
            Table::Feedback => &[
                ("school", "text"),
                ("feedback_id", "uuid"),
                ("received_on", "date"),
                ("channel", "text"),
                ("citizen", "text"),
                ("subject", "text"),
                ("content", "text"),
                ("area", "int2"),
                ("received_seq", "int8"),
            ],
            Table::PressIssues => &[
                ("school", "text"),
                ("issue_id", "uuid"),
                ("raised_on", "date"),
                ("outlet", "text"),
                ("title", "text"),
                ("summary", "text"),
                ("url", "text"),
                ("area", "int2"),
                ("raised_seq", "int8"),
            ],
            Table::ReporterVisits => &[
                ("school", "text"),
                ("visit_id", "uuid"),
                ("date", "date"),
                ("outlet", "text"),
                ("reporter", "text"),
                ("purpose", "text"),
                ("area", "int2"),
                ("seq", "int8"),
            ],
            Table::Nominations => &[
                ("school", "text"),
                ("nomination_id", "uuid"),
                ("date", "date"),
                ("nominee_kind", "text"),
                ("nominee", "text"),
                ("achievement", "text"),
                ("proposed_level", "text"),
                ("nominated_seq", "int8"),
            ],
            Table::Expenses => &[
                ("school", "text"),
                ("expense_id", "uuid"),
                ("spent_on", "date"),
                ("item", "text"),
                ("amount", "int8"),
                ("activity_id", "uuid"),
                ("voucher", "text"),
                ("seq", "int8"),
            ],
        }
    }

    /// `INSERT … SELECT … FROM jsonb_array_elements($1)`: scalar columns through
    /// `jsonb_to_record`, `jsonb` columns taken from the element as they are (through the
    /// record they would be printed to text and parsed again: the event's `data` is most of
    /// the bytes).
    fn insert_sql(self) -> &'static str {
        static SQL: LazyLock<BTreeMap<Table, String>> = LazyLock::new(|| {
            Table::ALL
                .iter()
                .map(|&table| {
                    let columns = table.columns();
                    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
                    let selected: Vec<String> = columns
                        .iter()
                        .map(|(name, ty)| match *ty {
                            "jsonb" => format!("e.value -> '{name}'"),
                            _ => format!("r.{name}"),
                        })
                        .collect();
                    let typed: Vec<String> = columns
                        .iter()
                        .filter(|(_, ty)| *ty != "jsonb")
                        .map(|(name, ty)| format!("{name} {ty}"))
                        .collect();
                    let sql = format!(
                        "INSERT INTO {} ({}) SELECT {} FROM jsonb_array_elements($1) AS e, \
                         jsonb_to_record(e.value) AS r({})",
                        table.name(),
                        names.join(", "),
                        selected.join(", "),
                        typed.join(", ")
                    );
                    (table, sql)
                })
                .collect()
        });
        SQL.get(&self).map_or("", String::as_str)
    }
}

/// A timestamp as the row objects carry it: RFC 3339 to the microsecond, truncated as sqlx
/// truncates a bound `DateTime` (PostgreSQL keeps microseconds), so both paths store the same.
pub fn timestamp(at: DateTime<Utc>) -> Value {
    Value::String(at.to_rfc3339_opts(SecondsFormat::Micros, true))
}

/// An owned statement, ready to run.
pub type Statement = Query<'static, Postgres, PgArguments>;

/// The writes of the events applied since the last flush.
pub struct WriteBuffer {
    inserts: BTreeMap<Table, Vec<Value>>,
    updates: Vec<Statement>,
}

impl fmt::Debug for WriteBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteBuffer")
            .field(
                "inserts",
                &self
                    .inserts
                    .iter()
                    .map(|(t, rows)| (t.name(), rows.len()))
                    .collect::<Vec<_>>(),
            )
            .field("updates", &self.updates.len())
            .finish()
    }
}

impl Default for WriteBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl WriteBuffer {
    pub fn new() -> Self {
        Self {
            inserts: BTreeMap::new(),
            updates: Vec::new(),
        }
    }

    /// A new row of `table`: an object with the keys of the table's columns.
    pub fn insert(&mut self, table: Table, row: Value) {
        self.inserts.entry(table).or_default().push(row);
    }

    /// A change to rows earlier events created (or an upsert), run after the inserts, in the
    /// order given.
    pub fn update(&mut self, statement: Statement) {
        self.updates.push(statement);
    }

    pub fn is_empty(&self) -> bool {
        self.inserts.is_empty() && self.updates.is_empty()
    }

    /// Sends everything gathered, inserts first; empty afterwards, also when it fails (the
    /// caller then rolls the transaction back).
    pub async fn flush(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        let inserts = std::mem::take(&mut self.inserts);
        let updates = std::mem::take(&mut self.updates);
        for (table, rows) in inserts {
            sqlx::query(table.insert_sql())
                .bind(Value::Array(rows))
                .execute(&mut *conn)
                .await?;
        }
        for statement in updates {
            statement.execute(&mut *conn).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_an_insert_statement_naming_each_column() {
        for table in Table::ALL {
            let sql = table.insert_sql();
            assert!(sql.starts_with(&format!("INSERT INTO {} (", table.name())));
            for (name, ty) in table.columns() {
                let read = if *ty == "jsonb" {
                    format!("e.value -> '{name}'")
                } else {
                    format!("{name} {ty}")
                };
                assert!(sql.contains(&read), "{sql}");
            }
        }
    }

    #[test]
    fn timestamps_keep_microseconds_and_drop_nanoseconds() {
        let at = DateTime::from_timestamp(1_520_000_000, 123_456_789).unwrap();
        assert_eq!(
            timestamp(at),
            Value::String("2018-03-02T14:13:20.123456Z".into())
        );
    }
}
