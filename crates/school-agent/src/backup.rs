//! Backups of the school's log, taken while the agent runs, into a folder the school chose (a
//! USB disk), and the check `school-agent restore` makes of a backup before it puts it back.
//!
//! A backup is SQLite's `VACUUM INTO`: a consistent snapshot of the whole database (the log,
//! the outbox, the district's receipt, the staff accounts) read in one transaction while the
//! writer goes on; never a copy of the file, which in WAL mode may miss what is still in the
//! `-wal` file. It is written under a temporary name, its head seq read from the copy itself,
//! then renamed to `<school>-<yyyymmddThhmmssZ>-seq<000123>.sqlite`, so the name says what
//! the app shows (time and head seq) and a half-written file never looks like a backup. The
//! last `keep` are kept. The evidence folder beside the log (`evidence/`, files named by their
//! SHA-256, never changed) is copied into the backup folder's `evidence/`, missing files only.
//!
//! The [`Backups`] task takes one every `every_hours` and on demand (`BackUpNow`); a failure
//! (the USB disk unplugged) is logged and kept for the status, never fatal to the agent.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use event_bus::subjects::SchoolAddress;
use serde::Deserialize;
use sqlx::{Connection, SqliteConnection};
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::store::Store;

/// The `[backup]` settings.
#[derive(Debug, Clone, Deserialize)]
pub struct BackupSettings {
    /// The folder backups go to (a USB disk); it must exist, it is never created. None: no
    /// scheduled backups.
    #[serde(default)]
    pub folder: Option<PathBuf>,
    /// How many backups are kept (the oldest are removed).
    #[serde(default = "default_keep")]
    pub keep: u32,
    /// Hours between scheduled backups.
    #[serde(default = "default_every_hours")]
    pub every_hours: u32,
}

impl Default for BackupSettings {
    fn default() -> Self {
        Self {
            folder: None,
            keep: default_keep(),
            every_hours: default_every_hours(),
        }
    }
}

fn default_keep() -> u32 {
    7
}
fn default_every_hours() -> u32 {
    24
}

/// One backup file in the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFile {
    pub path: PathBuf,
    pub taken_at: DateTime<Utc>,
    pub head_seq: u64,
    pub size_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("no backup folder is set ([backup] folder)")]
    NoFolder,
    #[error("the backup folder {path} cannot be used: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("the backup could not be written to {path}: {source}")]
    Write { path: String, source: sqlx::Error },
    #[error("the evidence files could not be copied to {path}: {source}")]
    Evidence {
        path: String,
        source: std::io::Error,
    },
}

impl BackupError {
    /// What the head reads in the app and in a refusal: Vietnamese, with what to check.
    pub fn vietnamese(&self) -> String {
        match self {
            BackupError::NoFolder => "Chưa chọn thư mục sao lưu.".to_owned(),
            BackupError::Folder { path, source }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                format!("Không thấy thư mục sao lưu {path} (ổ USB đã rút ra?).")
            }
            BackupError::Folder { path, .. } => {
                format!("Không dùng được thư mục sao lưu {path} (không có quyền ghi?).")
            }
            BackupError::Write { path, .. } => {
                format!("Không ghi được bản sao {path} (ổ đầy, hoặc ổ USB đã rút ra?).")
            }
            BackupError::Evidence { path, .. } => {
                format!("Không chép được các tệp minh chứng vào {path} (ổ đầy?).")
            }
        }
    }
}

