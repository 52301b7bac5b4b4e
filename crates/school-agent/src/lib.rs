//! The school agent: one per school, on the school office's PC, which is often offline.
//!
//! It records the school's plan, duties, activities, citizen feedback, press issues,
//! nominations and budget as events in its own SQLite log ([`store`]), decided one batch at a
//! time by a single writer ([`writer`]); serves gRPC to the school's staff ([`service`]); and
//! publishes its events to NATS JetStream through an outbox ([`relay`]), answering the
//! district's re-send requests over the same outbound connection ([`resend`]). Staff sign in
//! with accounts kept beside the log ([`staff`], served by [`staff_service`]); every call
//! needs a session ([`auth`]) and every command the duty of the caller's role. With no line
//! at all, the school carries its events to the district in a signed bundle
//! ([`bundle_export`]) and brings the district's signed reply back.
//!
//! The log is backed up to a folder the school chose ([`backup`]) and can be recovered, or
//! caught up after a restore, from the school's own events in the district stream
//! ([`recovery`]); see `docs/school-backup.md`.
//!
//! [`run`] wires these together on an already-bound listener, so tests start the real agent
//! on port 0; `main.rs` only reads the configuration and sets up tracing.

pub mod auth;
pub mod backup;
pub mod bundle_export;
pub mod config;
pub mod evidence;
pub mod evidence_upload;
pub mod heads;
pub mod recovery;
pub mod relay;
pub mod resend;
pub mod service;
pub mod staff;
pub mod staff_service;
pub mod store;
pub mod writer;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context as _;
use async_nats::jetstream;
use event_bus::subjects::inbox_prefix;
use service_runtime::BackgroundTasks;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tracing::{error, info, warn};

use crate::config::Settings;
use crate::relay::Relay;
use crate::resend::Resender;
use crate::store::Store;

/// Creates the school's new, empty log (`school-agent init`): the one way a log comes into
/// being, so that a log that went missing is never replaced by an empty one by accident.
pub async fn init(settings: &Settings) -> anyhow::Result<()> {
    settings.school_ref()?;
    let store = Store::create(&settings.storage.path)
        .await
        .context("creating the school's log")?;
    store.close().await;
    info!(path = %settings.storage.path.display(), "the school's log was created");
    Ok(())
}

/// On the school PC (`school-agent account create-head`): creates the head's account, or —
/// the break-glass — resets an existing login to the head's role with a new one-time
/// password, enabled, unlocked and signed out everywhere. Returns the account and the
/// one-time password, for the command to print once. Works while the agent runs (SQLite
/// WAL); the log itself is not touched.
pub async fn create_head(
    settings: &Settings,
    login: &str,
    full_name: &str,
) -> anyhow::Result<(staff::Account, secrecy::SecretString)> {
    let store = Store::open(&settings.storage.path)
        .await
        .context("opening the school's database")?;
    let result = staff::Staff::new(store.pool().clone())
        .create_or_reset_head(login, full_name, chrono::Utc::now())
        .await;
    store.close().await;
    Ok(result?)
}

/// What `school-agent restore` did.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    /// The backup's head seq and events.
    pub checked: backup::CheckedBackup,
    /// Where the log that was in place went (never deleted); `None` when there was none.
    pub moved_aside: Option<std::path::PathBuf>,
}

/// `school-agent restore FILE`: checks that `file` is a sound log of this school
/// ([`backup::check`]), refuses while the agent runs (its gRPC port is taken), moves the
/// current log (and its `-wal`/`-shm`) aside under `<name>.truoc-khoi-phuc-<time>`, copies the
/// backup in its place and marks it as needing to catch up from the district at the next
/// start.
pub async fn restore(settings: &Settings, file: &std::path::Path) -> anyhow::Result<RestoreReport> {
    let address = settings.school_address()?;
    let checked = backup::check(file, &address).await?;
    refuse_if_running(settings).await?;
    let path = &settings.storage.path;
    let moved_aside = if path.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = std::path::PathBuf::from(format!("{}.truoc-khoi-phuc-{stamp}", path.display()));
        std::fs::rename(path, &aside)
            .with_context(|| format!("moving {} aside", path.display()))?;
        for suffix in ["-wal", "-shm"] {
            let side = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if side.exists() {
                let to = std::path::PathBuf::from(format!("{}{suffix}", aside.display()));
                std::fs::rename(&side, &to)
                    .with_context(|| format!("moving {} aside", side.display()))?;
            }
        }
        Some(aside)
    } else {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        None
    };
    let temp = std::path::PathBuf::from(format!("{}.dang-khoi-phuc", path.display()));
    std::fs::copy(file, &temp).with_context(|| format!("copying {}", file.display()))?;
    std::fs::rename(&temp, path).with_context(|| format!("putting {} in place", path.display()))?;
    let store = Store::open(path)
        .await
        .context("opening the restored log")?;
    let marked = store
        .mark_needs_catch_up(
            &format!(
                "restored from {} (head seq {})",
                file.display(),
                checked.head_seq
            ),
            chrono::Utc::now(),
        )
        .await;
    store.close().await;
    marked.context("marking the restored log as needing to catch up")?;
    info!(file = %file.display(), head_seq = checked.head_seq, "the school's log was restored from a backup");
    Ok(RestoreReport {
        checked,
        moved_aside,
    })
}

