//! The dead letters, oldest first, paged by their id.

use chrono::{DateTime, Utc};
use domain::district::views::page_size;
use domain::{DomainError, Rule};
use sqlx::PgConnection;
use uuid::Uuid;

use super::QueryError;

/// How much of a dead letter's body is shown.
pub const EXCERPT_BYTES: i32 = 2048;

/// A dead letter as the district office reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterRow {
    pub id: i64,
    pub stream_seq: i64,
    pub subject: String,
    pub author: Option<String>,
    pub seq: Option<i64>,
    pub event_id: Option<Uuid>,
    pub event_type: Option<String>,
    pub reason: String,
    /// `unreadable`, `refused` or `divergence` (see the migration that added it).
    pub kind: String,
    pub received_at: DateTime<Utc>,
    /// The size of the body.
    pub body_bytes: i64,
    /// Its first [`EXCERPT_BYTES`] bytes as text (invalid UTF-8 replaced).
    pub body_excerpt: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterPage {
    pub dead_letters: Vec<DeadLetterRow>,
    /// The id of the page's last row, as text; `None` on the last page.
    pub next_page_token: Option<String>,
}

type Row = (
    i64,
    i64,
    String,
    Option<String>,
    Option<i64>,
    Option<Uuid>,
    Option<String>,
    String,
    String,
    DateTime<Utc>,
    i32,
    Vec<u8>,
);

const PAGE: &str = "SELECT id, stream_seq, subject, author, seq, event_id, event_type, reason, \
                    kind, received_at, octet_length(raw), substring(raw FROM 1 FOR $4) \
                    FROM dead_letters WHERE ($1::text IS NULL OR author = $1) AND id > $2 \
                    ORDER BY id LIMIT $3";

pub async fn dead_letters(
    conn: &mut PgConnection,
    author: Option<&str>,
    page_size_requested: Option<u32>,
    page_token: Option<&str>,
) -> Result<DeadLetterPage, QueryError> {
    let after = match page_token.filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => token.parse::<i64>().map_err(|_| {
            DomainError::invalid(
                "page_token",
                Rule::InvalidValue {
                    value: token.chars().take(64).collect(),
                    expected: "a page token returned with the previous page",
                },
            )
        })?,
    };
    let size = page_size(page_size_requested);
    let mut rows: Vec<Row> = sqlx::query_as(PAGE)
        .bind(author.filter(|a| !a.is_empty()))
        .bind(after)
        .bind(i64::try_from(size).unwrap_or(i64::MAX) + 1)
        .bind(EXCERPT_BYTES)
        .fetch_all(conn)
        .await?;
    let next_page_token = (rows.len() > size).then(|| rows[size - 1].0.to_string());
    rows.truncate(size);
    let dead_letters = rows
        .into_iter()
        .map(
            |(
                id,
                stream_seq,
                subject,
                author,
                seq,
                event_id,
                event_type,
                reason,
                kind,
                received_at,
                bytes,
                excerpt,
            )| {
                DeadLetterRow {
                    id,
                    stream_seq,
                    subject,
                    author,
                    seq,
                    event_id,
                    event_type,
                    reason,
                    kind,
                    received_at,
                    body_bytes: i64::from(bytes),
                    body_excerpt: String::from_utf8_lossy(&excerpt).into_owned(),
                }
            },
        )
        .collect();
    Ok(DeadLetterPage {
        dead_letters,
        next_page_token,
    })
}
