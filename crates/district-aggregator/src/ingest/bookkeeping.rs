//! The ingest's bookkeeping in the projection schema, beside the projection's rows and in the
//! same transaction: each author's position (`positions`), the events held until their turn
//! (`held`), the messages that could not be applied (`dead_letters`, of a [`DeadLetterKind`]),
//! the event id that took each seq ([`recorded_at_seq`], to tell a re-send from a
//! divergence), and — outside the projection, in `ops.contacts` — each author's last contact
//! and outbox backlog.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::{AuthorView, HeldReason, IngestError};
use crate::db::{from_i64, to_i64};
use crate::decode::{Candidate, Decoded, Headers, Received, Rejected};
use domain::Author;

/// Loads the views of `authors` (none already in `views`) into `views`.
pub(super) async fn load_views(
    conn: &mut PgConnection,
    views: &mut HashMap<String, AuthorView>,
    authors: &[&Author],
) -> Result<(), IngestError> {
    if authors.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = authors.iter().map(|a| a.as_str()).collect();
    let rows = sqlx::query(
        "SELECT a.author, p.applied_seq, p.applied_events, p.rejected_events, p.last_event_id, \
                EXISTS (SELECT 1 FROM schools s WHERE s.code = a.author) AS enrolled, \
                EXISTS (SELECT 1 FROM dead_letters d \
                        WHERE d.author = a.author AND d.kind = 'divergence') AS diverged \
         FROM unnest($1::text[]) AS a(author) LEFT JOIN positions p ON p.author = a.author",
    )
    .bind(&keys)
    .fetch_all(&mut *conn)
    .await?;
    let held_rows = sqlx::query("SELECT author, seq, reason FROM held WHERE author = ANY($1)")
        .bind(&keys)
        .fetch_all(&mut *conn)
        .await?;
    let mut held: HashMap<String, BTreeMap<u64, HeldReason>> = HashMap::new();
    for r in held_rows {
        let seq: i64 = r.try_get("seq")?;
        let code: String = r.try_get("reason")?;
        // The table's CHECK admits only the codes this build writes.
        let reason = HeldReason::from_code(&code).unwrap_or(HeldReason::Gap);
        held.entry(r.try_get("author")?)
            .or_default()
            .insert(from_i64(seq), reason);
    }
    for row in rows {
        let author: String = row.try_get("author")?;
        let count = |column: &str| -> Result<u64, sqlx::Error> {
            Ok(from_i64(
                row.try_get::<Option<i64>, _>(column)?.unwrap_or(0),
            ))
        };
        let view = AuthorView {
            applied_seq: count("applied_seq")?,
            applied_events: count("applied_events")?,
            rejected_events: count("rejected_events")?,
            last_event_id: row.try_get("last_event_id")?,
            enrolled: author == Author::DISTRICT_TOKEN || row.try_get::<bool, _>("enrolled")?,
            diverged: row.try_get("diverged")?,
            held: held.remove(&author).unwrap_or_default(),
            dirty: false,
        };
        views.insert(author, view);
    }
    Ok(())
}

