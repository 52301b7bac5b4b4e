//! Signed bundles at the district (`docs/bundles.md`): importing a school's bundle carried on
//! a USB stick, and writing the signed reply the school carries back.
//!
//! An import reads the whole bundle and verifies it (`bundle::read`) against the school's
//! **registered** public key in the district's identity registry (`[bundles]
//! identities_file`, `event_bus::registry`) before anything is done with it: a tampered,
//! truncated or foreign bundle changes nothing. Then it does not apply the events itself: it
//! **publishes them onto the school's events subject of the district stream**, with exactly
//! the headers and `Nats-Msg-Id` the school's relay would use and the envelope bytes
//! unchanged, so that
//!
//! * the ordinary ingest applies them, exactly once per `(school, seq)`, with every rule it
//!   has (divergences, holds, refusals) — importing twice, or a bundle overlapping what
//!   arrived over NATS, is a duplicate there and changes nothing;
//! * the stream holds every delivered event, so a rebuild and a school's recovery from the
//!   district keep working as if the events had come over the line.
//!
//! That is why the aggregator's NATS user may publish on school events subjects
//! (`event_bus::permissions::aggregator`): it does so only here, only the events of a bundle
//! signed by that school's registered key. The import then waits (bounded by
//! `import_wait_ms`) until the ingest's position for the school reaches the bundle's last
//! seq, or everything after it is held, and counts what happened.
//!
//! Evidence files in a bundle go to a [`FileSink`]; the district's evidence store implements
//! it (until then [`NoFileSink`] refuses a bundle with files, so none is lost silently).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use bundle::{Bundle, Expect, Keys, Kind, Limits, Trust};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use domain::Envelope;
use event_bus::headers::{CloudEventHeaders, source_for};
use event_bus::publish::{OutgoingEvent, publish_in_order};
use event_bus::registry::{Kind as IdentityKind, Registry};
use event_bus::subjects::{SchoolAddress, events_subject};
use nkeys::KeyPair;
use sqlx::PgPool;
use tracing::info;

use crate::config::Settings;
use crate::db::{from_i64, to_i64, use_projection};

/// Events per publish round (the relay's pipeline keeps ≤ 256 in flight).
const PUBLISH_CHUNK: usize = 1_000;
/// How long JetStream may take to acknowledge one publish.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the import looks at the school's position while it waits.
const POLL: Duration = Duration::from_millis(100);

/// Why an import or a reply failed. Vietnamese, for the district's officer.
#[derive(Debug, thiserror::Error)]
pub enum BundleImportError {
    /// The bundle itself was refused: nothing of it was used.
    #[error("{0}")]
    Refused(#[from] bundle::BundleError),
    #[error(
        "chưa cấu hình sổ đăng ký khóa của Phòng ([bundles] identities_file) nên không kiểm tra được gói"
    )]
    NoRegistry,
    #[error("không đọc được sổ đăng ký khóa: {0}")]
    Registry(String),
    #[error(
        "máy chủ tổng hợp chưa có khóa để ký gói phản hồi ([bundles] signing_key_file hoặc nats.nkey_file)"
    )]
    NoSigningKey,
    #[error("không đọc được khóa ký {path}: {reason}")]
    SigningKey { path: String, reason: String },
    #[error("sự kiện số {seq} trong gói không đọc được: {reason}")]
    Event { seq: u64, reason: String },
    #[error("mã trường {0:?} không hợp lệ")]
    School(String),
    #[error("không lưu được tệp đính kèm {name}: {reason}")]
    File { name: String, reason: String },
    #[error(
        "chưa gửi được sự kiện lên luồng dữ liệu của Phòng (NATS): {0}; hãy thử nhập lại, gói nhập lại không làm sai gì"
    )]
    Publish(String),
    #[error(
        "đã gửi gói lên luồng dữ liệu nhưng sau {seconds} giây Phòng mới ghi đến số {applied} (gói đến số {to_seq}); hãy xem trang tình trạng nhận dữ liệu"
    )]
    Timeout {
        seconds: u64,
        applied: u64,
        to_seq: u64,
    },
    #[error("lỗi cơ sở dữ liệu: {0}")]
    Database(#[from] sqlx::Error),
}

