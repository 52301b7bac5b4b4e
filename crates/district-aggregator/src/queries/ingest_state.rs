//! Where each author's log stands: applied position, held events, last contact and backlog.
//!
//! Positions and held events are projection rows (they commit with the views); last contact
//! and backlog live in `ops.contacts`, outside the projection. Re-send bookkeeping and the
//! ingest counters are process state ([`crate::state::IngestState`]), added by the service.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::QueryError;

/// One author (a school code or `_district`) as the ingest sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorRow {
    pub author: String,
    /// Enrolled school, or the district office.
    pub enrolled: bool,
    pub applied_seq: i64,
    pub applied_events: i64,
    pub rejected_events: i64,
    /// Held events, whatever the reason.
    pub held: i64,
    /// Held behind a gap: how many, and the lowest seq.
    pub gap_held: i64,
    pub first_gap_seq: Option<i64>,
    pub last_contact_at: Option<DateTime<Utc>>,
    pub last_seq: Option<i64>,
    pub outbox_head: Option<i64>,
    pub backlog: Option<i64>,
}

impl AuthorRow {
    /// `applied_seq + 1` when events are held behind a gap.
    pub fn first_missing_seq(&self) -> Option<i64> {
        (self.gap_held > 0).then_some(self.applied_seq + 1)
    }
}

const AUTHORS: &str = r#"
    WITH authors AS (
        SELECT author FROM positions
        UNION SELECT author FROM held
        UNION SELECT code FROM schools
        UNION SELECT author FROM ops.contacts
    ), held_by_author AS (
        SELECT author, count(*) AS held,
               count(*) FILTER (WHERE reason = 'gap') AS gap_held,
               min(seq) FILTER (WHERE reason = 'gap') AS first_gap_seq
        FROM held GROUP BY author
    )
    SELECT a.author,
           a.author = '_district' OR EXISTS (SELECT 1 FROM schools s WHERE s.code = a.author),
           coalesce(p.applied_seq, 0), coalesce(p.applied_events, 0),
           coalesce(p.rejected_events, 0),
           coalesce(h.held, 0), coalesce(h.gap_held, 0), h.first_gap_seq,
           c.last_contact_at, c.last_seq, c.outbox_head, c.backlog
    FROM authors a
    LEFT JOIN positions p ON p.author = a.author
    LEFT JOIN held_by_author h ON h.author = a.author
    LEFT JOIN ops.contacts c ON c.author = a.author
    ORDER BY a.author COLLATE "C""#;

type Row = (
    String,
    bool,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<DateTime<Utc>>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// Every author the aggregator knows of, `_district` first (it sorts before letters).
pub async fn authors(conn: &mut PgConnection) -> Result<Vec<AuthorRow>, QueryError> {
    let rows: Vec<Row> = sqlx::query_as(AUTHORS).fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                author,
                enrolled,
                applied_seq,
                applied_events,
                rejected_events,
                held,
                gap_held,
                first_gap_seq,
                last_contact_at,
                last_seq,
                outbox_head,
                backlog,
            )| {
                AuthorRow {
                    author,
                    enrolled,
                    applied_seq,
                    applied_events,
                    rejected_events,
                    held,
                    gap_held,
                    first_gap_seq,
                    last_contact_at,
                    last_seq,
                    outbox_head,
                    backlog,
                }
            },
        )
        .collect())
}
