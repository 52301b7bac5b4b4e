//! The demo's NATS, secured as a district's is: `district-admin` sets up the district's NATS
//! directory (CA, server certificate, identities, rendered configuration) under
//! `var/demo/nats/`, nats-server runs that configuration, the administrator creates the stream,
//! and every school gets its own key under `var/demo/<school>/nats.nk`. Every process of the
//! demo connects over TLS with its own identity, as in production.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use district_admin::NatsDir;
use district_admin::registry::{District, ServerOptions};

use super::processes::Processes;
use crate::install;

/// The demo district's secured NATS.
#[derive(Debug)]
pub struct DemoNats {
    pub url: String,
    dir: NatsDir,
}

impl DemoNats {
    /// Sets up the district's NATS directory, starts nats-server with its configuration and
    /// creates the district stream.
    pub async fn start(
        processes: &mut Processes,
        demo_dir: &Path,
        port: u16,
        monitor_port: u16,
    ) -> anyhow::Result<Self> {
        let root = demo_dir.join("nats");
        let dir = NatsDir::new(root.join("district"));
        let store = root.join("store");
        std::fs::create_dir_all(&store)?;
        dir.init(
            District::new(demo_data::PROVINCE, demo_data::DISTRICT),
            "Phòng GD-ĐT Tam Nông",
            ServerOptions::on_loopback(
                "tam-nong-demo",
                port,
                monitor_port,
                &store,
                &root.join("nats-server.pid"),
            ),
            Utc::now(),
        )
        .context("setting up the district's NATS directory")?;
        let program =
            install::find_program("nats-server").context("nats-server is not installed")?;
        let log = root.join("nats.log");
        processes.spawn(
            "nats-server",
            &program,
            &[std::ffi::OsStr::new("-c"), dir.config_file().as_os_str()],
            &log,
        )?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", monitor_port))
            .await
            .is_err()
        {
            anyhow::ensure!(
                Instant::now() < deadline,
                "nats-server did not listen on port {port} (is another demo running?); see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let url = format!("tls://127.0.0.1:{port}");
        let registry = dir.registry()?;
        district_admin::stream::ensure(&dir, &registry, &url)
            .await
            .context("creating the district stream as the administrator")?;
        Ok(Self { url, dir })
    }

    /// Issues `school`'s key into its demo folder; returns the seed file.
    pub fn issue_school(&self, school: &str, school_dir: &Path) -> anyhow::Result<PathBuf> {
        let seed = school_dir.join("nats.nk");
        self.dir
            .issue_school(school, &seed, Utc::now())
            .with_context(|| format!("issuing the NATS key of {school}"))?;
        Ok(seed)
    }

    /// The `[nats]` section of a configuration connecting with the seed in `seed_file`.
    pub fn section(&self, name: &str, seed_file: &Path) -> String {
        format!(
            "[nats]\nurl = \"{url}\"\nname = \"{name}\"\nnkey_file = \"{seed}\"\n\n\
             [nats.tls]\nca_file = \"{ca}\"\nrequired = true\n",
            url = self.url,
            seed = seed_file.display(),
            ca = self.dir.ca_file().display(),
        )
    }

    /// The `[bundles]` section of the aggregator's configuration: the registry that school
    /// bundles are verified against (docs/bundles.md).
    pub fn aggregator_bundles_section(&self) -> String {
        format!(
            "[bundles]\nidentities_file = \"{}\"\n",
            self.dir
                .path()
                .join(district_admin::registry::FILE_NAME)
                .display()
        )
    }

    /// The `[bundles]` section of a school agent's configuration: the aggregator's public key,
    /// which signs the reply bundles the school imports.
    pub fn agent_bundles_section(&self) -> anyhow::Result<String> {
        let registry = district_admin::registry::Registry::load(self.dir.path())
            .context("reading the district's identities")?;
        let key = registry
            .get(district_admin::registry::AGGREGATOR)
            .map(|i| i.public_key.clone())
            .context("the aggregator has no identity yet")?;
        Ok(format!("[bundles]\ndistrict_public_key = \"{key}\"\n"))
    }

    pub fn aggregator_seed(&self) -> PathBuf {
        self.dir.service_seed(district_admin::registry::AGGREGATOR)
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.ca_file()
    }

    pub fn config_file(&self) -> PathBuf {
        self.dir.config_file()
    }
}