impl BundleImportError {
    /// The same in English, for the gRPC status message.
    pub fn english(&self) -> String {
        use BundleImportError as E;
        match self {
            E::Refused(e) => format!("the bundle is refused: {e:?}"),
            E::NoRegistry => {
                "bundles.identities_file is not set: a bundle cannot be verified".into()
            }
            E::Registry(reason) => format!("the identity registry cannot be read: {reason}"),
            E::NoSigningKey => {
                "no seed to sign replies with (bundles.signing_key_file or nats.nkey_file)".into()
            }
            E::SigningKey { path, reason } => {
                format!("the signing seed {path} cannot be read: {reason}")
            }
            E::Event { seq, reason } => {
                format!("event seq {seq} of the bundle is unreadable: {reason}")
            }
            E::School(code) => format!("school {code:?} is not a valid school code"),
            E::File { name, reason } => format!("evidence file {name} could not be kept: {reason}"),
            E::Publish(reason) => format!("the bundle's events could not be published: {reason}"),
            E::Timeout {
                seconds,
                applied,
                to_seq,
            } => {
                format!("after {seconds} s the ingest had applied up to seq {applied} of {to_seq}")
            }
            E::Database(e) => format!("database: {e}"),
        }
    }
}

/// The future a [`FileSink`] returns.
pub type SinkFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Where the evidence files of an imported bundle go: the district's evidence store.
pub trait FileSink: Send + Sync + std::fmt::Debug {
    /// Keeps `file` (already checked to hash to its name) of `school`; an existing one is kept.
    fn store<'a>(&'a self, school: &'a str, file: &'a bundle::File) -> SinkFuture<'a>;
}

/// A [`FileSink`] for a district without an evidence store: a bundle with files is refused
/// rather than imported without them.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFileSink;

impl FileSink for NoFileSink {
    fn store<'a>(&'a self, _: &'a str, _: &'a bundle::File) -> SinkFuture<'a> {
        Box::pin(async { Err("Phòng chưa có nơi lưu tệp đính kèm".to_owned()) })
    }
}

/// What an import did, by event of the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    pub school: String,
    pub from_seq: u64,
    pub to_seq: u64,
    pub events: u64,
    pub files: u64,
    /// Applied now.
    pub new: u64,
    /// The district had them already (over NATS, or from an earlier import).
    pub already: u64,
    /// Refused by the district's rules (dead letters; the school's receipt names them).
    pub refused: u64,
    /// Held (a gap before them, the school not enrolled yet).
    pub held: u64,
}

impl ImportOutcome {
    /// The result in words, for the dashboard and the command.
    pub fn vietnamese(&self) -> String {
        format!(
            "Đã nhận gói của trường {}: {} sự kiện (số {} đến {}), {} tệp. Mới ghi: {}; Phòng đã có từ trước: {}; từ chối: {}; giữ lại: {}.",
            self.school,
            self.events,
            self.from_seq,
            self.to_seq,
            self.files,
            self.new,
            self.already,
            self.refused,
            self.held
        )
    }
}

/// The registry as `bundle::read` asks it.
struct RegisteredKeys(Registry);

impl Keys for RegisteredKeys {
    fn key_of(&self, school: &str) -> Option<String> {
        self.0.school_key(school).map(str::to_owned)
    }
    fn owner_of(&self, public_key: &str) -> Option<String> {
        self.0
            .owner_of_key(public_key)
            .map(|identity| match identity.kind {
                IdentityKind::School => identity.name.clone(),
                other => other.label_vi().to_owned(),
            })
    }
}

/// A school's position at the district.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Position {
    applied_seq: u64,
    applied_events: u64,
    rejected_events: u64,
}

/// Imports bundles and writes replies, for the gRPC service, the command and tests.
#[derive(Debug, Clone)]
pub struct Bundles {
    pool: PgPool,
    schema: String,
    jetstream: jetstream::Context,
    province: String,
    district: String,
    identities_file: Option<PathBuf>,
    signing_key_file: Option<PathBuf>,
    wait: Duration,
    files: Arc<dyn FileSink>,
}

