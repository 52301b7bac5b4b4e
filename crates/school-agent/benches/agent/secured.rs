//! The secured district: the same drain and raw baseline against a nats-server set up as the
//! district office sets it up — `district_admin` renders its configuration (the district's
//! own CA, the server certificate, nkey identities and their permission sets), TLS required
//! on the client port — with the agent connecting as the school does in production (its
//! nkey seed file, the district's CA, no right to create the stream).
//!
//! The raw baseline connects as the district's administrator (TLS and its nkey too: it has to
//! create the baseline's streams), so both sides of each ratio pay for TLS and the
//! permission checks alike, and secured/plain compares like with like.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::Utc;
use district_admin::NatsDir;
use district_admin::registry::{District, ServerOptions};
use test_harness::NatsServer;

use crate::support::{DISTRICT, PROVINCE, SCHOOL};

/// The district's NATS directory and its running, secured server.
pub struct SecuredNats {
    dir: tempfile::TempDir,
    pub nats: NatsServer,
}

impl SecuredNats {
    /// Sets up the directory, starts the server with the rendered configuration and creates
    /// the district stream as the administrator.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("agent-bench-nats-")
            .tempdir()?;
        let nats_dir = NatsDir::new(dir.path().join("nats"));
        let nats = NatsServer::start_with_config_file(|layout| {
            nats_dir
                .init(
                    District::new(PROVINCE, DISTRICT),
                    "Phòng GD-ĐT Tam Nông",
                    ServerOptions::on_loopback(
                        "tam-nong-bench",
                        layout.port,
                        layout.http_port,
                        &layout.store_dir,
                        &layout.dir.join("nats.pid"),
                    ),
                    Utc::now(),
                )
                .map_err(|e| anyhow::anyhow!("setting up the district's NATS directory: {e}"))?;
            Ok(nats_dir.config_file())
        })
        .await?;
        let secured = Self { dir, nats };
        let registry = secured.nats_dir().registry()?;
        district_admin::stream::ensure(&secured.nats_dir(), &registry, &secured.url()).await?;
        Ok(secured)
    }

    fn nats_dir(&self) -> NatsDir {
        NatsDir::new(self.dir.path().join("nats"))
    }

    pub fn url(&self) -> String {
        format!("tls://127.0.0.1:{}", self.nats.port())
    }

    /// The rendered configuration file: how the CPU probe finds this nats-server.
    pub fn config_file(&self) -> PathBuf {
        self.nats_dir().config_file()
    }

    /// The school's `[nats]` section, as the district office hands it over: its seed file
    /// and the district's CA.
    pub fn school_section(&self) -> anyhow::Result<String> {
        let seed = self.dir.path().join(format!("{SCHOOL}.nk"));
        self.nats_dir()
            .issue_school(SCHOOL, &seed, Utc::now())
            .map_err(|e| anyhow::anyhow!("issuing the school's key: {e}"))?;
        Ok(format!(
            "[nats]\nurl = \"{url}\"\nnkey_file = \"{seed}\"\n\n[nats.tls]\nca_file = \"{ca}\"\nrequired = true\n",
            url = self.url(),
            seed = seed.display(),
            ca = self.nats_dir().ca_file().display(),
        ))
    }

    /// The administrator's client, for the raw baseline.
    pub async fn admin(&self) -> anyhow::Result<async_nats::Client> {
        let seed = seed(&self.nats_dir().service_seed("_admin"))?;
        Ok(async_nats::ConnectOptions::with_nkey(seed)
            .add_root_certificates(self.nats_dir().ca_file())
            .require_tls(true)
            .connect(self.url())
            .await?)
    }
}

/// The seed line of a seed file.
fn seed(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)?
        .lines()
        .find(|l| l.starts_with("SU"))
        .map(str::to_owned)
        .with_context(|| format!("no seed in {}", path.display()))
}
