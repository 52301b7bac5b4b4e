//! Activity search: the request as both sides read it, and the page cut from the matches.

use std::cmp::Reverse;

use uuid::Uuid;

use crate::calendar::DateRange;
use crate::district::facts::DistrictPlan;
use crate::district::folding::query_words;
use crate::district::periods::resolve_period;
use crate::district::views::{
    ActivityCursor, ActivityFilter, ActivityLine, ActivityPage, page_size,
};
use crate::error::{DomainError, Rule};

/// A search request, read: refused in this order — the period, then the page token.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The dates of the filter's period, when it has one.
    pub range: Option<DateRange>,
    /// Where the previous page ended; `None` for the first page.
    pub cursor: Option<ActivityCursor>,
    /// The folded words of the free text; empty for no text filter.
    pub words: Vec<String>,
    /// Activities per page.
    pub size: usize,
}

impl SearchRequest {
    pub fn resolve(
        plan: Option<&DistrictPlan>,
        filter: &ActivityFilter,
        page_size_requested: Option<u32>,
        page_token: Option<&str>,
    ) -> Result<Self, DomainError> {
        let range = filter.period.map(|p| resolve_period(plan, p)).transpose()?;
        let cursor = page_token
            .filter(|t| !t.is_empty())
            .map(ActivityCursor::decode)
            .transpose()?;
        let words = query_words(filter.text.as_deref().unwrap_or(""));
        // Each word is one more prefix match over the index: a bound keeps one request from
        // costing the district's database what a hundred do.
        if words.len() > MAX_SEARCH_WORDS {
            return Err(DomainError::invalid(
                "filter.text",
                Rule::TooMany {
                    max: MAX_SEARCH_WORDS,
                    actual: words.len(),
                },
            ));
        }
        Ok(Self {
            range,
            cursor,
            words,
            size: page_size(page_size_requested),
        })
    }
}

/// The most words a search may ask for.
pub const MAX_SEARCH_WORDS: usize = 8;

/// The page of `size` activities from the matches after the cursor (any order; each with its
/// activity id): by date descending, school code, activity id; with the token of the next page
/// when more matches follow.
pub fn activity_page(matches: Vec<(Uuid, ActivityLine)>, size: usize) -> ActivityPage {
    let mut matches = matches;
    matches.sort_by(|(a_id, a), (b_id, b)| {
        (Reverse(a.date), &a.school, a_id).cmp(&(Reverse(b.date), &b.school, b_id))
    });
    let next_page_token = (matches.len() > size && size > 0).then(|| {
        let (id, last) = &matches[size - 1];
        ActivityCursor {
            date: last.date,
            school: last.school.clone(),
            activity_id: *id,
        }
        .encode()
    });
    matches.truncate(size);
    ActivityPage {
        activities: matches.into_iter().map(|(_, line)| line).collect(),
        next_page_token,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::super::given::*;
    use super::*;
    use crate::calendar::Period;
    use crate::error::ErrorKind;

    #[test]
    fn a_search_of_too_many_words_is_refused_naming_the_field() {
        let filter = ActivityFilter {
            text: Some("một hai ba bốn năm sáu bảy tám chín".into()),
            ..ActivityFilter::default()
        };
        let err = SearchRequest::resolve(None, &filter, None, None).unwrap_err();
        assert_eq!(err.field, "filter.text");
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        let eight = ActivityFilter {
            text: Some("một hai ba bốn năm sáu bảy tám".into()),
            ..ActivityFilter::default()
        };
        assert_eq!(
            SearchRequest::resolve(None, &eight, None, None)
                .unwrap()
                .words
                .len(),
            8
        );
    }

    fn line(school: &str, id: u128, date: NaiveDate) -> (Uuid, ActivityLine) {
        let id = Uuid::from_u128(id);
        let line = ActivityLine {
            school: school.into(),
            activity_id: id.to_string(),
            date,
            area: 3,
            topic: None,
            channel: "meeting".into(),
            title: "Tư vấn hướng nghiệp".into(),
            summary: "Buổi tư vấn cho học sinh lớp 9.".into(),
            audience: None,
            reach: None,
            partner: None,
            evidence_url: None,
            responsible: "vice_principal".into(),
        };
        (id, line)
    }

    fn keys(page: &ActivityPage) -> Vec<(NaiveDate, &str, &str)> {
        page.activities
            .iter()
            .map(|a| (a.date, a.school.as_str(), a.activity_id.as_str()))
            .collect()
    }

    #[test]
    fn given_matches_in_any_order_when_paged_then_newest_first_by_school_then_id() {
        let matches = vec![
            line("thcs-an-hoa", 2, d(2018, 3, 5)),
            line("th-phu-duc", 9, d(2018, 3, 5)),
            line("thcs-an-hoa", 1, d(2018, 3, 5)),
            line("mn-phu-tho", 3, d(2018, 3, 6)),
            line("mn-phu-tho", 4, d(2018, 1, 1)),
        ];
        let page = activity_page(matches.clone(), 3);
        let id = |n| Uuid::from_u128(n).to_string();
        assert_eq!(
            keys(&page),
            [
                (d(2018, 3, 6), "mn-phu-tho", id(3).as_str()),
                (d(2018, 3, 5), "th-phu-duc", id(9).as_str()),
                (d(2018, 3, 5), "thcs-an-hoa", id(1).as_str()),
            ]
        );
        let token = page.next_page_token.clone().unwrap();
        let cursor = ActivityCursor::decode(&token).unwrap();
        assert_eq!(
            (cursor.date, cursor.school.as_str(), cursor.activity_id),
            (d(2018, 3, 5), "thcs-an-hoa", Uuid::from_u128(1)),
            "the token is the last row of the page"
        );
        let rest: Vec<_> = matches
            .into_iter()
            .filter(|(id, l)| cursor.precedes(l.date, &l.school, *id))
            .collect();
        let next = activity_page(rest, 3);
        assert_eq!(next.activities.len(), 2);
        assert_eq!(next.next_page_token, None, "the last page");
    }

    #[test]
    fn given_exactly_a_page_when_paged_then_no_next_token() {
        let matches = vec![line("a", 1, d(2018, 1, 1)), line("a", 2, d(2018, 1, 1))];
        let page = activity_page(matches, 2);
        assert_eq!(page.activities.len(), 2);
        assert_eq!(page.next_page_token, None);
        assert_eq!(
            activity_page(vec![], 50),
            ActivityPage {
                activities: vec![],
                next_page_token: None,
            }
        );
    }

    #[test]
    fn given_a_bad_period_and_a_bad_token_when_resolved_then_the_period_is_refused_first() {
        let plan = district_plan(vec![]);
        let filter = ActivityFilter {
            period: Some("2016".parse::<Period>().unwrap()),
            text: Some("  Hướng NGHIỆP ".into()),
            ..ActivityFilter::default()
        };
        let err = SearchRequest::resolve(Some(&plan), &filter, None, Some("x")).unwrap_err();
        assert_eq!(err.field, "period");
        let filter = ActivityFilter {
            period: None,
            ..filter
        };
        let err = SearchRequest::resolve(Some(&plan), &filter, None, Some("x")).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.kind),
            ("page_token", ErrorKind::InvalidArgument)
        );
        let request = SearchRequest::resolve(Some(&plan), &filter, Some(0), Some("")).unwrap();
        assert_eq!(
            request,
            SearchRequest {
                range: None,
                cursor: None,
                words: vec!["huong".into(), "nghiep".into()],
                size: 50,
            }
        );
    }
}
