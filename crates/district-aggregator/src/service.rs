//! The aggregator's gRPC server: the `DistrictAggregator` service (the district office's two
//! commands and every district view), `grpc.health.v1` and server reflection.
//!
//! Thin, like the school agent's: requests are converted at the edge (`wire::convert::district`),
//! views are answered by [`crate::queries::Views`] and commands by
//! [`crate::district_commands::DistrictCommands`], and refusals become statuses in one place
//! (`wire::status::from_domain`: code, English message naming the field, `vi-VN` message).
//!
//! Every method first asks [`crate::guard`] who is calling and whether they may: the views
//! need [`Permission::ReadViews`] and answer within the caller's scope (a school head's own
//! school), the dead letters [`Permission::ReadDeadLetters`], the two commands an
//! administrator, whose full name becomes the event's actor — never a request field.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use tokio::sync::{broadcast, watch};
use tonic::{Request, Response, Status};
use tracing::{error, warn};
use wire::convert::district::{self as convert, ActivityChangeRef, activity_change_to_pb};
use wire::convert::{command_reply, timestamp};
use wire::pb::district_accounts_server::DistrictAccountsServer;
use wire::pb::district_aggregator_server::{DistrictAggregator, DistrictAggregatorServer};
use wire::pb::{self};

use domain::district::DistrictCommand;
use domain::district::access::{Permission, Principal, Scope};
use domain::{Actor, Role};

use crate::accounts::{Accounts, AuditAction, Caller};
use crate::accounts_service::DistrictAccountsService;
use crate::district_commands::{CommandError, DistrictCommands};
use crate::guard;
use crate::projection::{ActivityChange, ActivityUpdate};
use crate::queries::{QueryError, Views};
use crate::state::IngestState;

/// What the service needs from the running aggregator.
#[derive(Debug, Clone)]
pub struct Context {
    /// The live projection's views.
    pub views: Views,
    pub commands: DistrictCommands,
    /// Counters and gaps of the ingest.
    pub state: Arc<IngestState>,
    /// The ingest's post-commit broadcast of applied activities.
    pub activities: broadcast::Sender<ActivityUpdate>,
    /// Who may call.
    pub accounts: Accounts,
    /// School bundles imported, replies written.
    pub bundles: crate::bundles::Bundles,
    /// The database and projection schema the evidence files are read from.
    pub evidence: (sqlx::PgPool, String),
}

/// The most `WatchActivities` streams open at once: each holds a broadcast receiver and a
/// connection, and the dashboard opens one per page that shows live activity.
pub const MAX_WATCHERS: usize = 64;

/// The `DistrictAggregator` gRPC service.
#[derive(Debug, Clone)]
pub struct DistrictAggregatorService {
    context: Context,
    /// Becomes `true` when the server shuts down, ending every watch.
    stopping: watch::Receiver<bool>,
    /// Places for open watches.
    watchers: Arc<tokio::sync::Semaphore>,
}

impl DistrictAggregatorService {
    pub fn new(context: Context, stopping: watch::Receiver<bool>) -> Self {
        Self {
            context,
            stopping,
            watchers: Arc::new(tokio::sync::Semaphore::new(MAX_WATCHERS)),
        }
    }

    async fn authorize<T>(&self, r: &Request<T>, permission: Permission) -> Result<Caller, Status> {
        guard::authorize(&self.context.accounts, r, permission).await
    }

    /// The views as `caller` may see them.
    fn views_for(&self, caller: &Caller) -> Views {
        match caller.principal.scope() {
            Scope::District => self.context.views.clone(),
            restricted => self.context.views.restricted_to(restricted),
        }
    }

    /// Refuses a request naming a school outside the caller's scope (`field`); an empty
    /// `school` names none.
    fn check_school(caller: &Caller, field: &str, school: &str) -> Result<(), Status> {
        if school.is_empty() || caller.principal.scope().includes(school) {
            Ok(())
        } else {
            Err(guard::out_of_scope(field, school))
        }
    }

