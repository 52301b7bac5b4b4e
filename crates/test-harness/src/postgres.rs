//! A real PostgreSQL for integration tests.
//!
//! The district aggregator keeps its projections in PostgreSQL, and what tests must check
//! (migrations, constraints, idempotent upserts under concurrency, surviving a database
//! restart) only means something against the real server. [`Postgres::start`] uses the server
//! named by `DATABASE_URL` when set (CI services, a developer's own server); otherwise it
//! creates a throwaway cluster with `initdb` in a temporary directory and runs `postgres` on a
//! free loopback port with trust authentication and durability turned off for speed.
//! Tests isolate themselves with [`Postgres::fresh_database`] rather than sharing one.
//!
//! `initdb` and `postgres` refuse to run as root; when the tests run as root the server runs as
//! the `postgres` system user (created by the Debian `postgresql` package) and owns the
//! temporary directory.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use nix::sys::signal::Signal;
use nix::unistd::{Gid, Uid, User};
use sqlx::{Connection as _, Executor as _, PgConnection};
use tempfile::TempDir;

use crate::ports::{free_port, wait_port_bindable};
use crate::process::{ChildProcess, find_program, log_tail, open_log};

/// How long a server may take to accept connections before start fails.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `stop` waits after SIGINT (fast shutdown) before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// How long `Drop` waits after SIGQUIT (immediate shutdown) before SIGKILL.
const DROP_GRACE: Duration = Duration::from_secs(5);
/// How many different ports the first start tries when the chosen one was taken meanwhile.
const START_ATTEMPTS: usize = 3;
/// Lines of the server log quoted in errors.
const LOG_TAIL_LINES: usize = 30;

/// A PostgreSQL server for tests: a throwaway cluster, or the server named by `DATABASE_URL`.
///
/// Dropping a throwaway cluster shuts the server down and removes its directory.
#[derive(Debug)]
pub struct Postgres {
    /// URL of the admin database (`postgres`).
    url: String,
    port: u16,
    /// `None` for an external server from `DATABASE_URL`.
    managed: Option<Managed>,
}

#[derive(Debug)]
struct Managed {
    postgres_bin: PathBuf,
    /// The `postgres` system user's ids when we run as root.
    run_as: Option<(Uid, Gid)>,
    /// `None` while stopped. Behind a mutex so `is_running` can take `&self`.
    child: Mutex<Option<ChildProcess>>,
    /// The server certificate (chain) and key inside `dir`, when the server speaks TLS.
    tls: Option<(PathBuf, PathBuf)>,
    /// Holds `data/`, the Unix socket and `postgres.log`. Declared last: removed after the
    /// server is gone.
    dir: TempDir,
}

