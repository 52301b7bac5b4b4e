//! The district aggregator: one per district, at the district office (Phòng GD-ĐT).
//!
//! It consumes the district's JetStream stream — every school's events and the office's own —
//! into PostgreSQL projections, applying each `(author, seq)` exactly once and in order
//! (`ingest`, [`projection`]); holds what arrives early or from schools not yet enrolled,
//! and asks schools to re-send what is missing (`gaps`) — including a tail the district's
//! stream lost in a power cut, found from the heads schools announce (`heads`), and the
//! district office's own lost tail, published again from the projection (`own_tail`);
//! dead-letters what cannot be
//! applied, with the reason; and answers the district office's queries and commands over
//! gRPC (`service`).
//!
//! [`run`] wires these together on an already-bound listener, so tests start the real
//! aggregator on port 0; `main.rs` only reads the configuration and sets up tracing.
//! [`Aggregator`] is the same, in two steps, for callers that want the ingest state or the
//! stream of applied activities.
//!
//! # What is public, and why
//!
//! Only what is used from outside the crate — `main.rs`, the fixtures (`district-fixture`,
//! this crate's `tests/it`, the system tests in `tests/`) and the aggregator bench;
//! everything else is `pub(crate)`, free to change:
//!
//! - [`run`] and [`Aggregator`]: the service (`main.rs`, the fixtures), and
//!   [`Aggregator::serve_without_ingest`], its gRPC answers over a projection nothing writes
//!   meanwhile (the bench times queries so);
//! - [`config`]: the typed settings `main.rs` loads and the fixtures build;
//! - [`rebuild`]: `rebuild::run` with its options, progress and report (`main.rs rebuild`,
//!   the rebuild tests, the bench), `thousands` for their figures, and `READ_BATCH` for the
//!   bench's read ceiling;
//! - [`state`]: what [`Aggregator::state`] returns, the ingest's counters and gaps (tests
//!   wait on them);
//! - [`ActivityUpdate`] and [`ActivityChange`]: what [`Aggregator::subscribe_activities`]
//!   delivers;
//! - [`projection::restore_school`] and [`projection::restore_district`]: a decision state
//!   as the projection holds it (tests compare it with the agent's; the bench times it);
//! - [`db`]: the live schema's name, the database [`db::connect`]ed and migrated, and
//!   [`db::use_projection`], for tests and the bench that read the tables;
//! - [`decode`]: the ingest's decoder, for the bench's read-and-decode ceiling;
//! - [`bundles`]: importing a school's signed bundle and writing the reply
//!   ([`Aggregator::bundles`]; the command `nhap-goi`, the bundle tests, the bench);
//! - [`evidence`]: the evidence files' list and content as the gRPC service answers them
//!   (tests read them too);
//! - [`queries`]: the district views as the gRPC service answers them (tests compare them
//!   with `domain::district::DistrictModel`; the bench times them).

pub mod accounts;
pub(crate) mod accounts_service;
pub mod bundles;
pub mod config;
pub mod db;
pub mod decode;
pub(crate) mod district_commands;
pub mod evidence;
pub(crate) mod gaps;
pub(crate) mod guard;
pub(crate) mod heads;
pub(crate) mod ingest;
pub(crate) mod own_tail;
pub mod projection;
pub mod queries;
pub mod rebuild;
pub(crate) mod receipts;
pub(crate) mod service;
pub mod state;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context as _;
use async_nats::jetstream;
use service_runtime::BackgroundTasks;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tracing::info;

use crate::config::Settings;
use crate::gaps::Gaps;
use crate::ingest::Ingest;
use crate::state::IngestState;

pub use crate::projection::{ActivityChange, ActivityUpdate};

/// How many applied activities a slow watcher may fall behind before it loses some (it is
/// then told how many, by `broadcast`'s `Lagged`).
const ACTIVITY_CHANNEL: usize = 4_096;

/// A connected aggregator, not yet running.
#[derive(Debug)]
pub struct Aggregator {
    settings: Settings,
    pool: PgPool,
    client: async_nats::Client,
    state: Arc<IngestState>,
    activities: broadcast::Sender<ActivityUpdate>,
}

impl Aggregator {
    /// Connects to PostgreSQL (running the migrations) and configures the NATS client, which
    /// connects in the background and reconnects for ever.
    pub async fn connect(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        let pool = db::connect(&settings.database)
            .await
            .context("opening the aggregator's database")?;
        let client = connect_nats(&settings).await?;
        let state = Arc::new(IngestState::new(Gaps::new(&settings.ingest)));
        let (activities, _) = broadcast::channel(ACTIVITY_CHANNEL);
        Ok(Self {
            settings,
            pool,
            client,
            state,
            activities,
        })
    }

    /// What the ingest is doing: counters and every school's current gap.
    pub fn state(&self) -> Arc<IngestState> {
        self.state.clone()
    }

    /// Activities as they are applied, after each commit, in order.
    pub fn subscribe_activities(&self) -> broadcast::Receiver<ActivityUpdate> {
        self.activities.subscribe()
    }