/// What the status shows of backups.
#[derive(Debug, Clone, Default)]
pub struct BackupState {
    pub last_backup: Option<BackupFile>,
    /// The last failure, in Vietnamese (the English is logged).
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// The backups of one school's log: settings, the store, and the state the status reads.
#[derive(Debug, Clone)]
pub struct Backups {
    store: Store,
    school: SchoolAddress,
    settings: BackupSettings,
    evidence_dir: Option<PathBuf>,
    state: Arc<Mutex<BackupState>>,
    now: Arc<Notify>,
}

impl Backups {
    /// `log_path` is `storage.path`: the evidence folder is `evidence/` beside it.
    pub fn new(
        store: Store,
        school: SchoolAddress,
        settings: BackupSettings,
        log_path: &Path,
    ) -> Self {
        let evidence_dir = log_path
            .parent()
            .map(|dir| dir.join("evidence"))
            .or_else(|| Some(PathBuf::from("evidence")));
        Self {
            store,
            school,
            settings,
            evidence_dir,
            state: Arc::new(Mutex::new(BackupState::default())),
            now: Arc::new(Notify::new()),
        }
    }

    pub fn settings(&self) -> &BackupSettings {
        &self.settings
    }

    pub fn state(&self) -> BackupState {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The backups in the folder, newest first; empty without a folder or when it cannot be
    /// read (the error is in [`BackupState`] after a failed backup).
    pub fn list(&self) -> Vec<BackupFile> {
        match &self.settings.folder {
            Some(folder) => list(folder, self.school.school()),
            None => Vec::new(),
        }
    }

    /// Takes a backup now, keeps the last `keep`, and records the outcome for the status.
    pub async fn take(&self) -> Result<BackupFile, BackupError> {
        let outcome = self.take_inner().await;
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &outcome {
            Ok(file) => {
                info!(path = %file.path.display(), head_seq = file.head_seq, bytes = file.size_bytes, "backup taken");
                state.last_backup = Some(file.clone());
                state.last_error = None;
                state.last_error_at = None;
            }
            Err(e) => {
                warn!(error = %e, "backup failed");
                state.last_error = Some(e.vietnamese());
                state.last_error_at = Some(Utc::now());
            }
        }
        outcome
    }

    async fn take_inner(&self) -> Result<BackupFile, BackupError> {
        let folder = self.settings.folder.as_ref().ok_or(BackupError::NoFolder)?;
        let file = take(&self.store, folder, self.school.school(), Utc::now()).await?;
        prune(
            folder,
            self.school.school(),
            self.settings.keep.max(1) as usize,
        );
        if let Some(evidence) = &self.evidence_dir
            && evidence.is_dir()
        {
            copy_missing(evidence, &folder.join("evidence"))?;
        }
        Ok(file)
    }

    /// Asks the task for a backup now (without waiting for it).
    pub fn wake(&self) {
        self.now.notify_one();
    }

    /// The scheduled backups: every `every_hours` (the first one `every_hours` after the
    /// start) while a folder is set, until `stop`.
    pub async fn run(self, mut stop: tokio::sync::broadcast::Receiver<()>) {
        let Some(folder) = self.settings.folder.clone() else {
            info!("no backup folder set: no scheduled backups");
            return;
        };
        let every = Duration::from_secs(u64::from(self.settings.every_hours.max(1)) * 3600);
        info!(folder = %folder.display(), every_hours = self.settings.every_hours, keep = self.settings.keep, "scheduled backups");
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = self.now.notified() => {}
                _ = stop.recv() => return,
            }
            let _ = self.take().await;
        }
    }
}

/// Writes a consistent copy of `store`'s database into `folder` (see the module doc) and
/// returns it.
pub async fn take(
    store: &Store,
    folder: &Path,
    school: &str,
    now: DateTime<Utc>,
) -> Result<BackupFile, BackupError> {
    let folder_error = |source| BackupError::Folder {
        path: folder.display().to_string(),
        source,
    };
    // Never created: a USB disk that is not plugged in leaves its mount point missing (or
    // empty), and creating it would fill the PC's own disk instead.
    if !folder.is_dir() {
        return Err(folder_error(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the folder does not exist (is the USB disk plugged in?)",
        )));
    }
    let stamp = now.format("%Y%m%dT%H%M%SZ");
    let temp = folder.join(format!(".{school}-{stamp}.partial"));
    let _ = std::fs::remove_file(&temp);
    let write_error = |path: &Path, source| BackupError::Write {
        path: path.display().to_string(),
        source,
    };
    sqlx::query("VACUUM INTO ?")
        .bind(temp.display().to_string())
        .execute(store.pool())
        .await
        .map_err(|e| write_error(&temp, e))?;
    let head = match head_of(&temp).await {
        Ok(head) => head,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(write_error(&temp, e));
        }
    };
    let path = folder.join(file_name(school, now, head));
    std::fs::rename(&temp, &path).map_err(folder_error)?;
    let size_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Ok(BackupFile {
        path,
        taken_at: parse_stamp(&stamp.to_string()).unwrap_or(now),
        head_seq: head,
        size_bytes,
    })
}