impl Postgres {
    /// The server at `DATABASE_URL` when that variable is set (it cannot be stopped or
    /// restarted through this handle), otherwise a new throwaway cluster
    /// ([`start_local`](Self::start_local)).
    pub async fn start() -> anyhow::Result<Self> {
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => Ok(Postgres {
                port: port_of(&url).unwrap_or(5432),
                url,
                managed: None,
            }),
            _ => Self::start_local().await,
        }
    }

    /// Always creates a throwaway cluster (ignoring `DATABASE_URL`): for tests that stop or
    /// restart the server.
    pub async fn start_local() -> anyhow::Result<Self> {
        Self::start_local_in(&std::env::temp_dir()).await
    }

    /// Like [`start_local`](Self::start_local), with the cluster's directory created inside
    /// `parent` (which the `postgres` user must be able to traverse when running as root).
    pub async fn start_local_in(parent: &std::path::Path) -> anyhow::Result<Self> {
        Self::start_local_with(parent, None).await
    }

    /// A throwaway cluster that also accepts TLS, presenting the certificate chain `cert`
    /// (PEM, the server's first) with its `key`; plaintext connections are still accepted, so
    /// a test can tell what its client chose from `pg_stat_ssl`.
    pub async fn start_local_with_tls(
        cert: &std::path::Path,
        key: &std::path::Path,
    ) -> anyhow::Result<Self> {
        Self::start_local_with(&std::env::temp_dir(), Some((cert, key))).await
    }

    async fn start_local_with(
        parent: &std::path::Path,
        tls: Option<(&std::path::Path, &std::path::Path)>,
    ) -> anyhow::Result<Self> {
        let initdb = find_program("initdb")?;
        let postgres_bin = find_program("postgres")?;
        let dir = tempfile::Builder::new()
            .prefix("pg-")
            .tempdir_in(parent)
            .with_context(|| {
                format!(
                    "creating a directory for PostgreSQL in {}",
                    parent.display()
                )
            })?;
        let run_as = if nix::unistd::geteuid().is_root() {
            let user = User::from_name("postgres")
                .context("looking up the `postgres` user")?
                .context(
                    "running as root, and PostgreSQL refuses root, but there is no `postgres` \
                     user (install the `postgresql` package)",
                )?;
            nix::unistd::chown(dir.path(), Some(user.uid), Some(user.gid))
                .with_context(|| format!("chown {} to postgres", dir.path().display()))?;
            Some((user.uid, user.gid))
        } else {
            None
        };
        let tls = match tls {
            Some((cert, key)) => Some(install_tls_files(dir.path(), cert, key, run_as)?),
            None => None,
        };
        let mut managed = Managed {
            postgres_bin,
            run_as,
            child: Mutex::new(None),
            tls,
            dir,
        };
        managed.initdb(&initdb).await?;

        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            let mut server = Postgres {
                url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                port,
                managed: Some(managed),
            };
            match server.spawn_and_wait().await {
                Ok(()) => return Ok(server),
                Err(e) => {
                    managed = server.managed.take().expect("set above");
                    let tail = log_tail(&managed.log_path(), LOG_TAIL_LINES);
                    if !tail.contains("could not bind") && !tail.contains("already in use") {
                        return Err(e);
                    }
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.expect("at least one attempt")).context("no free port after retries")
    }

    /// URL of the admin database, `postgres://postgres@127.0.0.1:PORT/postgres` for a throwaway
    /// cluster.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's log file (`None` for an external server).
    pub fn log_path(&self) -> Option<PathBuf> {
        self.managed.as_ref().map(Managed::log_path)
    }

    /// Whether this handle owns the server (and can stop and restart it).
    pub fn is_local(&self) -> bool {
        self.managed.is_some()
    }

    /// Whether the server process is alive. Always `true` for an external server.
    pub fn is_running(&self) -> bool {
        match &self.managed {
            None => true,
            Some(m) => m
                .child
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_mut()
                .is_some_and(|c| c.exited().is_none()),
        }
    }

    /// The postmaster's process id while it runs (`None` when stopped or external).
    pub fn pid(&self) -> Option<u32> {
        let managed = self.managed.as_ref()?;
        let child = managed.child.lock().unwrap_or_else(PoisonError::into_inner);
        child.as_ref().map(ChildProcess::id)
    }

    /// Makes sure the cluster is shut down (SIGQUIT, immediate shutdown, as on drop) and its
    /// directory removed when this test process exits, for a server that is never dropped
    /// (one kept in a `static` and shared by a binary's tests): see
    /// [`exit_guard`](crate::exit_guard). Register again after a restart. A no-op for an
    /// external server.
    pub fn stop_at_exit(&self) -> anyhow::Result<()> {
        let Some(managed) = self.managed.as_ref() else {
            return Ok(());
        };
        if let Some(pid) = self.pid() {
            crate::exit_guard::kill_at_exit(pid, Signal::SIGQUIT)?;
        }
        crate::exit_guard::remove_at_exit(managed.dir.path())
    }

    /// Creates a new, uniquely named empty database (`t_<uuid>`) and returns its URL.
    pub async fn fresh_database(&self) -> anyhow::Result<String> {
        let name = format!("t_{}", uuid::Uuid::now_v7().simple());
        let mut conn = PgConnection::connect(&self.url)
            .await
            .with_context(|| format!("connecting to {}", self.url))?;
        conn.execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .with_context(|| format!("creating database {name}"))?;
        conn.close().await.context("closing the admin connection")?;
        with_database(&self.url, &name)
    }

    /// A fresh database (as [`fresh_database`](Self::fresh_database)) owned by a new role,
    /// with a second new role that has no rights on it yet: the aggregator's least-privilege
    /// layout, where the owner migrates and grants the service what it needs. Both roles log
    /// in with a random password (used where the server asks for one).
    pub async fn fresh_database_with_roles(&self) -> anyhow::Result<SplitRoles> {
        let id = uuid::Uuid::now_v7().simple().to_string();
        let name = format!("t_{id}");
        let owner = format!("o_{id}");
        let service = format!("s_{id}");
        let owner_password = uuid::Uuid::now_v7().simple().to_string();
        let service_password = uuid::Uuid::now_v7().simple().to_string();
        let mut conn = PgConnection::connect(&self.url)
            .await
            .with_context(|| format!("connecting to {}", self.url))?;
        for statement in [
            format!("CREATE ROLE \"{owner}\" LOGIN PASSWORD '{owner_password}'"),
            format!("CREATE ROLE \"{service}\" LOGIN PASSWORD '{service_password}'"),
            format!("CREATE DATABASE \"{name}\" OWNER \"{owner}\""),
        ] {
            conn.execute(statement.as_str())
                .await
                .with_context(|| format!("creating the roles and database {name}"))?;
        }
        conn.close().await.context("closing the admin connection")?;
        let url = with_database(&self.url, &name)?;
        Ok(SplitRoles {
            owner_url: with_user(&url, &owner, &owner_password)?,
            service_url: with_user(&url, &service, &service_password)?,
            owner,
            service,
        })
    }

    /// Fast shutdown (SIGINT: clients disconnected, checkpoint written), waiting for exit.
    /// A no-op when stopped.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        let managed = self.managed_mut("stop")?;
        let child = managed
            .child
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(mut child) = child.take() {
            child.terminate(Signal::SIGINT, STOP_GRACE).await?;
        }
        Ok(())
    }

    /// Starts the server again on the same port and data directory (stopping it first if it is
    /// running) and waits until it accepts connections.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await?;
        wait_port_bindable(self.port, Duration::from_secs(5)).await?;
        self.spawn_and_wait().await
    }

    fn managed_mut(&mut self, what: &str) -> anyhow::Result<&mut Managed> {
        self.managed.as_mut().with_context(|| {
            format!("cannot {what} the external PostgreSQL server (from DATABASE_URL)")
        })
    }

    /// Spawns `postgres` and waits until it accepts connections.
    async fn spawn_and_wait(&mut self) -> anyhow::Result<()> {
        let port = self.port;
        let url = self.url.clone();
        let managed = self.managed_mut("start")?;
        let (stdout, stderr) = open_log(&managed.log_path())?;
        let dir = managed.dir.path();
        let mut command = std::process::Command::new(&managed.postgres_bin);
        command
            .arg("-D")
            .arg(dir.join("data"))
            .arg("-p")
            .arg(port.to_string())
            .arg("-k")
            .arg(dir)
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .args(["-c", "max_connections=200"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        if let Some((cert, key)) = &managed.tls {
            command
                .args(["-c", "ssl=on"])
                .arg("-c")
                .arg(format!("ssl_cert_file={}", cert.display()))
                .arg("-c")
                .arg(format!("ssl_key_file={}", key.display()));
        }
        if let Some((uid, gid)) = managed.run_as {
            std::os::unix::process::CommandExt::uid(&mut command, uid.as_raw());
            std::os::unix::process::CommandExt::gid(&mut command, gid.as_raw());
        }
        let child = command
            .spawn()
            .with_context(|| format!("spawning {}", managed.postgres_bin.display()))?;
        *managed
            .child
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner) = Some(ChildProcess::new(child));

        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = managed
                .child
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .as_mut()
                .and_then(ChildProcess::exited)
            {
                managed
                    .child
                    .get_mut()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                anyhow::bail!(
                    "postgres exited during startup ({status}); log tail:\n{}",
                    log_tail(&managed.log_path(), LOG_TAIL_LINES)
                );
            }
            let attempt =
                tokio::time::timeout(Duration::from_secs(2), PgConnection::connect(&url)).await;
            if let Ok(Ok(conn)) = attempt {
                let _ = conn.close().await;
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                let tail = log_tail(&managed.log_path(), LOG_TAIL_LINES);
                if let Some(mut child) = managed
                    .child
                    .get_mut()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                {
                    child.kill();
                }
                anyhow::bail!(
                    "postgres on port {port} not ready after {READY_TIMEOUT:?}; log tail:\n{tail}"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Managed {
    fn log_path(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    /// Creates the cluster in `data/`: superuser `postgres`, trust authentication, UTF-8.
    async fn initdb(&mut self, initdb: &std::path::Path) -> anyhow::Result<()> {
        let mut command = tokio::process::Command::new(initdb);
        command
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid.as_raw()).gid(gid.as_raw());
        }
        let output = command
            .output()
            .await
            .with_context(|| format!("running {}", initdb.display()))?;
        if !output.status.success() {
            anyhow::bail!(
                "{} failed ({}):\n{}{}",
                initdb.display(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let Some(managed) = self.managed.as_mut() else {
            return;
        };
        if std::thread::panicking() {
            eprintln!(
                "--- postgres {} log tail ({}) ---\n{}\n---",
                self.url,
                managed.log_path().display(),
                log_tail(&managed.log_path(), LOG_TAIL_LINES)
            );
        }
        if let Some(mut child) = managed
            .child
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            // Immediate shutdown: the postmaster stops its backends and exits; nothing to keep.
            child.terminate_blocking(Signal::SIGQUIT, DROP_GRACE);
        }
        // `managed.dir` is removed when the fields drop, after the server is gone.
    }
}

/// The port in a PostgreSQL URL such as `postgres://u:p@host:5433/db?x=y`.
fn port_of(url: &str) -> Option<u16> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    host_port.rsplit_once(':')?.1.parse().ok()
}

/// `url` with its database name replaced by `database` (query parameters kept).
/// A database of [`Postgres::fresh_database_with_roles`]: its owner's and its service's
/// connection URLs and role names.
#[derive(Debug, Clone)]
pub struct SplitRoles {
    pub owner_url: String,
    pub service_url: String,
    pub owner: String,
    pub service: String,
}

/// Copies the server's certificate and key into `dir`, readable by the server only (it
/// refuses a key others can read).
fn install_tls_files(
    dir: &std::path::Path,
    cert: &std::path::Path,
    key: &std::path::Path,
    run_as: Option<(Uid, Gid)>,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    use std::os::unix::fs::PermissionsExt as _;
    let installed = (dir.join("server.crt"), dir.join("server.key"));
    for (from, to) in [(cert, &installed.0), (key, &installed.1)] {
        std::fs::copy(from, to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("chmod 0600 {}", to.display()))?;
        if let Some((uid, gid)) = run_as {
            nix::unistd::chown(to, Some(uid), Some(gid))
                .with_context(|| format!("chown {} to postgres", to.display()))?;
        }
    }
    Ok(installed)
}

/// `url` with its user and password replaced.
fn with_user(url: &str, user: &str, password: &str) -> anyhow::Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .with_context(|| format!("not a database URL: {url}"))?;
    let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    Ok(format!("{scheme}://{user}:{password}@{host}{path}"))
}

fn with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .with_context(|| format!("not a database URL: {url}"))?;
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or(before_query);
    let mut out = format!("{scheme}://{authority}/{database}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_user_in_urls() {
        assert_eq!(
            with_user("postgres://postgres@127.0.0.1:5/t_x", "o", "p").unwrap(),
            "postgres://o:p@127.0.0.1:5/t_x"
        );
        assert_eq!(
            with_user("postgres://a:b@h/t?sslmode=disable", "s", "q").unwrap(),
            "postgres://s:q@h/t?sslmode=disable"
        );
        assert_eq!(
            with_user("postgres://h", "s", "q").unwrap(),
            "postgres://s:q@h"
        );
    }

    #[test]
    fn replaces_the_database_in_urls() {
        let cases = [
            ("postgres://u@h:1/postgres", "postgres://u@h:1/t_x"),
            (
                "postgres://u:p@h:1/db?sslmode=disable",
                "postgres://u:p@h:1/t_x?sslmode=disable",
            ),
            ("postgresql://h", "postgresql://h/t_x"),
            (
                "postgres://h:5/?application_name=a",
                "postgres://h:5/t_x?application_name=a",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(with_database(input, "t_x").unwrap(), expected, "{input}");
        }
    }

    #[test]
    fn parses_ports() {
        assert_eq!(port_of("postgres://u:p@h:5433/db"), Some(5433));
        assert_eq!(port_of("postgres://h/db"), None);
        assert_eq!(port_of("postgres://h:7?x=1"), Some(7));
    }
}
