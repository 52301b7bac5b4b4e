//! The dashboard's only source of figures: the district aggregator's gRPC API.
//!
//! Each method is one call, bounded by [`CALL_TIMEOUT`] so a stuck aggregator gives the
//! office a "try again later" page instead of a browser spinning for minutes; the gRPC status
//! becomes a [`PageError`] by code (see `error.rs`). The generated client is cheap to clone
//! (it shares one HTTP/2 connection), so concurrent calls of a page each take a clone.

use std::future::Future;
use std::time::Duration;

use service_runtime::{AuthorizedChannel, Credential};
use tonic::transport::Channel;

use domain::Period;
use domain::district::DistrictPlan;
use wire::pb;
use wire::pb::district_accounts_client::DistrictAccountsClient;
use wire::pb::district_aggregator_client::DistrictAggregatorClient;

use crate::error::PageError;

/// How long a page waits for one answer of the aggregator.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an import may take: the aggregator waits for its ingest (50 s by default) within
/// its 60 s request timeout.
pub const IMPORT_TIMEOUT: Duration = Duration::from_secs(90);

/// A handle on the district aggregator, for one caller: the service itself, or a signed-in
/// person on whose behalf the dashboard asks (so the aggregator scopes and refuses as it
/// would for them).
#[derive(Debug, Clone)]
pub struct Aggregator {
    client: Client,
    accounts: AccountsClient,
}

type Client = DistrictAggregatorClient<AuthorizedChannel>;
type AccountsClient = DistrictAccountsClient<AuthorizedChannel>;

impl Aggregator {
    /// Calls over `channel` with `credential`.
    pub fn new(channel: Channel, credential: Credential) -> Self {
        Self {
            // An evidence file comes back whole: up to the domain's limit, plus its name.
            client: DistrictAggregatorClient::new(credential.clone().on(channel.clone()))
                .max_decoding_message_size(
                    usize::try_from(domain::evidence::MAX_FILE_SIZE).unwrap_or(usize::MAX)
                        + 64 * 1024,
                ),
            accounts: DistrictAccountsClient::new(credential.on(channel)),
        }
    }

    /// Runs one call on a clone of the client, bounded in time.
    async fn call<T, F, Fut>(&self, name: &'static str, f: F) -> Result<T, PageError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        bounded(name, f(self.client.clone())).await
    }

