//! Applying one event to the projection tables, inside the ingest's transaction.
//!
//! The sequencer ([`crate::ingest`]) decides *whether* an event is due; this module decides
//! whether it is *valid* and what it changes. A school's event is validated the way its agent
//! decided it: `SchoolState::check` against the school's state as of the previous seq, with
//! "today" the local date of its `recorded_at`; the district office's own events likewise
//! with `DistrictState::check`. The states are kept in memory ([`States`]) and restored from
//! the projection rows on first use (`SchoolState::from_snapshot`, `DistrictState::restore`),
//! or whenever the cached copy is not at the position the database holds.
//!
//! The rules are exactly those of the domain's reference model (`DistrictModel`), which the
//! views must equal.
//!
//! Statements never name the projection schema; the transaction's `search_path` does (see
//! [`crate::db::use_projection`]).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::calendar::local_date;
use domain::district::folding::activity_search_words;
use domain::district::{DistrictEvent, DistrictPlan, DistrictState, Enrolment, SchoolLevel};
use domain::event::{ActivityDetails, BudgetLine, Event};
use domain::school::{ActivitySnapshot, BudgetYearSnapshot, CaseSnapshot, NominationSnapshot};
use domain::{AnyEvent, DecisionContext, Envelope, SchoolState, SchoolStateSnapshot, Slug, Vnd};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::db::{from_i64, to_i64};
use crate::write_buffer::{
    ActivityCorrection, ActivityRetraction, ActivityRow, Award, DutyRow, ExpenseRow,
    FeedbackAnswer, FeedbackRow, NominationRow, PressAnswer, PressIssueRow, ReporterVisitRow,
    SchoolEventRow, Statement, WriteBuffer,
};

/// Why a projection write failed. The event is not at fault: the batch is retried.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("the projection database failed: {0}")]
    Sql(#[from] sqlx::Error),
    /// An event already applied no longer decodes: the projection is damaged.
    #[error("school {school} seq {seq} in school_events is unreadable: {reason}")]
    Corrupt {
        school: String,
        seq: i64,
        reason: String,
    },
}

/// What happened to an activity, broadcast after the commit that applied it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityUpdate {
    pub school: String,
    pub seq: u64,
    pub activity_id: Uuid,
    pub change: ActivityChange,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityChange {
    Recorded(ActivityDetails),
    Corrected(ActivityDetails),
    Retracted { reason: String },
}

/// The result of offering one due event to the projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied; what it changed that others need to know.
    Applied(Effects),
    /// Not applied: it does not decode or breaks a rule. Goes to the dead letters; the
    /// position still advances past it.
    Refused(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    pub activity: Option<Box<ActivityUpdate>>,
    /// A school enrolled (or re-enrolled): its held events may now be applied.
    pub enrolled: Option<String>,
}

/// The decision states of the district office and of each school, each as of a known
/// applied seq of its author.
#[derive(Debug, Default)]
pub struct States {
    schools: HashMap<String, Cached<SchoolState>>,
    district: Option<Cached<DistrictState>>,
}

#[derive(Debug)]
struct Cached<S> {
    /// The applied seq the state reflects (dead-lettered seqs included: they change nothing).
    seq: u64,
    state: S,
}

impl States {
    /// Whether the cached state of `school` is as of `applied_seq` (else [`States::school`]
    /// restores it from the projection).
    pub fn is_fresh(&self, school: &str, applied_seq: u64) -> bool {
        self.schools
            .get(school)
            .is_some_and(|c| c.seq == applied_seq)
    }

    /// The state of `school` as of `applied_seq`, restored from the projection when not
    /// cached or cached at another seq (after a failed batch, or another writer).
    pub async fn school(
        &mut self,
        conn: &mut PgConnection,
        school: &str,
        applied_seq: u64,
    ) -> Result<&mut SchoolState, ProjectionError> {
        if !self.is_fresh(school, applied_seq) {
            let state = restore_school(conn, school).await?;
            tracing::debug!(
                school,
                applied_seq,
                events = state.event_count(),
                "school state restored"
            );
            self.schools.insert(
                school.to_owned(),
                Cached {
                    seq: applied_seq,
                    state,
                },
            );
        }
        let cached = self.schools.get_mut(school).expect("inserted above");
        Ok(&mut cached.state)
    }