    /// The projection database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Imports school bundles and writes replies over this aggregator's projection and NATS
    /// connection (`docs/bundles.md`). Take it before [`Aggregator::run`].
    pub fn bundles(&self) -> bundles::Bundles {
        bundles::Bundles::new(self.pool.clone(), self.client.clone(), &self.settings)
            .with_file_sink(std::sync::Arc::new(evidence::BundleFiles {
                pool: self.pool.clone(),
            }))
    }

    /// What the gRPC service needs of this aggregator: the live projection's views and the
    /// district commands, the ingest's state, the post-commit activity broadcast.
    fn service_context(&self) -> anyhow::Result<service::Context> {
        Ok(service::Context {
            views: queries::Views::new(self.pool.clone(), db::LIVE_SCHEMA),
            commands: district_commands::DistrictCommands::new(
                self.pool.clone(),
                db::LIVE_SCHEMA,
                self.client.clone(),
                &self.settings.district.province,
                &self.settings.district.district,
            )?,
            state: self.state.clone(),
            activities: self.activities.clone(),
            accounts: accounts::Accounts::new(self.pool.clone()),
            bundles: self.bundles(),
            evidence: (self.pool.clone(), db::LIVE_SCHEMA.to_owned()),
        })
    }

    /// Runs until `shutdown` resolves, then stops gracefully: the gRPC server drains, the
    /// ingest finishes (or abandons, unacknowledged) its batch, the replayer, the heads
    /// listener and the own-tail check stop, and the NATS client flushes.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let context = self.service_context()?;
        let Aggregator {
            settings,
            pool,
            client,
            state,
            activities,
        } = self;
        let mut tasks = BackgroundTasks::new();
        let ingest = Ingest::new(
            pool.clone(),
            jetstream::new(client.clone()),
            &settings.district,
            settings.ingest.clone(),
            db::LIVE_SCHEMA.to_owned(),
            state.clone(),
            activities,
        );
        tasks.spawn("ingest", ingest.run(tasks.stop_signal()));
        tasks.spawn(
            "re-send requests",
            gaps::run_replayer(
                state.clone(),
                client.clone(),
                settings.district.province.clone(),
                settings.district.district.clone(),
                settings.ingest.replay_timeout(),
                tasks.stop_signal(),
            ),
        );

        tasks.spawn(
            "schools' heads",
            heads::HeadsListener {
                state: state.clone(),
                client: client.clone(),
                pool: pool.clone(),
                schema: db::LIVE_SCHEMA.to_owned(),
                province: settings.district.province.clone(),
                district: settings.district.district.clone(),
            }
            .run(tasks.stop_signal()),
        );
        tasks.spawn(
            "district's own tail",
            own_tail::OwnTail {
                client: client.clone(),
                pool: pool.clone(),
                schema: db::LIVE_SCHEMA.to_owned(),
                province: settings.district.province.clone(),
                district: settings.district.district.clone(),
            }
            .run(tasks.stop_signal()),
        );

        tasks.spawn(
            "evidence files",
            evidence::Fetcher {
                pool: pool.clone(),
                schema: db::LIVE_SCHEMA.to_owned(),
                jetstream: jetstream::new(client.clone()),
                province: settings.district.province.clone(),
                district: settings.district.district.clone(),
            }
            .run(tasks.stop_signal()),
        );

        let local = listener.local_addr().context("reading the gRPC address")?;
        info!(
            province = %settings.district.province,
            district = %settings.district.district,
            grpc = %local,
            nats = %settings.nats.redacted_url(),
            "district aggregator started"
        );
        let serve = service::serve(listener, shutdown, context, &settings.grpc).await;

        info!("stopping the district aggregator");
        tasks.stop_and_wait().await?;
        event_bus::connect::flush_before_exit(&client, event_bus::connect::FLUSH_ON_EXIT).await;
        pool.close().await;
        info!("district aggregator stopped");
        Ok(serve?)
    }

    /// Answers the district office over gRPC on `listener` as [`Aggregator::run`] does, but
    /// without the ingest and the re-send requests, until `shutdown` resolves: nothing writes
    /// the projection while it answers (the bench times the queries so).
    pub async fn serve_without_ingest(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let context = self.service_context()?;
        let local = listener.local_addr().context("reading the gRPC address")?;
        info!(grpc = %local, "district aggregator answering, without the ingest");
        let serve = service::serve(listener, shutdown, context, &self.settings.grpc).await;
        event_bus::connect::flush_before_exit(&self.client, event_bus::connect::FLUSH_ON_EXIT)
            .await;
        self.pool.close().await;
        Ok(serve?)
    }
}

/// The aggregator's NATS client: its own identity, with its own inbox prefix so that its NATS
/// user needs no other replies than its own (`event_bus::permissions::aggregator`).
pub(crate) async fn connect_nats(settings: &Settings) -> anyhow::Result<async_nats::Client> {
    let d = &settings.district;
    let inbox = event_bus::subjects::aggregator_inbox_prefix(&d.province, &d.district)?;
    event_bus::connect::connect(&settings.nats, Some(inbox))
        .await
        .context("configuring the NATS connection")
}

/// Runs the aggregator until `shutdown` resolves. See [`Aggregator::run`].
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    Aggregator::connect(settings)
        .await?
        .run(listener, shutdown)
        .await
}
