//! The district's NATS identities — who may connect to its server, as the district office
//! issued them — and how that server runs. Kept in `identities.toml` in the district's NATS
//! directory; `district-admin` writes it and renders the server configuration from it, and the
//! aggregator reads it to verify the signature of a school's bundle against the school's
//! registered key (`bundle::Keys`). One definition here, so the two read one format.
//!
//! Only **public** keys are kept here. A school's seed is written once, for the office to hand
//! over, and is not kept at the district: the district never needs to act as a school, and a
//! stolen district server then cannot publish as one. The services' seeds (administrator,
//! aggregator) stay on the district server in 0600 files under `keys/`.
//!
//! Revoking keeps the entry (with the time) so the list says who was revoked and when; the
//! rendered configuration leaves revoked keys out, so the server refuses them after a reload.

use std::path::Path;

use crate::subjects::{SchoolAddress, validate_slug};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The file name of the registry inside the district's NATS directory.
pub const FILE_NAME: &str = "identities.toml";

/// What an identity is for: it decides its permissions (`event_bus::permissions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A school's agent.
    School,
    /// The district aggregator.
    Aggregator,
    /// Set-up commands on the district server: creates and repairs the stream.
    Administrator,
}

impl Kind {
    /// The Vietnamese name shown to the operator.
    pub fn label_vi(self) -> &'static str {
        match self {
            Kind::School => "trường",
            Kind::Aggregator => "máy chủ tổng hợp",
            Kind::Administrator => "quản trị",
        }
    }
}

/// One identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The school code, or `_aggregator` / `_admin` for the services.
    pub name: String,
    pub kind: Kind,
    /// The nkey public key (`U…`) the server authenticates.
    pub public_key: String,
    pub issued_at: DateTime<Utc>,
    /// Set when revoked: the server no longer accepts the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// How many times the key was replaced (0 for the first).
    #[serde(default)]
    pub rotations: u32,
}

impl Identity {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// The district whose server this is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct District {
    pub province: String,
    pub district: String,
    /// The durable consumer the aggregator reads with (its `ingest.consumer`).
    pub consumer: String,
}

/// How the district's nats-server runs: what `server_config` renders besides the identities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerOptions {
    /// The server's name in monitoring and logs.
    pub server_name: String,
    /// `host:port` the client port listens on (`0.0.0.0:4222` to face the schools).
    pub listen: String,
    /// The monitoring port, on 127.0.0.1 only.
    pub monitor_port: u16,
    /// Where JetStream keeps the district stream.
    pub store_dir: String,
    /// The JetStream store's size bound, in nats-server's syntax (`20GB`).
    pub max_file_store: String,
    pub max_connections: u32,
    /// How long a stopping server gives clients to move, in seconds (≥ 30 on 2.9.10).
    pub lame_duck_seconds: u32,
    /// The host names and addresses schools dial: the server certificate's names.
    pub names: Vec<String>,
    /// Where the running server writes its process id (for reloads).
    pub pid_file: String,
}

impl District {
    /// The district `province`/`district`, read by the aggregator's default consumer.
    pub fn new(province: &str, district: &str) -> Self {
        Self {
            province: province.to_owned(),
            district: district.to_owned(),
            consumer: "district-aggregator".to_owned(),
        }
    }
}

impl ServerOptions {
    /// A district server that only this machine reaches — the demo, tests and benches: the
    /// client port on 127.0.0.1, a certificate for `localhost` and `127.0.0.1`, a 2 GB store
    /// bound, 30 s of lame duck.
    pub fn on_loopback(
        server_name: &str,
        port: u16,
        monitor_port: u16,
        store_dir: &Path,
        pid_file: &Path,
    ) -> Self {
        Self {
            server_name: server_name.to_owned(),
            listen: format!("127.0.0.1:{port}"),
            monitor_port,
            store_dir: store_dir.display().to_string(),
            max_file_store: "2GB".to_owned(),
            max_connections: 200,
            lame_duck_seconds: 30,
            names: vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
            pid_file: pid_file.display().to_string(),
        }
    }
}

/// The registry file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    pub district: District,
    pub server: ServerOptions,
    #[serde(default, rename = "identity")]
    pub identities: Vec<Identity>,
}

/// The name the aggregator's identity has.
pub const AGGREGATOR: &str = "_aggregator";
/// The name the administrator's identity has.
pub const ADMINISTRATOR: &str = "_admin";

