//! Files that hold secrets: created readable by their owner only (0600 on Unix), in a
//! directory only the owner can enter, and never overwritten by accident.
//!
//! A seed or a CA key that another local user could read would let them publish as the
//! district or issue certificates. The mode is set when the file is created (not after),
//! so there is no moment when the secret is readable by others.

use std::io::Write as _;
use std::path::Path;

/// Why a secret could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error(
        "{path} already exists; it is not overwritten (remove it first if it must be replaced)"
    )]
    Exists { path: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is readable by other users (mode {mode:o}); it must be 0600")]
    TooOpen { path: String, mode: u32 },
}

/// Writes `contents` to a new file at `path`, mode 0600. Fails if the file exists.
pub fn create(path: &Path, contents: &str) -> Result<(), SecretFileError> {
    write_new(path, contents)
}

/// Writes `contents` to `path`, mode 0600, replacing the file atomically (a rotation).
pub fn replace(path: &Path, contents: &str) -> Result<(), SecretFileError> {
    let temporary = path.with_extension("new");
    let _ = std::fs::remove_file(&temporary);
    write_new(&temporary, contents)?;
    std::fs::rename(&temporary, path).map_err(|source| SecretFileError::Write {
        path: path.display().to_string(),
        source,
    })
}

fn write_new(path: &Path, contents: &str) -> Result<(), SecretFileError> {
    let shown = || path.display().to_string();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            SecretFileError::Exists { path: shown() }
        } else {
            SecretFileError::Write {
                path: shown(),
                source,
            }
        }
    })?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|source| SecretFileError::Write {
            path: shown(),
            source,
        })
}

/// Reads a secret, refusing one that others can read (on Unix).
pub fn read(path: &Path) -> Result<String, SecretFileError> {
    let shown = || path.display().to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .map_err(|source| SecretFileError::Read {
                path: shown(),
                source,
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(SecretFileError::TooOpen {
                path: shown(),
                mode: mode & 0o777,
            });
        }
    }
    std::fs::read_to_string(path).map_err(|source| SecretFileError::Read {
        path: shown(),
        source,
    })
}

/// Creates `dir` (and its parents) and makes it enterable by its owner only.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_secret_is_created_0600_never_overwritten_and_replaced_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.nk");
        create(&path, "SUAAA\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            create(&path, "SUBBB\n"),
            Err(SecretFileError::Exists { .. })
        ));
        assert_eq!(read(&path).unwrap(), "SUAAA\n");
        replace(&path, "SUCCC\n").unwrap();
        assert_eq!(read(&path).unwrap(), "SUCCC\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.key");
        std::fs::write(&path, "key").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(read(&path), Err(SecretFileError::TooOpen { .. })));
    }
}