impl Bundles {
    /// Bundles of the district of `settings`, over the live projection, publishing with
    /// `client` (the aggregator's own NATS connection).
    pub fn new(pool: PgPool, client: async_nats::Client, settings: &Settings) -> Self {
        Self {
            pool,
            schema: crate::db::LIVE_SCHEMA.to_owned(),
            jetstream: jetstream::new(client),
            province: settings.district.province.clone(),
            district: settings.district.district.clone(),
            identities_file: settings.bundles.identities_file.clone(),
            signing_key_file: settings
                .bundles
                .signing_key_file
                .clone()
                .or_else(|| settings.nats.nkey_file.clone()),
            wait: Duration::from_millis(settings.bundles.import_wait_ms),
            files: Arc::new(NoFileSink),
        }
    }

    /// The same, keeping a bundle's files in `files`.
    pub fn with_file_sink(mut self, files: Arc<dyn FileSink>) -> Self {
        self.files = files;
        self
    }

    fn registry(&self) -> Result<Registry, BundleImportError> {
        let path = self
            .identities_file
            .as_ref()
            .ok_or(BundleImportError::NoRegistry)?;
        Registry::load_file(path).map_err(|e| BundleImportError::Registry(e.to_string()))
    }

    /// Verifies `bytes` and, only if it is a school's bundle signed by its registered key,
    /// publishes its events as the school would and waits for the ingest to take them.
    pub async fn import(&self, bytes: &[u8]) -> Result<ImportOutcome, BundleImportError> {
        let bundle = {
            // Read and verified before anything awaits (the trust is not `Send`).
            let keys = RegisteredKeys(self.registry()?);
            let expect = Expect {
                kind: Kind::Events,
                province: &self.province,
                district: &self.district,
                school: None,
                trust: Trust::Registered(&keys),
            };
            bundle::read(bytes, &expect, &Limits::default())?
        };
        self.apply(bundle).await
    }

    async fn apply(&self, bundle: Bundle) -> Result<ImportOutcome, BundleImportError> {
        let h = bundle.header.clone();
        let school = SchoolAddress::parse(&h.province, &h.district, &h.school)
            .map_err(|_| BundleImportError::School(h.school.clone()))?;
        let started = Instant::now();
        let outgoing = bundle
            .events
            .iter()
            .map(|event| outgoing(&school, event, h.to_seq))
            .collect::<Result<Vec<_>, _>>()?;
        for file in &bundle.files {
            self.files
                .store(&h.school, file)
                .await
                .map_err(|reason| BundleImportError::File {
                    name: file.sha256.clone(),
                    reason,
                })?;
        }
        let before = self.position(&h.school).await?;
        for chunk in outgoing.chunks(PUBLISH_CHUNK) {
            let outcome = publish_in_order(&self.jetstream, chunk, ACK_TIMEOUT).await;
            if let Some(error) = outcome.error {
                return Err(BundleImportError::Publish(error.to_string()));
            }
        }
        let (after, held) = self.wait_for(&h.school, h.from_seq, h.to_seq).await?;
        let new = after.applied_events.saturating_sub(before.applied_events);
        let refused = after.rejected_events.saturating_sub(before.rejected_events);
        let outcome = ImportOutcome {
            school: h.school.clone(),
            from_seq: h.from_seq,
            to_seq: h.to_seq,
            events: h.event_count,
            files: h.file_count,
            new: new.min(h.event_count),
            refused: refused.min(h.event_count),
            held,
            already: h.event_count.saturating_sub(new + refused + held),
        };
        info!(
            school = %h.school,
            from_seq = h.from_seq,
            to_seq = h.to_seq,
            new = outcome.new,
            already = outcome.already,
            refused = outcome.refused,
            held = outcome.held,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "school bundle imported"
        );
        Ok(outcome)
    }

