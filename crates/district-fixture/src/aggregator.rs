//! The district aggregator for tests: its test settings, the real aggregator in this process
//! on port 0, and its settings written as TOML for the binary run as a child process.
//!
//! Every test of the district side starts the aggregator through here, so the shortened waits
//! are chosen once and a change to the aggregator's API has one place to adapt.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use district_aggregator::config::{
    BundleSettings, DatabaseSettings, DistrictSettings, GrpcSettings, IngestSettings, Settings,
};
use district_aggregator::projection::ActivityUpdate;
use district_aggregator::state::IngestState;
use event_bus::connect::NatsSettings;
use secrecy::ExposeSecret as _;
use tokio::sync::{broadcast, oneshot};
use toml::{Table, Value};

use crate::credentials::{
    AccountsClient, Client, OfficeCredentials, accounts_client_with, client_with,
    office_credentials,
};

use agent_fixture::settings::{integer, nats_table, table};

/// Messages above this are dead-lettered in tests (production's default is 1 MiB), so a test
/// can send an oversized one cheaply.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// How long a graceful stop may take.
const STOP_PATIENCE: Duration = Duration::from_secs(30);

/// The aggregator's test settings for the demo district: production's, with the waits
/// shortened so that batches, retries and re-send requests happen within a test's patience.
pub fn settings(db_url: &str, nats_url: &str) -> Settings {
    Settings {
        district: DistrictSettings {
            province: demo_data::PROVINCE.into(),
            district: demo_data::DISTRICT.into(),
            name: demo_data::DISTRICT_OFFICE.into(),
        },
        database: DatabaseSettings {
            url: db_url.to_owned().into(),
            owner_url: None,
            max_connections: 4,
            acquire_timeout_ms: 1_000,
        },
        grpc: GrpcSettings::default(),
        nats: NatsSettings::insecure_for_development(nats_url.to_owned()),
        ingest: IngestSettings {
            batch_wait_ms: 20,
            ack_wait_ms: 3_000,
            heartbeat_ms: 1_000,
            max_message_bytes: MAX_MESSAGE_BYTES,
            max_backoff_ms: 500,
            replay_grace_ms: 100,
            replay_min_interval_ms: 300,
            replay_max_interval_ms: 2_000,
            replay_timeout_ms: 2_000,
            ..IngestSettings::default()
        },
        bundles: BundleSettings {
            import_wait_ms: 60_000,
            ..BundleSettings::default()
        },
    }
}

