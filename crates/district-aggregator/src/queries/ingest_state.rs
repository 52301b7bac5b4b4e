//! Where each author's log stands: applied position, held events (and why), divergences on
//! record, last contact and backlog.
//!
//! Positions and held events are projection rows (they commit with the views); last contact
//! and backlog live in `ops.contacts`, outside the projection. Re-send bookkeeping and the
//! ingest counters are process state ([`crate::state::IngestState`]), added by the service.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

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
    /// The next seq is itself held (an unknown version, a divergence): blocked, not missing.
    pub next_held: bool,
    /// Held after a divergence, and held for an unknown version.
    pub held_diverged: i64,
    pub held_unknown_version: i64,
    /// Divergence dead letters, and their distinct seqs ascending.
    pub divergences: i64,
    pub divergent_seqs: Vec<i64>,
    pub last_contact_at: Option<DateTime<Utc>>,
    pub last_seq: Option<i64>,
    pub outbox_head: Option<i64>,
    pub backlog: Option<i64>,
}

impl AuthorRow {
    /// `applied_seq + 1` when events are held behind a gap — unless that seq is itself held or
    /// the author's log diverged: then it is blocked, not missing.
    pub fn first_missing_seq(&self) -> Option<i64> {
        (self.gap_held > 0 && !self.next_held && self.divergences == 0)
            .then_some(self.applied_seq + 1)
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
               min(seq) FILTER (WHERE reason = 'gap') AS first_gap_seq,
               count(*) FILTER (WHERE reason = 'diverged') AS held_diverged,
               count(*) FILTER (WHERE reason = 'unknown_version') AS held_unknown_version
        FROM held GROUP BY author
    ), divergences AS (
        SELECT author, count(*) AS divergences, array_agg(DISTINCT seq ORDER BY seq) AS seqs
        FROM dead_letters WHERE kind = 'divergence' AND author IS NOT NULL AND seq IS NOT NULL
        GROUP BY author
    )
    SELECT a.author,
           a.author = '_district' OR EXISTS (SELECT 1 FROM schools s WHERE s.code = a.author)
               AS enrolled,
           coalesce(p.applied_seq, 0) AS applied_seq,
           coalesce(p.applied_events, 0) AS applied_events,
           coalesce(p.rejected_events, 0) AS rejected_events,
           coalesce(h.held, 0) AS held, coalesce(h.gap_held, 0) AS gap_held, h.first_gap_seq,
           c.last_contact_at, c.last_seq, c.outbox_head, c.backlog,
           EXISTS (SELECT 1 FROM held n WHERE n.author = a.author
                   AND n.seq = coalesce(p.applied_seq, 0) + 1) AS next_held,
           coalesce(h.held_diverged, 0) AS held_diverged,
           coalesce(h.held_unknown_version, 0) AS held_unknown_version,
           coalesce(d.divergences, 0) AS divergences,
           coalesce(d.seqs, '{}') AS divergent_seqs
    FROM authors a
    LEFT JOIN positions p ON p.author = a.author
    LEFT JOIN held_by_author h ON h.author = a.author
    LEFT JOIN ops.contacts c ON c.author = a.author
    LEFT JOIN divergences d ON d.author = a.author
    ORDER BY a.author COLLATE "C""#;

/// Every author the aggregator knows of, `_district` first (it sorts before letters).
pub async fn authors(conn: &mut PgConnection) -> Result<Vec<AuthorRow>, QueryError> {
    let rows = sqlx::query(AUTHORS).fetch_all(conn).await?;
    let row = |r: &PgRow| -> Result<AuthorRow, sqlx::Error> {
        Ok(AuthorRow {
            author: r.try_get("author")?,
            enrolled: r.try_get("enrolled")?,
            applied_seq: r.try_get("applied_seq")?,
            applied_events: r.try_get("applied_events")?,
            rejected_events: r.try_get("rejected_events")?,
            held: r.try_get("held")?,
            gap_held: r.try_get("gap_held")?,
            first_gap_seq: r.try_get("first_gap_seq")?,
            next_held: r.try_get("next_held")?,
            held_diverged: r.try_get("held_diverged")?,
            held_unknown_version: r.try_get("held_unknown_version")?,
            divergences: r.try_get("divergences")?,
            divergent_seqs: r.try_get("divergent_seqs")?,
            last_contact_at: r.try_get("last_contact_at")?,
            last_seq: r.try_get("last_seq")?,
            outbox_head: r.try_get("outbox_head")?,
            backlog: r.try_get("backlog")?,
        })
    };
    Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
}
