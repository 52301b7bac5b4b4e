//! The `SchoolAgent` gRPC service: thin. Every method first needs a signed-in staff session
//! ([`Sessions::caller`]). A command is converted into a domain command at the edge
//! (`wire::convert`), checked against the duties of the caller's role
//! (`domain::duties::check`, before anything is decided or written), and handed to the
//! [`Writer`] with the caller's account as the actor; the outcome is mapped back — every
//! other rule lives in `domain::decide`. Reading methods need a session and no duty.
//! [`serve`] runs it beside `SchoolStaff` (`crate::staff_service`) with `grpc.health.v1`
//! and server reflection (`service_runtime::GrpcServer`), which stay open.

use std::future::Future;
use std::sync::Arc;

use async_nats::connection::State;
use domain::SchoolRef;
use domain::school::check_addressed_to;
use tokio::sync::Notify;
use tonic::{Request, Response, Status};
use tracing::{error, info, warn};
use uuid::Uuid;
use wire::convert::{CommandRequest, command_reply, event_record, plan_to_pb, timestamp};
use wire::pb::school_agent_server::{SchoolAgent, SchoolAgentServer};
use wire::pb::school_staff_server::SchoolStaffServer;
use wire::pb::{self};

use crate::auth::{Caller, MustChange, Sessions};
use crate::bundle_export::{self, BundleExportError, BundleKeys, FileSource, NoFiles};
use crate::staff_service::SchoolStaffService;
use crate::store::Store;
use crate::writer::{WriteError, Writer};

/// The largest message the service takes: an evidence file of the largest size, plus the
/// request's other fields.
pub const MAX_MESSAGE: usize = domain::evidence::MAX_FILE_SIZE as usize + 64 * 1024;

/// Most events one `ListEvents` page returns.
const MAX_PAGE: u32 = 1000;
const DEFAULT_PAGE: u32 = 100;

#[derive(Debug, Clone)]
pub struct SchoolAgentService {
    writer: Writer,
    store: Store,
    nats: async_nats::Client,
    school: SchoolRef,
    sessions: Sessions,
    send_now: SendNow,
    bundles: BundleKeys,
    files: Arc<dyn FileSource>,
    /// Whether the log is catching up from the district (commands refused meanwhile).
    catch_up: Option<crate::recovery::CatchUpWatch>,
    backups: Option<crate::backup::Backups>,
    evidence: crate::evidence::EvidenceStore,
    evidence_wakeup: Arc<Notify>,
}

/// The evidence files: where they are stored, and the uploader to wake when one is attached.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub store: crate::evidence::EvidenceStore,
    pub uploader: Arc<Notify>,
}

/// What `SendNow` wakes: the relay (deliver the outbox now) and the head announcer (ask the
/// district for a fresh receipt).
#[derive(Debug, Clone)]
pub struct SendNow {
    pub relay: Arc<Notify>,
    pub heads: Arc<Notify>,
}

impl SchoolAgentService {
    pub fn new(
        writer: Writer,
        store: Store,
        nats: async_nats::Client,
        school: SchoolRef,
        sessions: Sessions,
        send_now: SendNow,
        evidence: Evidence,
    ) -> Self {
        Self {
            writer,
            store,
            nats,
            school,
            sessions,
            send_now,
            bundles: BundleKeys::default(),
            files: Arc::new(NoFiles),
            catch_up: None,
            backups: None,
            evidence: evidence.store,
            evidence_wakeup: evidence.uploader,
        }
    }

    /// Commands are refused while `catch_up` says the log is catching up from the district.
    pub fn with_catch_up(mut self, catch_up: crate::recovery::CatchUpWatch) -> Self {
        self.catch_up = Some(catch_up);
        self
    }

    /// `BackUpNow` and `GetBackups` answer from `backups`.
    pub fn with_backups(mut self, backups: crate::backup::Backups) -> Self {
        self.backups = Some(backups);
        self
    }

    /// The refusal of a command while the log catches up from the district.
    fn refuse_while_catching_up(&self) -> Result<(), Status> {
        let Some(catch_up) = &self.catch_up else {
            return Ok(());
        };
        let state = catch_up.borrow().clone();
        if !state.catching_up {
            return Ok(());
        }
        let detail = if state.status.is_empty() {
            String::new()
        } else {
            format!(" {}", state.status)
        };
        Err(wire::status::refusal(
            tonic::Code::FailedPrecondition,
            "catch_up",
            "the school's log was restored from a backup and is catching up from the district; \
             commands are refused until it has"
                .to_owned(),
            format!(
                "Sổ của trường vừa được khôi phục từ bản sao và đang bổ sung các sự kiện từ \
                 Phòng GD-ĐT; chưa ghi nhận được cho đến khi bổ sung xong.{detail}"
            ),
        ))
    }

