//! Creating and repairing the district stream, as the administrator: the only identity whose
//! permissions allow it (the aggregator may read the stream, never change it).

use std::time::Duration;

use anyhow::Context as _;
use event_bus::connect::{NatsSettings, TlsSettings};

use crate::nats_dir::NatsDir;
use crate::registry::{ADMINISTRATOR, Registry};

/// How long to wait for the server before giving up: this is a command the operator runs
/// once, not a service that waits for the network.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The administrator's connection settings for the server at `url`.
pub fn administrator_settings(dir: &NatsDir, url: &str) -> NatsSettings {
    NatsSettings {
        name: Some("district-admin".into()),
        nkey_file: Some(dir.service_seed(ADMINISTRATOR)),
        tls: Some(TlsSettings {
            ca_file: Some(dir.ca_file()),
            required: true,
            ..TlsSettings::default()
        }),
        ..NatsSettings::new(url)
    }
}

/// Ensures the district stream exists with the district log's configuration, and every
/// issued school's evidence bucket; returns the stream's name.
pub async fn ensure(dir: &NatsDir, registry: &Registry, url: &str) -> anyhow::Result<String> {
    let settings = administrator_settings(dir, url);
    let client = event_bus::connect::connect(&settings, None)
        .await
        .context("cấu hình kết nối NATS quản trị không dùng được")?;
    let js = async_nats::jetstream::new(client.clone());
    let d = &registry.district;
    let stream = tokio::time::timeout(
        CONNECT_TIMEOUT,
        event_bus::stream::ensure_district_stream(&js, &d.province, &d.district),
    )
    .await
    .with_context(|| {
        format!(
            "nats-server tại {} không trả lời sau {} giây (máy chủ đã chạy chưa? tên máy chủ có trong chứng thư không?)",
            settings.redacted_url(),
            CONNECT_TIMEOUT.as_secs()
        )
    })?
    .context("không tạo được luồng của huyện")?;
    // Every issued school's evidence bucket: the school may write only into its own, and
    // may not create one.
    for school in registry
        .active()
        .filter(|i| i.kind == crate::registry::Kind::School)
    {
        let address =
            event_bus::subjects::SchoolAddress::parse(&d.province, &d.district, &school.name)
                .with_context(|| format!("mã trường «{}» không hợp lệ", school.name))?;
        tokio::time::timeout(
            CONNECT_TIMEOUT,
            event_bus::ensure_evidence_bucket(&js, &address),
        )
        .await
        .context("nats-server không trả lời khi tạo kho minh chứng")?
        .with_context(|| format!("không tạo được kho minh chứng của trường {}", school.name))?;
    }
    event_bus::connect::flush_before_exit(&client, Duration::from_secs(2)).await;
    Ok(stream.cached_info().config.name.clone())
}