    /// Records a district command for the signed-in administrator, the event's actor.
    async fn command(
        &self,
        caller: Caller,
        command: DistrictCommand,
        audited: (AuditAction, String),
    ) -> Result<Response<pb::CommandReply>, Status> {
        let name = command.name();
        let Principal::Person { person, .. } = &caller.principal else {
            return Err(guard::refusal_status(
                &caller,
                crate::accounts::Refusal::Denied(Permission::EnrollSchools),
            ));
        };
        let actor = Actor::parse(Role::DistrictOffice, &person.full_name).map_err(refused)?;
        match self.context.commands.execute(actor, command).await {
            Ok(committed) => {
                let (action, target) = audited;
                if let Err(e) = self
                    .context
                    .accounts
                    .audit(&caller.origin, action, &target, "")
                    .await
                {
                    warn!(error = %e, command = name, "the command could not be recorded in the audit trail");
                }
                Ok(Response::new(command_reply(
                    committed.seq,
                    committed.event_id,
                    None,
                    &[],
                )))
            }
            Err(CommandError::Refused(e)) => Err(wire::status::from_domain(&e)),
            Err(CommandError::Conflict(reason)) => {
                warn!(command = name, %reason, "district command not recorded");
                Err(Status::aborted(reason))
            }
            Err(CommandError::Unavailable(reason)) => {
                warn!(command = name, %reason, "district command not recorded");
                Err(Status::unavailable(reason))
            }
        }
    }
}

/// A query's failure as a status. Database text and the damage found are logged, never
/// returned: they may name tables, hosts or rows the caller has no business seeing.
pub(crate) fn query_status(e: QueryError) -> Status {
    match e {
        QueryError::Domain(e) => wire::status::from_domain(&e),
        QueryError::Sql(e) => {
            warn!(error = %e, "a district view could not be read");
            wire::status::refusal(
                tonic::Code::Unavailable,
                "",
                "the district's projection database is unavailable; try again".to_owned(),
                "Cơ sở dữ liệu của Phòng tạm thời không dùng được; hãy thử lại sau.".to_owned(),
            )
        }
        QueryError::Corrupt(reason) => {
            error!(%reason, "the projection is damaged");
            wire::status::refusal(
                tonic::Code::Internal,
                "",
                "the district's projection is damaged; the administrator can read why in the \
                 aggregator's log and rebuild it"
                    .to_owned(),
                "Dữ liệu tổng hợp của Phòng bị hỏng; quản trị xem nguyên nhân trong nhật ký \
                 máy chủ và dựng lại."
                    .to_owned(),
            )
        }
    }
}

fn refused(e: domain::DomainError) -> Status {
    wire::status::from_domain(&e)
}

