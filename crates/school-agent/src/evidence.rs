//! The agent's evidence files, stored once each by SHA-256 in its data folder.
//!
//! A file lives at `<dir of storage.path>/evidence/<first 2 hex>/<sha256>`: content-addressed,
//! so the same photo attached to two records is stored once, and a name can never collide or
//! escape the folder (it is 64 hex digits). A write goes to a temporary file in the same
//! folder, is fsynced, then renamed over the final name (and the folder fsynced), so a crash
//! leaves either no file or the whole file, never a torn one.
//!
//! The API is synchronous and small on purpose: the gRPC service, the uploader
//! (`crate::evidence_upload`), bundles and recovery all call it (from `spawn_blocking` where
//! they are async). Every read can be verified against the hash ([`EvidenceStore::read`]).

use std::fs::{self, File};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// Why the evidence store failed.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("evidence file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{0:?} is not a SHA-256 (64 lowercase hex digits)")]
    BadHash(String),
    #[error("evidence file {sha256} is not stored")]
    Missing { sha256: String },
    #[error("evidence file {expected} holds content whose SHA-256 is {actual}")]
    Mismatch { expected: String, actual: String },
}

/// A file as stored: its hash and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub sha256: String,
    pub size: u64,
}

/// The SHA-256 of `bytes`, as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The content-addressed folder of evidence files.
#[derive(Debug, Clone)]
pub struct EvidenceStore {
    dir: PathBuf,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> EvidenceError + '_ {
    move |source| EvidenceError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl EvidenceStore {
    /// The store in `dir`, created if missing.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, EvidenceError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(Self { dir })
    }

    /// The store beside the school's log: `<dir of storage_path>/evidence`.
    pub fn beside_log(storage_path: &Path) -> Result<Self, EvidenceError> {
        let parent = storage_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self::open(parent.join("evidence"))
    }

    /// The folder the files are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the file of `sha256` is (or would be). Refuses a malformed hash, so a path is
    /// never built from outside input that is not 64 hex digits.
    pub fn path(&self, sha256: &str) -> Result<PathBuf, EvidenceError> {
        if !domain::evidence::is_sha256_hex(sha256) {
            return Err(EvidenceError::BadHash(sha256.to_owned()));
        }
        Ok(self.dir.join(&sha256[..2]).join(sha256))
    }

    /// Whether the file of `sha256` is stored.
    pub fn has(&self, sha256: &str) -> bool {
        self.path(sha256).is_ok_and(|p| p.is_file())
    }

    /// Stores `bytes` under their SHA-256 (nothing is written when the file is there already)
    /// and answers the hash and size.
    pub fn put(&self, bytes: &[u8]) -> Result<StoredFile, EvidenceError> {
        let sha256 = sha256_hex(bytes);
        let size = bytes.len() as u64;
        let path = self.path(&sha256)?;
        if path.metadata().is_ok_and(|m| m.len() == size) {
            return Ok(StoredFile { sha256, size });
        }
        let folder = path.parent().unwrap_or(&self.dir).to_path_buf();
        fs::create_dir_all(&folder).map_err(io_err(&folder))?;
        let temp = folder.join(format!(".{sha256}.{}.tmp", std::process::id()));
        let write = || -> io::Result<()> {
            let mut file = File::create(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temp, &path)?;
            File::open(&folder)?.sync_all()
        };
        if let Err(e) = write() {
            let _ = fs::remove_file(&temp);
            return Err(io_err(&path)(e));
        }
        Ok(StoredFile { sha256, size })
    }

    /// Stores `bytes` that must hash to `expected` (a file received from elsewhere: a bundle,
    /// the district); refuses them otherwise.
    pub fn put_verified(&self, bytes: &[u8], expected: &str) -> Result<StoredFile, EvidenceError> {
        let actual = sha256_hex(bytes);
        if actual != expected {
            return Err(EvidenceError::Mismatch {
                expected: expected.to_owned(),
                actual,
            });
        }
        self.put(bytes)
    }

    /// Opens the file of `sha256` for reading (not verified; see [`Self::read`]).
    pub fn open_file(&self, sha256: &str) -> Result<File, EvidenceError> {
        let path = self.path(sha256)?;
        File::open(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => EvidenceError::Missing {
                sha256: sha256.to_owned(),
            },
            _ => io_err(&path)(e),
        })
    }

    /// The whole file of `sha256`, verified against its hash.
    pub fn read(&self, sha256: &str) -> Result<Vec<u8>, EvidenceError> {
        let mut bytes = Vec::new();
        let path = self.path(sha256)?;
        self.open_file(sha256)?
            .read_to_end(&mut bytes)
            .map_err(io_err(&path))?;
        let actual = sha256_hex(&bytes);
        if actual != sha256 {
            return Err(EvidenceError::Mismatch {
                expected: sha256.to_owned(),
                actual,
            });
        }
        Ok(bytes)
    }
}

/// Bundles carry the evidence files their events name, read from this store
/// (`crate::bundle_export`): a file the store cannot read whole and verified fails the export
/// rather than leaving the district with an event whose file never comes.
impl crate::bundle_export::FileSource for EvidenceStore {
    fn named_files(&self, envelope: &domain::Envelope) -> Vec<String> {
        match envelope.decode() {
            Ok(domain::Event::EvidenceAttached(attached)) => vec![attached.file.sha256],
            _ => Vec::new(),
        }
    }

    fn read_file(&self, sha256: &str) -> io::Result<Vec<u8>> {
        self.read(sha256).map_err(io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_file_is_stored_once_by_hash_and_read_back_verified() {
        let dir = tempfile::tempdir().unwrap();
        let store = EvidenceStore::open(dir.path().join("evidence")).unwrap();
        let stored = store.put(b"anh hoat dong").unwrap();
        assert_eq!(stored.size, 13);
        assert_eq!(stored, store.put(b"anh hoat dong").unwrap());
        assert!(store.has(&stored.sha256));
        let path = store.path(&stored.sha256).unwrap();
        assert!(path.ends_with(format!("{}/{}", &stored.sha256[..2], stored.sha256)));
        assert_eq!(store.read(&stored.sha256).unwrap(), b"anh hoat dong");
        // A file changed on disk is refused on read.
        fs::write(&path, b"khac").unwrap();
        assert!(matches!(
            store.read(&stored.sha256),
            Err(EvidenceError::Mismatch { .. })
        ));
        assert!(matches!(
            store.path("../../etc/passwd"),
            Err(EvidenceError::BadHash(_))
        ));
        assert!(matches!(
            store.put_verified(b"x", &stored.sha256),
            Err(EvidenceError::Mismatch { .. })
        ));
    }
}
