//! The decision states of the authors — each school's `SchoolState`, the district office's
//! `DistrictState` — kept in memory between events and batches, and restored from the
//! projection's rows when not cached, or cached at another seq than the database's.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use domain::district::{DistrictPlan, DistrictState, Enrolment, SchoolLevel};
use domain::event::BudgetLine;
use domain::evidence::EvidenceTarget;
use domain::school::EvidenceSnapshot;
use domain::school::{ActivitySnapshot, BudgetYearSnapshot, CaseSnapshot, NominationSnapshot};
use domain::{SchoolState, SchoolStateSnapshot, Slug, Vnd};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::ProjectionError;
use crate::db::from_i64;

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

    /// The cached state of `school` when it is as of `applied_seq`; `None` when it would
    /// have to be restored from the projection.
    pub fn fresh_school(&mut self, school: &str, applied_seq: u64) -> Option<&mut SchoolState> {
        self.schools
            .get_mut(school)
            .filter(|c| c.seq == applied_seq)
            .map(|c| &mut c.state)
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
    // Each record's evidence hashes, in the order attached (by seq).
    let mut evidence: BTreeMap<EvidenceTarget, Vec<String>> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT record_kind, record_id, sha256 FROM evidence WHERE school = $1 ORDER BY attached_seq",
    )
    .bind(school)
    .fetch_all(&mut *conn)
    .await?
    {
        let kind: String = row.try_get("record_kind")?;
        let record = EvidenceTarget::from_kind(&kind, row.try_get("record_id")?)
            .ok_or_else(|| corrupt(format!("evidence record kind {kind:?}")))?;
        evidence
            .entry(record)
            .or_default()
            .push(row.try_get("sha256")?);
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
        evidence: evidence
            .into_iter()
            .map(|(record, sha256)| EvidenceSnapshot { record, sha256 })
            .collect(),
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
