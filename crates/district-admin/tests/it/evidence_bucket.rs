//! The schools' evidence buckets on the district's real NATS: a school writes and reads only
//! its own bucket, another school's identity is refused writing into it, and the aggregator
//! reads every school's bucket without being able to write one.

use std::time::Duration;

use async_nats::jetstream;
use event_bus::subjects::{SchoolAddress, aggregator_inbox_prefix, evidence_bucket};
use tokio::io::AsyncReadExt as _;

use crate::support::{AN_HOA, DISTRICT, DistrictNats, PHU_CUONG, PROVINCE, connect_with, seed};

fn bucket(school: &str) -> String {
    evidence_bucket(&SchoolAddress::parse(PROVINCE, DISTRICT, school).unwrap())
}

/// A put that the server refuses fails (or times out) instead of storing the object.
async fn try_put(js: &jetstream::Context, bucket: &str, name: &str, bytes: &[u8]) -> bool {
    let Ok(Ok(store)) =
        tokio::time::timeout(Duration::from_secs(5), js.get_object_store(bucket)).await
    else {
        return false;
    };
    let mut reader = bytes;
    matches!(
        tokio::time::timeout(Duration::from_secs(5), store.put(name, &mut reader)).await,
        Ok(Ok(_))
    )
}

#[tokio::test]
async fn a_school_writes_only_its_own_bucket_and_the_aggregator_only_reads() {
    let district = DistrictNats::start().await.unwrap();
    let an_hoa_seed = district.issue(AN_HOA);
    let phu_cuong_seed = district.issue(PHU_CUONG);
    // The administrator creates the issued schools' buckets.
    let registry = district.nats_dir().registry().unwrap();
    district_admin::stream::ensure(&district.nats_dir(), &registry, &district.url())
        .await
        .unwrap();

    let an_hoa = jetstream::new(district.connect_school(AN_HOA, &an_hoa_seed).await.unwrap());
    let photo = vec![7u8; 300 * 1024];
    assert!(
        try_put(&an_hoa, &bucket(AN_HOA), "own-photo", &photo).await,
        "a school writes into its own bucket"
    );
    let own = an_hoa.get_object_store(bucket(AN_HOA)).await.unwrap();
    let info = own.info("own-photo").await.unwrap();
    assert_eq!(info.size, photo.len());
    let mut back = Vec::new();
    own.get("own-photo")
        .await
        .unwrap()
        .read_to_end(&mut back)
        .await
        .unwrap();
    assert_eq!(back, photo, "a school reads its own bucket back");

    let phu_cuong = jetstream::new(
        district
            .connect_school(PHU_CUONG, &phu_cuong_seed)
            .await
            .unwrap(),
    );
    assert!(
        !try_put(&phu_cuong, &bucket(AN_HOA), "forged", b"not An Hoa's photo").await,
        "another school's identity wrote into An Hoa's bucket"
    );
    // Nor straight onto the bucket's chunk subject, past the object store client.
    let forged_chunk = match phu_cuong
        .publish(
            format!("$O.{}.C.forged", bucket(AN_HOA)),
            bytes::Bytes::from_static(b"not An Hoa's chunk"),
        )
        .await
    {
        Ok(ack) => tokio::time::timeout(Duration::from_secs(5), ack)
            .await
            .is_ok_and(|r| r.is_ok()),
        Err(_) => false,
    };
    assert!(!forged_chunk, "another school's chunk was stored");
    assert!(
        tokio::time::timeout(
            Duration::from_secs(5),
            phu_cuong.create_object_store(jetstream::object_store::Config {
                bucket: "tt-ev_dong-thap_tam-nong_thcs-khac".into(),
                ..Default::default()
            })
        )
        .await
        .map_or(true, |r| r.is_err()),
        "a school created a bucket"
    );

    let aggregator = jetstream::new(
        connect_with(
            &district.url(),
            seed(&district.nats_dir().service_seed("_aggregator")),
            Some(&district.ca()),
            Some(aggregator_inbox_prefix(PROVINCE, DISTRICT).unwrap()),
        )
        .await
        .unwrap(),
    );
    let read = aggregator.get_object_store(bucket(AN_HOA)).await.unwrap();
    let mut back = Vec::new();
    read.get("own-photo")
        .await
        .unwrap()
        .read_to_end(&mut back)
        .await
        .unwrap();
    assert_eq!(back, photo, "the aggregator reads a school's bucket");
    assert!(
        !try_put(&aggregator, &bucket(AN_HOA), "by-aggregator", b"x").await,
        "the aggregator wrote an object"
    );
    // What was refused left no object behind.
    let own = an_hoa.get_object_store(bucket(AN_HOA)).await.unwrap();
    assert!(own.info("forged").await.is_err());
    assert!(own.info("by-aggregator").await.is_err());
    let mut stream = an_hoa
        .get_stream(format!("OBJ_{}", bucket(AN_HOA)))
        .await
        .unwrap();
    let chunks = photo.len().div_ceil(128 * 1024) as u64;
    assert_eq!(
        stream.info().await.unwrap().state.messages,
        chunks + 1,
        "the bucket holds An Hoa's object and nothing else"
    );
}
