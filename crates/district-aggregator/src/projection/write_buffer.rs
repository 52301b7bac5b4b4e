//! The projection rows of a batch, sent to PostgreSQL in a few statements instead of one per
//! event.
//!
//! Writing each event with its own statements made PostgreSQL the bottleneck of the ingest
//! and the rebuild: two round trips and two statement executions per event. Here:
//!
//! * **New rows** (every `school_events` row, and each activity, duty, feedback case, press
//!   issue, reporter visit, nomination and expense an event creates) are kept as typed rows
//!   per table and inserted with one `INSERT … SELECT … FROM unnest($1, $2, …)` per table:
//!   one array per column, in PostgreSQL's binary array format, so PostgreSQL parses no text
//!   but the events' JSON `data`.
//! * **Changes** (corrections, retractions, answers, awards) to a row created in the same
//!   batch are made to that pending row in memory; changes to rows of earlier batches are
//!   gathered per kind, the last one per row winning (corrections also count), and sent as
//!   one `UPDATE … FROM unnest(…)` per kind.
//! * **Upserts** (budgets, emulation criteria, plans: a few events per school and year) stay
//!   single statements, in event order.
//!
//! Why "inserts, then the bulk updates, then the upserts" leaves the tables as applying each
//! event in order would: an update only ever touches a row created by an *earlier* event (the
//! domain refuses to answer, correct or award what does not exist), a retraction is final
//! (nothing corrects a retracted activity, so corrections may run before retractions), each
//! upserted table is written by upserts only, in order, and inserts of different events never
//! touch the same row.
//!
//! Anything that reads the projection tables written here must [`WriteBuffer::flush`] first:
//! the ingest does before restoring a school's state from its rows and before committing.
//! In *immediate* mode (the ingest's careful retry, a savepoint per event) the caller flushes
//! after every event, so a value PostgreSQL refuses is pinned to its event.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::Query;
use uuid::Uuid;

/// An owned statement, ready to run.
pub type Statement = Query<'static, Postgres, PgArguments>;

/// Rows sent as one array per column: `unnest($1::t1[], $2::t2[], …) AS u(c1, c2, …)`.
pub trait Columns: Sized {
    /// `(column, PostgreSQL type)`, in the order of the struct's fields. A `words` column is
    /// bound as the words joined by spaces and made a `tsvector`.
    const COLUMNS: &'static [(&'static str, &'static str)];

    /// `statement` with one array per column bound, in [`Columns::COLUMNS`] order.
    fn bind_columns(rows: Vec<Self>, statement: Statement) -> Statement;
}

/// Declares a row struct whose fields are table columns, and its [`Columns`] impl.
macro_rules! columns {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty => $pg:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl Columns for $name {
            const COLUMNS: &'static [(&'static str, &'static str)] = &[$((stringify!($field), $pg),)*];

            fn bind_columns(rows: Vec<Self>, statement: Statement) -> Statement {
                #[allow(non_snake_case)]
                struct Arrays { $($field: Vec<$ty>,)* }
                let n = rows.len();
                let mut arrays = Arrays { $($field: Vec::with_capacity(n),)* };
                for row in rows {
                    $(arrays.$field.push(row.$field);)*
                }
                statement $(.bind(arrays.$field))*
            }
        }
    };
}

/// A field's column: `r#type` is `type`.
fn column_name(field: &str) -> &str {
    field.trim_start_matches("r#")
}

/// `unnest(…) AS u(…)` over the columns of `C`, and the select list reading them with their
/// table types.
fn unnest_source<C: Columns>() -> (String, String) {
    let mut params = Vec::new();
    let mut names = Vec::new();
    let mut selected = Vec::new();
    for (i, (name, pg)) in C::COLUMNS.iter().enumerate() {
        let name = column_name(name);
        let bound = match *pg {
            "words" => "text",
            other => other,
        };
        params.push(format!("${}::{bound}[]", i + 1));
        names.push(name);
        selected.push(match *pg {
            "words" => format!("array_to_tsvector(string_to_array(u.{name}, ' '))"),
            _ => format!("u.{name}"),
        });
    }
    (
        format!("unnest({}) AS u({})", params.join(", "), names.join(", ")),
        selected.join(", "),
    )
}