    /// The district office's state as of `applied_seq` of `_district`.
    pub async fn district(
        &mut self,
        conn: &mut PgConnection,
        applied_seq: u64,
    ) -> Result<&mut DistrictState, ProjectionError> {
        let fresh = self.district.as_ref().is_some_and(|c| c.seq == applied_seq);
        if !fresh {
            let state = restore_district(conn).await?;
            tracing::debug!(
                applied_seq,
                schools = state.enrolments().count(),
                "district state restored"
            );
            self.district = Some(Cached {
                seq: applied_seq,
                state,
            });
        }
        let cached = self.district.as_mut().expect("set above");
        Ok(&mut cached.state)
    }

    /// Records that the cached state of `author` (a school code or `_district`) now reflects
    /// `seq`.
    pub fn advanced(&mut self, author: &str, seq: u64) {
        let cached = if author == domain::Author::DISTRICT_TOKEN {
            self.district.as_mut().map(|c| &mut c.seq)
        } else {
            self.schools.get_mut(author).map(|c| &mut c.seq)
        };
        if let Some(cached) = cached {
            *cached = seq;
        }
    }

    /// Forgets `author`'s state (its in-memory copy may hold changes that were rolled back).
    pub fn forget(&mut self, author: &str) {
        if author == domain::Author::DISTRICT_TOKEN {
            self.district = None;
        } else {
            self.schools.remove(author);
        }
    }

    pub fn clear(&mut self) {
        self.schools.clear();
        self.district = None;
    }
}

