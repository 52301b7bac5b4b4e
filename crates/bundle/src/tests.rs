//! The bundle's unit tests: a round trip, and every way a bundle is refused — one byte changed
//! anywhere, cut at every frame boundary (and inside frames), signed by another key.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use super::*;

struct Registry(HashMap<String, String>);

impl Keys for Registry {
    fn key_of(&self, school: &str) -> Option<String> {
        self.0.get(school).cloned()
    }
    fn owner_of(&self, public_key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(_, k)| k.as_str() == public_key)
            .map(|(s, _)| s.clone())
    }
}

struct Fixture {
    an_hoa: KeyPair,
    phu_cuong: KeyPair,
    registry: Registry,
}

fn fixture() -> Fixture {
    let an_hoa = KeyPair::new_user();
    let phu_cuong = KeyPair::new_user();
    let registry = Registry(HashMap::from([
        ("thcs-an-hoa".to_owned(), an_hoa.public_key()),
        ("thcs-phu-cuong".to_owned(), phu_cuong.public_key()),
    ]));
    Fixture {
        an_hoa,
        phu_cuong,
        registry,
    }
}

fn envelope(school: &str, seq: u64) -> Vec<u8> {
    format!(
        r#"{{"id":"{}","province":"dong-thap","district":"tam-nong","school":"{school}","seq":{seq},"type":"activity.recorded","schema":1,"data":{{"title":"Họp phụ huynh {seq}"}}}}"#,
        Uuid::now_v7()
    )
    .into_bytes()
}

fn header(key: &KeyPair, from: u64, to: u64, files: u64) -> Header {
    Header {
        kind: Kind::Events,
        province: "dong-thap".into(),
        district: "tam-nong".into(),
        school: "thcs-an-hoa".into(),
        from_seq: from,
        to_seq: to,
        event_count: to + 1 - from,
        file_count: files,
        created_at: DateTime::parse_from_rfc3339("2026-12-04T03:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
        signer: key.public_key(),
    }
}

const PHOTO: &[u8] = b"\x89PNG not really a photo";
const MINUTE: &[u8] = b"%PDF-1.4 a scanned minute";

/// A bundle of An Hoa's seqs 3..=6 with two files, signed by `key`, and the boundaries of its
/// frames (offsets where a frame starts, and the end).
fn sample(key: &KeyPair) -> (Vec<u8>, Vec<usize>) {
    let mut w = Writer::new(Vec::new(), header(key, 3, 6, 2)).unwrap();
    let mut boundaries = vec![MAGIC.len()];
    let mut mark = |w: &Writer<Vec<u8>>| boundaries.push(w.out.len());
    mark(&w);
    for seq in 3..=6 {
        w.event(&envelope("thcs-an-hoa", seq)).unwrap();
        mark(&w);
    }
    w.file(PHOTO).unwrap();
    mark(&w);
    w.file(MINUTE).unwrap();
    mark(&w);
    let bytes = w.finish(key).unwrap();
    boundaries.push(bytes.len());
    (bytes, boundaries)
}

fn expect(registry: &Registry) -> Expect<'_> {
    Expect {
        kind: Kind::Events,
        province: "dong-thap",
        district: "tam-nong",
        school: None,
        trust: Trust::Registered(registry),
    }
}

fn read_bytes(bytes: &[u8], registry: &Registry) -> Result<Bundle, BundleError> {
    read(bytes, &expect(registry), &Limits::default())
}

#[test]
fn a_bundle_reads_back_as_it_was_written() {
    let f = fixture();
    let (bytes, _) = sample(&f.an_hoa);
    assert!(bytes.starts_with(MAGIC));
    let bundle = read_bytes(&bytes, &f.registry).unwrap();
    assert_eq!(bundle.header, header(&f.an_hoa, 3, 6, 2));
    assert_eq!(
        bundle.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [3, 4, 5, 6]
    );
    let first: serde_json::Value = serde_json::from_slice(&bundle.events[0].envelope).unwrap();
    assert_eq!(first["data"]["title"], "Họp phụ huynh 3");
    assert_eq!(bundle.files[0].content, PHOTO);
    assert_eq!(bundle.files[1].sha256, sha256_hex(MINUTE));
    assert_eq!(file_name(&bundle.header), "thcs-an-hoa-3-6-20261204.ttgoi");
}