/// `INSERT INTO table (…) SELECT … FROM unnest(…)`.
fn insert_sql<C: Columns>(table: &str) -> String {
    let (source, selected) = unnest_source::<C>();
    let names: Vec<&str> = C::COLUMNS
        .iter()
        .map(|(name, _)| column_name(name))
        .collect();
    format!(
        "INSERT INTO {table} ({}) SELECT {selected} FROM {source}",
        names.join(", ")
    )
}

/// `UPDATE table t SET … FROM unnest(…) WHERE t.school = u.school AND t.key = u.key`, each
/// `set` written over `t` (the row) and `u` (its change).
fn update_sql<C: Columns>(table: &str, key: &str, set: &str) -> String {
    let (source, _) = unnest_source::<C>();
    format!(
        "UPDATE {table} t SET {set} FROM {source} WHERE t.school = u.school AND t.{key} = u.{key}"
    )
}

/// The SQL of each bulk statement, made once.
struct Sql {
    school_events: &'static str,
    duties: &'static str,
    activities: &'static str,
    feedback: &'static str,
    press_issues: &'static str,
    reporter_visits: &'static str,
    nominations: &'static str,
    expenses: &'static str,
    corrections: &'static str,
    retractions: &'static str,
    feedback_answers: &'static str,
    press_answers: &'static str,
    awards: &'static str,
}

/// Made once per process (sqlx caches prepared statements per connection by their text).
fn leak(sql: String) -> &'static str {
    Box::leak(sql.into_boxed_str())
}

static SQL: std::sync::LazyLock<Sql> = std::sync::LazyLock::new(|| Sql {
    school_events: leak(insert_sql::<SchoolEventRow>("school_events")),
    duties: leak(insert_sql::<DutyRow>("duties")),
    activities: leak(insert_sql::<ActivityRow>("activities")),
    feedback: leak(insert_sql::<FeedbackRow>("feedback")),
    press_issues: leak(insert_sql::<PressIssueRow>("press_issues")),
    reporter_visits: leak(insert_sql::<ReporterVisitRow>("reporter_visits")),
    nominations: leak(insert_sql::<NominationRow>("nominations")),
    expenses: leak(insert_sql::<ExpenseRow>("expenses")),
    corrections: leak(update_sql::<ActivityCorrection>(
        "activities",
        "activity_id",
        "date = u.date, area = u.area, topic = u.topic, channel = u.channel, title = u.title, \
         summary = u.summary, audience = u.audience, reach = u.reach, partner = u.partner, \
         evidence_url = u.evidence_url, responsible = u.responsible, \
         words = array_to_tsvector(string_to_array(u.words, ' ')), \
         corrections = t.corrections + u.corrections, updated_seq = u.updated_seq",
    )),
    retractions: leak(update_sql::<ActivityRetraction>(
        "activities",
        "activity_id",
        "live = false, retracted_reason = u.reason, updated_seq = u.updated_seq",
    )),
    feedback_answers: leak(update_sql::<FeedbackAnswer>(
        "feedback",
        "feedback_id",
        "answered_on = u.answered_on, answer_channel = u.answer_channel, answer = u.answer, \
         answered_seq = u.answered_seq",
    )),
    press_answers: leak(update_sql::<PressAnswer>(
        "press_issues",
        "issue_id",
        "answered_on = u.answered_on, answer_channel = u.answer_channel, response = u.response, \
         answered_seq = u.answered_seq",
    )),
    awards: leak(update_sql::<Award>(
        "nominations",
        "nomination_id",
        "awarded_level = u.awarded_level, decision_number = u.decision_number, \
         decision_date = u.decision_date, awarded_seq = u.awarded_seq",
    )),
});

columns! {
    /// A `school_events` row: every applied school event.
    pub struct SchoolEventRow {
        school: String => "text",
        seq: i64 => "int8",
        event_id: Uuid => "uuid",
        r#type: String => "text",
        schema: i32 => "int4",
        occurred_at: DateTime<Utc> => "timestamptz",
        recorded_at: DateTime<Utc> => "timestamptz",
        occurred_on: NaiveDate => "date",
        recorded_on: NaiveDate => "date",
        delay_days: i32 => "int4",
        actor_role: String => "text",
        actor_person: String => "text",
        /// The event's `data`, as the JSON text the aggregator wrote from the decoded event
        /// (see the migration `event_data_as_text`).
        data: String => "text",
    }
}

columns! {
    pub struct DutyRow {
        school: String => "text",
        seq: i64 => "int8",
        role: String => "text",
        person: String => "text",
        duty: String => "text",
        since: NaiveDate => "date",
    }
}