/// Writes back the positions that moved, in one statement.
pub(super) async fn write_positions<'v>(
    conn: &mut PgConnection,
    views: impl Iterator<Item = (&'v String, &'v AuthorView)>,
) -> Result<(), sqlx::Error> {
    let mut dirty: Vec<(&String, &AuthorView)> = views.filter(|(_, v)| v.dirty).collect();
    // A stable lock order, should two writers ever meet here.
    dirty.sort_unstable_by_key(|(author, _)| *author);
    if dirty.is_empty() {
        return Ok(());
    }
    let authors: Vec<&str> = dirty.iter().map(|(a, _)| a.as_str()).collect();
    let column = |f: fn(&AuthorView) -> u64| -> Vec<i64> {
        dirty.iter().map(|(_, v)| to_i64(f(v))).collect()
    };
    let last_event_ids: Vec<Option<Uuid>> = dirty.iter().map(|(_, v)| v.last_event_id).collect();
    sqlx::query(
        "INSERT INTO positions (author, applied_seq, applied_events, rejected_events, last_event_id) \
         SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::uuid[]) \
         ON CONFLICT (author) DO UPDATE SET applied_seq = EXCLUDED.applied_seq, \
         applied_events = EXCLUDED.applied_events, rejected_events = EXCLUDED.rejected_events, \
         last_event_id = EXCLUDED.last_event_id",
    )
    .bind(authors)
    .bind(column(|v| v.applied_seq))
    .bind(column(|v| v.applied_events))
    .bind(column(|v| v.rejected_events))
    .bind(last_event_ids)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn hold(
    conn: &mut PgConnection,
    c: &Candidate,
    reason: HeldReason,
) -> Result<(), sqlx::Error> {
    let r = &c.received;
    sqlx::query(
        "INSERT INTO held (author, seq, reason, event_id, event_type, subject, stream_seq, headers, body, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (author, seq) DO NOTHING",
    )
    .bind(c.author.as_str())
    .bind(to_i64(c.seq))
    .bind(reason.code())
    .bind(c.event_id)
    .bind(&c.event_type)
    .bind(&r.subject)
    .bind(to_i64(r.stream_seq))
    .bind(r.headers.to_json())
    .bind(r.body.as_ref())
    .bind(r.received_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes the held event `(author, seq)` out of `held`, as it was received, with the event id
/// it was held under.
pub(super) async fn take_held(
    conn: &mut PgConnection,
    author: &Author,
    seq: u64,
) -> Result<(Received, Uuid), sqlx::Error> {
    let row = sqlx::query(
        "DELETE FROM held WHERE author = $1 AND seq = $2 \
         RETURNING subject, stream_seq, headers, body, received_at, event_id",
    )
    .bind(author.as_str())
    .bind(to_i64(seq))
    .fetch_one(&mut *conn)
    .await?;
    Ok((held_received(&row)?, row.try_get("event_id")?))
}

fn held_received(row: &sqlx::postgres::PgRow) -> Result<Received, sqlx::Error> {
    Ok(Received {
        stream_seq: from_i64(row.try_get("stream_seq")?),
        subject: row.try_get("subject")?,
        headers: Headers::Stored(row.try_get("headers")?),
        body: bytes::Bytes::from(row.try_get::<Vec<u8>, _>("body")?),
        received_at: row.try_get("received_at")?,
        outbox_head: None,
    })
}

/// Every event held for `reason`, by author and seq, as it was received.
pub(super) async fn held_for(
    conn: &mut PgConnection,
    reason: HeldReason,
) -> Result<Vec<Received>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT subject, stream_seq, headers, body, received_at FROM held \
         WHERE reason = $1 ORDER BY author, seq",
    )
    .bind(reason.code())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(held_received).collect()
}

/// Changes why `(author, seq)` is held.
pub(super) async fn set_held_reason(
    conn: &mut PgConnection,
    author: &Author,
    seq: u64,
    reason: HeldReason,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE held SET reason = $3 WHERE author = $1 AND seq = $2")
        .bind(author.as_str())
        .bind(to_i64(seq))
        .bind(reason.code())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What the projection records at an author's seq, to tell a re-sent event from a divergent
/// one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RecordedAtSeq {
    /// The event id that took the seq — applied (`school_events`, `district_events`), refused
    /// (a `refused` dead letter) — or is held at it; `None` when nothing says.
    pub(super) event_id: Option<Uuid>,
    /// `own` is already dead-lettered as a divergence at this seq (a redelivery of it).
    pub(super) own_divergence: bool,
}

/// [`RecordedAtSeq`] of `(author, seq)` for the event `own`, in one statement. Rows written
/// by the current transaction are seen; a school's buffered rows must be flushed first.
pub(super) async fn recorded_at_seq(
    conn: &mut PgConnection,
    author: &Author,
    seq: u64,
    own: Uuid,
) -> Result<RecordedAtSeq, sqlx::Error> {
    let row = sqlx::query(
        "SELECT coalesce( \
            CASE WHEN $1 = '_district' \
                 THEN (SELECT event_id FROM district_events WHERE seq = $2) \
                 ELSE (SELECT event_id FROM school_events WHERE school = $1 AND seq = $2) END, \
            (SELECT event_id FROM dead_letters \
             WHERE author = $1 AND seq = $2 AND kind = 'refused' AND event_id IS NOT NULL \
             ORDER BY id LIMIT 1), \
            (SELECT event_id FROM held WHERE author = $1 AND seq = $2)) AS event_id, \
         EXISTS (SELECT 1 FROM dead_letters WHERE author = $1 AND seq = $2 \
                 AND kind = 'divergence' AND event_id = $3) AS own_divergence",
    )
    .bind(author.as_str())
    .bind(to_i64(seq))
    .bind(own)
    .fetch_one(&mut *conn)
    .await?;
    Ok(RecordedAtSeq {
        event_id: row.try_get("event_id")?,
        own_divergence: row.try_get("own_divergence")?,
    })
}

/// A school was enrolled: what it sent meanwhile waits no longer for enrolment, only
/// (possibly) behind a gap.
pub(super) async fn release_not_enrolled(
    conn: &mut PgConnection,
    author: &Author,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE held SET reason = 'gap' WHERE author = $1 AND reason = 'not_enrolled'")
        .bind(author.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An author's gap standing in the projection: its position, and the events held behind
/// the gap.
#[derive(Debug)]
pub(super) struct StandingGap {
    pub(super) author: String,
    pub(super) applied_seq: u64,
    pub(super) first_held: u64,
    pub(super) held: u64,
}

/// Every gap standing in the projection (held events from before a restart). An author whose
/// next seq is itself held (an unknown version), or whose log diverged, is blocked, not
/// missing one.
pub(super) async fn standing_gaps(
    conn: &mut PgConnection,
) -> Result<Vec<StandingGap>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT h.author, min(h.seq) AS first_held, count(*) AS held, coalesce(p.applied_seq, 0) AS applied_seq \
         FROM held h LEFT JOIN positions p ON p.author = h.author WHERE h.reason = 'gap' \
         AND NOT EXISTS (SELECT 1 FROM held n WHERE n.author = h.author \
                         AND n.seq = coalesce(p.applied_seq, 0) + 1) \
         AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.author = h.author \
                         AND d.kind = 'divergence') \
         GROUP BY h.author, p.applied_seq",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StandingGap {
                author: row.try_get("author")?,
                applied_seq: from_i64(row.try_get("applied_seq")?),
                first_held: from_i64(row.try_get("first_held")?),
                held: from_i64(row.try_get("held")?),
            })
        })
        .collect()
}

