//! The district's NATS directory and the operations on it: set it up, issue, rotate and revoke
//! identities, render the server's configuration and make the running server reload it.
//!
//! ```text
//! <dir>/                      0700
//!   identities.toml           the registry: district, server options, public keys
//!   nats-server.conf          rendered: what nats-server runs with (`-c`)
//!   identities.conf           rendered: the users and their permissions
//!   ca.pem  ca.key (0600)     the district's CA
//!   server.pem  server.key    the server's certificate (chain) and key (0600)
//!   keys/_admin.nk            the administrator's seed (0600)
//!   keys/_aggregator.nk       the aggregator's seed (0600)
//! ```
//!
//! A school's seed is written where the operator asks (to hand over with `ca.pem`) and is not
//! kept here. Every operation is idempotent where it can be (running `init` twice changes
//! nothing that exists) and refuses where it cannot (issuing a key to a school that has one).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};

use crate::pki::{self, PkiError};
use crate::registry::{
    ADMINISTRATOR, AGGREGATOR, District, Identity, Kind, Registry, RegistryError, ServerOptions,
};
use crate::reload::{self, ReloadError, Reloaded};
use crate::secret_file::{self, SecretFileError};
use crate::server_config::{self, RenderError};

/// Why an operation on the district's NATS directory failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Secret(#[from] SecretFileError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Reload(#[from] ReloadError),
    #[error("không tạo được khóa: {0}")]
    Key(String),
    #[error("không tạo được thư mục {path}: {source}")]
    Directory {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "thư mục {path} chưa được khởi tạo (không có identities.toml); chạy `district-admin khoi-tao` trước"
    )]
    NotInitialised { path: String },
}

/// The district's NATS directory.
#[derive(Debug, Clone)]
pub struct NatsDir {
    path: PathBuf,
}

/// What `init` found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitReport {
    pub ca_created: bool,
    pub server_certificate_issued: bool,
    /// Service identities issued now (their seeds written under `keys/`).
    pub issued: Vec<String>,
    pub reloaded: Option<i32>,
}

/// A key issued (or rotated) for an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedKey {
    pub identity: Identity,
    /// Where its seed was written.
    pub seed_file: PathBuf,
    pub reloaded: Option<i32>,
}

/// The seed file's text: a comment saying what it is, then the seed.
fn seed_text(
    name: &str,
    kind: Kind,
    district: &District,
    seed: &str,
    now: DateTime<Utc>,
) -> String {
    format!(
        "# Khóa NATS của {} {name}, huyện {}/{}, cấp {}.\n\
         # Giữ bí mật: ai có tệp này có thể gửi dữ liệu thay cho {name}.\n{seed}\n",
        kind.label_vi(),
        district.province,
        district.district,
        now.to_rfc3339(),
    )
}

fn new_key_pair() -> Result<(String, String), AdminError> {
    let pair = nkeys::KeyPair::new_user();
    let seed = pair.seed().map_err(|e| AdminError::Key(e.to_string()))?;
    Ok((pair.public_key(), seed))
}