/// A school's decision state, rebuilt from its projection rows.
pub async fn restore_school(
    conn: &mut PgConnection,
    school: &str,
) -> Result<SchoolState, ProjectionError> {
    let corrupt = |reason: String| ProjectionError::Corrupt {
        school: school.to_owned(),
        seq: 0,
        reason,
    };
    let plan = sqlx::query("SELECT plan FROM plans WHERE school = $1")
        .bind(school)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.try_get::<serde_json::Value, _>("plan"))
        .transpose()?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| corrupt(format!("plan: {e}")))?;
    let activities = sqlx::query("SELECT activity_id, NOT live AS retracted FROM activities WHERE school = $1 ORDER BY activity_id")
        .bind(school)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(ActivitySnapshot { id: r.try_get("activity_id")?, retracted: r.try_get("retracted")? }))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let cases = |table: &str, id: &str, opened: &str| {
        format!(
            "SELECT {id} AS id, {opened} AS opened_on, answered_on FROM {table} WHERE school = $1 ORDER BY {id}"
        )
    };
    let mut case_lists = Vec::new();
    for sql in [
        cases("feedback", "feedback_id", "received_on"),
        cases("press_issues", "issue_id", "raised_on"),
    ] {
        let list = sqlx::query(&sql)
            .bind(school)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| {
                Ok(CaseSnapshot {
                    id: r.try_get("id")?,
                    opened_on: r.try_get("opened_on")?,
                    answered_on: r.try_get("answered_on")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        case_lists.push(list);
    }
    let press_issues = case_lists.pop().unwrap_or_default();
    let feedback = case_lists.pop().unwrap_or_default();
    let visits = sqlx::query_scalar::<_, Uuid>(
        "SELECT visit_id FROM reporter_visits WHERE school = $1 ORDER BY visit_id",
    )
    .bind(school)
    .fetch_all(&mut *conn)
    .await?;
    let nominations = sqlx::query(
        "SELECT nomination_id, date, awarded_level IS NOT NULL AS awarded FROM nominations WHERE school = $1 ORDER BY nomination_id",
    )
    .bind(school)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok(NominationSnapshot { id: r.try_get("nomination_id")?, date: r.try_get("date")?, awarded: r.try_get("awarded")? }))
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    // Budget years: every year with an estimate, a settlement or an expense, as the state
    // keeps them. Amounts are summed here, saturating like `Vnd`'s own addition.
    let mut years: BTreeMap<i32, BudgetYearSnapshot> = BTreeMap::new();
    let blank = |year| BudgetYearSnapshot {
        year,
        estimate: None,
        spent: Vnd::ZERO,
        settled: false,
    };
    for row in sqlx::query(
        "SELECT year, lines, settled_on IS NOT NULL AS settled FROM budgets WHERE school = $1",
    )
    .bind(school)
    .fetch_all(&mut *conn)
    .await?
    {
        let year: i32 = row.try_get("year")?;
        let lines: Option<serde_json::Value> = row.try_get("lines")?;
        let estimate = lines
            .map(serde_json::from_value::<Vec<BudgetLine>>)
            .transpose()
            .map_err(|e| corrupt(format!("budget {year} lines: {e}")))?
            .map(|lines| lines.iter().map(|l| l.amount).sum::<Vnd>());
        let entry = years.entry(year).or_insert_with(|| blank(year));
        entry.estimate = estimate;
        entry.settled = row.try_get("settled")?;
    }
    let mut expenses = Vec::new();
    for row in sqlx::query(
        "SELECT expense_id, spent_on, amount FROM expenses WHERE school = $1 ORDER BY expense_id",
    )
    .bind(school)
    .fetch_all(&mut *conn)
    .await?
    {
        let spent_on: NaiveDate = row.try_get("spent_on")?;
        let amount: i64 = row.try_get("amount")?;
        let amount = Vnd::parse("amount", amount).map_err(|e| corrupt(e.to_string()))?;
        let entry = years
            .entry(spent_on.year())
            .or_insert_with(|| blank(spent_on.year()));
        entry.spent = entry.spent + amount;
        expenses.push(row.try_get::<Uuid, _>("expense_id")?);
    }
    let event_count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM school_events WHERE school = $1")
            .bind(school)
            .fetch_one(&mut *conn)
            .await?;
    Ok(SchoolState::from_snapshot(SchoolStateSnapshot {
        plan,
        activities,
        feedback,
        press_issues,
        visits,
        nominations,
        budget_years: years.into_values().collect(),
        expenses,
        event_count: from_i64(event_count),
    }))
}

/// The district office's decision state, rebuilt from `schools` and `district_plan`.
pub async fn restore_district(conn: &mut PgConnection) -> Result<DistrictState, ProjectionError> {
    let corrupt = |reason: String| ProjectionError::Corrupt {
        school: domain::Author::DISTRICT_TOKEN.to_owned(),
        seq: 0,
        reason,
    };
    let mut enrolments = Vec::new();
    for row in
        sqlx::query("SELECT code, name, level, commune, enrolled_on FROM schools ORDER BY code")
            .fetch_all(&mut *conn)
            .await?
    {
        let code: String = row.try_get("code")?;
        let level: String = row.try_get("level")?;
        enrolments.push(Enrolment {
            code: Slug::parse("code", &code).map_err(|e| corrupt(e.to_string()))?,
            name: row.try_get("name")?,
            level: SchoolLevel::parse("level", &level).map_err(|e| corrupt(e.to_string()))?,
            commune: row.try_get("commune")?,
            enrolled_on: row.try_get("enrolled_on")?,
        });
    }
    let plan: Option<DistrictPlan> =
        sqlx::query_scalar::<_, serde_json::Value>("SELECT plan FROM district_plan")
            .fetch_optional(&mut *conn)
            .await?
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| corrupt(format!("district plan: {e}")))?;
    Ok(DistrictState::restore(enrolments, plan))
}

/// Validates a due event (of a school or of the district office) against its author's state
/// and, when valid, folds it into that state and adds its rows to `writes` (a school's) or
/// writes them at once (the district office's, which are rare and read back by the ingest).
/// A school's state that must be restored from the projection is restored after flushing
/// `writes`, so the restore reads every row applied before.
pub async fn apply_event(
    conn: &mut PgConnection,
    states: &mut States,
    writes: &mut WriteBuffer,
    envelope: &Envelope,
    applied_seq: u64,
) -> Result<Outcome, ProjectionError> {
    let event = match envelope.decode_any() {
        Ok(event) => event,
        Err(e) => return Ok(Outcome::Refused(format!("cannot decode the event: {e}"))),
    };
    match event {
        AnyEvent::School(event) => {
            let school = envelope.school.as_str();
            if !states.is_fresh(school, applied_seq) {
                writes.flush(conn).await?;
            }
            let state = states.school(conn, school, applied_seq).await?;
            Ok(apply_school_event(writes, envelope, event, state))
        }
        AnyEvent::District(event) => {
            let state = states.district(conn, applied_seq).await?;
            apply_district_event(conn, envelope, &event, state).await
        }
    }
}