    fn backup_status(&self) -> pb::BackupStatus {
        let Some(backups) = &self.backups else {
            return pb::BackupStatus::default();
        };
        let settings = backups.settings();
        let state = backups.state();
        pb::BackupStatus {
            folder: settings
                .folder
                .as_ref()
                .map(|f| f.display().to_string())
                .unwrap_or_default(),
            keep: settings.keep,
            every_hours: settings.every_hours,
            backups: backups
                .list()
                .into_iter()
                .map(|b| pb::BackupFile {
                    name: b
                        .path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    taken_at: Some(timestamp(b.taken_at)),
                    head_seq: b.head_seq,
                    size_bytes: b.size_bytes,
                })
                .collect(),
            last_error: state.last_error.unwrap_or_default(),
            last_error_at: state.last_error_at.map(timestamp),
        }
    }

    /// The same, exporting bundles signed with the keys of `bundles` (`docs/bundles.md`).
    pub fn with_bundles(mut self, bundles: BundleKeys) -> Self {
        self.bundles = bundles;
        self
    }

    /// The same, carrying the evidence files of `files` in exported bundles.
    pub fn with_file_source(mut self, files: Arc<dyn FileSource>) -> Self {
        self.files = files;
        self
    }

    fn address(&self) -> Result<event_bus::subjects::SchoolAddress, Status> {
        event_bus::subjects::SchoolAddress::parse(
            self.school.province.as_str(),
            self.school.district.as_str(),
            self.school.school.as_str(),
        )
        .map_err(|e| Status::internal(format!("the agent's own school address: {e}")))
    }

    /// The agent's status: its log, its outbox and the district's latest receipt.
    async fn status(&self) -> Result<pb::AgentStatus, Status> {
        let status = self.store.outbox_status().await.map_err(storage_error)?;
        let receipt = self.store.receipt().await.map_err(storage_error)?;
        let district_terms = receipt
            .as_ref()
            .and_then(|(r, _)| r.district.as_ref())
            .map(|d| pb::DistrictTerms {
                plan_number: d.plan_number.clone(),
                answer_feedback_days: d.answer_feedback_days,
                answer_press_days: d.answer_press_days,
                targets: d
                    .targets
                    .iter()
                    .map(|t| pb::DistrictTarget {
                        area: t.area.map_or(0, u32::from),
                        per: t.per.clone(),
                        min_activities: t.min_activities,
                    })
                    .collect(),
            });
        let (district_applied_seq, district_answered_at, district_refusals) = match receipt {
            None => (0, None, Vec::new()),
            Some((receipt, _)) => (
                receipt.applied_seq,
                Some(timestamp(receipt.at)),
                receipt
                    .refused
                    .iter()
                    .map(|r| (r, false))
                    .chain(receipt.held.iter().map(|r| (r, true)))
                    .map(|(r, held)| pb::DistrictRefusal {
                        seq: r.seq,
                        reason: r.reason.clone(),
                        held,
                    })
                    .collect(),
            ),
        };
        Ok(pb::AgentStatus {
            province: self.school.province.to_string(),
            district: self.school.district.to_string(),
            school: self.school.school.to_string(),
            head_seq: status.head_seq,
            last_published_seq: status.last_published_seq,
            backlog: status.backlog,
            last_publish_at: status.last_publish_at.map(timestamp),
            connected: self.nats.connection_state() == State::Connected,
            last_error: status.last_error.unwrap_or_default(),
            plan_number: self
                .writer
                .plan()
                .map(|p| p.number.clone())
                .unwrap_or_default(),
            district_applied_seq,
            district_answered_at,
            district_refusals,
            district_terms,
            catching_up: self
                .catch_up
                .as_ref()
                .is_some_and(|c| c.borrow().catching_up),
            catch_up_status: self
                .catch_up
                .as_ref()
                .map(|c| c.borrow().status.clone())
                .unwrap_or_default(),
        })
    }

