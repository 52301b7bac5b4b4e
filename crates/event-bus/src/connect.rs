//! Connecting to NATS the way a school office PC (and the district server) needs to.
//!
//! A school PC may boot without network and stay offline for days; recording must go on
//! regardless (invariant 2 of `docs/contract.md`) and the outbox relay publishes when it can. So the
//! connection is made in the background (`retry_on_initial_connect`): [`connect`] returns a
//! client at once even when the server is unreachable, and that client reconnects forever
//! with a capped exponential backoff. Connection changes are logged with `tracing`, since
//! "which schools are offline" is something the district asks about.
//!
//! Settings are plain serde data so they can live in each binary's configuration file;
//! secrets are [`SecretString`]s and never show in `Debug` output or logs, and a URL that
//! carries a user and password is logged only as [`NatsSettings::redacted_url`].
//!
//! **Secure by default.** The district's NATS server faces the internet, so [`connect`]
//! refuses settings without credentials (an nkey seed file, a `.creds` file, a user and
//! password, or a token) and TLS, unless they say `insecure = true` — for development on
//! one machine only, and said in a warning at every start.
//!
//! **What the server refused.** A publish the server's permissions forbid does not fail on
//! the client: the server sends an error and the publish's acknowledgement times out. The
//! [`ServerComplaints`] that [`connect_observed`] returns keeps the server's last permission
//! and authorization errors, so a caller can say "permission denied" instead of "timed out".

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event, ServerAddr};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Delay before the first reconnect attempt after the first has failed.
pub const RECONNECT_BASE_DELAY: Duration = Duration::from_millis(100);
/// Longest delay between two reconnect attempts. Ten seconds keeps an idle school PC's
/// retries negligible while it is offline, yet reconnects it soon after the network returns.
pub const RECONNECT_MAX_DELAY: Duration = Duration::from_secs(10);
/// How often the client pings the server. Two unanswered pings mark the connection dead,
/// so a half-open connection (a dropped VPN, a sleeping router) is noticed within about
/// a minute rather than the default two or more.
pub const PING_INTERVAL: Duration = Duration::from_secs(20);

/// How to reach and authenticate to NATS.
#[derive(Debug, Clone, Deserialize)]
pub struct NatsSettings {
    /// Server URL, e.g. `nats://district.example:4222` or `tls://…`; several may be given
    /// separated by commas.
    pub url: String,
    /// Connection name shown by the server's monitoring (e.g. the school address).
    #[serde(default)]
    pub name: Option<String>,
    /// A `.creds` file (JWT + NKey seed). Excludes the other authentication methods.
    #[serde(default)]
    pub credentials_file: Option<PathBuf>,
    /// A file holding the identity's nkey seed (`SU…`), as the district office issues it
    /// (`district-admin`). Excludes the other authentication methods.
    #[serde(default)]
    pub nkey_file: Option<PathBuf>,
    /// User name; requires `password`.
    #[serde(default)]
    pub user: Option<String>,
    /// Password; requires `user`.
    #[serde(default)]
    pub password: Option<SecretString>,
    /// Token authentication. Excludes user/password and credentials file.
    #[serde(default)]
    pub token: Option<SecretString>,
    /// TLS settings.
    #[serde(default)]
    pub tls: Option<TlsSettings>,
    /// Connect without credentials or without TLS. For development on one machine only:
    /// without it, such settings are refused.
    #[serde(default)]
    pub insecure: bool,
}

/// TLS settings.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TlsSettings {
    /// PEM file of extra root certificates to trust (e.g. the district's own CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate, for mutual TLS; requires `client_key`.
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    /// PEM client key; requires `client_cert`.
    #[serde(default)]
    pub client_key: Option<PathBuf>,
    /// Refuse to connect without TLS.
    #[serde(default)]
    pub required: bool,
}

impl NatsSettings {
    /// Settings with only a URL: no authentication, no TLS.
    pub fn new(url: impl Into<String>) -> Self {
        NatsSettings {
            url: url.into(),
            name: None,
            credentials_file: None,
            nkey_file: None,
            user: None,
            password: None,
            token: None,
            tls: None,
            insecure: false,
        }
    }

