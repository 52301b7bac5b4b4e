//! A school offline for a month: its agent's NATS URL points where nothing listens, staff
//! keep recording (March 2018 of its history), then the agent is restarted with the district's
//! URL and delivers its backlog, announcing it (`Tt-Outbox-Head`). Equal to the reference.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDate;
use demo_data::{DemoRequest, DemoSchool, Volume};
use domain::calendar::local_date;

use crate::oracle;
use crate::scenario;
use crate::system::{
    Agent, DISTRICT_AUTHOR, Ingest, SEED, System, author, dead_nats_url, ingest_state,
    request_date, school, wait_applied,
};

const OFFLINE: &str = "thcs-an-hoa";
const OTHERS: &[&str] = &["thcs-phu-cuong", "th-phu-duc"];
const VOLUME: Volume = Volume::DEMO;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// Splits a history (sorted by date) at two dates: before, within, after. Requests without a
/// date of their own (corrections, retractions) go with the request before them.
fn split(history: Vec<DemoRequest>, from: NaiveDate, until: NaiveDate) -> [Vec<DemoRequest>; 3] {
    let mut parts: [Vec<DemoRequest>; 3] = Default::default();
    let mut current = NaiveDate::MIN;
    for request in history {
        current = request_date(&request).unwrap_or(current);
        let part = if current < from {
            0
        } else if current < until {
            1
        } else {
            2
        };
        parts[part].push(request);
    }
    parts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn school_offline_for_a_month_reconnects_with_its_backlog() {
    let s = scenario("school_offline_for_a_month_reconnects_with_its_backlog").await;
    let system = System::start(Ingest::DEFAULT).await.unwrap();
    let offline = school(OFFLINE);
    let mut schools: Vec<&DemoSchool> = vec![offline];
    schools.extend(OTHERS.iter().map(|c| school(c)));
    let district_head = system.set_up_district(&schools).await.unwrap();
    let url = system.nats_url();

    let mut others = Vec::new();
    for code in OTHERS {
        others.push(Agent::start(school(code), &url).await.unwrap());
    }
    let other_feeds: Vec<_> = others
        .iter()
        .map(|a| a.feed(demo_data::history(a.school, VOLUME, SEED)))
        .collect();

    let [before, month, after] = split(
        demo_data::history(offline, VOLUME, SEED),
        date(2018, 3, 1),
        date(2018, 4, 1),
    );
    assert!(month.len() >= 10, "March 2018 has {} requests", month.len());

    // Online until the end of February 2018.
    let mut agent = Agent::start(offline, &url).await.unwrap();
    agent.feed(before).await.unwrap().unwrap();
    let online_head = agent.wait_delivered(Duration::from_secs(60)).await.unwrap();
    let online = BTreeMap::from([(OFFLINE.to_string(), online_head)]);
    wait_applied(&system.aggregator, &online, Duration::from_secs(60))
        .await
        .unwrap();
    s.step(format!(
        "{OFFLINE} delivered seq 1..={online_head}, then lost its link"
    ));

    // A month offline: NATS is unreachable, recording goes on.
    agent.restart_with(&dead_nats_url().unwrap()).await.unwrap();
    let recorded = agent.feed(month).await.unwrap().unwrap() as u64;
    let status = agent.status().await.unwrap();
    let month_head = online_head + recorded;
    assert_eq!(
        (
            status.head_seq,
            status.last_published_seq,
            status.backlog,
            status.connected
        ),
        (month_head, online_head, recorded, false),
        "{status:?}"
    );
    // The district heard nothing of it meanwhile.
    let mut office = system.office().await.unwrap();
    let state = ingest_state(&mut office).await.unwrap();
    let seen = author(&state, OFFLINE).unwrap();
    assert_eq!(
        (seen.applied_seq, seen.last_seq),
        (online_head, Some(online_head))
    );
    s.step(format!(
        "offline: {recorded} events of March 2018 recorded, backlog {}",
        status.backlog
    ));

    // Back online: the backlog goes out first, in order, then the rest of the history.
    // The PC is switched off and on again with the district's URL. (Not a graceful stop: an
    // agent that never reached NATS does not finish shutting down — `school_agent::run`
    // waits on `client.flush()` for ever while NATS is unreachable.)
    agent.power_off().await.unwrap();
    agent.restart_with(&url).await.unwrap();
    assert_eq!(
        agent.wait_delivered(Duration::from_secs(60)).await.unwrap(),
        month_head
    );
    let caught_up = BTreeMap::from([(OFFLINE.to_string(), month_head)]);
    let state = wait_applied(&system.aggregator, &caught_up, Duration::from_secs(60))
        .await
        .unwrap();
    let seen = author(&state, OFFLINE).unwrap();
    assert_eq!(
        (seen.last_seq, seen.outbox_head, seen.backlog),
        (Some(month_head), Some(month_head), Some(0)),
        "{seen:?}"
    );
    assert!(seen.last_contact_at.is_some());
    s.step(format!(
        "reconnected: seq {}..={month_head} delivered and applied",
        online_head + 1
    ));
    agent.feed(after).await.unwrap().unwrap();

    let mut heads = BTreeMap::from([(DISTRICT_AUTHOR.to_string(), district_head)]);
    heads.insert(
        OFFLINE.to_string(),
        agent.wait_delivered(Duration::from_secs(60)).await.unwrap(),
    );
    for (other, feed) in others.iter().zip(other_feeds) {
        feed.await.unwrap().unwrap();
        heads.insert(
            other.code().to_string(),
            other.wait_delivered(Duration::from_secs(60)).await.unwrap(),
        );
    }
    wait_applied(&system.aggregator, &heads, Duration::from_secs(60))
        .await
        .unwrap();
    system.wait_consumed(Duration::from_secs(60)).await.unwrap();

    let verified = oracle::verify(&system.js, &mut office, &heads)
        .await
        .unwrap();
    s.step(format!(
        "{} stream messages folded; {} comparisons",
        verified.messages.len(),
        verified.diffs.checked
    ));

    // The backlog: March 2018 events, each sent saying how far the school's log reached.
    let backlog: Vec<_> = verified
        .messages
        .iter()
        .filter(|m| {
            m.author() == OFFLINE && (online_head + 1..=month_head).contains(&m.envelope.seq)
        })
        .collect();
    assert_eq!(backlog.len() as u64, recorded);
    let announced: Vec<Option<u64>> = backlog
        .iter()
        .map(|m| m.header("Tt-Outbox-Head").and_then(|h| h.parse().ok()))
        .collect();
    assert!(
        announced.iter().all(|h| *h == Some(month_head)),
        "{announced:?}"
    );
    let dates: Vec<NaiveDate> = backlog
        .iter()
        .map(|m| local_date(m.envelope.occurred_at))
        .collect();
    let (first, last) = (dates.iter().min().unwrap(), dates.iter().max().unwrap());
    s.step(format!("the backlog's events happened {first}..={last}"));
    assert!(*first >= date(2018, 2, 20) && *last <= date(2018, 4, 10));

    verified.assert_substantial(300);
    verified.diffs.assert_none("after a month offline");

    agent.stop().await.unwrap();
    for mut other in others {
        other.stop().await.unwrap();
    }
    let mut system = system;
    system.aggregator.stop().await.unwrap();
}
