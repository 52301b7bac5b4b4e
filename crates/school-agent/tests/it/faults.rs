//! NATS down for part of the run, and the agent killed mid-work: nothing recorded is lost or
//! doubled, and recording never waits for the network.

use std::time::Duration;

use test_harness::NatsServer;

use crate::support::*;

#[tokio::test]
async fn nats_down_then_back_loses_and_doubles_nothing() {
    let mut nats = NatsServer::start().await.unwrap();
    let school = SchoolDir::new().unwrap();
    let agent = RunningAgent::start(school.settings(&nats.url()))
        .await
        .unwrap();
    let mut client = agent.client().await.unwrap();
    adopt_seed_plan(&mut client).await.unwrap();
    for n in 0..100 {
        client.record_activity(activity(n)).await.unwrap();
    }
    wait_delivered(&client, 101, Duration::from_secs(30))
        .await
        .unwrap();

    nats.stop().await.unwrap();
    // Recording while NATS is down: every command is answered OK from the log alone. Had a
    // command waited on the network it would fail or never return while the server is gone.
    for n in 100..400 {
        client.record_activity(activity(n)).await.unwrap();
    }
    let down = status(&mut client).await.unwrap();
    assert_eq!(down.head_seq, 401);
    assert!(down.backlog >= 300, "backlog while down: {}", down.backlog);
    assert!(!down.connected);

    nats.restart().await.unwrap();
    for n in 400..500 {
        client.record_activity(activity(n)).await.unwrap();
    }
    wait_delivered(&client, 501, Duration::from_secs(60))
        .await
        .unwrap();
    let messages = stream_messages(&nats.url()).await.unwrap();
    assert_delivered_once_in_order(&messages, 501);
    let up = status(&mut client).await.unwrap();
    assert!(up.connected);
    assert!(up.last_publish_at.is_some());
    agent.stop().await.unwrap();
}

#[tokio::test]
async fn agent_killed_while_recording_and_relaying_keeps_every_ok() {
    let nats = NatsServer::start().await.unwrap();
    let school = SchoolDir::new().unwrap();
    let mut agent = spawn_process(&school, &nats.url()).await.unwrap();
    let mut client = agent.client().await.unwrap();
    adopt_seed_plan(&mut client).await.unwrap();

    // Four writers record until the agent dies under them; each remembers what got an OK.
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let mut c = client.clone();
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for i in 0..100_000u64 {
                    let mut request = activity(w * 100_000 + i);
                    let id = uuid::Uuid::now_v7().to_string();
                    request.activity_id = id.clone();
                    match c.record_activity(request).await {
                        Ok(reply) => acknowledged.push((reply.into_inner().seq, id)),
                        Err(_) => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    // Killed once JetStream has acknowledged 200 events (a count, whatever the machine's
    // speed): the writers are recording and the relay is publishing at that moment.
    wait_published(&client, 200, Duration::from_secs(60))
        .await
        .unwrap();
    agent.kill().await.unwrap();
    let mut acknowledged: Vec<(u64, String)> = Vec::new();
    for w in writers {
        acknowledged.extend(w.await.unwrap());
    }
    assert!(
        acknowledged.len() > 50,
        "only {} commands before the kill",
        acknowledged.len()
    );

    let mut agent = spawn_process(&school, &nats.url()).await.unwrap();
    let mut client = agent.client().await.unwrap();
    let head = status(&mut client).await.unwrap().head_seq;
    let max_ok = acknowledged.iter().map(|(seq, _)| *seq).max().unwrap();
    assert!(
        head >= max_ok,
        "head {head} is behind an acknowledged seq {max_ok}"
    );
    wait_delivered(&client, head, Duration::from_secs(60))
        .await
        .unwrap();

    let messages = stream_messages(&nats.url()).await.unwrap();
    assert_delivered_once_in_order(&messages, head);
    let ids: std::collections::HashMap<u64, String> = messages
        .iter()
        .map(|m| {
            let e = domain::Envelope::parse(&m.payload).unwrap();
            (
                e.seq,
                e.data
                    .to_value()
                    .unwrap()
                    .get("activity_id")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    for (seq, id) in &acknowledged {
        assert_eq!(
            ids.get(seq),
            Some(id),
            "acknowledged activity {id} at seq {seq} is not in the stream"
        );
    }
    agent
        .stop()
        .await
        .expect("SIGTERM stops the agent gracefully with exit code 0");
}
