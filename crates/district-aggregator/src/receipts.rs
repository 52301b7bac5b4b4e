//! A school's receipt (`event_bus::receipts`): how far the district applied its log and what
//! it refused or holds, read from the projection and sent back on the reply subject of the
//! school's head announcement ([`crate::heads`]).
//!
//! The school is the one the announcement's *subject* names (its NATS user may publish only
//! its own), so a receipt never says anything about another school.

use chrono::Utc;
use event_bus::receipts::{DistrictTerms, MAX_REFUSALS, Receipt, Refusal, Target};
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
    let district = district_terms(&mut tx, school).await?;
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
        district,
    })
}

/// The district plan's deadlines and the targets of the school's level, when adopted.
async fn district_terms(
    tx: &mut sqlx::PgConnection,
    school: &str,
) -> Result<Option<DistrictTerms>, sqlx::Error> {
    let plan: Option<(String, i32, i32)> = sqlx::query_as(
        "SELECT number, answer_feedback_days, answer_press_days FROM district_plan WHERE id = 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some((plan_number, feedback, press)) = plan else {
        return Ok(None);
    };
    let targets: Vec<(Option<i16>, String, i32)> = sqlx::query_as(
        "SELECT t.area, t.per, t.min_activities FROM district_targets t \
         WHERE t.level IS NULL OR t.level = (SELECT level FROM schools WHERE code = $1) \
         ORDER BY t.ord",
    )
    .bind(school)
    .fetch_all(&mut *tx)
    .await?;
    Ok(Some(DistrictTerms {
        plan_number,
        answer_feedback_days: u32::try_from(feedback).unwrap_or(0),
        answer_press_days: u32::try_from(press).unwrap_or(0),
        targets: targets
            .into_iter()
            .map(|(area, per, min)| Target {
                area: area.and_then(|a| u8::try_from(a).ok()),
                per,
                min_activities: u32::try_from(min).unwrap_or(0),
            })
            .collect(),
    }))
}
