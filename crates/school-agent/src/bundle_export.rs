//! Signed bundles at the school (`docs/bundles.md`): writing the school's events (and the
//! evidence files they name) into one `.ttgoi` file for a USB stick when the line is down, and
//! importing the district's signed reply, which stores the school's receipt exactly as the
//! NATS receipts path does ([`crate::heads::keep_receipts`]), so the app's records turn to
//! *Phòng đã nhận* without a connection.
//!
//! The bundle is signed with the seed of the school's NATS identity (`nats.nkey_file`, or the
//! seed inside `nats.credentials_file`): the district already holds that key's public half in
//! its registry, so a bundle needs no key of its own. A school in insecure development mode
//! has neither and cannot export.
//!
//! Exporting changes nothing in the log or the outbox: the relay still publishes the same
//! events when the line returns, and the district, which applied them from the bundle, sees
//! duplicates and changes nothing.

use std::io::Write;

use bundle::{Header, Kind, Writer};
use chrono::{DateTime, Utc};
use domain::Envelope;
use event_bus::receipts::Receipt;
use event_bus::subjects::SchoolAddress;
use nkeys::KeyPair;

use crate::config::Settings;
use crate::store::{Store, StoreError};

/// Events read from the log per query while writing.
const PAGE: u32 = 2_000;

/// Why a bundle could not be exported, or a reply imported. Messages for the school's staff.
#[derive(Debug, thiserror::Error)]
pub enum BundleExportError {
    #[error(
        "máy này chưa có khóa của trường (nats.nkey_file hoặc nats.credentials_file) nên không ký được gói; hãy nhờ Phòng cấp khóa"
    )]
    NoKey,
    #[error("không đọc được khóa của trường trong {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("không có sự kiện nào từ số {from_seq} để xuất (sổ của trường mới đến số {head})")]
    Nothing { from_seq: u64, head: u64 },
    #[error(
        "máy này chưa có khóa công khai của Phòng ([bundles] district_public_key) nên không kiểm tra được gói phản hồi"
    )]
    NoDistrictKey,
    #[error("nội dung gói phản hồi không đọc được: {0}")]
    Reply(String),
    #[error(transparent)]
    Bundle(#[from] bundle::BundleError),
    #[error("lỗi đọc sổ của trường: {0}")]
    Store(#[from] StoreError),
}

/// Where the evidence files an export carries come from. The agent's evidence store (keyed by
/// SHA-256) implements it; [`NoFiles`] carries none.
pub trait FileSource: Send + Sync {
    /// The SHA-256 (lowercase hex) of each evidence file `envelope` names; none for most events.
    fn named_files(&self, envelope: &Envelope) -> Vec<String>;
    /// The content of the file `sha256`.
    fn read_file(&self, sha256: &str) -> std::io::Result<Vec<u8>>;
}

impl std::fmt::Debug for dyn FileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileSource")
    }
}

/// A [`FileSource`] with no files: events only.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl FileSource for NoFiles {
    fn named_files(&self, _: &Envelope) -> Vec<String> {
        Vec::new()
    }
    fn read_file(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no evidence file {sha256}"),
        ))
    }
}

/// Where the school's bundle keys are: the NATS identity's seed file, and the district's public
/// key for replies. Kept by the gRPC service; the seed is read at each export, never kept.
#[derive(Debug, Clone, Default)]
pub struct BundleKeys {
    pub nkey_file: Option<std::path::PathBuf>,
    pub credentials_file: Option<std::path::PathBuf>,
    pub district_public_key: Option<String>,
}

impl BundleKeys {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            nkey_file: settings.nats.nkey_file.clone(),
            credentials_file: settings.nats.credentials_file.clone(),
            district_public_key: settings.bundles.district_public_key.clone(),
        }
    }

    /// The key the school signs with (see [`signing_key`]).
    pub fn signing_key(&self) -> Result<KeyPair, BundleExportError> {
        key_from_files(self.nkey_file.as_ref(), self.credentials_file.as_ref())
    }
}

impl BundleExportError {
    /// The same in English, for the gRPC status message (the Vietnamese goes in its
    /// `LocalizedMessage`).
    pub fn english(&self) -> String {
        match self {
            BundleExportError::NoKey => "this agent has no NATS identity seed (nats.nkey_file or nats.credentials_file) to sign a bundle with".into(),
            BundleExportError::KeyFile { path, reason } => format!("the seed file {path} cannot be read: {reason}"),
            BundleExportError::Nothing { from_seq, head } => format!("no event from seq {from_seq} to export (the log's head is {head})"),
            BundleExportError::NoDistrictKey => "bundles.district_public_key is not set: a reply bundle cannot be verified".into(),
            BundleExportError::Reply(reason) => format!("the reply bundle's body is unreadable: {reason}"),
            BundleExportError::Bundle(e) => format!("the bundle is refused: {e:?}"),
            BundleExportError::Store(e) => format!("the school's log cannot be read: {e}"),
        }
    }
}