/// What a dead letter is (`dead_letters.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DeadLetterKind {
    /// The envelope could not be placed: it used up no seq.
    Unreadable,
    /// It took its seq but does not decode or breaks a rule.
    Refused,
    /// Its seq was taken by another event id: the author's log diverged from the district's.
    Divergence,
}

impl DeadLetterKind {
    fn code(self) -> &'static str {
        match self {
            DeadLetterKind::Unreadable => "unreadable",
            DeadLetterKind::Refused => "refused",
            DeadLetterKind::Divergence => "divergence",
        }
    }
}

/// What a dead letter says about the message beyond its bytes.
#[derive(Debug)]
pub(super) struct DeadLetterFacts {
    pub(super) kind: DeadLetterKind,
    pub(super) author: Option<String>,
    pub(super) seq: Option<u64>,
    pub(super) event_id: Option<Uuid>,
    pub(super) event_type: Option<String>,
    pub(super) reason: String,
}

impl DeadLetterFacts {
    /// The facts of a readable event that is dead-lettered as `kind` for `reason`.
    pub(super) fn of_candidate(
        kind: DeadLetterKind,
        candidate: &Candidate,
        reason: String,
    ) -> Self {
        Self {
            kind,
            author: Some(candidate.author.as_str().to_owned()),
            seq: Some(candidate.seq),
            event_id: Some(candidate.event_id),
            event_type: Some(candidate.event_type.clone()),
            reason,
        }
    }
}