/// Refuses when this school's agent seems to run: its gRPC address is taken.
async fn refuse_if_running(settings: &Settings) -> anyhow::Result<()> {
    match tokio::net::TcpListener::bind(settings.grpc.listen).await {
        Ok(listener) => {
            drop(listener);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => anyhow::bail!(
            "school-agent có vẻ đang chạy (cổng {} đang được dùng): hãy dừng school-agent trước \
             (the agent seems to be running; stop it first)",
            settings.grpc.listen
        ),
        Err(_) => Ok(()),
    }
}

/// `school-agent recover`: on a new PC with only the school's configuration and credentials,
/// creates the log and fills it with the school's events from the district stream. Refuses
/// when a non-empty log exists. Retries while the district cannot be reached, a few times.
pub async fn recover(
    settings: &Settings,
    mut progress: impl FnMut(recovery::RecoveryProgress),
) -> anyhow::Result<(recovery::RecoveryReport, recovery::FilesReport)> {
    let address = settings.school_address()?;
    let path = &settings.storage.path;
    refuse_if_running(settings).await?;
    let store = if path.exists() {
        let store = Store::open(path)
            .await
            .context("opening the school's log")?;
        let head = store.head_seq().await?;
        if head > 0 {
            store.close().await;
            anyhow::bail!(
                "sổ của trường tại {} đã có {head} sự kiện: khoi-phuc chỉ dùng cho máy mới, sổ trống \
                 (the log is not empty; recover fills an empty log only)",
                path.display()
            );
        }
        store
    } else {
        Store::create(path)
            .await
            .context("creating the school's log")?
    };
    let (client, _complaints) =
        event_bus::connect::connect_observed(&settings.nats, Some(inbox_prefix(&address)))
            .await
            .context("configuring the NATS connection")?;
    let js = jetstream::new(client.clone());
    let mut attempts = 0;
    let outcome = loop {
        attempts += 1;
        match recovery::recover(&js, &address, &store, &mut progress).await {
            Err(e) if e.is_transient() && attempts < 5 => {
                warn!(error = %e, attempts, "cannot read the school's events from the district yet; retrying");
                tokio::time::sleep(relay::backoff(attempts, settings.relay.max_backoff())).await;
            }
            other => break other,
        }
    };
    let done = match outcome {
        Ok(report) => {
            store
                .mark_caught_up(report.head_seq, chrono::Utc::now())
                .await?;
            let evidence =
                evidence::EvidenceStore::beside_log(path).context("opening the evidence folder")?;
            let files = recovery::recover_files(&js, &address, &store, &evidence)
                .await
                .context("recovering the evidence files")?;
            if !files.missing.is_empty() {
                warn!(
                    missing = files.missing.len(),
                    "some evidence files are not in the school's bucket"
                );
            }
            Ok((report, files))
        }
        Err(e) => {
            Err(anyhow::Error::from(e).context("recovering the school's log from the district"))
        }
    };
    store.close().await;
    client.flush().await.ok();
    done
}

/// Runs the agent until `shutdown` resolves, then stops gracefully: the gRPC server stops
/// taking calls, the writer answers what it already took, the relay and re-sender stop
/// between batches, and the NATS client flushes.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = if settings.app.enabled {
        let address = settings.app.listen;
        Some(
            TcpListener::bind(address)
                .await
                .with_context(|| format!("binding the school app to {address}"))?,
        )
    } else {
        None
    };
    run_with_app(settings, listener, app, shutdown).await
}