columns! {
    /// An activity as recorded (and corrected or retracted within the batch).
    pub struct ActivityRow {
        school: String => "text",
        activity_id: Uuid => "uuid",
        date: NaiveDate => "date",
        area: i16 => "int2",
        topic: Option<String> => "text",
        channel: String => "text",
        title: String => "text",
        summary: String => "text",
        audience: Option<String> => "text",
        reach: Option<i64> => "int8",
        partner: Option<String> => "text",
        evidence_url: Option<String> => "text",
        responsible: String => "text",
        live: bool => "bool",
        /// The search words, joined by spaces (`folding::activity_search_words`).
        words: String => "words",
        recorded_seq: i64 => "int8",
        updated_seq: i64 => "int8",
        recorded_at: DateTime<Utc> => "timestamptz",
        occurred_at: DateTime<Utc> => "timestamptz",
        corrections: i32 => "int4",
        retracted_reason: Option<String> => "text",
    }
}

columns! {
    pub struct FeedbackRow {
        school: String => "text",
        feedback_id: Uuid => "uuid",
        received_on: NaiveDate => "date",
        channel: String => "text",
        citizen: Option<String> => "text",
        subject: String => "text",
        content: String => "text",
        area: Option<i16> => "int2",
        received_seq: i64 => "int8",
        answered_on: Option<NaiveDate> => "date",
        answer_channel: Option<String> => "text",
        answer: Option<String> => "text",
        answered_seq: Option<i64> => "int8",
    }
}

columns! {
    pub struct PressIssueRow {
        school: String => "text",
        issue_id: Uuid => "uuid",
        raised_on: NaiveDate => "date",
        outlet: String => "text",
        title: String => "text",
        summary: String => "text",
        url: Option<String> => "text",
        area: Option<i16> => "int2",
        raised_seq: i64 => "int8",
        answered_on: Option<NaiveDate> => "date",
        answer_channel: Option<String> => "text",
        response: Option<String> => "text",
        answered_seq: Option<i64> => "int8",
    }
}

columns! {
    pub struct ReporterVisitRow {
        school: String => "text",
        visit_id: Uuid => "uuid",
        date: NaiveDate => "date",
        outlet: String => "text",
        reporter: String => "text",
        purpose: String => "text",
        area: Option<i16> => "int2",
        seq: i64 => "int8",
    }
}

columns! {
    pub struct NominationRow {
        school: String => "text",
        nomination_id: Uuid => "uuid",
        date: NaiveDate => "date",
        nominee_kind: String => "text",
        nominee: String => "text",
        achievement: String => "text",
        proposed_level: String => "text",
        nominated_seq: i64 => "int8",
        awarded_level: Option<String> => "text",
        decision_number: Option<String> => "text",
        decision_date: Option<NaiveDate> => "date",
        awarded_seq: Option<i64> => "int8",
    }
}

columns! {
    pub struct ExpenseRow {
        school: String => "text",
        expense_id: Uuid => "uuid",
        spent_on: NaiveDate => "date",
        item: String => "text",
        amount: i64 => "int8",
        activity_id: Option<Uuid> => "uuid",
        voucher: Option<String> => "text",
        seq: i64 => "int8",
    }
}

columns! {
    /// The fields an `activity.corrected` sets; `corrections` counts them within the batch.
    pub struct ActivityCorrection {
        school: String => "text",
        activity_id: Uuid => "uuid",
        date: NaiveDate => "date",
        area: i16 => "int2",
        topic: Option<String> => "text",
        channel: String => "text",
        title: String => "text",
        summary: String => "text",
        audience: Option<String> => "text",
        reach: Option<i64> => "int8",
        partner: Option<String> => "text",
        evidence_url: Option<String> => "text",
        responsible: String => "text",
        words: String => "text",
        corrections: i32 => "int4",
        updated_seq: i64 => "int8",
    }
}

columns! {
    pub struct ActivityRetraction {
        school: String => "text",
        activity_id: Uuid => "uuid",
        reason: String => "text",
        updated_seq: i64 => "int8",
    }
}

columns! {
    pub struct FeedbackAnswer {
        school: String => "text",
        feedback_id: Uuid => "uuid",
        answered_on: NaiveDate => "date",
        answer_channel: String => "text",
        answer: String => "text",
        answered_seq: i64 => "int8",
    }
}

columns! {
    pub struct PressAnswer {
        school: String => "text",
        issue_id: Uuid => "uuid",
        answered_on: NaiveDate => "date",
        answer_channel: String => "text",
        response: String => "text",
        answered_seq: i64 => "int8",
    }
}

