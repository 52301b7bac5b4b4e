//! The district views of `docs/district-views.md`, answered in SQL from the projection.
//!
//! Each view has its own file and returns the domain's view type
//! (`domain::district::views::*`), which must **equal** the reference model's answer
//! (`domain::district::DistrictModel`) for the same events — the integration test
//! `tests/it/queries.rs` compares them field by field. To make that hold by construction:
//!
//! - each view only **obtains its rows** here: counting, summing and the other work that grows
//!   with the data happen in PostgreSQL, in a few `GROUP BY` queries over indexed columns;
//! - everything **derived from those rows** — joining them to the enrolled schools, targets
//!   and their status, summaries and their order, tallies, rates, totals, listing filters and
//!   orders, the page cut — is computed by `domain::district::assemble`, the very functions
//!   the model calls on the rows it folds, so the two sides share one definition of each;
//! - rates and means are computed by `views::{rate, mean}` from **integer** sums fetched from
//!   SQL, so rounding is identical;
//! - strings are ordered in Rust or with `COLLATE "C"` (byte order, as Rust's `str` orders),
//!   never by the database's locale;
//! - every view reads in one `REPEATABLE READ, READ ONLY` transaction, so its queries see the
//!   same committed batches.
//!
//! Statements never name the projection schema: [`Views`] points the transaction's
//! `search_path` at it ([`crate::db::use_projection`]), so the same code reads a rebuild.

pub mod activity_index;
pub mod budget;
pub mod commendation;
pub mod completeness;
pub mod dead_letters;
pub mod ingest_state;
pub mod plan_view;
pub mod responsiveness;
pub mod schools;
pub mod search;

use chrono::NaiveDate;
use domain::district::access::Scope;
use domain::district::assemble::ViewPeriod;
use domain::district::views::{
    ActivityFilter, ActivityPage, BudgetView, CommendationView, CompletenessView, EnrolledSchool,
    PlanView, ResponsivenessView,
};
use domain::district::{DistrictPlan, DistrictState};
use domain::{DateRange, DomainError, Period};
use std::sync::Arc;

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::db::use_projection;
use crate::projection::{ProjectionError, restore_district};

pub use activity_index::ActivityIndex;

pub use dead_letters::{DeadLetterPage, DeadLetterRow};
pub use ingest_state::AuthorRow;

/// Why a view could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The question is refused (a period outside the plan, a bad page token, …): the
    /// caller's to fix; carries the field and the rule.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// PostgreSQL failed or is unavailable: try again.
    #[error("the projection database failed: {0}")]
    Sql(#[from] sqlx::Error),
    /// A stored row does not read back (the projection is damaged).
    #[error("the projection is damaged: {0}")]
    Corrupt(String),
}

impl From<ProjectionError> for QueryError {
    fn from(e: ProjectionError) -> Self {
        match e {
            ProjectionError::Sql(e) => QueryError::Sql(e),
            corrupt @ ProjectionError::Corrupt { .. } => QueryError::Corrupt(corrupt.to_string()),
        }
    }
}

/// The district views over one projection schema.
#[derive(Debug, Clone)]
pub struct Views {
    pool: PgPool,
    schema: String,
    /// Live activity counts for the plan view; `None` to count in SQL every time.
    index: Option<Arc<ActivityIndex>>,
    /// The schools the answers show: the whole district but for a school head's calls.
    scope: Scope,
}

impl Views {
    /// The views of projection `schema` ([`crate::db::LIVE_SCHEMA`] for the live ones), the
    /// plan view served by an [`ActivityIndex`].
    pub fn new(pool: PgPool, schema: impl Into<String>) -> Self {
        Self {
            pool,
            schema: schema.into(),
            index: Some(Arc::new(ActivityIndex::new())),
            scope: Scope::District,
        }
    }

    /// The same views, counting the plan view's activities with SQL `GROUP BY` only.
    pub fn sql_only(pool: PgPool, schema: impl Into<String>) -> Self {
        Self {
            pool,
            schema: schema.into(),
            index: None,
            scope: Scope::District,
        }
    }

    /// The same views, answering for the schools of `scope` alone (a school head's calls);
    /// they share the activity index, whose counts are per school.
    pub fn restricted_to(&self, scope: Scope) -> Self {
        Self {
            scope,
            ..self.clone()
        }
    }

    /// The plan view's index, when it has one.
    pub fn activity_index(&self) -> Option<&ActivityIndex> {
        self.index.as_deref()
    }

