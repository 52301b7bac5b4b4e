//! The enrolled schools as they now stand, by code.

use domain::district::views::EnrolledSchool;
use sqlx::PgConnection;

use super::QueryError;

pub async fn schools(conn: &mut PgConnection) -> Result<Vec<EnrolledSchool>, QueryError> {
    let rows: Vec<(String, String, String, String, chrono::NaiveDate)> = sqlx::query_as(
        r#"SELECT code, name, level, commune, enrolled_on FROM schools ORDER BY code COLLATE "C""#,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(code, name, level, commune, enrolled_on)| EnrolledSchool {
            code,
            name,
            level,
            commune,
            enrolled_on,
        })
        .collect())
}
