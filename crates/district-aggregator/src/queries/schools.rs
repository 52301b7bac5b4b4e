//! The enrolled schools as they now stand, by code: the district state's enrolments, listed
//! as the reference model lists them (`assemble::schools`).

use domain::district::access::Scope;
use domain::district::assemble;
use domain::district::views::EnrolledSchool;
use sqlx::PgConnection;

use super::{QueryError, district};

pub async fn schools(
    conn: &mut PgConnection,
    scope: &Scope,
) -> Result<Vec<EnrolledSchool>, QueryError> {
    let state = district(conn, scope).await?;
    Ok(assemble::schools(state.enrolments()))
}