    /// Builds the plan view's index now rather than at the first plan view.
    pub async fn warm_up(&self) -> Result<(), QueryError> {
        if let Some(index) = &self.index {
            let mut guard = index.lock().await;
            let mut tx = self.begin().await?;
            let range = DateRange::new(NaiveDate::MIN, NaiveDate::MIN)?;
            guard.counts(&mut tx, range).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// A read-only snapshot of the projection.
    pub async fn begin(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        use_projection(&mut tx, &self.schema).await?;
        Ok(tx)
    }

    pub async fn schools(&self) -> Result<Vec<EnrolledSchool>, QueryError> {
        let mut tx = self.begin().await?;
        let answer = schools::schools(&mut tx, &self.scope).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// The district plan now in force.
    pub async fn district_plan(&self) -> Result<Option<DistrictPlan>, QueryError> {
        let mut tx = self.begin().await?;
        let state = district(&mut tx, &Scope::District).await?;
        tx.commit().await?;
        Ok(state.plan().cloned())
    }

    pub async fn plan_view(&self, period: Period) -> Result<PlanView, QueryError> {
        // The index's lock first, then the snapshot: snapshots reach the index in order.
        let guard = match &self.index {
            Some(index) => Some(index.lock().await),
            None => None,
        };
        let mut tx = self.begin().await?;
        let answer = plan_view::plan_view(&mut tx, period, guard, &self.scope).await?;
        tx.commit().await?;
        Ok(answer)
    }

    pub async fn completeness(&self, period: Period) -> Result<CompletenessView, QueryError> {
        let mut tx = self.begin().await?;
        let answer = completeness::completeness(&mut tx, period, &self.scope).await?;
        tx.commit().await?;
        Ok(answer)
    }

    pub async fn responsiveness(
        &self,
        period: Period,
        as_of: Option<NaiveDate>,
    ) -> Result<ResponsivenessView, QueryError> {
        let mut tx = self.begin().await?;
        let answer = responsiveness::responsiveness(&mut tx, period, as_of, &self.scope).await?;
        tx.commit().await?;
        Ok(answer)
    }

    pub async fn commendation(&self, period: Period) -> Result<CommendationView, QueryError> {
        let mut tx = self.begin().await?;
        let answer = commendation::commendation(&mut tx, period, &self.scope).await?;
        tx.commit().await?;
        Ok(answer)
    }

    pub async fn budget(&self, year: i32) -> Result<BudgetView, QueryError> {
        let mut tx = self.begin().await?;
        let answer = budget::budget(&mut tx, year, &self.scope).await?;
        tx.commit().await?;
        Ok(answer)
    }

    pub async fn search_activities(
        &self,
        filter: &ActivityFilter,
        page_size: Option<u32>,
        page_token: Option<&str>,
    ) -> Result<ActivityPage, QueryError> {
        let mut tx = self.begin().await?;
        let answer =
            search::search_activities(&mut tx, filter, page_size, page_token, &self.scope).await?;
        tx.commit().await?;
        Ok(answer)
    }

    pub async fn dead_letters(
        &self,
        author: Option<&str>,
        page_size: Option<u32>,
        page_token: Option<&str>,
    ) -> Result<DeadLetterPage, QueryError> {
        let mut tx = self.begin().await?;
        let answer = dead_letters::dead_letters(&mut tx, author, page_size, page_token).await?;
        tx.commit().await?;
        Ok(answer)
    }

    pub async fn authors(&self) -> Result<Vec<AuthorRow>, QueryError> {
        let mut tx = self.begin().await?;
        let answer = ingest_state::authors(&mut tx).await?;
        tx.commit().await?;
        Ok(answer)
    }
}

/// The district office's state (enrolments and plan) as the projection holds it, with only
/// the schools `scope` includes enrolled: every view assembled from it then shows those
/// schools alone, district totals included (`DistrictState::restricted_to`).
pub(crate) async fn district(
    conn: &mut PgConnection,
    scope: &Scope,
) -> Result<DistrictState, QueryError> {
    let state = restore_district(conn).await?;
    Ok(match scope {
        Scope::District => state,
        restricted => state.restricted_to(restricted),
    })
}

/// The dates of `period` for a view, and how the view shows them — as the model resolves them.
pub(crate) fn view_period(
    state: &DistrictState,
    period: Period,
) -> Result<ViewPeriod, DomainError> {
    ViewPeriod::resolve(state.plan(), period)
}

/// A count from SQL (`bigint`), never negative.
pub(crate) fn count(n: i64) -> i64 {
    n.max(0)
}