impl From<&Rejected> for DeadLetterFacts {
    fn from(r: &Rejected) -> Self {
        Self {
            kind: DeadLetterKind::Unreadable,
            author: r.author.as_ref().map(|a| a.as_str().to_owned()),
            seq: r.seq,
            event_id: r.event_id,
            event_type: r.event_type.clone(),
            reason: r.reason.clone(),
        }
    }
}

pub(super) async fn dead_letter(
    conn: &mut PgConnection,
    r: &Received,
    facts: DeadLetterFacts,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO dead_letters (stream_seq, subject, author, seq, event_id, event_type, reason, raw, headers, received_at, kind) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (stream_seq) DO NOTHING",
    )
    .bind(to_i64(r.stream_seq))
    .bind(&r.subject)
    .bind(facts.author)
    .bind(facts.seq.map(to_i64))
    .bind(facts.event_id)
    .bind(facts.event_type)
    // PostgreSQL text cannot hold NUL.
    .bind(facts.reason.replace('\0', "\u{FFFD}"))
    .bind(r.body.as_ref())
    .bind(r.headers.to_json())
    .bind(r.received_at)
    .bind(facts.kind.code())
    .execute(conn)
    .await?;
    Ok(())
}

/// Last contact and outbox backlog of each author heard from in a batch (its newest message
/// wins), one array per column.
#[derive(Debug, Default)]
pub(super) struct ContactRows {
    authors: Vec<String>,
    contact_at: Vec<chrono::DateTime<Utc>>,
    seqs: Vec<Option<i64>>,
    heads: Vec<Option<i64>>,
    backlogs: Vec<Option<i64>>,
    stream_seqs: Vec<i64>,
}

impl ContactRows {
    pub(super) fn of(decoded: &[Decoded]) -> Self {
        let mut latest: HashMap<&str, &Decoded> = HashMap::new();
        for message in decoded {
            if let Some(author) = message.author() {
                let entry = latest.entry(author.as_str()).or_insert(message);
                if message.received().stream_seq > entry.received().stream_seq {
                    *entry = message;
                }
            }
        }
        let mut latest: Vec<(&str, &Decoded)> = latest.into_iter().collect();
        // A stable lock order, should two writers ever meet here.
        latest.sort_unstable_by_key(|(author, _)| *author);
        let mut rows = ContactRows::default();
        for (author, message) in latest {
            let r = message.received();
            let seq = message.seq();
            let backlog = match (r.outbox_head, seq) {
                (Some(head), Some(seq)) => Some(head.saturating_sub(seq)),
                _ => None,
            };
            rows.authors.push(author.to_owned());
            rows.contact_at.push(r.received_at);
            rows.seqs.push(seq.map(to_i64));
            rows.heads.push(r.outbox_head.map(to_i64));
            rows.backlogs.push(backlog.map(to_i64));
            rows.stream_seqs.push(to_i64(r.stream_seq));
        }
        rows
    }
}

/// Records last contact and backlog (an older redelivery never moves them back), in one
/// statement.
pub(super) async fn write_contact_rows(
    conn: &mut PgConnection,
    rows: ContactRows,
) -> Result<(), sqlx::Error> {
    if rows.authors.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO ops.contacts (author, last_contact_at, last_seq, outbox_head, backlog, last_stream_seq) \
         SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::int8[], $4::int8[], $5::int8[], $6::int8[]) \
         ON CONFLICT (author) DO UPDATE SET \
         last_contact_at = EXCLUDED.last_contact_at, last_seq = EXCLUDED.last_seq, outbox_head = EXCLUDED.outbox_head, \
         backlog = EXCLUDED.backlog, last_stream_seq = EXCLUDED.last_stream_seq \
         WHERE ops.contacts.last_stream_seq < EXCLUDED.last_stream_seq",
    )
    .bind(rows.authors)
    .bind(rows.contact_at)
    .bind(rows.seqs)
    .bind(rows.heads)
    .bind(rows.backlogs)
    .bind(rows.stream_seqs)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