/// [`apply_event`] without the database, for the ingest's pipelined path: `None` when the
/// event needs it — the school's state is not cached as of `applied_seq`, the event is the
/// district office's, or it does not decode (a dead letter: the careful path stores those).
/// A refused event comes back as [`Outcome::Refused`], its state untouched.
pub fn apply_cached(
    states: &mut States,
    writes: &mut WriteBuffer,
    envelope: &Envelope,
    applied_seq: u64,
) -> Option<Outcome> {
    let school = envelope.school.as_str();
    if !states.is_fresh(school, applied_seq) {
        return None;
    }
    let AnyEvent::School(event) = envelope.decode_any().ok()? else {
        return None;
    };
    let state = &mut states.schools.get_mut(school)?.state;
    Some(apply_school_event(writes, envelope, event, state))
}

/// Validates a school's due event against `state` and, when valid, adds what it writes to
/// `writes` and folds it into `state`.
fn apply_school_event(
    writes: &mut WriteBuffer,
    envelope: &Envelope,
    event: Event,
    state: &mut SchoolState,
) -> Outcome {
    let ctx = DecisionContext {
        today: local_date(envelope.recorded_at),
    };
    if let Err(e) = state.check(&event, ctx) {
        return Outcome::Refused(format!("refused by the rules as of {}: {e}", ctx.today));
    }
    let school = envelope.school.as_str();
    let seq = to_i64(envelope.seq);
    writes.school_event(school_event_row(envelope));
    let area = |a: Option<domain::ContentArea>| a.map(|a| i16::from(a.number()));
    let owned = || school.to_owned();
    match &event {
        Event::PlanAdopted(_) | Event::PlanAmended(_) => {}
        Event::DutyAssigned(e) => writes.duty(DutyRow {
            school: owned(),
            seq,
            role: e.role.code().to_owned(),
            person: e.person.clone(),
            duty: e.duty.clone(),
            since: e.since,
        }),
        Event::ActivityRecorded(e) => writes.activity(ActivityRow::recorded(
            stored_details(school, e.activity_id, &e.details, seq),
            envelope.recorded_at,
            envelope.occurred_at,
        )),
        Event::ActivityCorrected(e) => {
            writes.correct_activity(stored_details(school, e.activity_id, &e.details, seq))
        }
        Event::ActivityRetracted(e) => {
            writes.retract_activity(ActivityRetraction {
                school: owned(),
                activity_id: e.activity_id,
                reason: e.reason.clone(),
                updated_seq: seq,
            });
        }
        Event::FeedbackReceived(e) => writes.feedback(FeedbackRow {
            school: owned(),
            feedback_id: e.feedback_id,
            received_on: e.received_on,
            channel: e.channel.code().to_owned(),
            citizen: e.citizen.clone(),
            subject: e.subject.clone(),
            content: e.content.clone(),
            area: area(e.area),
            received_seq: seq,
            answered_on: None,
            answer_channel: None,
            answer: None,
            answered_seq: None,
        }),
        Event::FeedbackAnswered(e) => writes.answer_feedback(FeedbackAnswer {
            school: owned(),
            feedback_id: e.feedback_id,
            answered_on: e.answered_on,
            answer_channel: e.channel.code().to_owned(),
            answer: e.answer.clone(),
            answered_seq: seq,
        }),
        Event::PressIssueRaised(e) => writes.press_issue(PressIssueRow {
            school: owned(),
            issue_id: e.issue_id,
            raised_on: e.raised_on,
            outlet: e.outlet.clone(),
            title: e.title.clone(),
            summary: e.summary.clone(),
            url: e.url.clone(),
            area: area(e.area),
            raised_seq: seq,
            answered_on: None,
            answer_channel: None,
            response: None,
            answered_seq: None,
        }),
        Event::PressIssueAnswered(e) => writes.answer_press_issue(PressAnswer {
            school: owned(),
            issue_id: e.issue_id,
            answered_on: e.answered_on,
            answer_channel: e.channel.code().to_owned(),
            response: e.response.clone(),
            answered_seq: seq,
        }),
        Event::ReporterVisitHosted(e) => writes.reporter_visit(ReporterVisitRow {
            school: owned(),
            visit_id: e.visit_id,
            date: e.date,
            outlet: e.outlet.clone(),
            reporter: e.reporter.clone(),
            purpose: e.purpose.clone(),
            area: area(e.area),
            seq,
        }),
        Event::NomineeNominated(e) => writes.nomination(NominationRow {
            school: owned(),
            nomination_id: e.nomination_id,
            date: e.date,
            nominee_kind: e.nominee_kind.code().to_owned(),
            nominee: e.nominee.clone(),
            achievement: e.achievement.clone(),
            proposed_level: e.proposed_level.code().to_owned(),
            nominated_seq: seq,
            awarded_level: None,
            decision_number: None,
            decision_date: None,
            awarded_seq: None,
        }),
        Event::CommendationAwarded(e) => writes.award(Award {
            school: owned(),
            nomination_id: e.nomination_id,
            awarded_level: e.level.code().to_owned(),
            decision_number: e.decision_number.clone(),
            decision_date: e.decision_date,
            awarded_seq: seq,
        }),
        Event::EmulationCriteriaAdopted(e) => writes.upsert(
            sqlx::query(
                "INSERT INTO emulation_criteria (school, school_year, adopted_on, criteria, seq) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (school, school_year) DO UPDATE \
                 SET adopted_on = EXCLUDED.adopted_on, criteria = EXCLUDED.criteria, seq = EXCLUDED.seq",
            )
            .bind(owned())
            .bind(e.school_year)
            .bind(e.adopted_on)
            .bind(json(&e.criteria))
            .bind(seq),
        ),
        Event::BudgetEstimated(e) => writes.upsert(
            sqlx::query(
                "INSERT INTO budgets (school, year, estimated, estimated_on, lines, estimates) VALUES ($1, $2, $3, $4, $5, 1) \
                 ON CONFLICT (school, year) DO UPDATE SET estimated = EXCLUDED.estimated, \
                 estimated_on = EXCLUDED.estimated_on, lines = EXCLUDED.lines, estimates = budgets.estimates + 1",
            )
            .bind(owned())
            .bind(e.year)
            .bind(e.total().dong())
            .bind(e.estimated_on)
            .bind(json(&e.lines)),
        ),
        Event::ExpenseRecorded(e) => writes.expense(ExpenseRow {
            school: owned(),
            expense_id: e.expense_id,
            spent_on: e.spent_on,
            item: e.item.clone(),
            amount: e.amount.dong(),
            activity_id: e.activity_id,
            voucher: e.voucher.clone(),
            seq,
        }),
        Event::BudgetSettled(e) => writes.upsert(
            sqlx::query(
                "INSERT INTO budgets (school, year, settled_amount, settled_on, note) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (school, year) DO UPDATE SET settled_amount = EXCLUDED.settled_amount, \
                 settled_on = EXCLUDED.settled_on, note = EXCLUDED.note",
            )
            .bind(owned())
            .bind(e.year)
            .bind(e.settled_amount.dong())
            .bind(e.settled_on)
            .bind(e.note.clone()),
        ),
    }
    state.apply(&event);
    let plan_changed = matches!(event, Event::PlanAdopted(_) | Event::PlanAmended(_));
    if plan_changed
        && let Some(statement) =
            plan_upsert(school, seq, state, matches!(event, Event::PlanAmended(_)))
    {
        writes.upsert(statement);
    }
    // The details move into the broadcast; the rows above took copies.
    let change = match event {
        Event::ActivityRecorded(e) => Some((e.activity_id, ActivityChange::Recorded(e.details))),
        Event::ActivityCorrected(e) => Some((e.activity_id, ActivityChange::Corrected(e.details))),
        Event::ActivityRetracted(e) => Some((
            e.activity_id,
            ActivityChange::Retracted { reason: e.reason },
        )),
        _ => None,
    };
    Outcome::Applied(Effects {
        activity: change.map(|(id, change)| Box::new(activity_update(envelope, id, change))),
        enrolled: None,
    })
}