    /// Runs one call of the accounts service, bounded in time, keeping its status (a form
    /// shows the refusal's Vietnamese message beside its field).
    pub async fn account_call_raw<T, F, Fut>(
        &self,
        name: &'static str,
        f: F,
    ) -> Result<T, tonic::Status>
    where
        F: FnOnce(AccountsClient) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        match tokio::time::timeout(CALL_TIMEOUT, f(self.accounts.clone())).await {
            Ok(result) => result.map(tonic::Response::into_inner),
            Err(_) => Err(tonic::Status::deadline_exceeded(format!(
                "{name}: no answer within {} s",
                CALL_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Runs one call of the accounts service, bounded in time.
    pub async fn account_call<T, F, Fut>(&self, name: &'static str, f: F) -> Result<T, PageError>
    where
        F: FnOnce(AccountsClient) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        bounded(name, f(self.accounts.clone())).await
    }

    /// The district plan in force, as the domain reads it; `None` before one is adopted.
    pub async fn district_plan(&self) -> Result<Option<DistrictPlan>, PageError> {
        let reply = self
            .call("GetDistrictPlan", |mut c| async move {
                c.get_district_plan(pb::GetDistrictPlanRequest {}).await
            })
            .await?;
        match reply.plan.filter(|_| reply.adopted) {
            None => Ok(None),
            Some(plan) => wire::convert::district::district_plan_from_pb(plan)
                .map(Some)
                .map_err(|e| PageError::Internal {
                    call: "GetDistrictPlan",
                    reason: format!("the district plan does not read back: {e}"),
                }),
        }
    }

    /// The enrolled schools, by code.
    pub async fn schools(&self) -> Result<Vec<pb::EnrolledSchool>, PageError> {
        self.call("ListSchools", |mut c| async move {
            c.list_schools(pb::ListSchoolsRequest {}).await
        })
        .await
        .map(|r| r.schools)
    }

    pub async fn plan_view(&self, period: Period) -> Result<pb::PlanView, PageError> {
        let request = pb::GetPlanViewRequest {
            period: period.to_string(),
        };
        self.call("GetPlanView", |mut c| async move {
            c.get_plan_view(request).await
        })
        .await
    }

    pub async fn completeness(&self, period: Period) -> Result<pb::CompletenessView, PageError> {
        let request = pb::GetCompletenessRequest {
            period: period.to_string(),
        };
        self.call("GetCompleteness", |mut c| async move {
            c.get_completeness(request).await
        })
        .await
    }

    /// Responsiveness judged at `as_of` (`YYYY-MM-DD`; `None`: the period's end).
    pub async fn responsiveness(
        &self,
        period: Period,
        as_of: Option<String>,
    ) -> Result<pb::ResponsivenessView, PageError> {
        let request = pb::GetResponsivenessRequest {
            period: period.to_string(),
            as_of: as_of.unwrap_or_default(),
        };
        self.call("GetResponsiveness", |mut c| async move {
            c.get_responsiveness(request).await
        })
        .await
    }

    pub async fn commendation(&self, period: Period) -> Result<pb::CommendationView, PageError> {
        let request = pb::GetCommendationRequest {
            period: period.to_string(),
        };
        self.call("GetCommendation", |mut c| async move {
            c.get_commendation(request).await
        })
        .await
    }

    pub async fn budget(&self, year: i32) -> Result<pb::BudgetView, PageError> {
        self.call("GetBudget", |mut c| async move {
            c.get_budget(pb::GetBudgetRequest { year }).await
        })
        .await
    }

    /// The first `page_size` live activities of `school` dated in `period`, newest first.
    pub async fn recent_activities(
        &self,
        school: &str,
        period: Period,
        page_size: u32,
    ) -> Result<pb::ActivityPage, PageError> {
        let request = pb::SearchActivitiesRequest {
            filter: Some(pb::ActivityFilter {
                school: school.to_string(),
                period: period.to_string(),
                ..Default::default()
            }),
            page_size,
            page_token: String::new(),
        };
        self.call("SearchActivities", |mut c| async move {
            c.search_activities(request).await
        })
        .await
    }

    /// One page of dead letters, oldest first.
    pub async fn dead_letters(
        &self,
        author: &str,
        page_size: u32,
        page_token: &str,
    ) -> Result<pb::ListDeadLettersReply, PageError> {
        let request = pb::ListDeadLettersRequest {
            author: author.to_string(),
            page_size,
            page_token: page_token.to_string(),
        };
        self.call("ListDeadLetters", |mut c| async move {
            c.list_dead_letters(request).await
        })
        .await
    }

    /// Imports a school's bundle: sent in chunks, answered once the ingest has its events (up
    /// to [`IMPORT_TIMEOUT`]). The status is kept: the page shows the refusal's Vietnamese.
    pub async fn import_bundle(
        &self,
        bytes: Vec<u8>,
    ) -> Result<pb::ImportBundleReply, tonic::Status> {
        let chunks = wire::bundle_chunks::split(&bytes, pb::BundleChunk::default());
        let mut client = self.client.clone();
        match tokio::time::timeout(
            IMPORT_TIMEOUT,
            client.import_bundle(futures::stream::iter(chunks)),
        )
        .await
        {
            Ok(result) => result.map(tonic::Response::into_inner),
            Err(_) => Err(tonic::Status::deadline_exceeded(format!(
                "ImportBundle: no answer within {} s",
                IMPORT_TIMEOUT.as_secs()
            ))),
        }
    }

    /// The signed reply bundle for `school`: its bytes and file name.
    pub async fn export_reply(&self, school: &str) -> Result<(Vec<u8>, String), PageError> {
        let request = pb::ExportReplyRequest {
            school: school.to_owned(),
        };
        let mut stream = self
            .call("ExportReply", |mut c| async move {
                c.export_reply(request).await
            })
            .await?;
        let mut bytes = Vec::new();
        let mut name = String::new();
        loop {
            let next = tokio::time::timeout(CALL_TIMEOUT, stream.message()).await;
            match next {
                Ok(Ok(Some(chunk))) => {
                    if name.is_empty() {
                        name = chunk.file_name;
                    }
                    bytes.extend_from_slice(&chunk.data);
                }
                Ok(Ok(None)) => break,
                Ok(Err(status)) => return Err(PageError::from_status("ExportReply", &status)),
                Err(_) => {
                    return Err(PageError::Unavailable {
                        call: "ExportReply",
                        reason: format!("no answer within {} s", CALL_TIMEOUT.as_secs()),
                    });
                }
            }
        }
        Ok((bytes, name))
    }

    /// A school's evidence files, every record's.
    pub async fn evidence(&self, school: &str) -> Result<pb::ListEvidenceReply, PageError> {
        let request = pb::ListEvidenceRequest {
            school: school.to_string(),
            ..Default::default()
        };
        self.call("ListEvidence", |mut c| async move {
            c.list_evidence(request).await
        })
        .await
    }

    /// One received evidence file of a school.
    pub async fn evidence_file(
        &self,
        school: &str,
        sha256: &str,
    ) -> Result<pb::DistrictEvidenceFile, PageError> {
        let request = pb::GetDistrictEvidenceRequest {
            school: school.to_string(),
            sha256: sha256.to_string(),
        };
        // A file of 20 MB takes longer than a page's figures.
        match tokio::time::timeout(CALL_TIMEOUT * 6, self.client.clone().get_evidence(request))
            .await
        {
            Ok(Ok(response)) => Ok(response.into_inner()),
            Ok(Err(status)) => Err(PageError::from_status("GetEvidence", &status)),
            Err(_) => Err(PageError::Unavailable {
                call: "GetEvidence",
                reason: format!("no answer within {} s", (CALL_TIMEOUT * 6).as_secs()),
            }),
        }
    }

    pub async fn ingest_state(&self) -> Result<pb::IngestState, PageError> {
        self.call("GetIngestState", |mut c| async move {
            c.get_ingest_state(pb::GetIngestStateRequest {}).await
        })
        .await
    }
}

/// `call` bounded by [`CALL_TIMEOUT`], its status as a [`PageError`].
async fn bounded<T>(
    name: &'static str,
    call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<T, PageError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(Ok(response)) => Ok(response.into_inner()),
        Ok(Err(status)) => Err(PageError::from_status(name, &status)),
        Err(_) => Err(PageError::Unavailable {
            call: name,
            reason: format!("no answer within {} s", CALL_TIMEOUT.as_secs()),
        }),
    }
}
