//! Issuing, rotating and revoking keys on a running server: no restart, no lost history.

use bytes::Bytes;
use chrono::Utc;
use event_bus::subjects::{SchoolAddress, events_subject};

use crate::support::*;

async fn publish(client: &async_nats::Client, school: &str) -> Result<(), String> {
    let js = async_nats::jetstream::new(client.clone());
    let subject = events_subject(&SchoolAddress::parse(PROVINCE, DISTRICT, school).unwrap());
    js.publish(subject, Bytes::from_static(b"{}"))
        .await
        .map_err(|e| e.to_string())?
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_revoked_school_is_refused_at_once_while_the_others_keep_flowing() {
    let district = DistrictNats::start().await.unwrap();
    let an_hoa_seed = district.issue(AN_HOA);
    let phu_cuong_seed = district.issue(PHU_CUONG);
    let an_hoa = district.connect_school(AN_HOA, &an_hoa_seed).await.unwrap();
    let phu_cuong = district
        .connect_school(PHU_CUONG, &phu_cuong_seed)
        .await
        .unwrap();
    publish(&an_hoa, AN_HOA).await.unwrap();
    publish(&phu_cuong, PHU_CUONG).await.unwrap();

    // Revoked while connected: the running server reloads (SIGHUP through its pid file).
    let (_, reloaded) = district.nats_dir().revoke(AN_HOA, Utc::now()).unwrap();
    assert!(reloaded.is_some(), "the running server was not signalled");
    test_harness::wait_until(std::time::Duration::from_secs(10), || async {
        publish(&an_hoa, AN_HOA).await.is_err()
    })
    .await
    .expect("the revoked school could still publish");
    assert!(
        district.connect_school(AN_HOA, &an_hoa_seed).await.is_err(),
        "the revoked key connected again"
    );

    // The others flow; the revoked school's past events stay.
    publish(&phu_cuong, PHU_CUONG).await.unwrap();
    assert_eq!(district.stream_messages().await, 3);

    // A new key for the school works; the old one still does not.
    let renewed = district.dir.path().join("an-hoa-renewed.nk");
    district
        .nats_dir()
        .issue_school(AN_HOA, &renewed, Utc::now())
        .unwrap();
    let an_hoa = district.connect_school(AN_HOA, &renewed).await.unwrap();
    publish(&an_hoa, AN_HOA).await.unwrap();
    assert!(district.connect_school(AN_HOA, &an_hoa_seed).await.is_err());
}

#[tokio::test]
async fn a_rotated_key_replaces_the_old_one_without_a_restart() {
    let district = DistrictNats::start().await.unwrap();
    let old = district.issue(AN_HOA);
    let new = district.dir.path().join("an-hoa-2.nk");
    let issued = district
        .nats_dir()
        .rotate(AN_HOA, Some(&new), Utc::now())
        .unwrap();
    assert_eq!(issued.identity.rotations, 1);
    assert!(district.connect_school(AN_HOA, &old).await.is_err());
    let client = district.connect_school(AN_HOA, &new).await.unwrap();
    publish(&client, AN_HOA).await.unwrap();
}
