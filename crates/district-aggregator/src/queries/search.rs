//! Activity search: live activities matching a filter, by date descending, school code,
//! activity id, paged by the sort key of the last row (`views::ActivityCursor`).
//!
//! Free text is matched word by word on the stored folded words (`activities.words`, a
//! `tsvector` written at ingest from `folding::activity_search_words`): each word of
//! `folding::query_words` must begin one of them, which is `words @@ 'w1':* & 'w2':*`
//! (served by the GIN index), exactly `folding::matches_all_words` of the reference model.
//! The request is read and the page cut by `assemble::{SearchRequest, activity_page}`, as in
//! the model.

use chrono::NaiveDate;
use domain::district::access::Scope;
use domain::district::assemble::{self, SearchRequest};
use domain::district::views::{ActivityFilter, ActivityLine, ActivityPage};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{QueryError, district};

type Row = (
    String,
    Uuid,
    NaiveDate,
    i16,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
);

/// Every word as a prefix, all required, as `tsquery` text: `'an':* & 'hoa':*`. The words are
/// quoted lexemes, never parsed into operators (quotes and backslashes escaped), and no text
/// search configuration touches them: they are already folded as the stored words are.
fn prefix_query(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            let escaped = w.replace('\\', "\\\\").replace('\'', "''");
            format!("'{escaped}':*")
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

pub async fn search_activities(
    conn: &mut PgConnection,
    filter: &ActivityFilter,
    page_size_requested: Option<u32>,
    page_token: Option<&str>,
    scope: &Scope,
) -> Result<ActivityPage, QueryError> {
    let state = district(conn, scope).await?;
    let SearchRequest {
        range,
        cursor,
        words,
        size,
    } = SearchRequest::resolve(state.plan(), filter, page_size_requested, page_token)?;

    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT a.school, a.activity_id, a.date, a.area, a.topic, a.channel, a.title, a.summary, \
         a.audience, a.reach, a.partner, a.evidence_url, a.responsible \
         FROM activities a JOIN schools s ON s.code = a.school WHERE a.live",
    );
    if let Some(school) = &filter.school {
        q.push(" AND a.school = ")
            .push_bind(school.as_str().to_owned());
    }
    // The join above is with every enrolled school; a restricted caller's rows are only
    // those of the schools its scope leaves enrolled.
    if *scope != Scope::District {
        let visible: Vec<String> = state
            .enrolments()
            .map(|e| e.code.as_str().to_owned())
            .collect();
        q.push(" AND a.school = ANY(").push_bind(visible).push(")");
    }
    if let Some(area) = filter.area {
        q.push(" AND a.area = ").push_bind(i16::from(area.number()));
    }
    if let Some(topic) = &filter.topic {
        q.push(" AND a.topic = ")
            .push_bind(topic.as_str().to_owned());
    }
    if let Some(channel) = filter.channel {
        q.push(" AND a.channel = ").push_bind(channel.code());
    }
    if let Some(role) = filter.responsible {
        q.push(" AND a.responsible = ").push_bind(role.code());
    }
    if let Some(range) = range {
        q.push(" AND a.date BETWEEN ")
            .push_bind(range.start())
            .push(" AND ")
            .push_bind(range.end());
    }
    if !words.is_empty() {
        q.push(" AND a.words @@ ")
            .push_bind(prefix_query(&words))
            .push("::tsquery");
    }
    if let Some(c) = &cursor {
        // Strictly after the cursor in (date DESC, school, id) order.
        q.push(" AND (a.date < ")
            .push_bind(c.date)
            .push(" OR (a.date = ")
            .push_bind(c.date)
            .push(r#" AND (a.school COLLATE "C" > "#)
            .push_bind(c.school.clone())
            .push(" OR (a.school = ")
            .push_bind(c.school.clone())
            .push(" AND a.activity_id > ")
            .push_bind(c.activity_id)
            .push("))))");
    }
    q.push(r#" ORDER BY a.date DESC, a.school COLLATE "C", a.activity_id LIMIT "#)
        .push_bind(i64::try_from(size).unwrap_or(i64::MAX) + 1);
    // One more than a page: whether a next page exists.
    let rows: Vec<Row> = q.build_query_as().fetch_all(&mut *conn).await?;
    let matches = rows
        .into_iter()
        .map(
            |(
                school,
                id,
                date,
                area,
                topic,
                channel,
                title,
                summary,
                audience,
                reach,
                partner,
                evidence_url,
                responsible,
            )| {
                let line = ActivityLine {
                    school,
                    activity_id: id.to_string(),
                    date,
                    area: u8::try_from(area).unwrap_or(0),
                    topic,
                    channel,
                    title,
                    summary,
                    audience,
                    reach,
                    partner,
                    evidence_url,
                    responsible,
                };
                (id, line)
            },
        )
        .collect();
    Ok(assemble::activity_page(matches, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_words_become_required_prefixes_taken_literally() {
        let words = |ws: &[&str]| ws.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert_eq!(prefix_query(&words(&["an", "hoa"])), "'an':* & 'hoa':*");
        assert_eq!(
            prefix_query(&words(&["o'neil", "a\\b"])),
            "'o''neil':* & 'a\\\\b':*"
        );
    }
}
