//! A district office event (an enrolment, the district plan): refused unless its actor is the
//! district office (`domain::district::check_district_actor`), validated against the
//! district's state, then written at once — the ingest reads enrolments back within the
//! same batch, to release what a newly enrolled school sent meanwhile.

use domain::calendar::local_date;
use domain::district::{DistrictEvent, DistrictState, check_district_actor};
use domain::{DecisionContext, Envelope};
use sqlx::PgConnection;

use super::{Effects, Outcome, ProjectionError, json};
use crate::db::to_i64;

/// Validates a district office event against the district's state and, when valid, writes it
/// to the projection and folds it into that state.
pub(super) async fn apply_district_event(
    conn: &mut PgConnection,
    envelope: &Envelope,
    event: &DistrictEvent,
    state: &mut DistrictState,
) -> Result<Outcome, ProjectionError> {
    let ctx = DecisionContext {
        today: local_date(envelope.recorded_at),
    };
    if let Err(e) = check_district_actor(&envelope.actor) {
        return Ok(Outcome::Refused(format!(
            "not the district office's: an event on the district office's subject by a {} ({}): {e}",
            envelope.actor.role.code(),
            envelope.actor.person
        )));
    }
    if let Err(e) = state.check(event, ctx) {
        return Ok(Outcome::Refused(format!(
            "refused by the rules as of {}: {e}",
            ctx.today
        )));
    }
    let seq = to_i64(envelope.seq);
    sqlx::query(
        "INSERT INTO district_events (seq, event_id, type, schema, occurred_at, recorded_at, actor_role, actor_person, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)",
    )
    .bind(seq)
    .bind(envelope.id)
    .bind(&envelope.event_type)
    .bind(i32::try_from(envelope.schema).unwrap_or(i32::MAX))
    .bind(envelope.occurred_at)
    .bind(envelope.recorded_at)
    .bind(envelope.actor.role.code())
    .bind(&envelope.actor.person)
    .bind(envelope.data.as_str())
    .execute(&mut *conn)
    .await?;
    let mut effects = Effects::default();
    match event {
        DistrictEvent::SchoolEnrolled(e) => {
            sqlx::query(
                "INSERT INTO schools (code, name, level, commune, enrolled_on, enrolled_seq, updated_seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) \
                 ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level, \
                 commune = EXCLUDED.commune, updated_seq = EXCLUDED.updated_seq",
            )
            .bind(e.code.as_str())
            .bind(&e.name)
            .bind(e.level.code())
            .bind(&e.commune)
            .bind(e.enrolled_on)
            .bind(seq)
            .execute(&mut *conn)
            .await?;
            effects.enrolled = Some(e.code.as_str().to_owned());
        }
        DistrictEvent::DistrictPlanAdopted(e) => {
            sqlx::query(
                "INSERT INTO district_plan (id, number, issuer, parent_agency, place, date, title, period_start, period_end, \
                 answer_feedback_days, answer_press_days, plan, adopted_seq) \
                 VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $11) \
                 ON CONFLICT (id) DO UPDATE SET number = EXCLUDED.number, issuer = EXCLUDED.issuer, \
                 parent_agency = EXCLUDED.parent_agency, place = EXCLUDED.place, date = EXCLUDED.date, title = EXCLUDED.title, \
                 period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end, \
                 answer_feedback_days = EXCLUDED.answer_feedback_days, answer_press_days = EXCLUDED.answer_press_days, \
                 plan = EXCLUDED.plan, adopted_seq = EXCLUDED.adopted_seq",
            )
            .bind(&e.number)
            .bind(&e.issuer)
            .bind(&e.parent_agency)
            .bind(&e.place)
            .bind(e.date)
            .bind(&e.title)
            .bind(e.period.start())
            .bind(e.period.end())
            .bind(i32::try_from(e.answer_within_days.feedback).unwrap_or(i32::MAX))
            .bind(i32::try_from(e.answer_within_days.press).unwrap_or(i32::MAX))
            .bind(seq)
            .bind(json(e))
            .execute(&mut *conn)
            .await?;
            sqlx::query("DELETE FROM district_targets")
                .execute(&mut *conn)
                .await?;
            for (ord, target) in e.targets.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO district_targets (ord, level, area, per, min_activities) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(i32::try_from(ord).unwrap_or(i32::MAX))
                .bind(target.level.map(|l| l.code()))
                .bind(target.area.map(|a| i16::from(a.number())))
                .bind(target.per.code())
                .bind(i32::try_from(target.min_activities).unwrap_or(i32::MAX))
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    state.apply(event);
    Ok(Outcome::Applied(effects))
}