/// The key the school signs bundles with: the seed of its NATS identity, read from
/// `nats.nkey_file` or `nats.credentials_file`.
pub fn signing_key(settings: &Settings) -> Result<KeyPair, BundleExportError> {
    BundleKeys::from_settings(settings).signing_key()
}

fn key_from_files(
    nkey_file: Option<&std::path::PathBuf>,
    credentials_file: Option<&std::path::PathBuf>,
) -> Result<KeyPair, BundleExportError> {
    let path = nkey_file
        .or(credentials_file)
        .ok_or(BundleExportError::NoKey)?;
    let text = std::fs::read_to_string(path).map_err(|e| BundleExportError::KeyFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    bundle::key_from_seed_text(&text).ok_or_else(|| BundleExportError::KeyFile {
        path: path.display().to_string(),
        reason: "không có khóa bí mật của người dùng NATS (SU…)".into(),
    })
}

/// The first seq the district has not confirmed: its last receipt's `applied_seq + 1`, or 1.
pub async fn default_from_seq(store: &Store) -> Result<u64, StoreError> {
    Ok(store
        .receipt()
        .await?
        .map_or(1, |(receipt, _)| receipt.applied_seq + 1))
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub header: Header,
    /// The file name to save it under (`<school>-<from>-<to>-<yyyymmdd>.ttgoi`).
    pub file_name: String,
}

/// Writes the school's events from `from_seq` to the log's head, and the files they name, as
/// one bundle signed with `key` into `out`. The bench calls this directly.
pub async fn write_bundle(
    store: &Store,
    school: &SchoolAddress,
    from_seq: u64,
    key: &KeyPair,
    files: &dyn FileSource,
    now: DateTime<Utc>,
    out: impl Write,
) -> Result<Exported, BundleExportError> {
    let from_seq = from_seq.max(1);
    let head = store.head_seq().await?;
    if head < from_seq {
        return Err(BundleExportError::Nothing { from_seq, head });
    }
    // First pass: which files the events name, so the header can say how many.
    let mut hashes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    page_events(store, from_seq, head, |envelope, _| {
        for hash in files.named_files(envelope) {
            if seen.insert(hash.clone()) {
                hashes.push(hash);
            }
        }
        Ok(())
    })
    .await?;
    let header = Header {
        kind: Kind::Events,
        province: school.province().to_owned(),
        district: school.district().to_owned(),
        school: school.school().to_owned(),
        from_seq,
        to_seq: head,
        event_count: head - from_seq + 1,
        file_count: hashes.len() as u64,
        created_at: now,
        signer: key.public_key(),
    };
    let mut writer = Writer::new(out, header.clone())?;
    page_events(store, from_seq, head, |_, body| {
        writer.event(body.as_bytes())?;
        Ok(())
    })
    .await?;
    for hash in &hashes {
        let content = files.read_file(hash).map_err(bundle::BundleError::Io)?;
        writer.file(&content)?;
    }
    writer.finish(key)?;
    tracing::info!(
        school = %school,
        from_seq,
        to_seq = head,
        files = hashes.len(),
        "bundle exported"
    );
    let file_name = bundle::file_name(&header);
    Ok(Exported { header, file_name })
}

async fn page_events(
    store: &Store,
    from_seq: u64,
    to_seq: u64,
    mut each: impl FnMut(&Envelope, &str) -> Result<(), BundleExportError>,
) -> Result<(), BundleExportError> {
    let mut next = from_seq;
    while next <= to_seq {
        let page = store.events_between(next, to_seq, PAGE).await?;
        let Some(last) = page.last() else { break };
        next = last.seq + 1;
        for event in &page {
            each(&event.envelope, &event.body)?;
        }
    }
    Ok(())
}

/// Reads the district's reply bundle `bytes`, verified with the district's public key
/// (`[bundles] district_public_key`), and keeps its receipt as the NATS path would.
pub async fn import_reply(
    store: &Store,
    school: &SchoolAddress,
    district_key: Option<&str>,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<Receipt, BundleExportError> {
    let district_key = district_key.ok_or(BundleExportError::NoDistrictKey)?;
    let expect = bundle::Expect {
        kind: Kind::Reply,
        province: school.province(),
        district: school.district(),
        school: Some(school.school()),
        trust: bundle::Trust::Key(district_key),
    };
    let reply = bundle::read(bytes, &expect, &bundle::Limits::default())?;
    let body = reply.body.unwrap_or_default();
    let receipt: Receipt =
        serde_json::from_slice(&body).map_err(|e| BundleExportError::Reply(e.to_string()))?;
    store.save_receipt(&receipt, now).await?;
    tracing::info!(
        school = %school,
        applied_seq = receipt.applied_seq,
        refused = receipt.refused.len(),
        held = receipt.held.len(),
        "district's reply bundle imported"
    );
    Ok(receipt)
}