/// Why a registry operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(
        "mã trường {code:?} không hợp lệ: {reason} (chỉ chữ thường không dấu, số và dấu '-', ví dụ thcs-an-hoa)"
    )]
    InvalidCode { code: String, reason: String },
    #[error("{name} đã có khóa đang dùng (cấp ngày {issued}); dùng `doi-khoa` để thay khóa")]
    AlreadyIssued { name: String, issued: String },
    #[error("chưa cấp khóa cho {name}; dùng `cap` để cấp")]
    Unknown { name: String },
    #[error("khóa của {name} đã bị thu hồi ngày {revoked}; dùng `cap` để cấp khóa mới")]
    Revoked { name: String, revoked: String },
    #[error("không đọc được {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("không ghi được {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn vn_date(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset"))
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

impl Registry {
    pub fn new(district: District, server: ServerOptions) -> Self {
        Self {
            district,
            server,
            identities: Vec::new(),
        }
    }

    /// Reads the registry of `dir`.
    pub fn load(dir: &Path) -> Result<Self, RegistryError> {
        Self::load_file(&dir.join(FILE_NAME))
    }

    /// Reads the registry file at `path` (the aggregator's `[bundles] identities_file`).
    pub fn load_file(path: &Path) -> Result<Self, RegistryError> {
        let text = std::fs::read_to_string(path).map_err(|e| RegistryError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| RegistryError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    /// The active public key of the school `code`.
    pub fn school_key(&self, code: &str) -> Option<&str> {
        self.active()
            .find(|i| i.kind == Kind::School && i.name == code)
            .map(|i| i.public_key.as_str())
    }

    /// Who the active `public_key` belongs to: its identity's name.
    pub fn owner_of_key(&self, public_key: &str) -> Option<&Identity> {
        self.active().find(|i| i.public_key == public_key)
    }

    /// Writes the registry of `dir` atomically (a crash leaves the old or the new file).
    pub fn save(&self, dir: &Path) -> Result<(), RegistryError> {
        let path = dir.join(FILE_NAME);
        let write_error = |source| RegistryError::Write {
            path: path.display().to_string(),
            source,
        };
        let text = format!(
            "# The district's NATS identities (public keys only), written by district-admin.\n\
             # Edit with `district-admin`, not by hand: the server configuration is rendered from it.\n{}",
            toml::to_string_pretty(self).map_err(|e| write_error(std::io::Error::other(e)))?
        );
        let temporary = path.with_extension("toml.new");
        std::fs::write(&temporary, text).map_err(write_error)?;
        std::fs::rename(&temporary, &path).map_err(write_error)
    }

    /// The identity named `name`, active or revoked.
    pub fn get(&self, name: &str) -> Option<&Identity> {
        self.identities.iter().find(|i| i.name == name)
    }

    /// Active identities, in the order they were added.
    pub fn active(&self) -> impl Iterator<Item = &Identity> {
        self.identities.iter().filter(|i| i.is_active())
    }

    /// Checks that `code` can be a school of this district.
    pub fn school_address(&self, code: &str) -> Result<SchoolAddress, RegistryError> {
        validate_slug(code).map_err(|reason| RegistryError::InvalidCode {
            code: code.to_owned(),
            reason: reason.to_string(),
        })?;
        SchoolAddress::parse(&self.district.province, &self.district.district, code).map_err(|e| {
            RegistryError::InvalidCode {
                code: code.to_owned(),
                reason: e.to_string(),
            }
        })
    }

    /// Refuses an identity `name` that cannot be issued now (it has an active key, or is not
    /// a valid school code), without changing anything.
    pub fn check_issuable(&self, name: &str, kind: Kind) -> Result<(), RegistryError> {
        if kind == Kind::School {
            self.school_address(name)?;
        }
        match self.get(name) {
            Some(existing) if existing.is_active() => Err(RegistryError::AlreadyIssued {
                name: name.to_owned(),
                issued: vn_date(existing.issued_at),
            }),
            _ => Ok(()),
        }
    }

    /// The kind of the active identity `name`; refuses an unknown or revoked one.
    pub fn active_kind(&self, name: &str) -> Result<Kind, RegistryError> {
        let identity = self.get(name).ok_or_else(|| RegistryError::Unknown {
            name: name.to_owned(),
        })?;
        match identity.revoked_at {
            Some(revoked) => Err(RegistryError::Revoked {
                name: name.to_owned(),
                revoked: vn_date(revoked),
            }),
            None => Ok(identity.kind),
        }
    }

    /// Records a new identity for `name` with `public_key`. A revoked one is replaced (a new
    /// key for a school whose old one was revoked); an active one is refused.
    pub fn issue(
        &mut self,
        name: &str,
        kind: Kind,
        public_key: String,
        now: DateTime<Utc>,
    ) -> Result<&Identity, RegistryError> {
        self.check_issuable(name, kind)?;
        self.identities.retain(|i| i.name != name);
        self.identities.push(Identity {
            name: name.to_owned(),
            kind,
            public_key,
            issued_at: now,
            revoked_at: None,
            rotations: 0,
        });
        Ok(self.identities.last().expect("just pushed"))
    }

    /// Replaces the key of the active identity `name`.
    pub fn rotate(
        &mut self,
        name: &str,
        public_key: String,
        now: DateTime<Utc>,
    ) -> Result<&Identity, RegistryError> {
        let identity = self.active_mut(name)?;
        identity.public_key = public_key;
        identity.issued_at = now;
        identity.rotations += 1;
        Ok(identity)
    }

    /// Revokes the active identity `name`: the server will refuse its key.
    pub fn revoke(&mut self, name: &str, now: DateTime<Utc>) -> Result<&Identity, RegistryError> {
        let identity = self.active_mut(name)?;
        identity.revoked_at = Some(now);
        Ok(identity)
    }

    fn active_mut(&mut self, name: &str) -> Result<&mut Identity, RegistryError> {
        self.active_kind(name)?;
        Ok(self
            .identities
            .iter_mut()
            .find(|i| i.name == name)
            .expect("active_kind found it"))
    }
}

/// Tam Nông's registry with no identities yet: the one sample the unit tests (here and in
/// `district-admin`) start from.
#[doc(hidden)]
pub fn sample() -> Registry {
    Registry::new(
        District::new("dong-thap", "tam-nong"),
        ServerOptions {
            server_name: "tam-nong".into(),
            listen: "0.0.0.0:4222".into(),
            monitor_port: 8222,
            store_dir: "/var/lib/truyenthong/nats".into(),
            max_file_store: "20GB".into(),
            max_connections: 1000,
            lame_duck_seconds: 30,
            names: vec!["nats.tamnong.edu.vn".into()],
            pid_file: "/run/truyenthong/nats-server.pid".into(),
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn registry() -> Registry {
        sample()
    }

    fn at(day: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-12-{day:02}T03:00:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_school_is_issued_once_rotated_then_revoked_and_issued_again() {
        let mut r = registry();
        r.issue("thcs-an-hoa", Kind::School, "UAAA".into(), at(1))
            .unwrap();
        let again = r.issue("thcs-an-hoa", Kind::School, "UBBB".into(), at(2));
        assert!(matches!(again, Err(RegistryError::AlreadyIssued { .. })));

        let rotated = r.rotate("thcs-an-hoa", "UCCC".into(), at(3)).unwrap();
        assert_eq!(
            (rotated.public_key.as_str(), rotated.rotations),
            ("UCCC", 1)
        );

        r.revoke("thcs-an-hoa", at(4)).unwrap();
        assert_eq!(r.active().count(), 0);
        let err = r.rotate("thcs-an-hoa", "UDDD".into(), at(5)).unwrap_err();
        assert!(
            err.to_string().contains("đã bị thu hồi ngày 04/12/2026"),
            "{err}"
        );

        r.issue("thcs-an-hoa", Kind::School, "UEEE".into(), at(6))
            .unwrap();
        assert_eq!(
            r.active()
                .map(|i| i.public_key.as_str())
                .collect::<Vec<_>>(),
            ["UEEE"]
        );
        assert_eq!(r.identities.len(), 1);
    }

    #[test]
    fn a_bad_school_code_is_refused_in_vietnamese() {
        let mut r = registry();
        let err = r
            .issue("THCS An Hòa", Kind::School, "UAAA".into(), at(1))
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("mã trường \"THCS An Hòa\" không hợp lệ"),
            "{err}"
        );
        assert!(matches!(
            r.revoke("thcs-phu-cuong", at(1)),
            Err(RegistryError::Unknown { .. })
        ));
    }

    #[test]
    fn the_registry_survives_a_round_trip_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = registry();
        r.issue(AGGREGATOR, Kind::Aggregator, "UAGG".into(), at(1))
            .unwrap();
        r.issue("thcs-an-hoa", Kind::School, "UAAA".into(), at(1))
            .unwrap();
        r.revoke("thcs-an-hoa", at(2)).unwrap();
        r.save(dir.path()).unwrap();
        assert_eq!(Registry::load(dir.path()).unwrap(), r);
    }
}
