//! PostgreSQL: the pool, the embedded migrations, and where the projections live.
//!
//! Projections live in the schema [`LIVE_SCHEMA`] (see the migration for why a schema, not a
//! table prefix: a rebuild builds a fresh one and swaps it in atomically). Code that writes
//! or reads projections never names the schema: it sets the transaction's `search_path`
//! with [`use_projection`], so the same statements serve the live schema and a rebuild's.

use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};
use sqlx::PgConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use tracing::{info, warn};

use crate::config::DatabaseSettings;

/// The schema of the projections the district office reads.
pub const LIVE_SCHEMA: &str = "live";

/// The schemas outside the projection that the service reads and writes.
const SERVICE_SCHEMAS: [&str; 2] = ["ops", "accounts"];

/// Why the database could not be set up. All of them mean "storage unavailable" to a caller.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid database URL ({which}): {source}")]
    Url {
        which: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "PostgreSQL at {host} is on another host and the {which} does not require TLS \
         (sslmode={mode}): add `sslmode=verify-full&sslrootcert=<the district CA>` to its URL \
         (docs/database.md)"
    )]
    PlaintextRemote {
        which: &'static str,
        host: String,
        mode: &'static str,
    },
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot connect to PostgreSQL as the schema owner (database.owner_url): {0}")]
    ConnectOwner(#[source] sqlx::Error),
    #[error("cannot migrate the aggregator's database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot grant the service role {role} its rights: {source}")]
    Grant {
        role: String,
        #[source]
        source: sqlx::Error,
    },
}

/// The options of one of the two connections: `which` names it in errors ("service
/// connection", "schema owner's connection"). Refuses a server on another host that the URL
/// does not require TLS for: the password and every school's data would cross the network
/// in the clear.
pub fn connect_options(
    url: &SecretString,
    which: &'static str,
) -> Result<PgConnectOptions, DbError> {
    let options: PgConnectOptions = url
        .expose_secret()
        .parse()
        .map_err(|source| DbError::Url { which, source })?;
    check_transport(&options, which)?;
    if matches!(options.get_ssl_mode(), PgSslMode::Require) && !is_same_host(&options) {
        warn!(
            host = options.get_host(),
            which,
            "PostgreSQL over TLS without checking the server's certificate (sslmode=require); verify-full also proves who the server is"
        );
    }
    Ok(options)
}

fn check_transport(options: &PgConnectOptions, which: &'static str) -> Result<(), DbError> {
    let mode = match options.get_ssl_mode() {
        PgSslMode::Require | PgSslMode::VerifyCa | PgSslMode::VerifyFull => return Ok(()),
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Prefer => "prefer",
    };
    if is_same_host(options) {
        return Ok(());
    }
    Err(DbError::PlaintextRemote {
        which,
        host: options.get_host().to_owned(),
        mode,
    })
}

/// A Unix socket or a loopback address: the connection never leaves this machine.
fn is_same_host(options: &PgConnectOptions) -> bool {
    let host = options.get_host();
    options.get_socket().is_some()
        || host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Connects the service's pool to `settings.url` and brings the schema up to date: with
/// `settings.owner_url`, the owner migrates and grants the service's role its rights (see
/// [`grant_service_role`]); without it, the service's own role migrates.
pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, DbError> {
    let options = connect_options(&settings.url, "service connection")?;
    let owner = settings
        .owner_url
        .as_ref()
        .map(|url| connect_options(url, "schema owner's connection"))
        .transpose()?;
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections.max(2))
        .acquire_timeout(settings.acquire_timeout())
        .connect_with(options.application_name("district-aggregator"))
        .await
        .map_err(DbError::Connect)?;
    match owner {
        None => migrate(&pool).await?,
        Some(owner) => {
            let role = current_role(&pool).await.map_err(DbError::Connect)?;
            let owner =
                connect_owner(owner.application_name("district-aggregator-migrate")).await?;
            migrate(&owner).await?;
            grant_service_role(&owner, &role, LIVE_SCHEMA).await?;
            owner.close().await;
        }
    }
    report_privileges(&pool, settings.owner_url.is_some()).await;
    Ok(pool)
}

/// A small pool of the schema owner, for migrating and granting.
pub(crate) async fn connect_owner(options: PgConnectOptions) -> Result<PgPool, DbError> {
    PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(DbError::ConnectOwner)
}

/// The role a pool's connections log in as.
pub(crate) async fn current_role<'e>(
    executor: impl sqlx::PgExecutor<'e>,
) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(executor)
        .await
}

/// Runs the embedded migrations (idempotent).
pub(crate) async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}