/// The newest seq in the SQLite file at `path`, read-only.
async fn head_of(path: &Path) -> Result<u64, sqlx::Error> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(u64::try_from(head).unwrap_or(0))
}

/// `thcs-an-hoa-20261204T183000Z-seq000123.sqlite`.
pub fn file_name(school: &str, at: DateTime<Utc>, head_seq: u64) -> String {
    format!(
        "{school}-{}-seq{head_seq:06}.sqlite",
        at.format("%Y%m%dT%H%M%SZ")
    )
}

fn parse_stamp(stamp: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc())
}

/// Reads a backup's time and head seq back from its name, when it is one of `school`'s.
pub fn parse_file_name(school: &str, name: &str) -> Option<(DateTime<Utc>, u64)> {
    let rest = name.strip_prefix(school)?.strip_prefix('-')?;
    let rest = rest.strip_suffix(".sqlite")?;
    let (stamp, seq) = rest.split_once("-seq")?;
    Some((parse_stamp(stamp)?, seq.parse().ok()?))
}

/// `school`'s backups in `folder`, newest first.
pub fn list(folder: &Path, school: &str) -> Vec<BackupFile> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<BackupFile> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let (taken_at, head_seq) = parse_file_name(school, &name)?;
            Some(BackupFile {
                path: entry.path(),
                taken_at,
                head_seq,
                size_bytes: entry.metadata().map(|m| m.len()).unwrap_or(0),
            })
        })
        .collect();
    files.sort_by(|a, b| {
        b.taken_at
            .cmp(&a.taken_at)
            .then(b.head_seq.cmp(&a.head_seq))
    });
    files
}

/// Removes all but the newest `keep` of `school`'s backups in `folder`.
fn prune(folder: &Path, school: &str, keep: usize) {
    for old in list(folder, school).into_iter().skip(keep) {
        if let Err(e) = std::fs::remove_file(&old.path) {
            warn!(path = %old.path.display(), error = %e, "an old backup could not be removed");
        }
    }
}

/// Copies the files of `from` missing in `to` (evidence files are named by their hash and
/// never change, so a file already there is the same file).
fn copy_missing(from: &Path, to: &Path) -> Result<u64, BackupError> {
    let error = |source| BackupError::Evidence {
        path: to.display().to_string(),
        source,
    };
    std::fs::create_dir_all(to).map_err(error)?;
    let mut copied = 0;
    for entry in std::fs::read_dir(from).map_err(error)? {
        let entry = entry.map_err(error)?;
        if !entry.file_type().map_err(error)?.is_file() {
            continue;
        }
        let target = to.join(entry.file_name());
        if target.exists() {
            continue;
        }
        let temp = to.join(format!(".{}.partial", entry.file_name().to_string_lossy()));
        std::fs::copy(entry.path(), &temp).map_err(error)?;
        std::fs::rename(&temp, &target).map_err(error)?;
        copied += 1;
    }
    Ok(copied)
}

/// What `school-agent restore` found in a backup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedBackup {
    pub head_seq: u64,
    pub events: u64,
}