/// The real aggregator, in this process, on port 0.
#[derive(Debug)]
pub struct RunningAggregator {
    pub grpc: SocketAddr,
    /// What the ingest is doing (counters, gaps), read directly.
    pub state: Arc<IngestState>,
    /// Every activity applied from the start, after its commit.
    pub activities: broadcast::Receiver<ActivityUpdate>,
    /// The administrator's session and reporting's token on its database.
    pub credentials: OfficeCredentials,
    /// School bundles imported and replies written over this aggregator (`docs/bundles.md`).
    pub bundles: district_aggregator::bundles::Bundles,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningAggregator {
    /// Connects the aggregator (migrations included) and runs it on a port of its own.
    pub async fn start(settings: Settings) -> anyhow::Result<Self> {
        let db_url = settings.database.url.expose_secret().to_owned();
        let aggregator = district_aggregator::Aggregator::connect(settings)
            .await
            .context("connecting the aggregator")?;
        let accounts = district_aggregator::accounts::Accounts::new(aggregator.pool().clone());
        let credentials = office_credentials(&accounts, &db_url).await?;
        let state = aggregator.state();
        let activities = aggregator.subscribe_activities();
        let bundles = aggregator.bundles();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding 127.0.0.1:0 for the aggregator")?;
        let grpc = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(aggregator.run(listener, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            grpc,
            state,
            activities,
            credentials,
            bundles,
            stop: Some(stop),
            task,
        })
    }

    /// `http://127.0.0.1:<port>`: its gRPC endpoint.
    pub fn url(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// A client signed in as the district's administrator.
    pub async fn client(&self) -> anyhow::Result<Client> {
        client_with(&self.url(), &self.credentials.admin).await
    }

    /// A client sending `token` (a session of another account, a service token, a revoked
    /// one).
    pub async fn client_as(&self, token: &str) -> anyhow::Result<Client> {
        client_with(&self.url(), token).await
    }

    /// The accounts service, as the district's administrator.
    pub async fn accounts(&self) -> anyhow::Result<AccountsClient> {
        accounts_client_with(&self.url(), &self.credentials.admin).await
    }

    /// What `GetIngestState` says of `author` (a school code or `_district`); an error when
    /// the aggregator does not know it.
    pub async fn author_state(&self, author: &str) -> anyhow::Result<wire::pb::AuthorState> {
        let state = self
            .client()
            .await?
            .get_ingest_state(wire::pb::GetIngestStateRequest {})
            .await
            .context("GetIngestState")?
            .into_inner();
        state
            .authors
            .into_iter()
            .find(|a| a.author == author)
            .with_context(|| format!("the aggregator does not know {author}"))
    }

    /// Graceful stop: the server drains, the ingest finishes or abandons its batch.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(STOP_PATIENCE, &mut self.task)
            .await
            .context("the aggregator did not stop within 30 s")?
            .context("the aggregator's task panicked")?
    }

    /// Drops the task wherever it is: mid-batch, mid-transaction, before an ack.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Writes `settings` as the TOML file the `district-aggregator` binary reads (for tests that
/// run it as a child process).
pub fn write_config(settings: &Settings, path: &Path) -> anyhow::Result<()> {
    std::fs::write(path, to_toml(settings)).with_context(|| format!("writing {}", path.display()))
}

/// The aggregator's settings as TOML: every field, so the file means exactly what the typed
/// settings do (a test checks the round trip); the destructuring makes a new setting a compile
/// error here until it is written too.
pub fn to_toml(settings: &Settings) -> String {
    let Settings {
        district,
        database,
        grpc,
        nats,
        ingest,
        bundles,
    } = settings;
    let BundleSettings {
        identities_file,
        signing_key_file,
        import_wait_ms,
    } = bundles;
    let DistrictSettings {
        province,
        district,
        name,
    } = district;
    let DatabaseSettings {
        url,
        owner_url,
        max_connections,
        acquire_timeout_ms,
    } = database;
    let GrpcSettings { listen, .. } = grpc;
    let IngestSettings {
        consumer,
        batch_size,
        batch_wait_ms,
        max_ack_pending,
        ack_wait_ms,
        heartbeat_ms,
        max_message_bytes,
        max_backoff_ms,
        replay_grace_ms,
        replay_min_interval_ms,
        replay_max_interval_ms,
        replay_timeout_ms,
        ensure_stream,
        pipeline,
        parallel_commits,
        unknown_event_types,
    } = ingest;
    let size = |n: usize| integer(u64::try_from(n).unwrap_or(u64::MAX));

    let mut root = Table::new();
    root.insert(
        "district".into(),
        table([
            ("province", province.as_str().into()),
            ("district", district.as_str().into()),
            ("name", name.as_str().into()),
        ]),
    );
    let mut database = table([
        ("url", url.expose_secret().into()),
        ("max_connections", i64::from(*max_connections).into()),
        ("acquire_timeout_ms", integer(*acquire_timeout_ms)),
    ]);
    if let (Value::Table(database), Some(owner_url)) = (&mut database, owner_url) {
        database.insert("owner_url".into(), owner_url.expose_secret().into());
    }
    root.insert("database".into(), database);
    root.insert(
        "grpc".into(),
        table([("listen", listen.to_string().into())]),
    );
    root.insert("nats".into(), Value::Table(nats_table(nats)));
    root.insert(
        "ingest".into(),
        table([
            ("consumer", consumer.as_str().into()),
            ("batch_size", size(*batch_size)),
            ("batch_wait_ms", integer(*batch_wait_ms)),
            ("max_ack_pending", (*max_ack_pending).into()),
            ("ack_wait_ms", integer(*ack_wait_ms)),
            ("heartbeat_ms", integer(*heartbeat_ms)),
            ("max_message_bytes", size(*max_message_bytes)),
            ("max_backoff_ms", integer(*max_backoff_ms)),
            ("replay_grace_ms", integer(*replay_grace_ms)),
            ("replay_min_interval_ms", integer(*replay_min_interval_ms)),
            ("replay_max_interval_ms", integer(*replay_max_interval_ms)),
            ("replay_timeout_ms", integer(*replay_timeout_ms)),
            ("ensure_stream", (*ensure_stream).into()),
            ("pipeline", (*pipeline).into()),
            ("parallel_commits", size(*parallel_commits)),
            (
                "unknown_event_types",
                Value::Array(
                    unknown_event_types
                        .iter()
                        .map(|t| t.as_str().into())
                        .collect(),
                ),
            ),
        ]),
    );
    let mut bundles = table([("import_wait_ms", integer(*import_wait_ms))]);
    if let Value::Table(bundles) = &mut bundles {
        for (key, path) in [
            ("identities_file", identities_file),
            ("signing_key_file", signing_key_file),
        ] {
            if let Some(path) = path {
                bundles.insert(key.into(), path.to_string_lossy().as_ref().into());
            }
        }
    }
    root.insert("bundles".into(), bundles);
    root.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_written_file_loads_as_the_same_settings() {
        let mut settings = settings("postgres://u:pw@127.0.0.1:5/t_x", "nats://127.0.0.1:4222");
        settings.grpc.listen = "127.0.0.1:50999".parse().unwrap();
        settings.nats.name = Some("district-aggregator-tests".into());
        settings.ingest.batch_size = 20;
        settings.ingest.pipeline = false;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aggregator.toml");
        write_config(&settings, &path).unwrap();
        let loaded = Settings::load(Some(&path)).unwrap();
        assert_eq!(format!("{loaded:?}"), format!("{settings:?}"));
        assert_eq!(
            loaded.database.url.expose_secret(),
            "postgres://u:pw@127.0.0.1:5/t_x"
        );
    }
}