    async fn position(&self, school: &str) -> Result<Position, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        use_projection(&mut tx, &self.schema).await?;
        let row: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT applied_seq, applied_events, rejected_events FROM positions WHERE author = $1",
        )
        .bind(school)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.map_or_else(Position::default, |(s, a, r)| Position {
            applied_seq: from_i64(s),
            applied_events: from_i64(a),
            rejected_events: from_i64(r),
        }))
    }

    async fn held_between(&self, school: &str, from: u64, to: u64) -> Result<u64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        use_projection(&mut tx, &self.schema).await?;
        let held: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM held WHERE author = $1 AND seq BETWEEN $2 AND $3",
        )
        .bind(school)
        .bind(to_i64(from))
        .bind(to_i64(to))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(from_i64(held))
    }

    /// Waits until every seq of `from..=to` is at or below the school's position or held.
    async fn wait_for(
        &self,
        school: &str,
        from: u64,
        to: u64,
    ) -> Result<(Position, u64), BundleImportError> {
        let deadline = Instant::now() + self.wait;
        loop {
            let position = self.position(school).await?;
            let first_open = position.applied_seq.max(from.saturating_sub(1)) + 1;
            let held = if first_open > to {
                0
            } else {
                self.held_between(school, first_open, to).await?
            };
            if position.applied_seq >= to || held >= to + 1 - first_open {
                let held = self.held_between(school, from, to).await?;
                return Ok((position, held));
            }
            if Instant::now() >= deadline {
                return Err(BundleImportError::Timeout {
                    seconds: self.wait.as_secs(),
                    applied: position.applied_seq,
                    to_seq: to,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn signing_key(&self) -> Result<KeyPair, BundleImportError> {
        let path = self
            .signing_key_file
            .as_ref()
            .ok_or(BundleImportError::NoSigningKey)?;
        let text = std::fs::read_to_string(path).map_err(|e| BundleImportError::SigningKey {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        bundle::key_from_seed_text(&text).ok_or_else(|| BundleImportError::SigningKey {
            path: path.display().to_string(),
            reason: "không có khóa bí mật (SU…)".into(),
        })
    }

    /// The reply bundle for `school`: its receipt now (what the district applied, refused and
    /// holds, and the district plan's terms), signed with the aggregator's key. Returns the
    /// bytes and the file name to save them under.
    pub async fn reply(
        &self,
        school: &str,
        now: DateTime<Utc>,
    ) -> Result<(Vec<u8>, String), BundleImportError> {
        SchoolAddress::parse(&self.province, &self.district, school)
            .map_err(|_| BundleImportError::School(school.to_owned()))?;
        let key = self.signing_key()?;
        let receipt = crate::receipts::receipt_of(&self.pool, &self.schema, school).await?;
        let header = bundle::Header {
            kind: Kind::Reply,
            province: self.province.clone(),
            district: self.district.clone(),
            school: school.to_owned(),
            from_seq: 0,
            to_seq: 0,
            event_count: 0,
            file_count: 0,
            created_at: now,
            signer: key.public_key(),
        };
        let name = bundle::file_name(&header);
        let mut writer = bundle::Writer::new(Vec::new(), header)?;
        writer.body(&event_bus::receipts::encode(&receipt))?;
        let bytes = writer.finish(&key)?;
        info!(
            school,
            applied_seq = receipt.applied_seq,
            "reply bundle written"
        );
        Ok((bytes, name))
    }
}

/// The message the school's relay would publish for `event` (`school_agent::relay::outgoing`):
/// the same subject, headers and `Nats-Msg-Id`, the envelope's bytes unchanged.
fn outgoing(
    school: &SchoolAddress,
    event: &bundle::Event,
    head: u64,
) -> Result<OutgoingEvent, BundleImportError> {
    let envelope = Envelope::parse(&event.envelope).map_err(|e| BundleImportError::Event {
        seq: event.seq,
        reason: e.to_string(),
    })?;
    Ok(OutgoingEvent {
        subject: events_subject(school),
        headers: CloudEventHeaders {
            id: envelope.id,
            source: source_for(school),
            event_type: envelope.event_type.clone(),
            time: envelope.occurred_at,
        },
        body: Bytes::copy_from_slice(&event.envelope),
        seq: event.seq,
        outbox_head: Some(head),
    })
}