/// Why a file is not a backup of this school's log.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("không mở được tệp {path} như một sổ SQLite: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("tệp {path} bị hỏng (PRAGMA integrity_check: {result})")]
    Corrupt { path: String, result: String },
    #[error("tệp {path} không phải sổ của trường (không có bảng sự kiện)")]
    NotALog { path: String },
    #[error("sự kiện số {seq} trong tệp không đọc được: {reason}")]
    BadEvent { seq: u64, reason: String },
    #[error("tệp là sổ của {found}, không phải của trường {expected}")]
    OtherSchool { expected: String, found: String },
    #[error("sổ trong tệp bị thiếu: sau số {after} là số {found}")]
    Gap { after: u64, found: u64 },
}

/// Checks that `path` is a sound log of `school`: `PRAGMA integrity_check`, an events table,
/// every envelope readable and the school's, seqs gapless from 1.
pub async fn check(path: &Path, school: &SchoolAddress) -> Result<CheckedBackup, CheckError> {
    let shown = path.display().to_string();
    let unreadable = |e: sqlx::Error| CheckError::Unreadable {
        path: shown.clone(),
        reason: e.to_string(),
    };
    if !path.is_file() {
        return Err(CheckError::Unreadable {
            path: shown,
            reason: "không có tệp này".into(),
        });
    }
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(unreadable)?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .map_err(unreadable)?;
    if integrity != "ok" {
        return Err(CheckError::Corrupt {
            path: shown,
            result: integrity,
        });
    }
    let has_events: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(unreadable)?;
    if has_events == 0 {
        return Err(CheckError::NotALog { path: shown });
    }
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT seq, envelope FROM events ORDER BY seq")
        .fetch_all(&mut conn)
        .await
        .map_err(unreadable)?;
    let _ = conn.close().await;
    let mut head = 0u64;
    for (seq, body) in rows {
        let seq = u64::try_from(seq).unwrap_or(0);
        if seq != head + 1 {
            return Err(CheckError::Gap {
                after: head,
                found: seq,
            });
        }
        let envelope =
            domain::Envelope::parse(body.as_bytes()).map_err(|e| CheckError::BadEvent {
                seq,
                reason: e.to_string(),
            })?;
        let found = format!(
            "{}/{}/{}",
            envelope.province.as_str(),
            envelope.district.as_str(),
            envelope.school.as_str()
        );
        let expected = format!(
            "{}/{}/{}",
            school.province(),
            school.district(),
            school.school()
        );
        if found != expected || envelope.seq != seq {
            return Err(CheckError::OtherSchool { expected, found });
        }
        head = seq;
    }
    Ok(CheckedBackup {
        head_seq: head,
        events: head,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_backup_name_says_its_time_and_head_seq_and_reads_back() {
        let at = DateTime::parse_from_rfc3339("2026-12-04T18:30:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let name = file_name("thcs-an-hoa", at, 123);
        assert_eq!(name, "thcs-an-hoa-20261204T183005Z-seq000123.sqlite");
        assert_eq!(parse_file_name("thcs-an-hoa", &name), Some((at, 123)));
        assert_eq!(parse_file_name("thcs-phu-cuong", &name), None);
        assert_eq!(
            parse_file_name("thcs-an-hoa", ".thcs-an-hoa-x.partial"),
            None
        );
    }

    #[test]
    fn evidence_files_are_copied_once_and_never_overwritten() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        std::fs::write(from.path().join("aa11"), b"photo").unwrap();
        std::fs::write(from.path().join("bb22"), b"minutes").unwrap();
        let target = to.path().join("evidence");
        assert_eq!(copy_missing(from.path(), &target).unwrap(), 2);
        assert_eq!(std::fs::read(target.join("aa11")).unwrap(), b"photo");
        std::fs::write(from.path().join("cc33"), b"voucher").unwrap();
        assert_eq!(copy_missing(from.path(), &target).unwrap(), 1);
        assert_eq!(std::fs::read_dir(&target).unwrap().count(), 3);
    }
}