    /// The signed-in caller; a session whose password must be changed is refused.
    async fn caller<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        self.sessions
            .caller(request.metadata(), MustChange::Refused)
            .await
    }

    /// Authenticates, converts, checks the addressee and the caller's duty, submits with the
    /// caller as the actor, and answers one command request.
    async fn execute<R: CommandRequest>(
        &self,
        request: Request<R>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let caller = self.caller(&request).await?;
        self.refuse_while_catching_up()?;
        let command = request
            .into_inner()
            .into_command(&mut Uuid::now_v7)
            .map_err(|e| wire::status::from_domain(&e))?;
        check_addressed_to("header.school", &self.school, &command.claimed_school)
            .map_err(|e| wire::status::from_domain(&e))?;
        self.check_duty(&caller, &command.command)?;
        self.submit(&caller, command.command).await
    }

    /// Refuses a command outside the duties of the caller's role.
    fn check_duty(&self, caller: &Caller, command: &domain::Command) -> Result<(), Status> {
        if let Err(e) = domain::duties::check(caller.account.role, command) {
            info!(
                command = command.name(),
                login = caller.account.login.as_str(),
                role = caller.account.role.code(),
                "refused: not the role's duty"
            );
            return Err(wire::status::from_domain(&e));
        }
        Ok(())
    }

    /// Submits a command already checked for its addressee and duty, as the caller.
    async fn submit(
        &self,
        caller: &Caller,
        command: domain::Command,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let name = command.name();
        let login = caller.account.login.as_str();
        let actor = caller.account.actor().map_err(|e| {
            warn!(login, error = %e, "the account's name cannot be an actor");
            wire::status::from_domain(&e)
        })?;
        let entity = command.entity_id();
        match self.writer.submit(command, actor).await {
            Ok(committed) => {
                info!(command = name, login, seq = committed.seq, "recorded");
                Ok(Response::new(command_reply(
                    committed.seq,
                    committed.event_id,
                    entity,
                    &committed.warnings,
                )))
            }
            Err(WriteError::Refused(e)) => Err(wire::status::from_domain(&e)),
            Err(WriteError::Storage(e)) => {
                error!(command = name, error = %e, "command not stored");
                Err(Status::unavailable(
                    "the school's log could not be written; nothing was recorded, try again",
                ))
            }
            Err(WriteError::Stopped) => Err(Status::unavailable(
                "the school agent is shutting down; try again",
            )),
        }
    }
}

fn no_backup_folder() -> Status {
    wire::status::refusal(
        tonic::Code::FailedPrecondition,
        "backup.folder",
        "no backup folder is set ([backup] folder in the agent's configuration)".to_owned(),
        "Chưa chọn thư mục sao lưu: đặt [backup] folder trong tệp cấu hình của school-agent \
         (ví dụ ổ USB), rồi khởi động lại."
            .to_owned(),
    )
}

impl SchoolAgentService {
    /// `AttachEvidence`: checks the request, hashes and stores the file, then records the
    /// event; the uploader is woken to send the file once the event is acknowledged.
    async fn attach_evidence_inner(
        &self,
        request: Request<pb::AttachEvidenceRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        use domain::evidence;
        let caller = self.caller(&request).await?;
        let r = request.into_inner();
        let refuse = |e: domain::DomainError| wire::status::from_domain(&e);
        let claimed = r.header.as_ref().map(|h| h.school.as_str()).unwrap_or("");
        check_addressed_to("header.school", &self.school, claimed).map_err(refuse)?;
        let id = Uuid::parse_str(r.record_id.trim()).map_err(|_| {
            refuse(domain::DomainError::invalid(
                "record_id",
                domain::Rule::InvalidValue {
                    value: r.record_id.clone(),
                    expected: "a UUID",
                },
            ))
        })?;
        let record =
            evidence::EvidenceTarget::from_kind(r.record_kind.trim(), id).ok_or_else(|| {
                refuse(domain::DomainError::invalid(
                    "record_kind",
                    domain::Rule::InvalidValue {
                        value: r.record_kind.clone(),
                        expected: "activity, reporter_visit, press_answer or expense",
                    },
                ))
            })?;
        let media_type = evidence::check_media_type("media_type", &r.media_type).map_err(refuse)?;
        evidence::check_size("content", r.content.len() as u64).map_err(refuse)?;
        let name = evidence::check_name("name", &r.name).map_err(refuse)?;
        let sha256 = crate::evidence::sha256_hex(&r.content);
        let command = domain::Command::AttachEvidence(domain::event::EvidenceAttached {
            record,
            file: evidence::EvidenceFile {
                name,
                media_type,
                size: r.content.len() as u64,
                sha256,
            },
        });
        self.check_duty(&caller, &command)?;
        // The file is on disk before the event that names it: an event never names a file
        // the agent does not have.
        let store = self.evidence.clone();
        let content = r.content;
        tokio::task::spawn_blocking(move || store.put(&content))
            .await
            .map_err(|_| Status::internal("storing the evidence file failed"))?
            .map_err(|e| {
                error!(error = %e, "evidence file not stored");
                Status::unavailable("the evidence file could not be stored; nothing was recorded")
            })?;
        let reply = self.submit(&caller, command).await?;
        self.evidence_wakeup.notify_one();
        Ok(reply)
    }