    /// Settings with only a URL, marked `insecure`: no authentication, no TLS. For tests and
    /// development against a local server.
    pub fn insecure_for_development(url: impl Into<String>) -> Self {
        NatsSettings {
            insecure: true,
            ..Self::new(url)
        }
    }

    /// The URL(s) with any `user:password@` replaced by `***@`: what may be logged.
    pub fn redacted_url(&self) -> String {
        self.url
            .split(',')
            .map(|url| redact_userinfo(url.trim()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// What is missing for a secured connection: an authentication method, TLS. Empty when
    /// the settings are secure.
    pub fn insecurities(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        let url_has_credentials = self.url.split(',').any(|u| userinfo(u.trim()).is_some());
        let authenticated = self.credentials_file.is_some()
            || self.nkey_file.is_some()
            || self.user.is_some()
            || self.token.is_some()
            || url_has_credentials;
        if !authenticated {
            missing.push(
                "no credentials (nats.nkey_file, nats.credentials_file, nats.user/password or nats.token)",
            );
        }
        let tls_urls = self
            .url
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .all(|u| u.starts_with("tls://"));
        let tls_required = self.tls.as_ref().is_some_and(|t| t.required);
        if !(tls_urls || tls_required) {
            missing.push("no TLS (nats.tls.required = true, or tls:// URLs)");
        }
        missing
    }

    /// Refuses insecure settings unless `insecure = true` (then warns, every time).
    pub fn check_secure(&self) -> Result<(), ConnectError> {
        let missing = self.insecurities();
        if missing.is_empty() {
            return Ok(());
        }
        if self.insecure {
            tracing::warn!(
                url = %self.redacted_url(),
                missing = %missing.join("; "),
                "NATS connection is NOT secured (nats.insecure = true): for development only"
            );
            return Ok(());
        }
        Err(ConnectError::Insecure(missing.join("; ")))
    }

    /// Checks the settings for contradictions and missing halves, without touching the
    /// network or the file system.
    pub fn validate(&self) -> Result<(), ConnectError> {
        self.server_addrs().map(|_| ())?;
        let invalid = |message: &str| Err(ConnectError::InvalidSettings(message.to_owned()));
        match (&self.user, &self.password) {
            (Some(user), _) if user.is_empty() => return invalid("nats.user is empty"),
            (Some(_), None) => return invalid("nats.user is set but nats.password is not"),
            (None, Some(_)) => return invalid("nats.password is set but nats.user is not"),
            _ => {}
        }
        if let Some(token) = &self.token
            && token.expose_secret().is_empty()
        {
            return invalid("nats.token is empty");
        }
        let methods = [
            self.credentials_file
                .is_some()
                .then_some("nats.credentials_file"),
            self.nkey_file.is_some().then_some("nats.nkey_file"),
            self.user.is_some().then_some("nats.user/nats.password"),
            self.token.is_some().then_some("nats.token"),
        ];
        let chosen: Vec<&str> = methods.into_iter().flatten().collect();
        if chosen.len() > 1 {
            return Err(ConnectError::InvalidSettings(format!(
                "choose one authentication method, not {}",
                chosen.join(" and ")
            )));
        }
        if let Some(path) = &self.credentials_file
            && path.as_os_str().is_empty()
        {
            return invalid("nats.credentials_file is empty");
        }
        if let Some(path) = &self.nkey_file
            && path.as_os_str().is_empty()
        {
            return invalid("nats.nkey_file is empty");
        }
        if let Some(tls) = &self.tls {
            match (&tls.client_cert, &tls.client_key) {
                (Some(_), None) => {
                    return invalid("nats.tls.client_cert is set but nats.tls.client_key is not");
                }
                (None, Some(_)) => {
                    return invalid("nats.tls.client_key is set but nats.tls.client_cert is not");
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn server_addrs(&self) -> Result<Vec<ServerAddr>, ConnectError> {
        let urls: Vec<&str> = self
            .url
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .collect();
        if urls.is_empty() {
            return Err(ConnectError::InvalidSettings("nats.url is empty".into()));
        }
        urls.into_iter()
            .map(|url| {
                url.parse::<ServerAddr>().map_err(|err| {
                    ConnectError::InvalidSettings(format!(
                        "nats.url {:?} is invalid: {err}",
                        redact_userinfo(url)
                    ))
                })
            })
            .collect()
    }
}

/// Why [`connect`] failed. Because the first connection is made in the background, these are
/// all problems of the settings or of local files; being offline is not an error here (see
/// the tracing output and [`Client::connection_state`]).
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The settings contradict themselves or miss a half: fix the configuration.
    #[error("invalid NATS settings: {0}")]
    InvalidSettings(String),
    /// A credentials, certificate or key file could not be read.
    #[error("cannot read {what} {path}: {source}")]
    File {
        /// Which file it is (e.g. "credentials file").
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// async-nats refused the options (e.g. an unusable TLS setup).
    #[error("cannot set up the NATS connection: {0}")]
    Client(#[source] async_nats::ConnectError),
    /// No credentials or no TLS, and the settings do not say `insecure = true`.
    #[error(
        "refusing an unsecured NATS connection: {0}. Configure the credentials and CA the district office issued; `nats.insecure = true` allows it for development only"
    )]
    Insecure(String),
}

/// The `user:password` part of a URL, if any.
fn userinfo(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.rsplit_once('@').map(|(info, _)| info)
}

/// `url` with its `user:password@` (or `token@`) replaced by `***@`.
fn redact_userinfo(url: &str) -> String {
    match userinfo(url) {
        Some(info) => url.replacen(&format!("{info}@"), "***@", 1),
        None => url.to_owned(),
    }
}

/// The server's last refusals, as the connection's event callback saw them. A publish the
/// server's permissions forbid is not an error on the client (the server reports it
/// asynchronously and the acknowledgement times out), so callers look here to explain a
/// time-out.
#[derive(Debug, Default)]
pub struct ServerComplaints {
    last: std::sync::Mutex<Option<Complaint>>,
}

/// One refusal by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    /// What the server said, e.g. `Permissions Violation for Publish to "…"`.
    pub message: String,
    /// When it was heard.
    pub at: std::time::Instant,
    pub kind: ComplaintKind,
}

/// What kind of refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplaintKind {
    /// The identity may not publish or subscribe there.
    PermissionDenied,
    /// The server does not accept the identity at all (unknown, revoked, wrong key).
    NotAuthorized,
}

impl ServerComplaints {
    /// The last refusal heard since `since`, if any.
    pub fn since(&self, since: std::time::Instant) -> Option<Complaint> {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.as_ref().filter(|c| c.at >= since).cloned()
    }

    fn record(&self, message: String, kind: ComplaintKind) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        *last = Some(Complaint {
            message,
            at: std::time::Instant::now(),
            kind,
        });
    }

    /// Classifies a server error: permission and authorization errors are kept.
    fn hear(&self, error: &async_nats::ServerError) {
        let text = error.to_string();
        let lower = text.to_ascii_lowercase();
        if lower.contains("permissions violation") {
            self.record(text, ComplaintKind::PermissionDenied);
        } else if matches!(error, async_nats::ServerError::AuthorizationViolation)
            || lower.contains("authorization")
            || lower.contains("authentication")
        {
            self.record(text, ComplaintKind::NotAuthorized);
        }
    }
}

/// The capped exponential backoff between reconnect attempts: none before the first,
/// then 100 ms, 200 ms, 400 ms … up to [`RECONNECT_MAX_DELAY`].
pub fn reconnect_delay(attempts: usize) -> Duration {
    if attempts <= 1 {
        return Duration::ZERO;
    }
    let exponent = u32::try_from(attempts - 2).unwrap_or(u32::MAX).min(16);
    RECONNECT_BASE_DELAY
        .saturating_mul(1 << exponent)
        .min(RECONNECT_MAX_DELAY)
}

fn readable(what: &'static str, path: &Path) -> Result<(), ConnectError> {
    std::fs::metadata(path)
        .and_then(|meta| {
            if meta.is_file() {
                Ok(())
            } else {
                Err(std::io::Error::other("not a regular file"))
            }
        })
        .map_err(|source| ConnectError::File {
            what,
            path: path.to_owned(),
            source,
        })
}

async fn log_event(event: Event) {
    match event {
        Event::Connected => tracing::info!("NATS connected"),
        Event::Disconnected => {
            tracing::warn!("NATS disconnected; reconnecting in the background")
        }
        Event::LameDuckMode => {
            tracing::warn!("NATS server entered lame duck mode")
        }
        Event::Draining => tracing::info!("NATS connection draining"),
        Event::Closed => tracing::info!("NATS connection closed"),
        Event::SlowConsumer(sid) => {
            tracing::warn!(sid, "NATS slow consumer: messages dropped")
        }
        Event::ServerError(err) => {
            tracing::warn!(error = %err, "NATS server error")
        }
        Event::ClientError(err) => {
            tracing::warn!(error = %err, "NATS client error")
        }
    }
}

/// Connects in the background and returns the client at once.
///
/// * The first connection is retried in the background, so a school whose network is down
///   at boot still starts; until it connects, publishes wait in the client's buffer and
///   requests time out.
/// * Reconnects are unlimited, with [`reconnect_delay`] between attempts.
/// * `inbox_prefix` (a school passes [`crate::subjects::inbox_prefix`]) replaces `_INBOX`,
///   so replies — JetStream acks included — arrive on subjects its NATS user may be limited
///   to.
/// * Connection events are logged with `tracing`: connects at info, disconnects and errors
///   at warn. An authentication failure shows up there as a repeated client error, since
///   the client keeps retrying.
///
/// Fails only on invalid settings or unreadable files.
pub async fn connect(
    settings: &NatsSettings,
    inbox_prefix: Option<String>,
) -> Result<Client, ConnectError> {
    Ok(connect_observed(settings, inbox_prefix).await?.0)
}

/// [`connect`], also returning what the server refuses on this connection.
pub async fn connect_observed(
    settings: &NatsSettings,
    inbox_prefix: Option<String>,
) -> Result<(Client, std::sync::Arc<ServerComplaints>), ConnectError> {
    settings.validate()?;
    settings.check_secure()?;
    let addrs = settings.server_addrs()?;

    let mut options = match &settings.credentials_file {
        Some(path) => {
            readable("credentials file", path)?;
            ConnectOptions::with_credentials_file(path)
                .await
                .map_err(|source| ConnectError::File {
                    what: "credentials file",
                    path: path.clone(),
                    source,
                })?
        }
        None => match &settings.nkey_file {
            Some(path) => ConnectOptions::with_nkey(read_seed(path)?),
            None => ConnectOptions::new(),
        },
    };
    if let (Some(user), Some(password)) = (&settings.user, &settings.password) {
        options = options.user_and_password(user.clone(), password.expose_secret().to_owned());
    }
    if let Some(token) = &settings.token {
        options = options.token(token.expose_secret().to_owned());
    }
    if let Some(tls) = &settings.tls {
        if let Some(ca) = &tls.ca_file {
            readable("TLS CA file", ca)?;
            options = options.add_root_certificates(ca.clone());
        }
        if let (Some(cert), Some(key)) = (&tls.client_cert, &tls.client_key) {
            readable("TLS client certificate", cert)?;
            readable("TLS client key", key)?;
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
        options = options.require_tls(tls.required);
    }
    if let Some(name) = &settings.name {
        options = options.name(name);
    }
    if let Some(prefix) = inbox_prefix {
        options = options.custom_inbox_prefix(prefix);
    }

    let complaints = std::sync::Arc::new(ServerComplaints::default());
    let heard = complaints.clone();
    let client = options
        .retry_on_initial_connect()
        .max_reconnects(None)
        .reconnect_delay_callback(reconnect_delay)
        .ping_interval(PING_INTERVAL)
        .event_callback(move |event| {
            if let Event::ServerError(error) = &event {
                heard.hear(error);
            }
            log_event(event)
        })
        .connect(addrs)
        .await
        .map_err(ConnectError::Client)?;
    Ok((client, complaints))
}

/// Reads an nkey seed file: the first line that looks like a seed (`S…`), so that a file
/// with comments, as `nsc` and `nk` write them, works too.
fn read_seed(path: &Path) -> Result<String, ConnectError> {
    readable("nkey seed file", path)?;
    let text = std::fs::read_to_string(path).map_err(|source| ConnectError::File {
        what: "nkey seed file",
        path: path.to_owned(),
        source,
    })?;
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with('S') && l.len() > 50 && !l.contains(' '))
        .map(str::to_owned)
        .ok_or_else(|| ConnectError::File {
            what: "nkey seed file",
            path: path.to_owned(),
            source: std::io::Error::other("no nkey seed (a line starting with S) in the file"),
        })
}

/// How long a service waits, when it stops, for NATS to take what it still buffers.
pub const FLUSH_ON_EXIT: Duration = Duration::from_secs(5);

/// Flushes the client before the process exits, waiting at most `within`: a school that
/// never reached NATS (or a district server whose NATS is down) would otherwise wait here for
/// ever. What is not flushed is not lost: unacknowledged events stay in the outbox, and
/// unacknowledged messages are redelivered by JetStream.
pub async fn flush_before_exit(client: &Client, within: Duration) {
    match tokio::time::timeout(within, client.flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "could not flush NATS on shutdown"),
        Err(_) => tracing::warn!(
            waited_ms = within.as_millis() as u64,
            "NATS unreachable; not waiting longer to flush on shutdown"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml_like: serde_json::Value) -> NatsSettings {
        serde_json::from_value(toml_like).unwrap()
    }

    #[test]
    fn minimal_settings_are_valid() {
        let s = settings(serde_json::json!({"url": "nats://localhost:4222"}));
        assert!(s.validate().is_ok());
        assert!(NatsSettings::new("localhost").validate().is_ok());
    }

    #[test]
    fn contradictions_are_named() {
        let cases = [
            (
                serde_json::json!({"url": "nats://x", "user": "a"}),
                "nats.user is set but nats.password is not",
            ),
            (
                serde_json::json!({"url": "nats://x", "password": "p"}),
                "nats.password is set but nats.user is not",
            ),
            (
                serde_json::json!({"url": "nats://x", "user": "a", "password": "p", "token": "t"}),
                "choose one authentication method, not nats.user/nats.password and nats.token",
            ),
            (
                serde_json::json!({"url": "nats://x", "credentials_file": "/a.creds", "token": "t"}),
                "choose one authentication method, not nats.credentials_file and nats.token",
            ),
            (
                serde_json::json!({"url": "nats://x", "tls": {"client_cert": "/c.pem", "required": true}}),
                "nats.tls.client_cert is set but nats.tls.client_key is not",
            ),
            (serde_json::json!({"url": " , "}), "nats.url is empty"),
            (
                serde_json::json!({"url": "nats://x", "token": ""}),
                "nats.token is empty",
            ),
        ];
        for (value, message) in cases {
            let err = settings(value).validate().unwrap_err();
            assert_eq!(err.to_string(), format!("invalid NATS settings: {message}"));
        }
    }

    #[test]
    fn secrets_do_not_leak_into_debug() {
        let s = settings(
            serde_json::json!({"url": "nats://x", "user": "school", "password": "hunter2"}),
        );
        let debug = format!("{s:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn backoff_is_capped() {
        assert_eq!(reconnect_delay(0), Duration::ZERO);
        assert_eq!(reconnect_delay(1), Duration::ZERO);
        assert_eq!(reconnect_delay(2), Duration::from_millis(100));
        assert_eq!(reconnect_delay(3), Duration::from_millis(200));
        assert_eq!(reconnect_delay(8), Duration::from_millis(6400));
        assert_eq!(reconnect_delay(9), RECONNECT_MAX_DELAY);
        assert_eq!(reconnect_delay(usize::MAX), RECONNECT_MAX_DELAY);
    }

    #[test]
    fn credentials_in_a_url_are_never_shown() {
        let s = NatsSettings::new("nats://school:hunter2@10.0.0.5:4222, tls://tok@host:4222");
        assert_eq!(
            s.redacted_url(),
            "nats://***@10.0.0.5:4222,tls://***@host:4222"
        );
        assert_eq!(
            NatsSettings::new("tls://district.example:4222").redacted_url(),
            "tls://district.example:4222"
        );
        let err = NatsSettings::new("nats://a:hunter2@:::bad").validate();
        if let Err(e) = err {
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn settings_without_credentials_or_tls_are_refused_unless_insecure() {
        let open = NatsSettings::new("nats://127.0.0.1:4222");
        let err = open.check_secure().unwrap_err().to_string();
        assert!(
            err.contains("no credentials") && err.contains("no TLS"),
            "{err}"
        );
        assert!(err.contains("nats.insecure = true"), "{err}");

        let mut seeded = NatsSettings::new("tls://district.example:4222");
        seeded.nkey_file = Some("/etc/truyenthong/thcs-an-hoa.nk".into());
        assert_eq!(seeded.insecurities(), Vec::<&str>::new());
        assert!(seeded.check_secure().is_ok());

        let mut no_tls = NatsSettings::new("nats://district.example:4222");
        no_tls.nkey_file = Some("/x.nk".into());
        assert_eq!(no_tls.insecurities().len(), 1);
        no_tls.tls = Some(TlsSettings {
            required: true,
            ..TlsSettings::default()
        });
        assert!(no_tls.check_secure().is_ok());

        assert!(
            NatsSettings::insecure_for_development("nats://127.0.0.1:4222")
                .check_secure()
                .is_ok()
        );
    }

    #[test]
    fn a_seed_file_with_comments_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("school.nk");
        let seed = nkeys::KeyPair::new_user().seed().unwrap();
        std::fs::write(&path, format!("# issued by the district office\n{seed}\n")).unwrap();
        assert_eq!(read_seed(&path).unwrap(), seed);
        std::fs::write(&path, "no seed here\n").unwrap();
        assert!(
            read_seed(&path)
                .unwrap_err()
                .to_string()
                .contains("no nkey seed")
        );
    }

    #[test]
    fn permission_and_authorization_errors_are_kept_for_the_caller() {
        let complaints = ServerComplaints::default();
        let before = std::time::Instant::now();
        complaints.hear(&async_nats::ServerError::Other(
            "Permissions Violation for Publish to \"truyenthong.events.dong-thap.tam-nong.thcs-phu-cuong\"".into(),
        ));
        let heard = complaints.since(before).unwrap();
        assert_eq!(heard.kind, ComplaintKind::PermissionDenied);
        assert!(heard.message.contains("thcs-phu-cuong"));
        complaints.hear(&async_nats::ServerError::AuthorizationViolation);
        assert_eq!(
            complaints.since(before).unwrap().kind,
            ComplaintKind::NotAuthorized
        );
        assert!(
            complaints
                .since(std::time::Instant::now() + Duration::from_secs(1))
                .is_none()
        );
    }

    #[tokio::test]
    async fn missing_credentials_file_is_reported() {
        let mut s = NatsSettings::insecure_for_development("nats://127.0.0.1:1");
        s.credentials_file = Some("/nonexistent/school.creds".into());
        let err = connect(&s, None).await.unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read credentials file /nonexistent/school.creds"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn connect_returns_while_the_server_is_unreachable() {
        // Port 1 is never a NATS server; the client must come back at once anyway.
        let client = tokio::time::timeout(
            Duration::from_secs(2),
            connect(
                &NatsSettings::insecure_for_development("nats://127.0.0.1:1"),
                None,
            ),
        )
        .await
        .expect("connect must not wait for the server")
        .unwrap();
        assert_ne!(
            client.connection_state(),
            async_nats::connection::State::Connected
        );
    }
}