#[test]
fn one_byte_changed_anywhere_is_refused() {
    let f = fixture();
    let (bytes, _) = sample(&f.an_hoa);
    for at in 0..bytes.len() {
        let mut changed = bytes.clone();
        changed[at] ^= 0x01;
        let err = read_bytes(&changed, &f.registry).unwrap_err();
        // Whatever the byte, the bundle is refused; in the signed part past the magic and the
        // frame lengths, it is the signature that says so.
        assert!(!matches!(err, BundleError::Io(_)), "byte {at}: {err:?}");
    }
    // A byte inside the first event's text: the signature, in Vietnamese.
    let mut changed = bytes.clone();
    let at = MAGIC.len() + 300;
    changed[at] ^= 0x01;
    let err = read_bytes(&changed, &f.registry).unwrap_err();
    assert!(matches!(err, BundleError::SignatureInvalid), "{err:?}");
    assert_eq!(
        err.to_string(),
        "chữ ký của gói không hợp lệ: gói đã bị sửa đổi sau khi ký, không nhận"
    );
}

#[test]
fn a_bundle_cut_short_is_refused_at_every_boundary_and_inside_frames() {
    let f = fixture();
    let (bytes, boundaries) = sample(&f.an_hoa);
    let last = *boundaries.last().unwrap();
    let mut cuts: Vec<usize> = boundaries.iter().copied().filter(|&b| b < last).collect();
    cuts.extend([1, 7, MAGIC.len() + 2, MAGIC.len() + 40, last - 1, last - 30]);
    for cut in cuts {
        let err = read_bytes(&bytes[..cut], &f.registry).unwrap_err();
        assert!(
            matches!(err, BundleError::Truncated { .. }),
            "cut at {cut}: {err:?}"
        );
        assert!(
            err.to_string().starts_with("gói dữ liệu bị cắt cụt"),
            "{err}"
        );
    }
    assert!(matches!(
        read_bytes(b"", &f.registry),
        Err(BundleError::NotABundle)
    ));
    assert!(matches!(
        read_bytes(b"PK\x03\x04 a zip file", &f.registry),
        Err(BundleError::NotABundle)
    ));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        read_bytes(&longer, &f.registry),
        Err(BundleError::Malformed { .. })
    ));
}

