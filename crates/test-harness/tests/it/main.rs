//! Proves the harness starts real servers that behave as the other crates' tests rely on:
//! JetStream accepts and acknowledges publishes, its store survives stop, kill and restart on
//! the same port, config text is applied, and PostgreSQL hands out usable databases whose data
//! survives a restart.

use std::time::Duration;

use async_nats::jetstream;
use sqlx::{Connection as _, PgConnection};
use test_harness::{NatsServer, Postgres, wait_until};

const SUBJECT: &str = "truyenthong.events.dong-thap.tam-nong.thcs-an-hoa";

async fn jetstream_for(server: &NatsServer) -> jetstream::Context {
    let client = async_nats::connect(server.url())
        .await
        .expect("connect to nats");
    jetstream::new(client)
}

async fn create_stream(js: &jetstream::Context) {
    js.create_stream(jetstream::stream::Config {
        name: "EVENTS_TAM_NONG".to_string(),
        subjects: vec!["truyenthong.events.dong-thap.tam-nong.>".to_string()],
        ..Default::default()
    })
    .await
    .expect("create stream");
}

async fn publish(js: &jetstream::Context, body: &str) -> u64 {
    js.publish(SUBJECT, body.to_string().into())
        .await
        .expect("publish")
        .await
        .expect("ack")
        .sequence
}

async fn message_count(js: &jetstream::Context) -> u64 {
    let mut stream = js.get_stream("EVENTS_TAM_NONG").await.expect("get stream");
    stream.info().await.expect("stream info").state.messages
}

#[tokio::test]
async fn nats_starts_with_jetstream_and_acks_publishes() {
    let server = NatsServer::start().await.unwrap();
    assert!(server.is_running());
    assert_eq!(server.url(), format!("nats://127.0.0.1:{}", server.port()));
    assert!(server.store_dir().unwrap().is_dir());

    let js = jetstream_for(&server).await;
    create_stream(&js).await;
    assert_eq!(publish(&js, "one").await, 1);
    assert_eq!(publish(&js, "two").await, 2);
    assert_eq!(message_count(&js).await, 2);
}

#[tokio::test]
async fn nats_stop_and_restart_keep_the_store() {
    let mut server = NatsServer::start().await.unwrap();
    let port = server.port();
    {
        let js = jetstream_for(&server).await;
        create_stream(&js).await;
        for i in 0..3 {
            publish(&js, &format!("event {i}")).await;
        }
    }

    server.stop().await.unwrap();
    assert!(!server.is_running());
    server.restart().await.unwrap();
    assert!(server.is_running());
    assert_eq!(server.port(), port);

    let js = jetstream_for(&server).await;
    assert_eq!(message_count(&js).await, 3);
    let stream = js.get_stream("EVENTS_TAM_NONG").await.unwrap();
    let first = stream.get_raw_message(1).await.unwrap();
    assert_eq!(&first.payload[..], b"event 0");
    assert_eq!(publish(&js, "after restart").await, 4);
}