/// The upsert of the school's plan as the state now holds it (adopted, with every amendment).
fn plan_upsert(school: &str, seq: i64, state: &SchoolState, amended: bool) -> Option<Statement> {
    let plan = state.plan()?;
    Some(
        sqlx::query(
            "INSERT INTO plans (school, number, issuer, parent_agency, place, date, title, period_start, period_end, \
             legal_bases, content_areas, duties, plan, amendments, adopted_seq, updated_seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $15, 0, $13, $13) \
             ON CONFLICT (school) DO UPDATE SET number = EXCLUDED.number, issuer = EXCLUDED.issuer, \
             parent_agency = EXCLUDED.parent_agency, place = EXCLUDED.place, date = EXCLUDED.date, title = EXCLUDED.title, \
             period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end, legal_bases = EXCLUDED.legal_bases, \
             content_areas = EXCLUDED.content_areas, duties = EXCLUDED.duties, plan = EXCLUDED.plan, \
             amendments = plans.amendments + $14, updated_seq = EXCLUDED.updated_seq",
        )
        .bind(school.to_owned())
        .bind(plan.number.clone())
        .bind(plan.issuer.clone())
        .bind(plan.parent_agency.clone())
        .bind(plan.place.clone())
        .bind(plan.date)
        .bind(plan.title.clone())
        .bind(plan.period.start())
        .bind(plan.period.end())
        .bind(json(&plan.legal_bases))
        .bind(json(&plan.content_areas))
        .bind(json(&plan.duties))
        .bind(seq)
        .bind(i32::from(amended))
        .bind(json(plan)),
    )
}