/// Grants `role` (the service's) what the running aggregator needs and nothing more, on
/// behalf of the schema owner `owner`: reading and writing the rows of the projection
/// `projection` and of `ops` and `accounts`, and appending to the audit log, which it may
/// never change or delete. No `CREATE`, `ALTER`, `DROP` or `TRUNCATE` anywhere, no access to
/// sqlx's migration table. Idempotent; run at every start, and by `rebuild` on the schema it
/// builds before swapping it in.
pub(crate) async fn grant_service_role(
    owner: &PgPool,
    role: &str,
    projection: &str,
) -> Result<(), DbError> {
    let owner_role = current_role(owner).await.map_err(DbError::ConnectOwner)?;
    if owner_role == role {
        return Ok(());
    }
    let to = quote_identifier(role);
    let schemas = std::iter::once(projection)
        .chain(SERVICE_SCHEMAS)
        .map(quote_identifier)
        .collect::<Vec<_>>()
        .join(", ");
    let statements = [
        format!("GRANT USAGE ON SCHEMA {schemas} TO {to}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schemas} TO {to}"),
        format!("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schemas} TO {to}"),
        format!("REVOKE UPDATE, DELETE, TRUNCATE ON accounts.audit_log FROM {to}"),
    ];
    let mut tx = owner.begin().await.map_err(|source| DbError::Grant {
        role: role.to_owned(),
        source,
    })?;
    for statement in &statements {
        sqlx::query(statement)
            .execute(&mut *tx)
            .await
            .map_err(|source| DbError::Grant {
                role: role.to_owned(),
                source,
            })?;
    }
    tx.commit().await.map_err(|source| DbError::Grant {
        role: role.to_owned(),
        source,
    })?;
    info!(
        service_role = role,
        owner_role, projection, "service role granted row rights only"
    );
    Ok(())
}

/// Says in the log when the service runs with more rights than it needs.
async fn report_privileges(pool: &PgPool, owner_separate: bool) {
    let row: Result<(String, bool, bool), _> = sqlx::query_as(
        "SELECT current_user::text, r.rolsuper, \
                EXISTS (SELECT 1 FROM pg_namespace n \
                        WHERE n.nspname = $1 AND n.nspowner = r.oid) \
         FROM pg_roles r WHERE r.rolname = current_user",
    )
    .bind(LIVE_SCHEMA)
    .fetch_one(pool)
    .await;
    match row {
        Ok((role, true, _)) => warn!(
            role,
            "the aggregator's service connection is a PostgreSQL superuser: give it a role of \
             its own and set database.owner_url (docs/database.md)"
        ),
        Ok((role, false, true)) if !owner_separate => info!(
            role,
            "one role owns the schema and serves; with database.owner_url the service runs \
             with row rights only (docs/database.md)"
        ),
        Ok(_) => {}
        Err(e) => warn!(error = %e, "could not read the service role's privileges"),
    }
}

/// `name` as a PostgreSQL identifier, quoted (role names come from configuration).
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Points the current transaction's `search_path` at the projection schema `schema` (then
/// `public`, for pg_trgm). Lasts until the transaction ends.
pub async fn use_projection(conn: &mut PgConnection, schema: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT set_config('search_path', format('%I, public', $1::text), true)")
        .bind(schema)
        .execute(conn)
        .await?;
    Ok(())
}

/// [`use_projection`] for a transaction that writes a batch: its bulk statements are also
/// planned for the arrays they are given. A generic plan assumes `unnest` yields 100 rows and
/// may join a batch's few dozen changes to a whole table by hashing it; a custom plan sees
/// the real count and looks each row up by its key.
pub(crate) async fn use_projection_for_writes(
    conn: &mut PgConnection,
    schema: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT set_config('search_path', format('%I, public', $1::text), true), \
                set_config('plan_cache_mode', 'force_custom_plan', true)",
    )
    .bind(schema)
    .execute(conn)
    .await?;
    Ok(())
}

/// Postgres `bigint`s are i64; seqs never come near the limit, saturate rather than wrap.
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The reverse of [`to_i64`]; negative values (never written) read as 0.
pub(crate) fn from_i64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(url: &str) -> Result<PgConnectOptions, DbError> {
        connect_options(&SecretString::from(url.to_owned()), "service connection")
    }

    #[test]
    fn a_server_on_this_host_may_be_reached_without_tls() {
        for url in [
            "postgres://svc@127.0.0.1/truyenthong",
            "postgres://svc@localhost:5433/truyenthong?sslmode=disable",
            "postgres://svc@[::1]/truyenthong",
            "postgres:///truyenthong?host=/var/run/postgresql",
        ] {
            assert!(options(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn a_server_on_another_host_must_be_reached_over_tls() {
        for url in [
            "postgres://svc@db.tamnong.local/truyenthong",
            "postgres://svc@10.0.0.5/truyenthong?sslmode=prefer",
            "postgres://svc@10.0.0.5/truyenthong?sslmode=disable",
        ] {
            let error = options(url).expect_err(url).to_string();
            assert!(error.contains("sslmode=verify-full"), "{error}");
            assert!(error.contains("service connection"), "{error}");
        }
        for url in [
            "postgres://svc@db.tamnong.local/truyenthong?sslmode=verify-full&sslrootcert=/etc/ca.pem",
            "postgres://svc@10.0.0.5/truyenthong?sslmode=require",
        ] {
            assert!(options(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn role_names_are_quoted() {
        assert_eq!(quote_identifier("truyenthong"), "\"truyenthong\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
    }
}