columns! {
    pub struct Award {
        school: String => "text",
        nomination_id: Uuid => "uuid",
        awarded_level: String => "text",
        decision_number: String => "text",
        decision_date: NaiveDate => "date",
        awarded_seq: i64 => "int8",
    }
}

impl ActivityRow {
    /// A new live activity with the fields `details` sets (its `updated_seq` is the recording's
    /// seq).
    pub fn recorded(
        details: ActivityCorrection,
        recorded_at: DateTime<Utc>,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        Self {
            school: details.school,
            activity_id: details.activity_id,
            date: details.date,
            area: details.area,
            topic: details.topic,
            channel: details.channel,
            title: details.title,
            summary: details.summary,
            audience: details.audience,
            reach: details.reach,
            partner: details.partner,
            evidence_url: details.evidence_url,
            responsible: details.responsible,
            live: true,
            words: details.words,
            recorded_seq: details.updated_seq,
            updated_seq: details.updated_seq,
            recorded_at,
            occurred_at,
            corrections: 0,
            retracted_reason: None,
        }
    }

    /// The row with `c`'s fields, counting its corrections; what the recording set stays.
    fn correct(&mut self, c: ActivityCorrection) {
        let corrections = self.corrections + c.corrections;
        let corrected = Self::recorded(c, self.recorded_at, self.occurred_at);
        *self = Self {
            live: self.live,
            recorded_seq: self.recorded_seq,
            corrections,
            retracted_reason: self.retracted_reason.take(),
            ..corrected
        };
    }
}

type Key = (String, Uuid);

/// New rows of one table in the order they came, findable by key for changes made later in
/// the same batch.
#[derive(Debug)]
struct Pending<R> {
    rows: Vec<R>,
    by_key: HashMap<Key, usize>,
}

impl<R> Default for Pending<R> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            by_key: HashMap::new(),
        }
    }
}

impl<R> Pending<R> {
    fn push(&mut self, key: Key, row: R) {
        self.by_key.insert(key, self.rows.len());
        self.rows.push(row);
    }

    fn get_mut(&mut self, key: &Key) -> Option<&mut R> {
        let i = *self.by_key.get(key)?;
        self.rows.get_mut(i)
    }

    fn take(&mut self) -> Vec<R> {
        self.by_key.clear();
        std::mem::take(&mut self.rows)
    }
}

/// Changes to rows of earlier batches, one per row: the last wins (`merge` decides).
#[derive(Debug)]
struct Changes<C> {
    order: Vec<Key>,
    by_key: HashMap<Key, C>,
}

impl<C> Default for Changes<C> {
    fn default() -> Self {
        Self {
            order: Vec::new(),
            by_key: HashMap::new(),
        }
    }
}

impl<C> Changes<C> {
    fn put(&mut self, key: Key, change: C, merge: impl FnOnce(&mut C, C)) {
        match self.by_key.get_mut(&key) {
            Some(existing) => merge(existing, change),
            None => {
                self.order.push(key.clone());
                self.by_key.insert(key, change);
            }
        }
    }

    /// The changes in the order their rows were first changed (a stable lock order).
    fn take(&mut self) -> Vec<C> {
        let mut by_key = std::mem::take(&mut self.by_key);
        std::mem::take(&mut self.order)
            .into_iter()
            .filter_map(|key| by_key.remove(&key))
            .collect()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// A change to the row `key`: made to the pending row when the batch created it (`apply`),
/// else kept for the bulk update, merged with an earlier change to the same row (`merge`).
fn change<R, C>(
    pending: &mut Pending<R>,
    changes: &mut Changes<C>,
    key: Key,
    c: C,
    merge: impl FnOnce(&mut C, C),
    apply: impl FnOnce(&mut R, C),
) {
    match pending.get_mut(&key) {
        Some(row) => apply(row, c),
        None => changes.put(key, c, merge),
    }
}

/// The later change wins whole.
fn replace<C>(old: &mut C, new: C) {
    *old = new;
}

/// The writes of the events applied since the last flush.
#[derive(Default)]
pub struct WriteBuffer {
    school_events: Vec<SchoolEventRow>,
    duties: Vec<DutyRow>,
    activities: Pending<ActivityRow>,
    feedback: Pending<FeedbackRow>,
    press_issues: Pending<PressIssueRow>,
    reporter_visits: Vec<ReporterVisitRow>,
    nominations: Pending<NominationRow>,
    expenses: Vec<ExpenseRow>,
    corrections: Changes<ActivityCorrection>,
    retractions: Changes<ActivityRetraction>,
    feedback_answers: Changes<FeedbackAnswer>,
    press_answers: Changes<PressAnswer>,
    awards: Changes<Award>,
    upserts: Vec<Statement>,
}

impl fmt::Debug for WriteBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteBuffer")
            .field("school_events", &self.school_events.len())
            .field("activities", &self.activities.rows.len())
            .field("corrections", &self.corrections.order.len())
            .field("upserts", &self.upserts.len())
            .finish_non_exhaustive()
    }
}

