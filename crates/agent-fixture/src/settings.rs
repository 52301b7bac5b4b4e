//! A school's directory and the agent's test settings: built as typed [`Settings`] in Rust,
//! and written as TOML (in [`to_toml`], the one place) for an agent that runs as a child
//! process and reads its file as production does.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use event_bus::connect::{NatsSettings, TlsSettings};
use school_agent::config::{
    AppSettings, BundleSettings, GrpcSettings, RelaySettings, SchoolSettings, Settings,
    StorageSettings,
};
use secrecy::ExposeSecret as _;
use tempfile::TempDir;
use toml::{Table, Value};

/// A school's directory: its configuration file and its SQLite log, kept across restarts of
/// its agent (and removed when dropped).
#[derive(Debug)]
pub struct SchoolDir {
    dir: TempDir,
    code: String,
    name: String,
    /// Where an agent started as a child process listens (one started in this process binds
    /// port 0 instead). Free when the directory was made.
    grpc: SocketAddr,
}

impl SchoolDir {
    /// THCS An Hòa's directory.
    pub fn new() -> anyhow::Result<Self> {
        Self::for_school(crate::SCHOOL, crate::SCHOOL_NAME)
    }

    /// The directory of school `code` of the demo district.
    pub fn for_school(code: &str, name: &str) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("agent-{code}-"))
            .tempdir()
            .context("creating the school's directory")?;
        let port = test_harness::free_port()?;
        Ok(Self {
            dir,
            code: code.to_owned(),
            name: name.to_owned(),
            grpc: SocketAddr::from(([127, 0, 0, 1], port)),
        })
    }

    /// The school's code.
    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The school's SQLite log.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("log.sqlite")
    }

    /// Where [`write_config`](Self::write_config) writes the agent's TOML.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("agent.toml")
    }

    /// The gRPC address of an agent run as a child process from this directory.
    pub fn grpc(&self) -> SocketAddr {
        self.grpc
    }

    /// The agent's test settings: production's, with the relay's waits shortened so outages
    /// are retried within a test's patience, batches of 128, and the district stream created
    /// by the agent if missing (a school's tests often run without an aggregator to create
    /// it; change `relay.ensure_stream` where the school's NATS user may not). The test
    /// servers of `test-harness` are plain and open, so the NATS settings say `insecure`;
    /// a test of the secured district replaces them.
    pub fn settings(&self, nats_url: &str) -> Settings {
        Settings {
            school: SchoolSettings {
                province: crate::PROVINCE.into(),
                district: crate::DISTRICT.into(),
                code: self.code.clone(),
                name: self.name.clone(),
            },
            storage: StorageSettings {
                path: self.log_path(),
            },
            grpc: GrpcSettings::new(self.grpc, None),
            nats: NatsSettings::insecure_for_development(nats_url),
            relay: RelaySettings {
                batch_size: 128,
                ack_timeout_ms: 2_000,
                max_backoff_ms: 400,
                ensure_stream: true,
                heads_interval_ms: 60_000,
                ..RelaySettings::default()
            },
            // Tests of the app bind their own port (`school_agent::run_with_app`); agents of
            // other tests serve none, so that no two of them want the default port.
            app: AppSettings {
                enabled: false,
                ..AppSettings::default()
            },
            bundles: BundleSettings::default(),
            backup: school_agent::backup::BackupSettings::default(),
        }
    }

    /// Writes `settings` to [`config_path`](Self::config_path) for an agent started as a child
    /// process; returns the path.
    pub fn write_config(&self, settings: &Settings) -> anyhow::Result<PathBuf> {
        let path = self.config_path();
        std::fs::write(&path, to_toml(settings))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

/// The agent's settings as the TOML file `Settings::load` reads. Every field is written, so
/// the file means exactly what the typed settings do (a test checks the round trip); the
/// destructuring makes a new setting a compile error here until it is written too.
pub fn to_toml(settings: &Settings) -> String {
    let Settings {
        school,
        storage,
        grpc,
        nats,
        relay,
        app,
        bundles,
        backup,
    } = settings;
    let BundleSettings {
        district_public_key,
    } = bundles;
    let school_agent::backup::BackupSettings {
        folder: backup_folder,
        keep: backup_keep,
        every_hours: backup_every_hours,
    } = backup;
    let AppSettings {
        enabled: app_enabled,
        listen: app_listen,
        tls: app_tls,
    } = app;
    let SchoolSettings {
        province,
        district,
        code,
        name,
    } = school;
    let StorageSettings { path } = storage;
    let GrpcSettings { listen, .. } = grpc;
    let RelaySettings {
        batch_size,
        ack_timeout_ms,
        max_backoff_ms,
        ensure_stream,
        heads_interval_ms,
        evidence_chunk_size,
        evidence_rate_kib_per_s,
    } = relay;

    let mut root = Table::new();
    root.insert(
        "school".into(),
        table([
            ("province", province.as_str().into()),
            ("district", district.as_str().into()),
            ("code", code.as_str().into()),
            ("name", name.as_str().into()),
        ]),
    );
    root.insert(
        "storage".into(),
        table([("path", path.to_string_lossy().as_ref().into())]),
    );
    root.insert(
        "grpc".into(),
        table([("listen", listen.to_string().into())]),
    );
    root.insert("nats".into(), Value::Table(nats_table(nats)));
    root.insert(
        "relay".into(),
        table([
            ("batch_size", i64::from(*batch_size).into()),
            ("ack_timeout_ms", integer(*ack_timeout_ms)),
            ("max_backoff_ms", integer(*max_backoff_ms)),
            ("ensure_stream", (*ensure_stream).into()),
            ("heads_interval_ms", integer(*heads_interval_ms)),
            ("evidence_chunk_size", integer(*evidence_chunk_size as u64)),
            ("evidence_rate_kib_per_s", integer(*evidence_rate_kib_per_s)),
        ]),
    );
    let mut app = table([
        ("enabled", (*app_enabled).into()),
        ("listen", app_listen.to_string().into()),
    ]);
    if let (Value::Table(app), Some(tls)) = (&mut app, app_tls) {
        app.insert(
            "tls".into(),
            table([
                (
                    "certificate",
                    tls.certificate.to_string_lossy().as_ref().into(),
                ),
                ("key", tls.key.to_string_lossy().as_ref().into()),
            ]),
        );
    }
    root.insert("app".into(), app);
    let mut bundles = Table::new();
    if let Some(key) = district_public_key {
        bundles.insert("district_public_key".into(), key.as_str().into());
    }
    root.insert("bundles".into(), Value::Table(bundles));
    let mut backup = table([
        ("keep", i64::from(*backup_keep).into()),
        ("every_hours", i64::from(*backup_every_hours).into()),
    ]);
    if let (Value::Table(backup), Some(folder)) = (&mut backup, backup_folder) {
        backup.insert("folder".into(), folder.to_string_lossy().as_ref().into());
    }
    root.insert("backup".into(), backup);
    root.to_string()
}

/// The `[nats]` section of a service's TOML for `settings`, secrets included (it is a test's
/// file). Shared with the aggregator's fixture, whose settings hold the same section.
pub fn nats_table(settings: &NatsSettings) -> Table {
    let NatsSettings {
        url,
        name,
        credentials_file,
        nkey_file,
        user,
        password,
        token,
        tls,
        insecure,
    } = settings;
    let mut out = Table::new();
    out.insert("url".into(), url.as_str().into());
    if let Some(name) = name {
        out.insert("name".into(), name.as_str().into());
    }
    if let Some(file) = credentials_file {
        out.insert(
            "credentials_file".into(),
            file.to_string_lossy().as_ref().into(),
        );
    }
    if let Some(file) = nkey_file {
        out.insert("nkey_file".into(), file.to_string_lossy().as_ref().into());
    }
    if let Some(user) = user {
        out.insert("user".into(), user.as_str().into());
    }
    if let Some(password) = password {
        out.insert("password".into(), password.expose_secret().into());
    }
    if let Some(token) = token {
        out.insert("token".into(), token.expose_secret().into());
    }
    if let Some(tls) = tls {
        let TlsSettings {
            ca_file,
            client_cert,
            client_key,
            required,
        } = tls;
        let mut section = Table::new();
        for (key, file) in [
            ("ca_file", ca_file),
            ("client_cert", client_cert),
            ("client_key", client_key),
        ] {
            if let Some(file) = file {
                section.insert(key.into(), file.to_string_lossy().as_ref().into());
            }
        }
        section.insert("required".into(), (*required).into());
        out.insert("tls".into(), Value::Table(section));
    }
    out.insert("insecure".into(), (*insecure).into());
    out
}

/// A TOML table of `entries`.
pub fn table<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Table(
        entries
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
    )
}

/// A TOML integer (TOML's are signed 64-bit; test settings never come near the limit).
pub fn integer(value: u64) -> Value {
    Value::Integer(i64::try_from(value).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// What `Debug` shows of settings, secrets aside (`SecretString` hides them).
    fn shown(settings: &Settings) -> String {
        format!("{settings:?}")
    }

    #[test]
    fn the_written_file_loads_as_the_same_settings() {
        let school = SchoolDir::for_school("thcs-an-hoa", "Trường THCS An Hòa \"A\"").unwrap();
        let mut settings = school.settings("nats://127.0.0.1:4222");
        settings.relay.ensure_stream = false;
        settings.nats.user = Some("thcs-an-hoa".into());
        settings.nats.password = Some("mật-khẩu".into());
        settings.nats.tls = Some(TlsSettings {
            ca_file: Some(school.path().join("ca.pem")),
            client_cert: None,
            client_key: None,
            required: true,
        });
        let path = school.write_config(&settings).unwrap();
        let loaded = Settings::load(Some(&path)).unwrap();
        assert_eq!(shown(&loaded), shown(&settings));
        assert_eq!(
            loaded.nats.password.as_ref().map(|p| p.expose_secret()),
            Some("mật-khẩu")
        );
    }
}