    async fn get_evidence_inner(
        &self,
        request: Request<pb::GetEvidenceRequest>,
    ) -> Result<Response<pb::GetEvidenceReply>, Status> {
        self.caller(&request).await?;
        let sha256 = request.into_inner().sha256;
        if !domain::evidence::is_sha256_hex(&sha256) {
            return Err(wire::status::from_domain(&domain::DomainError::invalid(
                "sha256",
                domain::Rule::InvalidValue {
                    value: sha256,
                    expected: "64 lowercase hexadecimal digits (SHA-256)",
                },
            )));
        }
        let store = self.evidence.clone();
        let wanted = sha256.clone();
        let content = tokio::task::spawn_blocking(move || store.read(&wanted))
            .await
            .map_err(|_| Status::internal("reading the evidence file failed"))?
            .map_err(|e| match e {
                crate::evidence::EvidenceError::Missing { .. } => {
                    wire::status::from_domain(&domain::DomainError::not_found("sha256", &sha256))
                }
                other => {
                    error!(error = %other, "evidence file unreadable");
                    Status::data_loss("the evidence file is damaged on this PC")
                }
            })?;
        let uploaded = crate::evidence_upload::is_uploaded(&self.store, &sha256)
            .await
            .map_err(storage_error)?;
        Ok(Response::new(pb::GetEvidenceReply { content, uploaded }))
    }
}

fn storage_error(e: crate::store::StoreError) -> Status {
    error!(error = %e, "reading the school's log failed");
    Status::unavailable("the school's log cannot be read right now")
}

/// A bundle refusal as a status: what the school must fix first is `FAILED_PRECONDITION`, a
/// refused file `INVALID_ARGUMENT`; field `bundle`, the Vietnamese for staff.
fn bundle_status(e: BundleExportError) -> Status {
    let code = match &e {
        BundleExportError::Store(_) => {
            error!(error = %e, "a bundle could not be read or written");
            return Status::unavailable("the school's log cannot be read right now");
        }
        BundleExportError::Bundle(_) | BundleExportError::Reply(_) => tonic::Code::InvalidArgument,
        _ => tonic::Code::FailedPrecondition,
    };
    wire::status::refusal(code, "bundle", e.english(), e.to_string())
}

/// The largest reply bundle accepted (a receipt is a few kilobytes).
const MAX_REPLY_BYTES: usize = 4 << 20;

type BundleStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<pb::BundleChunk, Status>> + Send>>;

#[tonic::async_trait]
impl SchoolAgent for SchoolAgentService {
    type ExportBundleStream = BundleStream;

    async fn export_bundle(
        &self,
        r: Request<pb::ExportBundleRequest>,
    ) -> Result<Response<Self::ExportBundleStream>, Status> {
        let caller = self.caller(&r).await?;
        let from_seq = match r.into_inner().from_seq {
            Some(seq) => seq,
            None => bundle_export::default_from_seq(&self.store)
                .await
                .map_err(storage_error)?,
        };
        let key = self.bundles.signing_key().map_err(bundle_status)?;
        let mut bytes = Vec::new();
        let exported = bundle_export::write_bundle(
            &self.store,
            &self.address()?,
            from_seq,
            &key,
            self.files.as_ref(),
            chrono::Utc::now(),
            &mut bytes,
        )
        .await
        .map_err(bundle_status)?;
        info!(
            login = %caller.account.login,
            from_seq = exported.header.from_seq,
            to_seq = exported.header.to_seq,
            bytes = bytes.len(),
            "bundle exported"
        );
        let h = &exported.header;
        let chunks = wire::bundle_chunks::split(
            &bytes,
            pb::BundleChunk {
                file_name: exported.file_name.clone(),
                from_seq: h.from_seq,
                to_seq: h.to_seq,
                event_count: h.event_count,
                ..Default::default()
            },
        );
        Ok(Response::new(Box::pin(tokio_stream::iter(
            chunks.into_iter().map(Ok),
        ))))
    }