fn non_negative(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::ActivityChange, Status>> + Send + 'static>>;

/// The largest school bundle accepted over gRPC (a month of a school's events is a few MiB;
/// its photos more). Larger ones are imported with `district-aggregator nhap-goi`.
const MAX_BUNDLE_BYTES: usize = 512 << 20;

type BundleStream = Pin<Box<dyn Stream<Item = Result<pb::BundleChunk, Status>> + Send + 'static>>;

/// An import's or a reply's failure as a status: field `bundle`, the officer's Vietnamese.
fn bundle_status(e: crate::bundles::BundleImportError) -> Status {
    use crate::bundles::BundleImportError as E;
    let code = match &e {
        E::Refused(_) | E::Event { .. } | E::School(_) => tonic::Code::InvalidArgument,
        E::NoRegistry | E::Registry(_) | E::NoSigningKey | E::SigningKey { .. } => {
            tonic::Code::FailedPrecondition
        }
        E::File { .. } | E::Publish(_) | E::Timeout { .. } => tonic::Code::Unavailable,
        E::Database(db) => {
            warn!(error = %db, "a bundle could not be imported");
            return wire::status::refusal(
                tonic::Code::Unavailable,
                "",
                "the district's projection database is unavailable; try again".to_owned(),
                "Cơ sở dữ liệu của Phòng tạm thời không dùng được; hãy thử lại sau.".to_owned(),
            );
        }
    };
    warn!(error = %e, "bundle refused");
    wire::status::refusal(code, "bundle", e.english(), e.to_string())
}

#[tonic::async_trait]
impl DistrictAggregator for DistrictAggregatorService {
    async fn import_bundle(
        &self,
        r: Request<tonic::Streaming<pb::BundleChunk>>,
    ) -> Result<Response<pb::ImportBundleReply>, Status> {
        let caller = self.authorize(&r, Permission::ImportBundles).await?;
        let mut chunks = r.into_inner();
        let bytes = wire::bundle_chunks::collect(&mut chunks, MAX_BUNDLE_BYTES, || {
            wire::status::refusal(
                tonic::Code::InvalidArgument,
                "bundle",
                format!("a bundle over gRPC is at most {MAX_BUNDLE_BYTES} bytes"),
                "Gói quá lớn để tải lên; hãy nhập bằng lệnh `district-aggregator nhap-goi`."
                    .to_owned(),
            )
        })
        .await?;
        let outcome = self
            .context
            .bundles
            .import(&bytes)
            .await
            .map_err(bundle_status)?;
        tracing::info!(
            login = caller.origin.login,
            school = %outcome.school,
            new = outcome.new,
            "bundle imported"
        );
        Ok(Response::new(pb::ImportBundleReply {
            message_vi: outcome.vietnamese(),
            school: outcome.school,
            from_seq: outcome.from_seq,
            to_seq: outcome.to_seq,
            events: outcome.events,
            files: outcome.files,
            new_events: outcome.new,
            already: outcome.already,
            refused: outcome.refused,
            held: outcome.held,
        }))
    }

    type ExportReplyStream = BundleStream;

    async fn export_reply(
        &self,
        r: Request<pb::ExportReplyRequest>,
    ) -> Result<Response<Self::ExportReplyStream>, Status> {
        let caller = self.authorize(&r, Permission::ImportBundles).await?;
        let school = r.into_inner().school;
        Self::check_school(&caller, "school", &school)?;
        let (bytes, name) = self
            .context
            .bundles
            .reply(&school, chrono::Utc::now())
            .await
            .map_err(bundle_status)?;
        let chunks = wire::bundle_chunks::split(
            &bytes,
            pb::BundleChunk {
                file_name: name,
                ..Default::default()
            },
        );
        Ok(Response::new(Box::pin(tokio_stream::iter(
            chunks.into_iter().map(Ok),
        ))))
    }

    async fn enroll_school(
        &self,
        r: Request<pb::EnrollSchoolRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let caller = self.authorize(&r, Permission::EnrollSchools).await?;
        let command = convert::enroll_school_request(r.into_inner()).map_err(refused)?;
        let target = match &command {
            DistrictCommand::EnrollSchool(e) => e.code.as_str().to_owned(),
            DistrictCommand::AdoptDistrictPlan(_) => String::new(),
        };
        self.command(caller, command, (AuditAction::SchoolEnrolled, target))
            .await
    }

    async fn adopt_district_plan(
        &self,
        r: Request<pb::AdoptDistrictPlanRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let caller = self.authorize(&r, Permission::AdoptDistrictPlan).await?;
        let command = convert::adopt_district_plan_request(r.into_inner()).map_err(refused)?;
        let target = match &command {
            DistrictCommand::AdoptDistrictPlan(p) => p.number.clone(),
            DistrictCommand::EnrollSchool(_) => String::new(),
        };
        self.command(caller, command, (AuditAction::DistrictPlanAdopted, target))
            .await
    }

    async fn list_schools(
        &self,
        r: Request<pb::ListSchoolsRequest>,
    ) -> Result<Response<pb::ListSchoolsReply>, Status> {
        let caller = self.authorize(&r, Permission::ReadViews).await?;
        let schools = self
            .views_for(&caller)
            .schools()
            .await
            .map_err(query_status)?;
        Ok(Response::new(pb::ListSchoolsReply {
            schools: schools.iter().map(convert::enrolled_school_to_pb).collect(),
        }))
    }

    async fn get_district_plan(
        &self,
        r: Request<pb::GetDistrictPlanRequest>,
    ) -> Result<Response<pb::GetDistrictPlanReply>, Status> {
        self.authorize(&r, Permission::ReadViews).await?;
        let plan = self
            .context
            .views
            .district_plan()
            .await
            .map_err(query_status)?;
        Ok(Response::new(pb::GetDistrictPlanReply {
            adopted: plan.is_some(),
            plan: plan.as_ref().map(convert::district_plan_to_pb),
        }))
    }

    async fn get_plan_view(
        &self,
        r: Request<pb::GetPlanViewRequest>,
    ) -> Result<Response<pb::PlanView>, Status> {
        let caller = self.authorize(&r, Permission::ReadViews).await?;
        let period = convert::period(&r.into_inner().period).map_err(refused)?;
        let view = self
            .views_for(&caller)
            .plan_view(period)
            .await
            .map_err(query_status)?;
        Ok(Response::new(convert::plan_view_to_pb(&view)))
    }

    async fn get_completeness(
        &self,
        r: Request<pb::GetCompletenessRequest>,
    ) -> Result<Response<pb::CompletenessView>, Status> {
        let caller = self.authorize(&r, Permission::ReadViews).await?;
        let period = convert::period(&r.into_inner().period).map_err(refused)?;
        let view = self
            .views_for(&caller)
            .completeness(period)
            .await
            .map_err(query_status)?;
        Ok(Response::new(convert::completeness_to_pb(&view)))
    }

    async fn get_responsiveness(
        &self,
        r: Request<pb::GetResponsivenessRequest>,
    ) -> Result<Response<pb::ResponsivenessView>, Status> {
        let caller = self.authorize(&r, Permission::ReadViews).await?;
        let r = r.into_inner();
        let period = convert::period(&r.period).map_err(refused)?;
        let as_of = convert::as_of(&r.as_of).map_err(refused)?;
        let view = self
            .views_for(&caller)
            .responsiveness(period, as_of)
            .await
            .map_err(query_status)?;
        Ok(Response::new(convert::responsiveness_to_pb(&view)))
    }

    async fn get_commendation(
        &self,
        r: Request<pb::GetCommendationRequest>,
    ) -> Result<Response<pb::CommendationView>, Status> {
        let caller = self.authorize(&r, Permission::ReadViews).await?;
        let period = convert::period(&r.into_inner().period).map_err(refused)?;
        let view = self
            .views_for(&caller)
            .commendation(period)
            .await
            .map_err(query_status)?;
        Ok(Response::new(convert::commendation_to_pb(&view)))
    }

    async fn get_budget(
        &self,
        r: Request<pb::GetBudgetRequest>,
    ) -> Result<Response<pb::BudgetView>, Status> {
        let caller = self.authorize(&r, Permission::ReadViews).await?;
        let view = self
            .views_for(&caller)
            .budget(r.into_inner().year)
            .await
            .map_err(query_status)?;
        Ok(Response::new(convert::budget_to_pb(&view)))
    }

    async fn search_activities(
        &self,
        r: Request<pb::SearchActivitiesRequest>,
    ) -> Result<Response<pb::ActivityPage>, Status> {
        let caller = self.authorize(&r, Permission::ReadViews).await?;
        let r = r.into_inner();
        let filter = convert::activity_filter_from_pb(r.filter).map_err(refused)?;
        if let Some(school) = &filter.school {
            Self::check_school(&caller, "filter.school", school.as_str())?;
        }
        let page = self
            .views_for(&caller)
            .search_activities(&filter, Some(r.page_size), Some(r.page_token.as_str()))
            .await
            .map_err(query_status)?;
        Ok(Response::new(convert::activity_page_to_pb(&page)))
    }

    type WatchActivitiesStream = WatchStream;

    async fn watch_activities(
        &self,
        r: Request<pb::WatchActivitiesRequest>,
    ) -> Result<Response<Self::WatchActivitiesStream>, Status> {
        let caller = self.authorize(&r, Permission::ReadViews).await?;
        let mut school = r.into_inner().school;
        if !school.is_empty() {
            domain::Slug::parse("school", &school).map_err(refused)?;
        }
        Self::check_school(&caller, "school", &school)?;
        match caller.principal.scope() {
            Scope::District => {}
            Scope::School(own) => school = own.as_str().to_owned(),
            Scope::Nothing => return Err(guard::out_of_scope("school", "*")),
        }
        let Ok(permit) = self.watchers.clone().try_acquire_owned() else {
            return Err(wire::status::refusal(
                tonic::Code::ResourceExhausted,
                "",
                format!("at most {MAX_WATCHERS} watches may be open at once; try again later"),
                "Đang có quá nhiều người theo dõi trực tiếp; hãy thử lại sau ít phút.".to_owned(),
            ));
        };
        let receiver = self.context.activities.subscribe();
        let stream = watch_stream(receiver, self.stopping.clone(), school);
        // The permit lives as long as the stream: a closed watch frees its place.
        Ok(Response::new(Box::pin(futures::StreamExt::map(
            stream,
            move |change| {
                let _open = &permit;
                change
            },
        ))))
    }

    async fn list_dead_letters(
        &self,
        r: Request<pb::ListDeadLettersRequest>,
    ) -> Result<Response<pb::ListDeadLettersReply>, Status> {
        self.authorize(&r, Permission::ReadDeadLetters).await?;
        let r = r.into_inner();
        let page = self
            .context
            .views
            .dead_letters(
                Some(r.author.as_str()),
                Some(r.page_size),
                Some(r.page_token.as_str()),
            )
            .await
            .map_err(query_status)?;
        Ok(Response::new(pb::ListDeadLettersReply {
            dead_letters: page
                .dead_letters
                .into_iter()
                .map(|d| pb::DeadLetter {
                    id: d.id,
                    stream_seq: non_negative(d.stream_seq),
                    subject: d.subject,
                    author: d.author.unwrap_or_default(),
                    seq: d.seq.map(non_negative),
                    event_id: d.event_id.map(|id| id.to_string()).unwrap_or_default(),
                    event_type: d.event_type.unwrap_or_default(),
                    reason: d.reason,
                    kind: d.kind,
                    received_at: Some(timestamp(d.received_at)),
                    body_bytes: non_negative(d.body_bytes),
                    body_excerpt: d.body_excerpt,
                })
                .collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn list_evidence(
        &self,
        r: Request<pb::ListEvidenceRequest>,
    ) -> Result<Response<pb::ListEvidenceReply>, Status> {
        let caller = self.authorize(&r, Permission::ReadViews).await?;
        let r = r.into_inner();
        if r.school.trim().is_empty() {
            return Err(refused(domain::DomainError::invalid(
                "school",
                domain::Rule::Required,
            )));
        }
        Self::check_school(&caller, "school", &r.school)?;
        let record = if r.record_kind.is_empty() {
            None
        } else {
            let id = uuid::Uuid::parse_str(&r.record_id).map_err(|_| {
                refused(domain::DomainError::invalid(
                    "record_id",
                    domain::Rule::InvalidValue {
                        value: r.record_id.clone(),
                        expected: "a UUID",
                    },
                ))
            })?;
            let kind = domain::evidence::EvidenceTarget::from_kind(&r.record_kind, id)
                .ok_or_else(|| {
                    refused(domain::DomainError::invalid(
                        "record_kind",
                        domain::Rule::InvalidValue {
                            value: r.record_kind.clone(),
                            expected: "activity, reporter_visit, press_answer or expense",
                        },
                    ))
                })?
                .kind();
            Some((kind, id))
        };
        let (pool, schema) = &self.context.evidence;
        let rows = crate::evidence::list(pool, schema, &r.school, record)
            .await
            .map_err(|e| {
                error!(error = %e, "listing evidence failed");
                Status::unavailable("the district's database cannot be read right now")
            })?;
        Ok(Response::new(pb::ListEvidenceReply {
            files: rows
                .into_iter()
                .map(|f| pb::EvidenceEntry {
                    record_kind: f.record_kind,
                    record_id: f.record_id.to_string(),
                    sha256: f.sha256,
                    name: f.name,
                    media_type: f.media_type,
                    size: non_negative(f.size),
                    attached_seq: non_negative(f.attached_seq),
                    state: f.state,
                    received_at: f.received_at.map(timestamp),
                    refused: f.refused.unwrap_or_default(),
                })
                .collect(),
        }))
    }

    async fn get_evidence(
        &self,
        r: Request<pb::GetDistrictEvidenceRequest>,
    ) -> Result<Response<pb::DistrictEvidenceFile>, Status> {
        let caller = self.authorize(&r, Permission::ReadViews).await?;
        let r = r.into_inner();
        Self::check_school(&caller, "school", &r.school)?;
        if !domain::evidence::is_sha256_hex(&r.sha256) {
            return Err(refused(domain::DomainError::invalid(
                "sha256",
                domain::Rule::InvalidValue {
                    value: r.sha256.clone(),
                    expected: "64 lowercase hexadecimal digits (SHA-256)",
                },
            )));
        }
        let (pool, schema) = &self.context.evidence;
        let file = crate::evidence::get(pool, schema, &r.school, &r.sha256)
            .await
            .map_err(|e| {
                error!(error = %e, "reading evidence failed");
                Status::unavailable("the district's database cannot be read right now")
            })?;
        match file {
            Some((name, media_type, content)) => Ok(Response::new(pb::DistrictEvidenceFile {
                name,
                media_type,
                content,
            })),
            None => Err(refused(domain::DomainError::not_found("sha256", &r.sha256))),
        }
    }

    async fn get_ingest_state(
        &self,
        r: Request<pb::GetIngestStateRequest>,
    ) -> Result<Response<pb::IngestState>, Status> {
        let caller = self.authorize(&r, Permission::ReadViews).await?;
        let scope = caller.principal.scope();
        let mut authors = self.context.views.authors().await.map_err(query_status)?;
        // A school head sees their own school's delivery alone; the district's own log
        // and the counters of the whole ingest are the district's.
        authors.retain(|a| scope.includes(&a.author));
        let whole_district = scope == Scope::District;
        let gaps = self.context.state.gaps();
        let heads = self.context.state.heads();
        let counters = self.context.state.counters();
        let authors = authors
            .into_iter()
            .map(|a| {
                let gap = gaps.iter().find(|g| g.school == a.author);
                let head = heads.iter().find(|h| h.school == a.author);
                pb::AuthorState {
                    enrolled: a.enrolled,
                    applied_seq: non_negative(a.applied_seq),
                    applied_events: non_negative(a.applied_events),
                    rejected_events: non_negative(a.rejected_events),
                    held: non_negative(a.held),
                    first_missing_seq: a.first_missing_seq().map(non_negative),
                    first_held_seq: a.first_gap_seq.map(non_negative),
                    last_contact_at: a.last_contact_at.map(timestamp),
                    last_seq: a.last_seq.map(non_negative),
                    outbox_head: a.outbox_head.map(non_negative),
                    backlog: a.backlog.map(non_negative),
                    resend_requests: gap.map_or(0, |g| g.requests),
                    last_resend_at: gap.and_then(|g| g.last_request_at).map(timestamp),
                    last_resend_reply: gap.and_then(|g| g.last_reply.clone()).unwrap_or_default(),
                    divergences: non_negative(a.divergences),
                    divergent_seqs: a.divergent_seqs.into_iter().map(non_negative).collect(),
                    held_diverged: non_negative(a.held_diverged),
                    held_unknown_version: non_negative(a.held_unknown_version),
                    last_head_seq: head.map(|h| h.seq),
                    last_head_at: head.map(|h| timestamp(h.at)),
                    lost_tail: gap.is_some_and(|g| g.lost_tail_head.is_some()),
                    author: a.author,
                }
            })
            .collect();
        Ok(Response::new(pb::IngestState {
            authors,
            counters: whole_district.then(|| pb::IngestCounters {
                batches: counters.batches,
                messages: counters.messages,
                applied: counters.applied,
                duplicates: counters.duplicates,
                held: counters.held,
                dead_lettered: counters.dead_lettered,
                divergences: counters.divergences,
                last_commit_at: counters.last_commit_at.map(timestamp),
                last_error: counters.last_error.unwrap_or_default(),
            }),
        }))
    }
}

/// Applied activities of `school` (or of every school when empty) until the server stops or
/// the watcher falls too far behind (then `ABORTED`).
fn watch_stream(
    receiver: broadcast::Receiver<ActivityUpdate>,
    stopping: watch::Receiver<bool>,
    school: String,
) -> WatchStream {
    let state = (receiver, stopping, school, false);
    Box::pin(futures::stream::unfold(
        state,
        |(mut receiver, mut stopping, school, done)| async move {
            if done {
                return None;
            }
            loop {
                if *stopping.borrow() {
                    return None;
                }
                let update = tokio::select! {
                    _ = stopping.changed() => return None,
                    update = receiver.recv() => update,
                };
                match update {
                    Ok(update) if school.is_empty() || update.school == school => {
                        let change = match &update.change {
                            ActivityChange::Recorded(d) => ActivityChangeRef::Recorded(d),
                            ActivityChange::Corrected(d) => ActivityChangeRef::Corrected(d),
                            ActivityChange::Retracted { reason } => {
                                ActivityChangeRef::Retracted { reason }
                            }
                        };
                        let message = activity_change_to_pb(
                            &update.school,
                            update.seq,
                            update.activity_id,
                            change,
                            update.recorded_at,
                        );
                        return Some((Ok(message), (receiver, stopping, school, false)));
                    }
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        let status = Status::aborted(format!(
                            "the watcher fell behind and missed {missed} activity changes; \
                             watch again and search to catch up"
                        ));
                        return Some((Err(status), (receiver, stopping, school, true)));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    ))
}

/// Serves the district office's service, health and reflection on `listener` until
/// `shutdown` resolves; open watches end then too.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    context: Context,
    settings: &crate::config::GrpcSettings,
) -> Result<(), service_runtime::ServeError> {
    let (stop_tx, stopping) = watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    // Build the plan view's activity index now (it is small at start and then kept current),
    // not at the district office's first plan view.
    let views = context.views.clone();
    tokio::spawn(async move {
        if let Err(e) = views.warm_up().await {
            warn!(error = %e, "the activity index could not be built yet; a plan view will");
        }
    });
    let accounts = DistrictAccountsService::new(context.accounts.clone(), context.views.clone());
    let service = DistrictAggregatorService::new(context, stopping);
    // Health says SERVING from the start; the district's views may lag the stream, which
    // `GetIngestState` (not health) reports.
    service_runtime::GrpcServer::new(wire::FILE_DESCRIPTOR_SET)
        .configure(settings)
        // An evidence file of the largest size, plus its name and type.
        .add_service(
            DistrictAggregatorServer::new(service).max_encoding_message_size(
                usize::try_from(domain::evidence::MAX_FILE_SIZE).unwrap_or(usize::MAX) + 64 * 1024,
            ),
        )
        .add_service(DistrictAccountsServer::new(accounts))
        .serve(listener, shutdown)
        .await
}