#[test]
fn a_bundle_signed_with_another_school_s_key_is_refused_naming_that_school() {
    let f = fixture();
    // Phú Cường's key signs a bundle that says it is An Hòa's.
    let (bytes, _) = sample(&f.phu_cuong);
    let err = read_bytes(&bytes, &f.registry).unwrap_err();
    assert!(matches!(err, BundleError::SignedByOther { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "gói được ký bằng khóa của trường thcs-phu-cuong, không phải khóa đã đăng ký của trường thcs-an-hoa; không nhận"
    );
    let stranger = KeyPair::new_user();
    let (bytes, _) = sample(&stranger);
    assert!(matches!(
        read_bytes(&bytes, &f.registry),
        Err(BundleError::SignedByUnknown { .. })
    ));
    // A header that names one key while another signs: the signature fails.
    let mut w = Writer::new(Vec::new(), header(&f.an_hoa, 1, 1, 0)).unwrap();
    w.event(&envelope("thcs-an-hoa", 1)).unwrap();
    assert!(matches!(
        w.finish(&f.phu_cuong),
        Err(BundleError::Sign { .. })
    ));
}

#[test]
fn the_contents_must_be_what_the_header_says() {
    let f = fixture();
    let write = |from: u64, to: u64, seqs: &[u64], school: &str| {
        let mut w = Writer::new(Vec::new(), header(&f.an_hoa, from, to, 0)).unwrap();
        for &seq in seqs {
            w.event(&envelope(school, seq)).unwrap();
        }
        w.finish(&f.an_hoa).unwrap()
    };
    let err = read_bytes(&write(1, 3, &[1, 3, 4], "thcs-an-hoa"), &f.registry).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::SeqGap {
                expected: 2,
                found: 3
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "thứ tự sự kiện bị đứt: cần số 2, gặp số 3");
    let err = read_bytes(&write(1, 2, &[1, 2], "thcs-phu-cuong"), &f.registry).unwrap_err();
    assert!(matches!(err, BundleError::WrongPlace { .. }), "{err:?}");

    let other_district = Expect {
        district: "cao-lanh",
        ..expect(&f.registry)
    };
    let (bytes, _) = sample(&f.an_hoa);
    let err = read(&bytes[..], &other_district, &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "gói này của trường thcs-an-hoa (tam-nong, dong-thap), không phải của trường bất kỳ (cao-lanh, dong-thap)"
    );
}

#[test]
fn a_file_whose_content_does_not_hash_to_its_name_is_refused() {
    let f = fixture();
    // Written by hand: a file frame named after the photo, carrying the minute.
    let mut w = Writer::new(Vec::new(), header(&f.an_hoa, 1, 1, 1)).unwrap();
    w.event(&envelope("thcs-an-hoa", 1)).unwrap();
    w.files += 1;
    let name = sha256_hex(PHOTO);
    w.frame(frame::FILE, &[name.as_bytes(), MINUTE]).unwrap();
    let bytes = w.finish(&f.an_hoa).unwrap();
    let err = read_bytes(&bytes, &f.registry).unwrap_err();
    assert!(matches!(err, BundleError::FileHash { .. }), "{err:?}");
    assert!(err.to_string().contains(&name), "{err}");
}

#[test]
fn a_reply_is_verified_with_the_district_s_key() {
    let district = KeyPair::new_user();
    let f = fixture();
    let reply = |key: &KeyPair| {
        let mut h = header(key, 0, 0, 0);
        h.kind = Kind::Reply;
        h.event_count = 0;
        let mut w = Writer::new(Vec::new(), h).unwrap();
        w.body(br#"{"applied_seq":6}"#).unwrap();
        w.finish(key).unwrap()
    };
    let district_key = district.public_key();
    let expect = Expect {
        kind: Kind::Reply,
        province: "dong-thap",
        district: "tam-nong",
        school: Some("thcs-an-hoa"),
        trust: Trust::Key(&district_key),
    };
    let bundle = read(&reply(&district)[..], &expect, &Limits::default()).unwrap();
    assert_eq!(bundle.body.as_deref(), Some(&br#"{"applied_seq":6}"#[..]));
    assert!(bundle.header.kind == Kind::Reply);
    let err = read(&reply(&f.an_hoa)[..], &expect, &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "gói phản hồi không được ký bằng khóa của Phòng; không nhận"
    );
    // An events bundle offered as a reply.
    let (bytes, _) = sample(&f.an_hoa);
    let err = read(&bytes[..], &expect, &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "gói này là gói dữ liệu của trường, không phải gói phản hồi của Phòng"
    );
}

#[test]
fn the_key_is_read_from_a_seed_file_or_a_creds_file() {
    let key = KeyPair::new_user();
    let seed = key.seed().unwrap();
    let from_seed = key_from_seed_text(&format!("{seed}\n")).unwrap();
    assert_eq!(from_seed.public_key(), key.public_key());
    let creds = format!(
        "-----BEGIN NATS USER JWT-----\neyJ0eXAi.jwt.sig\n------END NATS USER JWT------\n\n\
         ************************* IMPORTANT *************************\n\
         -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
    );
    assert_eq!(
        key_from_seed_text(&creds).unwrap().public_key(),
        key.public_key()
    );
    assert!(key_from_seed_text("user = \"an-hoa\"").is_none());
}