impl NatsDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The seed file of a service identity (`_admin`, `_aggregator`).
    pub fn service_seed(&self, name: &str) -> PathBuf {
        self.path.join("keys").join(format!("{name}.nk"))
    }

    pub fn ca_file(&self) -> PathBuf {
        self.path.join(pki::CA_CERT)
    }

    pub fn config_file(&self) -> PathBuf {
        self.path.join(server_config::CONFIG_FILE)
    }

    /// The registry, or a clear error when the directory was never set up.
    pub fn registry(&self) -> Result<Registry, AdminError> {
        if !self.path.join(crate::registry::FILE_NAME).is_file() {
            return Err(AdminError::NotInitialised {
                path: self.path.display().to_string(),
            });
        }
        Ok(Registry::load(&self.path)?)
    }

    fn private_dir(&self, path: &Path) -> Result<(), AdminError> {
        secret_file::private_dir(path).map_err(|source| AdminError::Directory {
            path: path.display().to_string(),
            source,
        })
    }

    /// Sets the directory up, or brings it in line with `district` and `server`: the CA
    /// (once), the administrator's and aggregator's identities (once each), the server
    /// certificate (again when the names changed), and the rendered configuration.
    pub fn init(
        &self,
        district: District,
        district_name: &str,
        server: ServerOptions,
        now: DateTime<Utc>,
    ) -> Result<InitReport, AdminError> {
        let today: NaiveDate = now.date_naive();
        self.private_dir(&self.path)?;
        self.private_dir(&self.path.join("keys"))?;
        let mut report = InitReport {
            ca_created: pki::ensure_ca(&self.path, district_name, today)?,
            ..InitReport::default()
        };
        let previous = Registry::load(&self.path).ok();
        let names_changed = previous
            .as_ref()
            .is_none_or(|r| r.server.names != server.names);
        let mut registry = match previous {
            Some(mut r) => {
                r.district = district;
                r.server = server;
                r
            }
            None => Registry::new(district, server),
        };
        for (name, kind) in [
            (ADMINISTRATOR, Kind::Administrator),
            (AGGREGATOR, Kind::Aggregator),
        ] {
            if registry.get(name).is_some_and(Identity::is_active) {
                continue;
            }
            let (public, seed) = new_key_pair()?;
            let path = self.service_seed(name);
            secret_file::replace(
                &path,
                &seed_text(name, kind, &registry.district, &seed, now),
            )?;
            registry.issue(name, kind, public, now)?;
            report.issued.push(name.to_owned());
        }
        let server_cert = self.path.join(pki::SERVER_CERT);
        if names_changed || report.ca_created || !server_cert.is_file() {
            pki::issue_server_certificate(
                &self.path,
                district_name,
                &registry.server.names,
                today,
            )?;
            report.server_certificate_issued = true;
        }
        report.reloaded = self.save_and_reload(&registry)?;
        Ok(report)
    }

    /// Issues a key to school `code`, writing its seed to `seed_file` (a new file).
    pub fn issue_school(
        &self,
        code: &str,
        seed_file: &Path,
        now: DateTime<Utc>,
    ) -> Result<IssuedKey, AdminError> {
        let mut registry = self.registry()?;
        // Refused before a seed is written.
        registry.check_issuable(code, Kind::School)?;
        let (public, seed) = new_key_pair()?;
        secret_file::create(
            seed_file,
            &seed_text(code, Kind::School, &registry.district, &seed, now),
        )?;
        let identity = registry.issue(code, Kind::School, public, now)?.clone();
        let reloaded = self.save_and_reload(&registry)?;
        Ok(IssuedKey {
            identity,
            seed_file: seed_file.to_owned(),
            reloaded,
        })
    }

    /// Replaces the key of `name`; the old key stops working at the reload. A school's new
    /// seed goes to `seed_file` (a new file); a service's replaces its file under `keys/`.
    pub fn rotate(
        &self,
        name: &str,
        seed_file: Option<&Path>,
        now: DateTime<Utc>,
    ) -> Result<IssuedKey, AdminError> {
        let mut registry = self.registry()?;
        // Refused, for an unknown or revoked identity, before a seed is written.
        let kind = registry.active_kind(name)?;
        let (public, seed) = new_key_pair()?;
        let text = seed_text(name, kind, &registry.district, &seed, now);
        let path = match (kind, seed_file) {
            (Kind::School, Some(path)) => {
                secret_file::create(path, &text)?;
                path.to_owned()
            }
            _ => {
                let path = self.service_seed(name);
                secret_file::replace(&path, &text)?;
                path
            }
        };
        let identity = registry.rotate(name, public, now)?.clone();
        let reloaded = self.save_and_reload(&registry)?;
        Ok(IssuedKey {
            identity,
            seed_file: path,
            reloaded,
        })
    }

    /// Revokes `name`: after the reload the server refuses its key and closes its connection.
    /// What it published stays in the district stream.
    pub fn revoke(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(Identity, Option<i32>), AdminError> {
        let mut registry = self.registry()?;
        let identity = registry.revoke(name, now)?.clone();
        let reloaded = self.save_and_reload(&registry)?;
        Ok((identity, reloaded))
    }

    /// Renders the configuration again and reloads the server (after a template upgrade).
    pub fn render(&self) -> Result<Option<i32>, AdminError> {
        let registry = self.registry()?;
        self.save_and_reload(&registry)
    }

    fn save_and_reload(&self, registry: &Registry) -> Result<Option<i32>, AdminError> {
        registry.save(&self.path)?;
        server_config::write(registry, &self.path)?;
        Ok(
            match reload::reload(
                Path::new(&registry.server.pid_file),
                registry.server.monitor_port,
            )? {
                Reloaded::Reloaded(pid) => Some(pid),
                Reloaded::NotRunning => None,
            },
        )
    }
}
