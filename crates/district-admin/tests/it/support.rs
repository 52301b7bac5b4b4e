//! A district NATS server as the district office sets it up: `district-admin` renders the
//! configuration (CA, server certificate, identities), test-harness runs nats-server with it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::ConnectOptions;
use chrono::Utc;
use district_admin::NatsDir;
use district_admin::registry::{District, ServerOptions};
use event_bus::subjects::{SchoolAddress, inbox_prefix};
use test_harness::NatsServer;

pub use demo_data::{DISTRICT, PROVINCE};
pub const AN_HOA: &str = "thcs-an-hoa";
pub const PHU_CUONG: &str = "thcs-phu-cuong";

/// How long a client waits for an answer the server will never give (a denied request).
pub const DENIED_WAIT: Duration = Duration::from_millis(1500);

/// The district's NATS directory and its running server.
pub struct DistrictNats {
    pub dir: tempfile::TempDir,
    pub nats: NatsServer,
}

impl DistrictNats {
    /// Sets up the directory, starts the server with the rendered configuration and creates
    /// the district stream as the administrator.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let nats_dir = NatsDir::new(dir.path().join("nats"));
        let nats = NatsServer::start_with_config_file(|layout| {
            nats_dir
                .init(
                    District::new(PROVINCE, DISTRICT),
                    "Phòng GD-ĐT Tam Nông",
                    ServerOptions::on_loopback(
                        "tam-nong-test",
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
        let district = Self { dir, nats };
        let registry = district.nats_dir().registry()?;
        district_admin::stream::ensure(&district.nats_dir(), &registry, &district.url()).await?;
        Ok(district)
    }

    pub fn nats_dir(&self) -> NatsDir {
        NatsDir::new(self.dir.path().join("nats"))
    }

    pub fn url(&self) -> String {
        format!("tls://127.0.0.1:{}", self.nats.port())
    }

    pub fn ca(&self) -> PathBuf {
        self.nats_dir().ca_file()
    }

    /// Issues a key to `school`; returns its seed file.
    pub fn issue(&self, school: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{school}.nk"));
        self.nats_dir()
            .issue_school(school, &path, Utc::now())
            .unwrap();
        path
    }

    /// Connects as `school` would (its seed, its inbox prefix), trusting the district's CA;
    /// fails rather than retrying, so a refusal is an error here.
    pub async fn connect_school(
        &self,
        school: &str,
        seed_file: &Path,
    ) -> Result<async_nats::Client, async_nats::ConnectError> {
        let address = SchoolAddress::parse(PROVINCE, DISTRICT, school).unwrap();
        connect_with(
            &self.url(),
            seed(seed_file),
            Some(&self.ca()),
            Some(inbox_prefix(&address)),
        )
        .await
    }

    /// The administrator's client.
    pub async fn admin(&self) -> async_nats::Client {
        connect_with(
            &self.url(),
            seed(&self.nats_dir().service_seed("_admin")),
            Some(&self.ca()),
            None,
        )
        .await
        .unwrap()
    }

    pub async fn stream_messages(&self) -> u64 {
        let js = async_nats::jetstream::new(self.admin().await);
        let mut stream = js
            .get_stream(event_bus::subjects::stream_name(PROVINCE, DISTRICT).unwrap())
            .await
            .unwrap();
        stream.info().await.unwrap().state.messages
    }
}

/// The seed line of a seed file.
pub fn seed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("SU"))
        .map(str::to_owned)
}

pub async fn connect_with(
    url: &str,
    seed: Option<String>,
    ca: Option<&Path>,
    inbox: Option<String>,
) -> Result<async_nats::Client, async_nats::ConnectError> {
    let mut options = match seed {
        Some(seed) => ConnectOptions::with_nkey(seed),
        None => ConnectOptions::new(),
    };
    if let Some(ca) = ca {
        options = options.add_root_certificates(ca.to_owned());
    }
    if let Some(inbox) = inbox {
        options = options.custom_inbox_prefix(inbox);
    }
    options
        .require_tls(true)
        .request_timeout(Some(DENIED_WAIT))
        .connect(url)
        .await
}