    async fn import_reply(
        &self,
        r: Request<tonic::Streaming<pb::BundleChunk>>,
    ) -> Result<Response<pb::AgentStatus>, Status> {
        let caller = self.caller(&r).await?;
        let mut chunks = r.into_inner();
        let bytes = wire::bundle_chunks::collect(&mut chunks, MAX_REPLY_BYTES, || {
            wire::status::refusal(
                tonic::Code::InvalidArgument,
                "bundle",
                format!("a reply bundle is at most {MAX_REPLY_BYTES} bytes"),
                "Tệp quá lớn, không phải gói phản hồi của Phòng.".to_owned(),
            )
        })
        .await?;
        let receipt = bundle_export::import_reply(
            &self.store,
            &self.address()?,
            self.bundles.district_public_key.as_deref(),
            &bytes,
            chrono::Utc::now(),
        )
        .await
        .map_err(bundle_status)?;
        info!(
            login = %caller.account.login,
            applied_seq = receipt.applied_seq,
            "district's reply imported"
        );
        Ok(Response::new(self.status().await?))
    }

    async fn adopt_plan(
        &self,
        r: Request<pb::AdoptPlanRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn amend_plan(
        &self,
        r: Request<pb::AmendPlanRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn assign_duty(
        &self,
        r: Request<pb::AssignDutyRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn record_activity(
        &self,
        r: Request<pb::RecordActivityRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn correct_activity(
        &self,
        r: Request<pb::CorrectActivityRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn retract_activity(
        &self,
        r: Request<pb::RetractActivityRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn receive_feedback(
        &self,
        r: Request<pb::ReceiveFeedbackRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn answer_feedback(
        &self,
        r: Request<pb::AnswerFeedbackRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn raise_press_issue(
        &self,
        r: Request<pb::RaisePressIssueRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn answer_press_issue(
        &self,
        r: Request<pb::AnswerPressIssueRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn host_reporter_visit(
        &self,
        r: Request<pb::HostReporterVisitRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn nominate(
        &self,
        r: Request<pb::NominateRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn award_commendation(
        &self,
        r: Request<pb::AwardCommendationRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn adopt_emulation_criteria(
        &self,
        r: Request<pb::AdoptEmulationCriteriaRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn estimate_budget(
        &self,
        r: Request<pb::EstimateBudgetRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn record_expense(
        &self,
        r: Request<pb::RecordExpenseRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }
    async fn settle_budget(
        &self,
        r: Request<pb::SettleBudgetRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.execute(r).await
    }

    async fn list_events(
        &self,
        r: Request<pb::ListEventsRequest>,
    ) -> Result<Response<pb::ListEventsReply>, Status> {
        self.caller(&r).await?;
        let r = r.into_inner();
        let limit = match r.limit {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        };
        let from = r.from_seq.max(1);
        let status = self.store.outbox_status().await.map_err(storage_error)?;
        let events = self
            .store
            .events_from(from, limit)
            .await
            .map_err(storage_error)?;
        let next_seq = events.last().map(|e| e.seq + 1).unwrap_or(from);
        let events = events
            .iter()
            .map(|e| event_record(&e.envelope, e.seq <= status.last_published_seq))
            .collect();
        Ok(Response::new(pb::ListEventsReply {
            events,
            next_seq,
            head_seq: status.head_seq,
        }))
    }

    async fn attach_evidence(
        &self,
        r: Request<pb::AttachEvidenceRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.attach_evidence_inner(r).await
    }

    async fn get_evidence(
        &self,
        r: Request<pb::GetEvidenceRequest>,
    ) -> Result<Response<pb::GetEvidenceReply>, Status> {
        self.get_evidence_inner(r).await
    }

    async fn list_evidence(
        &self,
        r: Request<pb::ListAgentEvidenceRequest>,
    ) -> Result<Response<pb::ListAgentEvidenceReply>, Status> {
        self.caller(&r).await?;
        let r = r.into_inner();
        let wanted = if r.record_kind.is_empty() {
            None
        } else {
            let id = Uuid::parse_str(r.record_id.trim()).ok();
            Some(
                id.and_then(|id| domain::evidence::EvidenceTarget::from_kind(&r.record_kind, id))
                    .ok_or_else(|| {
                        wire::status::from_domain(&domain::DomainError::invalid(
                            "record_id",
                            domain::Rule::InvalidValue {
                                value: format!("{} {}", r.record_kind, r.record_id),
                                expected: "a record kind and its UUID",
                            },
                        ))
                    })?,
            )
        };
        let files = crate::evidence_upload::attached(&self.store, wanted)
            .await
            .map_err(storage_error)?;
        Ok(Response::new(pb::ListAgentEvidenceReply {
            files: files
                .into_iter()
                .map(|(seq, e, uploaded)| pb::AgentEvidenceFile {
                    record_kind: e.record.kind().to_owned(),
                    record_id: e.record.id().to_string(),
                    sha256: e.file.sha256,
                    name: e.file.name,
                    media_type: e.file.media_type,
                    size: e.file.size,
                    seq,
                    uploaded,
                })
                .collect(),
        }))
    }

    async fn get_status(
        &self,
        r: Request<pb::GetStatusRequest>,
    ) -> Result<Response<pb::AgentStatus>, Status> {
        self.caller(&r).await?;
        Ok(Response::new(self.status().await?))
    }

    async fn send_now(
        &self,
        r: Request<pb::SendNowRequest>,
    ) -> Result<Response<pb::AgentStatus>, Status> {
        let caller = self.caller(&r).await?;
        tracing::info!(login = %caller.account.login, "send now asked");
        self.send_now.relay.notify_one();
        self.send_now.heads.notify_one();
        Ok(Response::new(self.status().await?))
    }

    async fn back_up_now(
        &self,
        r: Request<pb::BackUpNowRequest>,
    ) -> Result<Response<pb::BackupStatus>, Status> {
        let caller = self.caller(&r).await?;
        if caller.account.role != domain::Role::Principal {
            info!(login = %caller.account.login, "backup refused: not the head");
            return Err(wire::status::refusal(
                tonic::Code::PermissionDenied,
                "",
                "only the head (principal) takes a backup on demand".to_owned(),
                "Chỉ Hiệu trưởng được sao lưu sổ ngay.".to_owned(),
            ));
        }
        let Some(backups) = &self.backups else {
            return Err(no_backup_folder());
        };
        info!(login = %caller.account.login, "backup asked");
        match backups.take().await {
            Ok(_) => Ok(Response::new(self.backup_status())),
            Err(crate::backup::BackupError::NoFolder) => Err(no_backup_folder()),
            Err(e) => Err(wire::status::refusal(
                tonic::Code::FailedPrecondition,
                "backup.folder",
                format!("the backup failed: {e}"),
                format!("Không sao lưu được. {}", e.vietnamese()),
            )),
        }
    }

    async fn get_backups(
        &self,
        r: Request<pb::GetBackupsRequest>,
    ) -> Result<Response<pb::BackupStatus>, Status> {
        self.caller(&r).await?;
        Ok(Response::new(self.backup_status()))
    }

    async fn get_plan(
        &self,
        r: Request<pb::GetPlanRequest>,
    ) -> Result<Response<pb::GetPlanReply>, Status> {
        self.caller(&r).await?;
        let plan = self.writer.plan();
        Ok(Response::new(pb::GetPlanReply {
            adopted: plan.is_some(),
            plan: plan.as_deref().map(plan_to_pb),
        }))
    }
}

/// Serves the agent, its staff accounts, health and reflection on `listener` until
/// `shutdown` resolves.
pub async fn serve(
    service: SchoolAgentService,
    staff: SchoolStaffService,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    settings: &crate::config::GrpcSettings,
) -> Result<(), service_runtime::ServeError> {
    service_runtime::GrpcServer::new(wire::FILE_DESCRIPTOR_SET)
        .configure(settings)
        // An evidence file of the largest size, plus the request's other fields.
        .add_service(SchoolAgentServer::new(service).max_decoding_message_size(MAX_MESSAGE))
        .add_service(SchoolStaffServer::new(staff))
        .serve(listener, shutdown)
        .await
}
