//! How the aggregator reaches PostgreSQL (`docs/database.md`): a service role with rights on
//! rows only while a schema owner migrates, grants and rebuilds; and TLS, with the server's
//! certificate checked against the district CA.

use async_nats::jetstream;
use chrono::Utc;
use demo_data::sealed::{DistrictOfficeLog, school_log};
use demo_data::{TAM_NONG_SCHOOLS, Volume};
use district_aggregator::config::DatabaseSettings;
use district_aggregator::db::{self, DbError};
use district_aggregator::rebuild::{self, RebuildOptions};
use sqlx::PgPool;
use test_harness::{NatsServer, Postgres};
use wire::pb;

use crate::support::*;

/// The SQLSTATE PostgreSQL answers a statement the role has no right to.
const INSUFFICIENT_PRIVILEGE: &str = "42501";

/// What `sql` fails with on `pool`: its SQLSTATE.
async fn refused_code(pool: &PgPool, sql: &str) -> String {
    match sqlx::query(sql).execute(pool).await {
        Ok(done) => panic!("`{sql}` was allowed ({} rows)", done.rows_affected()),
        Err(sqlx::Error::Database(e)) => e.code().map(|c| c.into_owned()).unwrap_or_default(),
        Err(other) => panic!("`{sql}` failed otherwise: {other}"),
    }
}

/// The owner migrates and grants; the service ingests and answers with rights on rows only:
/// no DDL, no migration table, and an audit log it can append to but never change. A rebuild
/// (run as the owner) swaps in a schema the service can use at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_role_has_rights_on_rows_only_and_the_owner_migrates_and_rebuilds() {
    district_fixture::init_tracing();
    let pg = Postgres::start().await.unwrap();
    let roles = pg.fresh_database_with_roles().await.unwrap();
    let nats = NatsServer::start().await.unwrap();
    let js = jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    event_bus::stream::ensure_district_stream(&js, PROVINCE, DISTRICT)
        .await
        .unwrap();
    let mut settings = district_fixture::settings(&roles.service_url, &nats.url());
    settings.database.owner_url = Some(roles.owner_url.clone().into());

    let running = Running::start(settings.clone()).await.unwrap();
    let s = &TAM_NONG_SCHOOLS[0];
    let mut office = DistrictOfficeLog::new();
    office.enrol(s);
    office.adopt_plan();
    let log = school_log(
        s,
        Volume {
            activities: 20,
            feedback: 3,
            press_issues: 1,
        },
        7,
    );
    publish(&js, office.envelopes()).await.unwrap();
    publish(&js, &log).await.unwrap();
    let owner = PgPool::connect(&roles.owner_url).await.unwrap();
    let applied = || async {
        sqlx::query_scalar::<_, i64>("SELECT applied_seq FROM live.positions WHERE author = $1")
            .bind(s.code)
            .fetch_optional(&owner)
            .await
            .unwrap()
    };
    test_harness::wait_until(WAIT, || async { applied().await == Some(log.len() as i64) })
        .await
        .unwrap();
    let schools = running
        .client()
        .await
        .unwrap()
        .list_schools(pb::ListSchoolsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(schools.schools.len(), 1, "answered as the service role");

    let service = PgPool::connect(&roles.service_url).await.unwrap();
    let activities = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM live.activities")
            .fetch_one(&service)
            .await
            .unwrap()
    };
    let before_rebuild = activities().await;
    assert!(before_rebuild > 0);
    for sql in [
        "CREATE TABLE live.intruder (x int)",
        "CREATE SCHEMA intruder",
        "DROP TABLE live.activities",
        "TRUNCATE live.activities",
        "ALTER TABLE accounts.accounts ADD COLUMN intruder int",
        "SELECT count(*) FROM public._sqlx_migrations",
        "UPDATE accounts.audit_log SET detail = ''",
        "DELETE FROM accounts.audit_log",
    ] {
        assert_eq!(
            refused_code(&service, sql).await,
            INSUFFICIENT_PRIVILEGE,
            "{sql}"
        );
    }
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts.audit_log")
        .fetch_one(&service)
        .await
        .unwrap();
    assert!(
        audited > 0,
        "the service reads and appends to the audit log"
    );
    let owner_of_live: String = sqlx::query_scalar(
        "SELECT pg_get_userbyid(nspowner)::text FROM pg_namespace WHERE nspname = 'live'",
    )
    .fetch_one(&owner)
    .await
    .unwrap();
    assert_eq!(owner_of_live, roles.owner);
    running.stop().await.unwrap();

    // The rebuild runs as the owner and grants the service its rights on the new schema
    // before swapping it in.
    let report = rebuild::run(&settings, RebuildOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(
        report.replayed as usize,
        office.envelopes().len() + log.len()
    );
    assert_eq!(
        activities().await,
        before_rebuild,
        "the service reads the rebuilt projection"
    );
    assert_eq!(
        refused_code(&service, "DROP TABLE live.activities").await,
        INSUFFICIENT_PRIVILEGE
    );
    let running = Running::start(settings).await.unwrap();
    let schools = running
        .client()
        .await
        .unwrap()
        .list_schools(pb::ListSchoolsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(schools.schools.len(), 1);
    running.stop().await.unwrap();
}

/// `sslmode=verify-full` against a server whose certificate the district CA signed: the
/// connection is encrypted (`pg_stat_ssl`), and a server the CA did not sign is refused. The
/// same server accepts plaintext too, so the first check can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aggregator_reaches_postgres_over_tls_and_checks_the_server() {
    let today = Utc::now().date_naive();
    let district = tempfile::tempdir().unwrap();
    district_admin::pki::ensure_ca(district.path(), "Phòng GD-ĐT Tam Nông", today).unwrap();
    let certificate = district_admin::pki::issue_service_certificate(
        district.path(),
        "postgres",
        &["localhost".to_owned()],
        today,
    )
    .unwrap();
    let stranger = tempfile::tempdir().unwrap();
    district_admin::pki::ensure_ca(stranger.path(), "Ai đó", today).unwrap();

    let pg = Postgres::start_local_with_tls(&certificate.certificate, &certificate.key)
        .await
        .unwrap();
    let plain = pg.fresh_database().await.unwrap();
    let over_tls = |ca: &std::path::Path| {
        format!(
            "{}?sslmode=verify-full&sslrootcert={}",
            plain.replace("127.0.0.1", "localhost"),
            ca.display()
        )
    };
    let settings = |url: String| DatabaseSettings {
        url: url.into(),
        owner_url: None,
        max_connections: 2,
        acquire_timeout_ms: 5_000,
    };
    let encrypted = |pool: PgPool| async move {
        sqlx::query_scalar::<_, bool>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&pool)
            .await
            .unwrap()
    };

    let pool = db::connect(&settings(over_tls(
        &district.path().join(district_admin::pki::CA_CERT),
    )))
    .await
    .unwrap();
    assert!(encrypted(pool).await, "verify-full connects over TLS");

    let refused = db::connect(&settings(over_tls(
        &stranger.path().join(district_admin::pki::CA_CERT),
    )))
    .await
    .expect_err("a server the CA did not sign is refused");
    assert!(matches!(refused, DbError::Connect(_)), "{refused}");

    let pool = db::connect(&settings(format!("{plain}?sslmode=disable")))
        .await
        .unwrap();
    assert!(!encrypted(pool).await, "the server also takes plaintext");
}