impl WriteBuffer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn school_event(&mut self, row: SchoolEventRow) {
        self.school_events.push(row);
    }

    pub fn duty(&mut self, row: DutyRow) {
        self.duties.push(row);
    }

    pub fn activity(&mut self, row: ActivityRow) {
        self.activities
            .push((row.school.clone(), row.activity_id), row);
    }

    pub fn feedback(&mut self, row: FeedbackRow) {
        self.feedback
            .push((row.school.clone(), row.feedback_id), row);
    }

    pub fn press_issue(&mut self, row: PressIssueRow) {
        self.press_issues
            .push((row.school.clone(), row.issue_id), row);
    }

    pub fn reporter_visit(&mut self, row: ReporterVisitRow) {
        self.reporter_visits.push(row);
    }

    pub fn nomination(&mut self, row: NominationRow) {
        self.nominations
            .push((row.school.clone(), row.nomination_id), row);
    }

    pub fn expense(&mut self, row: ExpenseRow) {
        self.expenses.push(row);
    }

    pub fn correct_activity(&mut self, c: ActivityCorrection) {
        let key = (c.school.clone(), c.activity_id);
        let merge = |old: &mut ActivityCorrection, new: ActivityCorrection| {
            let corrections = old.corrections + new.corrections;
            *old = ActivityCorrection { corrections, ..new };
        };
        change(
            &mut self.activities,
            &mut self.corrections,
            key,
            c,
            merge,
            ActivityRow::correct,
        );
    }

    pub fn retract_activity(&mut self, r: ActivityRetraction) {
        let key = (r.school.clone(), r.activity_id);
        change(
            &mut self.activities,
            &mut self.retractions,
            key,
            r,
            replace,
            |row, r| {
                row.live = false;
                row.retracted_reason = Some(r.reason);
                row.updated_seq = r.updated_seq;
            },
        );
    }

    pub fn answer_feedback(&mut self, a: FeedbackAnswer) {
        let key = (a.school.clone(), a.feedback_id);
        change(
            &mut self.feedback,
            &mut self.feedback_answers,
            key,
            a,
            replace,
            |row, a| {
                row.answered_on = Some(a.answered_on);
                row.answer_channel = Some(a.answer_channel);
                row.answer = Some(a.answer);
                row.answered_seq = Some(a.answered_seq);
            },
        );
    }

    pub fn answer_press_issue(&mut self, a: PressAnswer) {
        let key = (a.school.clone(), a.issue_id);
        change(
            &mut self.press_issues,
            &mut self.press_answers,
            key,
            a,
            replace,
            |row, a| {
                row.answered_on = Some(a.answered_on);
                row.answer_channel = Some(a.answer_channel);
                row.response = Some(a.response);
                row.answered_seq = Some(a.answered_seq);
            },
        );
    }

    pub fn award(&mut self, a: Award) {
        let key = (a.school.clone(), a.nomination_id);
        change(
            &mut self.nominations,
            &mut self.awards,
            key,
            a,
            replace,
            |row, a| {
                row.awarded_level = Some(a.awarded_level);
                row.decision_number = Some(a.decision_number);
                row.decision_date = Some(a.decision_date);
                row.awarded_seq = Some(a.awarded_seq);
            },
        );
    }

    /// An upsert (budgets, emulation criteria, plans), run after everything else, in the
    /// order given.
    pub fn upsert(&mut self, statement: Statement) {
        self.upserts.push(statement);
    }

    /// Sends everything gathered: inserts, bulk updates, upserts. Empty afterwards, also when
    /// it fails (the caller then rolls the transaction back).
    pub async fn flush(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        let sql = &*SQL;
        let statements = [
            send(sql.school_events, std::mem::take(&mut self.school_events)),
            send(sql.duties, std::mem::take(&mut self.duties)),
            send(sql.activities, self.activities.take()),
            send(sql.feedback, self.feedback.take()),
            send(sql.press_issues, self.press_issues.take()),
            send(
                sql.reporter_visits,
                std::mem::take(&mut self.reporter_visits),
            ),
            send(sql.nominations, self.nominations.take()),
            send(sql.expenses, std::mem::take(&mut self.expenses)),
            send(sql.corrections, self.corrections.take()),
            send(sql.retractions, self.retractions.take()),
            send(sql.feedback_answers, self.feedback_answers.take()),
            send(sql.press_answers, self.press_answers.take()),
            send(sql.awards, self.awards.take()),
        ];
        let upserts = std::mem::take(&mut self.upserts);
        for statement in statements.into_iter().flatten().chain(upserts) {
            statement.execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// The bulk statement for `rows`, or none when there are none.
fn send<C: Columns>(sql: &'static str, rows: Vec<C>) -> Option<Statement> {
    (!rows.is_empty()).then(|| C::bind_columns(rows, sqlx::query(sql)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_name_every_column_and_read_it_typed() {
        let sql = insert_sql::<ActivityRow>("activities");
        assert!(sql.starts_with("INSERT INTO activities (school, activity_id, date,"));
        assert!(sql.contains("unnest($1::text[], $2::uuid[], $3::date[], $4::int2[]"));
        assert!(sql.contains("array_to_tsvector(string_to_array(u.words, ' '))"));
        assert!(sql.contains("AS u(school, activity_id, date, area,"));
        let sql = insert_sql::<SchoolEventRow>("school_events");
        assert!(sql.starts_with("INSERT INTO school_events (school, seq, event_id, type, schema,"));
        assert!(sql.contains("u.actor_person, u.data FROM"), "{sql}");
        assert!(sql.contains("$13::text[]"), "{sql}");
    }

    #[test]
    fn updates_join_on_school_and_key() {
        let sql = update_sql::<Award>(
            "nominations",
            "nomination_id",
            "awarded_seq = u.awarded_seq",
        );
        assert_eq!(
            sql,
            "UPDATE nominations t SET awarded_seq = u.awarded_seq FROM unnest($1::text[], $2::uuid[], \
             $3::text[], $4::text[], $5::date[], $6::int8[]) AS u(school, nomination_id, awarded_level, \
             decision_number, decision_date, awarded_seq) WHERE t.school = u.school AND t.nomination_id = u.nomination_id"
        );
    }

    fn correction(n: i32, title: &str, seq: i64) -> ActivityCorrection {
        ActivityCorrection {
            school: "thcs-an-hoa".into(),
            activity_id: Uuid::nil(),
            date: NaiveDate::from_ymd_opt(2018, 3, 2).unwrap(),
            area: 1,
            topic: None,
            channel: "website".into(),
            title: title.into(),
            summary: String::new(),
            audience: None,
            reach: None,
            partner: None,
            evidence_url: None,
            responsible: "hieu_truong".into(),
            words: title.into(),
            corrections: n,
            updated_seq: seq,
        }
    }

    #[test]
    fn corrections_of_an_older_row_add_up_and_the_last_wins() {
        let mut writes = WriteBuffer::new();
        writes.correct_activity(correction(1, "a", 5));
        writes.correct_activity(correction(1, "b", 9));
        let taken = writes.corrections.take();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].corrections, 2);
        assert_eq!(taken[0].title, "b");
        assert_eq!(taken[0].updated_seq, 9);
    }

    #[test]
    fn a_change_to_a_row_of_the_same_batch_changes_the_pending_row() {
        let mut writes = WriteBuffer::new();
        let c = correction(1, "old", 3);
        let at = DateTime::from_timestamp(0, 0).unwrap();
        writes.activity(ActivityRow::recorded(c.clone(), at, at));
        writes.correct_activity(correction(1, "new", 4));
        writes.retract_activity(ActivityRetraction {
            school: c.school.clone(),
            activity_id: c.activity_id,
            reason: "trùng".into(),
            updated_seq: 5,
        });
        assert!(writes.corrections.is_empty() && writes.retractions.is_empty());
        let rows = writes.activities.take();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (
                rows[0].title.as_str(),
                rows[0].corrections,
                rows[0].live,
                rows[0].updated_seq
            ),
            ("new", 1, false, 5)
        );
        assert_eq!(rows[0].retracted_reason.as_deref(), Some("trùng"));
    }
}