/// [`run`], with the school app on `app` (already bound; `None`: no app) whatever the
/// settings say: tests bind port 0.
pub async fn run_with_app(
    settings: Settings,
    listener: TcpListener,
    app: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let school = settings.school_ref()?;
    let address = settings.school_address()?;
    let store = Store::open(&settings.storage.path)
        .await
        .context("opening the school's log")?;
    let wakeup = Arc::new(Notify::new());
    let (writer, writer_task) = writer::start(&store, school.clone(), wakeup.clone())
        .await
        .context("loading the school's log")?;

    // Connecting never waits for the network: the client retries in the background.
    let (client, complaints) =
        event_bus::connect::connect_observed(&settings.nats, Some(inbox_prefix(&address)))
            .await
            .context("configuring the NATS connection")?;
    let js = jetstream::new(client.clone());
    let mut tasks = BackgroundTasks::new();

    // A restored backup catches up from the district before commands are accepted; any other
    // start checks cheaply whether the district holds more than this log.
    let needs_catch_up = store
        .needs_catch_up()
        .await
        .context("reading the log's recovery state")?;
    let evidence = evidence::EvidenceStore::beside_log(&settings.storage.path)
        .context("opening the evidence folder")?;
    let (catch_up_tx, catch_up_rx) = tokio::sync::watch::channel(recovery::CatchUpState {
        catching_up: needs_catch_up.is_some(),
        status: if needs_catch_up.is_some() {
            "Đang bổ sung sổ từ Phòng GD-ĐT sau khi khôi phục bản sao.".into()
        } else {
            String::new()
        },
    });
    if let Some(reason) = needs_catch_up {
        info!(reason = %reason, "the log must catch up from the district before commands are accepted");
        tasks.spawn(
            "catch-up",
            recovery::catch_up(
                js.clone(),
                address.clone(),
                store.clone(),
                evidence.clone(),
                writer.clone(),
                catch_up_tx,
                settings.relay.max_backoff(),
                tasks.stop_signal(),
            ),
        );
    } else {
        tasks.spawn(
            "district-head-check",
            recovery::check_district_head(
                js.clone(),
                address.clone(),
                store.clone(),
                evidence.clone(),
                writer.clone(),
                catch_up_tx,
                settings.relay.max_backoff(),
                tasks.stop_signal(),
            ),
        );
    }
    let backups = backup::Backups::new(
        store.clone(),
        address.clone(),
        settings.backup.clone(),
        &settings.storage.path,
    );
    tasks.spawn("backups", backups.clone().run(tasks.stop_signal()));

    if settings.relay.ensure_stream {
        tasks.spawn(
            "ensure-stream",
            ensure_stream(js.clone(), address.clone(), tasks.stop_signal()),
        );
    }

    let relay = Relay {
        store: store.clone(),
        jetstream: js.clone(),
        school: address.clone(),
        settings: settings.relay.clone(),
        wakeup: wakeup.clone(),
        complaints,
    };
    tasks.spawn("relay", relay.run(tasks.stop_signal()));
    let announce_now = Arc::new(Notify::new());
    tasks.spawn(
        "heads",
        heads::announce_periodically(
            client.clone(),
            store.clone(),
            address.clone(),
            settings.relay.heads_interval(),
            announce_now.clone(),
            tasks.stop_signal(),
        ),
    );
    tasks.spawn(
        "receipts",
        heads::keep_receipts(
            client.clone(),
            store.clone(),
            address.clone(),
            tasks.stop_signal(),
        ),
    );

    let resender = Resender::new(
        store.clone(),
        js.clone(),
        address.clone(),
        settings.relay.clone(),
    );
    {
        let client = client.clone();
        let address = address.clone();
        let stop = tasks.stop_signal();
        tasks.spawn("re-send", async move {
            let handler = |request| {
                let resender = resender.clone();
                async move { resender.handle(request).await }
            };
            if let Err(e) =
                event_bus::replay::serve_replay_requests(&client, &address, handler, stop).await
            {
                warn!(error = %e, "re-send requests are not served");
            }
        });
    }

    let evidence_wakeup = Arc::new(Notify::new());
    tasks.spawn(
        "evidence-upload",
        evidence_upload::Uploader {
            store: store.clone(),
            evidence: evidence.clone(),
            jetstream: js.clone(),
            school: address.clone(),
            create_bucket: settings.relay.ensure_stream,
            chunk_size: settings.relay.evidence_chunk_size.max(1024),
            rate_bytes_per_s: settings.relay.evidence_rate_kib_per_s.saturating_mul(1024),
            max_backoff: std::time::Duration::from_millis(settings.relay.max_backoff_ms),
            wakeup: evidence_wakeup.clone(),
        }
        .run(tasks.stop_signal()),
    );

    let local = listener.local_addr().context("reading the gRPC address")?;
    info!(school = %school, grpc = %local, nats = %settings.nats.redacted_url(), "school agent started");
    let sessions = auth::Sessions::new(staff::Staff::new(store.pool().clone()));
    let service = service::SchoolAgentService::new(
        writer,
        store.clone(),
        client.clone(),
        school.clone(),
        sessions.clone(),
        service::SendNow {
            relay: wakeup,
            heads: announce_now,
        },
        service::Evidence {
            store: evidence.clone(),
            uploader: evidence_wakeup,
        },
    )
    .with_bundles(bundle_export::BundleKeys::from_settings(&settings))
    .with_file_source(Arc::new(evidence))
    .with_catch_up(catch_up_rx)
    .with_backups(backups);
    let staff_service = staff_service::SchoolStaffService::new(sessions);
    // One shutdown for both servers.
    let (stop_app, app_stopped) = tokio::sync::watch::channel(false);
    let app_task = app.map(|app_listener| {
        let routes = tonic::service::Routes::new(
            wire::pb::school_agent_server::SchoolAgentServer::new(service.clone())
                .max_decoding_message_size(service::MAX_MESSAGE),
        )
        .add_service(wire::pb::school_staff_server::SchoolStaffServer::new(
            staff_service.clone(),
        ));
        let transport = tower::util::BoxCloneSyncService::new(routes);
        let name = if settings.school.name.is_empty() {
            school.school.to_string()
        } else {
            settings.school.name.clone()
        };
        let state = school_app::AppState::new(transport, &name);
        let mut stopped = app_stopped.clone();
        let tls = settings.app.tls.clone();
        tokio::spawn(async move {
            let until = async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            let served = match tls {
                None => school_app::serve(app_listener, state, until).await,
                Some(files) => match school_app::tls::acceptor(&files.certificate, &files.key) {
                    Ok(acceptor) => {
                        school_app::serve_tls(app_listener, state, acceptor, until).await
                    }
                    Err(e) => {
                        error!(error = %e, "the school app cannot serve TLS; it is not served");
                        return;
                    }
                },
            };
            if let Err(e) = served {
                warn!(error = %e, "the school app stopped");
            }
        })
    });
    let serve = service::serve(
        service,
        staff_service,
        listener,
        async move {
            shutdown.await;
            let _ = stop_app.send(true);
        },
        &settings.grpc,
    )
    .await;
    if let Some(task) = app_task {
        let _ = task.await;
    }

    info!("stopping the school agent");
    // The server is done and has dropped its writer handles; the writer finishes its batch.
    let stopped = tasks.stop_and_wait().await;
    writer_task.await.context("the writer task panicked")?;
    stopped?;
    event_bus::connect::flush_before_exit(&client, event_bus::connect::FLUSH_ON_EXIT).await;
    store.close().await;
    info!("school agent stopped");
    Ok(serve?)
}

/// Creates the district stream if it is missing, retrying until NATS answers (development
/// and demos only; see `RelaySettings::ensure_stream`).
async fn ensure_stream(
    js: jetstream::Context,
    address: event_bus::subjects::SchoolAddress,
    mut stop: tokio::sync::broadcast::Receiver<()>,
) {
    let mut failures = 0;
    loop {
        match event_bus::stream::ensure_district_stream(&js, address.province(), address.district())
            .await
        {
            Ok(_) => return,
            Err(e) => {
                failures += 1;
                warn!(error = %e, "cannot ensure the district stream yet");
                tokio::select! {
                    _ = tokio::time::sleep(relay::backoff(failures, std::time::Duration::from_secs(10))) => {}
                    _ = stop.recv() => return,
                }
            }
        }
    }
}
