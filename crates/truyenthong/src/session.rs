//! The staff member's sessions, kept under their profile: `$XDG_CONFIG_HOME/truyenthong/phien`
//! or `~/.config/truyenthong/phien`, readable by them alone (0600, in a 0700 folder), one
//! session per agent address.
//!
//! `dang-nhap` stores the token the agent gave (with the login and role, to say who is signed
//! in and to default an activity's responsible role without asking the agent); every other
//! command sends the token of its agent's address; `dang-xuat` removes it. The token is the
//! agent's `ttp_…` session; the agent keeps only its SHA-256. The file is TOML:
//!
//! ```toml
//! [[phien]]
//! may_chu = "http://127.0.0.1:50051"
//! ten_dang_nhap = "nhung.nguyen"
//! vai_tro = "vice_principal"
//! token = "ttp_…"
//! ```

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// One signed-in session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The agent's address, normalised (`http://127.0.0.1:50051`).
    pub may_chu: String,
    pub ten_dang_nhap: String,
    /// The account's role code (`vice_principal`).
    pub vai_tro: String,
    pub token: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Sessions {
    #[serde(default)]
    phien: Vec<Session>,
}

/// The session file.
#[derive(Debug, Clone)]
pub struct SessionFile {
    path: PathBuf,
}

impl SessionFile {
    /// The file under the user's profile: `$XDG_CONFIG_HOME/truyenthong/phien`, else
    /// `$HOME/.config/truyenthong/phien`.
    pub fn locate() -> Result<Self, CliError> {
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|home| PathBuf::from(home).join(".config"))
            })
            .ok_or_else(|| {
                CliError::File(
                    "Không tìm thấy thư mục cấu hình của người dùng (cần biến môi trường HOME hoặc XDG_CONFIG_HOME) để lưu phiên đăng nhập."
                        .to_string(),
                )
            })?;
        Ok(Self::at(config.join("truyenthong").join("phien")))
    }

    pub fn at(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<Sessions, CliError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                CliError::File(format!(
                    "Tệp phiên đăng nhập «{}» bị hỏng ({e}); xóa tệp này rồi chạy lại `truyenthong dang-nhap`.",
                    self.path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Sessions::default()),
            Err(e) => Err(self.io_error(&e)),
        }
    }

    fn io_error(&self, e: &std::io::Error) -> CliError {
        CliError::File(format!(
            "Không đọc hoặc ghi được tệp phiên đăng nhập «{}»: {e}.",
            self.path.display()
        ))
    }

    /// Writes the whole file: a new file made readable by its owner only, then renamed over
    /// the old one, so a token is never in a file others can read.
    fn write(&self, sessions: &Sessions) -> Result<(), CliError> {
        let text = toml::to_string(sessions)
            .map_err(|e| CliError::File(format!("Không ghi được phiên đăng nhập: {e}.")))?;
        if let Some(dir) = self.path.parent() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).map_err(|e| self.io_error(&e))?;
        }
        let temporary = self.path.with_extension("moi");
        let _ = std::fs::remove_file(&temporary);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary).map_err(|e| self.io_error(&e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| self.io_error(&e))?;
        drop(file);
        std::fs::rename(&temporary, &self.path).map_err(|e| self.io_error(&e))
    }

    /// The session for the agent at `url`, if signed in there.
    pub fn get(&self, url: &str) -> Result<Option<Session>, CliError> {
        Ok(self.read()?.phien.into_iter().find(|s| s.may_chu == url))
    }

    /// Stores `session`, replacing the one for its agent.
    pub fn put(&self, session: Session) -> Result<(), CliError> {
        let mut sessions = self.read()?;
        sessions.phien.retain(|s| s.may_chu != session.may_chu);
        sessions.phien.push(session);
        self.write(&sessions)
    }

    /// Removes the session for the agent at `url`; whether there was one.
    pub fn remove(&self, url: &str) -> Result<Option<Session>, CliError> {
        let mut sessions = self.read()?;
        let Some(index) = sessions.phien.iter().position(|s| s.may_chu == url) else {
            return Ok(None);
        };
        let removed = sessions.phien.remove(index);
        self.write(&sessions)?;
        Ok(Some(removed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(url: &str, token: &str) -> Session {
        Session {
            may_chu: url.into(),
            ten_dang_nhap: "nhung.nguyen".into(),
            vai_tro: "vice_principal".into(),
            token: token.into(),
        }
    }

    #[test]
    fn one_session_per_agent_in_a_file_only_its_owner_reads() {
        let dir = tempfile::tempdir().unwrap();
        let file = SessionFile::at(dir.path().join("truyenthong").join("phien"));
        assert_eq!(file.get("http://a:1").unwrap(), None);
        file.put(session("http://a:1", "ttp_a")).unwrap();
        file.put(session("http://b:1", "ttp_b")).unwrap();
        file.put(session("http://a:1", "ttp_a2")).unwrap();
        assert_eq!(file.get("http://a:1").unwrap().unwrap().token, "ttp_a2");
        assert_eq!(file.get("http://b:1").unwrap().unwrap().token, "ttp_b");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(file.path().parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
        assert!(file.remove("http://a:1").unwrap().is_some());
        assert!(file.remove("http://a:1").unwrap().is_none());
        assert_eq!(file.get("http://a:1").unwrap(), None);
        assert!(file.get("http://b:1").unwrap().is_some());
    }
}