#[tokio::test]
async fn nats_kill_stops_serving_and_restart_recovers() {
    let mut server = NatsServer::start().await.unwrap();
    let js = jetstream_for(&server).await;
    create_stream(&js).await;
    publish(&js, "before crash").await;

    server.kill().unwrap();
    assert!(!server.is_running());
    assert!(async_nats::connect(server.url()).await.is_err());

    server.restart().await.unwrap();
    // The old client reconnects on its own once the server is back.
    wait_until(Duration::from_secs(10), || async {
        match js.get_stream("EVENTS_TAM_NONG").await {
            Ok(mut stream) => stream.info().await.is_ok_and(|i| i.state.messages == 1),
            Err(_) => false,
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn nats_extra_config_is_applied() {
    let server = NatsServer::start_with_config(
        "authorization { users: [ { user: school, password: secret } ] }",
    )
    .await
    .unwrap();

    assert!(
        async_nats::connect(server.url()).await.is_err(),
        "anonymous must be refused"
    );
    let client = async_nats::ConnectOptions::new()
        .user_and_password("school".into(), "secret".into())
        .connect(server.url())
        .await
        .unwrap();
    let js = jetstream::new(client);
    create_stream(&js).await;
    assert_eq!(publish(&js, "authenticated").await, 1);
}

#[tokio::test]
async fn nats_bad_config_fails_fast_with_the_log() {
    let err = NatsServer::start_with_config("this is { not valid")
        .await
        .unwrap_err();
    let message = format!("{err:#}");
    // "exited during startup", not "not ready after 10 s": the harness saw the process die
    // and did not wait out its readiness timeout.
    assert!(message.contains("exited during startup"), "{message}");
}

#[tokio::test]
async fn postgres_fresh_databases_are_usable_and_separate() {
    let pg = Postgres::start().await.unwrap();
    let a = pg.fresh_database().await.unwrap();
    let b = pg.fresh_database().await.unwrap();
    assert_ne!(a, b);

    let mut conn = PgConnection::connect(&a).await.unwrap();
    sqlx::query("CREATE TABLE t (id int PRIMARY KEY)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO t VALUES (1)")
        .execute(&mut conn)
        .await
        .unwrap();

    let mut other = PgConnection::connect(&b).await.unwrap();
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('t') IS NOT NULL")
        .fetch_one(&mut other)
        .await
        .unwrap();
    assert!(!exists, "databases must not share tables");
}

#[tokio::test]
async fn postgres_stop_and_restart_keep_data() {
    let mut pg = Postgres::start_local().await.unwrap();
    let url = pg.fresh_database().await.unwrap();
    {
        let mut conn = PgConnection::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE t (v text)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES ('kept')")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }

    pg.stop().await.unwrap();
    assert!(!pg.is_running());
    assert!(PgConnection::connect(&url).await.is_err());

    pg.restart().await.unwrap();
    assert!(pg.is_running());
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let v: String = sqlx::query_scalar("SELECT v FROM t")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(v, "kept");
}

/// Set for the child run of [`servers_registered_to_stop_at_exit_die_with_their_process`].
const EXIT_CHILD: &str = "TEST_HARNESS_EXIT_CHILD";

/// Not a test of its own: the child process of the test below. It starts both servers,
/// registers them to stop at exit, prints their pids and directories, and exits without
/// dropping anything, as a test binary holding them in a `static` does.
#[tokio::test]
#[ignore = "run by servers_registered_to_stop_at_exit_die_with_their_process"]
async fn exit_child_starts_servers_and_exits_without_dropping_them() {
    if std::env::var_os(EXIT_CHILD).is_none() {
        return;
    }
    let nats = NatsServer::start().await.unwrap();
    let pg = Postgres::start_local().await.unwrap();
    nats.stop_at_exit().unwrap();
    pg.stop_at_exit().unwrap();
    println!(
        "exit-child nats {} {}",
        nats.pid().unwrap(),
        nats.store_dir().unwrap().parent().unwrap().display()
    );
    println!(
        "exit-child postgres {} {}",
        pg.pid().unwrap(),
        pg.log_path().unwrap().parent().unwrap().display()
    );
    std::process::exit(0);
}

/// Whether `pid` is a live process (a zombie waiting for whoever adopted it is dead).
fn is_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // "pid (comm) S ...": the state follows the last parenthesis.
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
    })
}

#[tokio::test]
async fn servers_registered_to_stop_at_exit_die_with_their_process() {
    let output = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "exit_child_starts_servers_and_exits_without_dropping_them",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(EXIT_CHILD, "1")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let started: Vec<(i32, std::path::PathBuf)> = stdout
        .lines()
        // libtest prints "test NAME ... " before the test's own first line.
        .filter_map(|l| l.split_once("exit-child ").map(|(_, rest)| rest))
        .map(|l| {
            let mut words = l.split_whitespace().skip(1);
            let pid = words.next().unwrap().parse().unwrap();
            (pid, words.next().unwrap().into())
        })
        .collect();
    assert_eq!(started.len(), 2, "{stdout}");
    for (pid, dir) in started {
        wait_until(Duration::from_secs(30), || {
            let dir = dir.clone();
            async move { !is_alive(pid) && !dir.exists() }
        })
        .await
        .unwrap_or_else(|e| panic!("{pid} or {} outlived the test process: {e}", dir.display()));
    }
}