/// The `school_events` row of a school's event.
fn school_event_row(envelope: &Envelope) -> SchoolEventRow {
    let occurred_on = local_date(envelope.occurred_at);
    let recorded_on = local_date(envelope.recorded_at);
    let delay = (recorded_on - occurred_on).num_days().max(0);
    SchoolEventRow {
        school: envelope.school.as_str().to_owned(),
        seq: to_i64(envelope.seq),
        event_id: envelope.id,
        r#type: envelope.event_type.clone(),
        schema: i32::try_from(envelope.schema).unwrap_or(i32::MAX),
        occurred_at: envelope.occurred_at,
        recorded_at: envelope.recorded_at,
        occurred_on,
        recorded_on,
        delay_days: i32::try_from(delay).unwrap_or(i32::MAX),
        actor_role: envelope.actor.role.code().to_owned(),
        actor_person: envelope.actor.person.clone(),
        data: envelope.data.as_str().to_owned(),
    }
}

/// An activity's details as the `activities` columns store them (codes, folded search
/// words), set by the event at `seq`: what a correction writes, and a recording too.
fn stored_details(
    school: &str,
    activity_id: Uuid,
    d: &ActivityDetails,
    seq: i64,
) -> ActivityCorrection {
    ActivityCorrection {
        school: school.to_owned(),
        activity_id,
        date: d.date,
        area: i16::from(d.area.number()),
        topic: d.topic.as_ref().map(|t| t.as_str().to_owned()),
        channel: d.channel.code().to_owned(),
        title: d.title.clone(),
        summary: d.summary.clone(),
        audience: d.audience.clone(),
        reach: d.reach.map(i64::from),
        partner: d.partner.clone(),
        evidence_url: d.evidence_url.clone(),
        responsible: d.responsible.code().to_owned(),
        words: activity_search_words(d).into_string(),
        corrections: 1,
        updated_seq: seq,
    }
}

/// Validates a district office event against the district's state and, when valid, writes it
/// to the projection and folds it into that state.
async fn apply_district_event(
    conn: &mut PgConnection,
    envelope: &Envelope,
    event: &DistrictEvent,
    state: &mut DistrictState,
) -> Result<Outcome, ProjectionError> {
    let ctx = DecisionContext {
        today: local_date(envelope.recorded_at),
    };
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

fn activity_update(
    envelope: &Envelope,
    activity_id: Uuid,
    change: ActivityChange,
) -> ActivityUpdate {
    ActivityUpdate {
        school: envelope.school.as_str().to_owned(),
        seq: envelope.seq,
        activity_id,
        change,
        recorded_at: envelope.recorded_at,
    }
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    // Plain domain structs with string keys always serialise.
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
