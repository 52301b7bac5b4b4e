//! A school's receipt (`event_bus::receipts`): how far the district applied its log and what
//! it refused or holds, read from the projection and sent back on the reply subject of the
//! school's head announcement ([`crate::heads`]).
//!
//! The school is the one the announcement's *subject* names (its NATS user may publish only
//! its own), so a receipt never says anything about another school.

use chrono::Utc;
use event_bus::receipts::{MAX_REFUSALS, Receipt, Refusal};
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::{from_i64, to_i64, use_projection};

/// The receipt of `school` from the projection `schema`.
pub(crate) async fn receipt_of(
    pool: &PgPool,
    schema: &str,
    school: &str,
) -> Result<Receipt, sqlx::Error> {
    let mut tx = pool.begin().await?;
    use_projection(&mut tx, schema).await?;
    let applied: Option<i64> =
        sqlx::query_scalar("SELECT applied_seq FROM positions WHERE author = $1")
            .bind(school)
            .fetch_optional(&mut *tx)
            .await?;
    let limit = to_i64(MAX_REFUSALS as u64);
    let refused: Vec<(Option<i64>, Option<Uuid>, String)> = sqlx::query_as(
        "SELECT seq, event_id, reason FROM ( \
             SELECT seq, event_id, reason, id FROM dead_letters \
             WHERE author = $1 AND seq IS NOT NULL ORDER BY id DESC LIMIT $2) newest \
         ORDER BY id",
    )
    .bind(school)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    let held: Vec<(i64, Uuid, String)> = sqlx::query_as(
        "SELECT seq, event_id, reason FROM held WHERE author = $1 ORDER BY seq LIMIT $2",
    )
    .bind(school)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Receipt {
        applied_seq: applied.map_or(0, from_i64),
        refused: refused
            .into_iter()
            .filter_map(|(seq, event_id, reason)| {
                Some(Refusal {
                    seq: from_i64(seq?),
                    event_id,
                    reason,
                })
            })
            .collect(),
        held: held
            .into_iter()
            .map(|(seq, event_id, reason)| Refusal {
                seq: from_i64(seq),
                event_id: Some(event_id),
                reason,
            })
            .collect(),
        at: Utc::now(),
    })
}
