//! Fetching a report's data from the district aggregator's gRPC API — the only I/O of a
//! report, and the only place reporting talks to the aggregator for it.
//!
//! First the district plan and the enrolled schools, which decide whether the request makes
//! sense (a period overlapping the plan, a school the district has enrolled); then every view
//! of the period concurrently: plan view, completeness, responsiveness, commendation, the
//! budget of each calendar year the period touches, and every live activity of the period
//! (for the channels and highlights of each content area).

use chrono::{Datelike, NaiveDate};
use domain::district::resolve_period;
use service_runtime::AuthorizedChannel;
use tracing::debug;
use wire::convert::district_views as from_pb;
use wire::pb;
use wire::pb::district_aggregator_client::DistrictAggregatorClient;

use crate::data::ReportData;
use crate::error::ReportError;
use crate::request::{Fields, ReportRequest};

/// The aggregator's generated gRPC client.
pub type AggregatorClient = DistrictAggregatorClient<AuthorizedChannel>;

/// A client over `channel` sending `credential`, with room for a whole plan period's pages.
pub fn client(
    channel: tonic::transport::Channel,
    credential: service_runtime::Credential,
) -> AggregatorClient {
    DistrictAggregatorClient::new(credential.on(channel))
        .max_decoding_message_size(64 * 1024 * 1024)
}

/// The largest page the aggregator serves.
const PAGE_SIZE: u32 = 500;
/// A bound on the pages of one activity search: a district of a few dozen schools has a few
/// tens of thousands of activities in a plan period, far below this many pages.
const MAX_PAGES: usize = 2_000;

/// Fetches everything the report of `request` says. `today` (Vietnam local date) bounds the
/// date cases are judged at; `fields` names the request's fields in refusals.
pub async fn gather(
    client: &AggregatorClient,
    request: &ReportRequest,
    fields: &Fields,
    today: NaiveDate,
) -> Result<ReportData, ReportError> {
    let failed = |status: tonic::Status| {
        ReportError::from_aggregator(&status, |f| match f {
            "period" => fields.period.to_string(),
            "school" | "filter.school" => fields.school.to_string(),
            other => other.to_string(),
        })
    };

    let (plan, schools) = tokio::try_join!(
        async {
            client
                .clone()
                .get_district_plan(pb::GetDistrictPlanRequest {})
                .await
                .map_err(failed)
        },
        async {
            client
                .clone()
                .list_schools(pb::ListSchoolsRequest {})
                .await
                .map_err(failed)
        },
    )?;
    let plan = plan.into_inner();
    let district_plan = match plan.plan {
        Some(p) if plan.adopted => wire::convert::district::district_plan_from_pb(p)
            .map_err(|e| ReportError::Internal(format!("the district plan does not read: {e}")))?,
        _ => {
            return Err(ReportError::from_domain(
                fields.period,
                domain::DomainError::precondition(fields.period, domain::Rule::NoDistrictPlan),
            ));
        }
    };
    let range = resolve_period(Some(&district_plan), request.period)
        .map_err(|e| ReportError::from_domain(fields.period, e))?;
    let schools = schools
        .into_inner()
        .schools
        .into_iter()
        .map(from_pb::school)
        .collect::<Result<Vec<_>, _>>()?;
    let school = match &request.school {
        Some(code) if !schools.iter().any(|s| s.code == code.as_str()) => {
            return Err(ReportError::not_found(
                fields.school,
                format!("{code:?} is not a school enrolled in the district"),
                format!("không có trường mã «{code}» trong danh sách các trường của huyện"),
            ));
        }
        Some(code) => Some(code.to_string()),
        None => None,
    };
    let as_of = range.end().min(today).max(range.start());
    let period = request.period.to_string();
    let plan_years = district_plan.period.years();
    let years: Vec<i32> = (range.start().year().max(*plan_years.start())
        ..=range.end().year().min(*plan_years.end()))
        .collect();
    debug!(%period, school = ?school, %as_of, ?years, "gathering a report");

    let (plan_view, completeness, responsiveness, commendation, budgets, activities) = tokio::try_join!(
        async {
            let v = client
                .clone()
                .get_plan_view(pb::GetPlanViewRequest {
                    period: period.clone(),
                })
                .await
                .map_err(failed)?;
            Ok::<_, ReportError>(from_pb::plan_view(v.into_inner())?)
        },
        async {
            let v = client
                .clone()
                .get_completeness(pb::GetCompletenessRequest {
                    period: period.clone(),
                })
                .await
                .map_err(failed)?;
            Ok::<_, ReportError>(from_pb::completeness(v.into_inner())?)
        },
        async {
            let v = client
                .clone()
                .get_responsiveness(pb::GetResponsivenessRequest {
                    period: period.clone(),
                    as_of: wire::convert::parse::date_string(as_of),
                })
                .await
                .map_err(failed)?;
            Ok::<_, ReportError>(from_pb::responsiveness(v.into_inner())?)
        },
        async {
            let v = client
                .clone()
                .get_commendation(pb::GetCommendationRequest {
                    period: period.clone(),
                })
                .await
                .map_err(failed)?;
            Ok::<_, ReportError>(from_pb::commendation(v.into_inner())?)
        },
        async {
            let mut budgets = Vec::with_capacity(years.len());
            for &year in &years {
                let v = client
                    .clone()
                    .get_budget(pb::GetBudgetRequest { year })
                    .await
                    .map_err(failed)?;
                budgets.push(from_pb::budget(v.into_inner()));
            }
            Ok(budgets)
        },
        search_all(client, &period, school.as_deref(), &failed),
    )?;

    Ok(ReportData {
        period: request.period,
        range,
        as_of,
        school,
        district_plan,
        schools,
        plan_view,
        completeness,
        responsiveness,
        commendation,
        budgets,
        activities,
    })
}

/// Every live activity of the period (of one school, when given), page by page.
async fn search_all(
    client: &AggregatorClient,
    period: &str,
    school: Option<&str>,
    failed: &impl Fn(tonic::Status) -> ReportError,
) -> Result<Vec<domain::district::views::ActivityLine>, ReportError> {
    let mut client = client.clone();
    let mut out = Vec::new();
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let page = client
            .search_activities(pb::SearchActivitiesRequest {
                filter: Some(pb::ActivityFilter {
                    school: school.unwrap_or_default().to_string(),
                    period: period.to_string(),
                    ..Default::default()
                }),
                page_size: PAGE_SIZE,
                page_token: token,
            })
            .await
            .map_err(failed)?
            .into_inner();
        for a in page.activities {
            out.push(from_pb::activity(a)?);
        }
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        token = page.next_page_token;
    }
    Err(ReportError::Internal(format!(
        "the activity search did not end after {MAX_PAGES} pages"
    )))
}
